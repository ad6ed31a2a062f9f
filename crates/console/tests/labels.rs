//! Edge labels are placed clear of every state and of each other: in the 50-state machine, in
//! a Choice whose rules all lead to neighbouring states, and in every example, nested blocks
//! (Parallel branches, Map processors) included.

#[path = "../examples/shared/fifty.rs"]
mod fifty;

use expressway_console::layout::{layout, Layout, Rect};
use expressway_console::Block;

/// Every label box of `l` and its nested layouts, checked against the vertices and the other
/// labels of its own block; returns how many labels it checked.
fn check(l: &Layout, what: &str) -> usize {
    let vertices: Vec<Rect> = l.placed.iter().map(|p| Rect { x: p.x, y: p.y, w: p.w, h: p.h }).collect();
    let labels: Vec<Rect> = l.routes.iter().filter_map(|r| r.label).collect();
    for (k, a) in labels.iter().enumerate() {
        for v in &vertices {
            assert!(!a.intersects(v), "{what}: label {a:?} covers vertex {v:?}");
        }
        for b in &labels[k + 1..] {
            assert!(!a.intersects(b), "{what}: labels {a:?} and {b:?} overlap");
        }
        assert!(a.x >= 0.0 && a.y >= 0.0 && a.x + a.w <= l.width && a.y + a.h <= l.height, "{what}: {a:?} outside");
    }
    let mut n = labels.len();
    for p in &l.placed {
        for (_, _, inner) in &p.inner {
            n += check(inner, what);
        }
    }
    n
}

#[test]
fn the_fifty_state_machine_has_no_overlapping_labels() {
    let block = Block::from_json(&fifty::machine()).expect("a machine");
    // 8 groups × (2 rules + Default + Catch) + the Map's Catch.
    assert_eq!(check(&layout(&block), "50 states"), 33);
}

#[test]
fn a_choice_with_many_rules_to_neighbours() {
    let text = r#"{"StartAt":"Route","States":{
        "Route":{"Type":"Choice","Choices":[
            {"Variable":"$.order.total","NumericGreaterThan":1000,"Next":"Review"},
            {"Variable":"$.order.total","NumericLessThan":0,"Next":"Reject"},
            {"Variable":"$.order.country","StringEquals":"FR","Next":"Ship"},
            {"Variable":"$.order.country","StringEquals":"DE","Next":"Ship"},
            {"And":[{"Variable":"$.rush","IsPresent":true},{"Variable":"$.rush","BooleanEquals":true}],"Next":"Ship"},
            {"Variable":"$.order.items[0].sku","StringMatches":"GIFT-*","Next":"Wrap"}],
         "Default":"Ship"},
        "Review":{"Type":"Pass","Next":"Ship"},
        "Wrap":{"Type":"Pass","Next":"Ship"},
        "Reject":{"Type":"Fail","Error":"Order.Rejected"},
        "Ship":{"Type":"Succeed"}}}"#;
    let block = Block::parse(text).expect("parses");
    assert_eq!(check(&layout(&block), "many rules"), 7);
}

#[test]
fn every_example_has_no_overlapping_labels() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
    let mut labels = 0;
    for entry in std::fs::read_dir(dir).expect("examples") {
        let path = entry.expect("entry").path();
        if path.to_string_lossy().ends_with(".asl.json") {
            let block = Block::parse(&std::fs::read_to_string(&path).expect("read")).expect("parses");
            labels += check(&layout(&block), &path.display().to_string());
        }
    }
    assert!(labels > 0, "the examples have labelled edges");
}
