//! Times the layout of a 50-state machine (Choices looping back, a Parallel, a Map, Catches
//! and Retries) and writes its SVG: `cargo run --release -p expressway-console --example
//! layout50 -- [OUT.svg]`.

use std::time::Instant;

use serde_json::{json, Map, Value};

/// 50 states: 40 in 8 groups of 5, a Parallel of three, a Map of two, and five more.
fn machine() -> Value {
    let mut states = Map::new();
    let groups = 8;
    for g in 0..groups {
        let next_group = if g + 1 < groups { format!("G{}Task", g + 1) } else { "Finish".into() };
        states.insert(
            format!("G{g}Task"),
            json!({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:step",
                   "Retry": [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 2}],
                   "Catch": [{"ErrorEquals": ["States.ALL"], "Next": format!("G{g}Recover")}],
                   "Next": format!("G{g}Check")}),
        );
        states.insert(
            format!("G{g}Check"),
            json!({"Type": "Choice", "Choices": [
                       {"Variable": "$.n", "NumericLessThan": g, "Next": format!("G{g}Wait")},
                       {"Variable": "$.kind", "StringEquals": "skip", "Next": next_group}],
                   "Default": format!("G{g}Pass")}),
        );
        states.insert(format!("G{g}Wait"), json!({"Type": "Wait", "Seconds": 1, "Next": format!("G{g}Task")}));
        states.insert(format!("G{g}Recover"), json!({"Type": "Pass", "Next": format!("G{g}Pass")}));
        states.insert(format!("G{g}Pass"), json!({"Type": "Pass", "Next": next_group}));
    }
    states.insert(
        "Finish".into(),
        json!({"Type": "Parallel", "Next": "Each", "Branches": [
            {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "Next": "B2"}, "B2": {"Type": "Pass", "End": true}}},
            {"StartAt": "B3", "States": {"B3": {"Type": "Pass", "End": true}}}]}),
    );
    states.insert(
        "Each".into(),
        json!({"Type": "Map", "ItemsPath": "$.items", "Next": "Done",
               "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
               "ItemProcessor": {"StartAt": "M1", "States": {
                   "M1": {"Type": "Pass", "Next": "M2"}, "M2": {"Type": "Pass", "End": true}}}}),
    );
    states.insert("Done".into(), json!({"Type": "Succeed"}));
    states.insert("Begin".into(), json!({"Type": "Pass", "Next": "G0Task"}));
    states.insert("Failed".into(), json!({"Type": "Fail", "Error": "Gave.Up"}));
    json!({"StartAt": "Begin", "States": states})
}

fn main() {
    let def = machine();
    let block = expressway_console::Block::from_json(&def).expect("a machine");
    let count = block.all_nodes().len();
    let runs = 200;
    let begun = Instant::now();
    let mut svg = String::new();
    for _ in 0..runs {
        svg = expressway_console::svg::render(&block);
    }
    let per = begun.elapsed() / runs;
    let layout_begun = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(expressway_console::layout::layout(&block));
    }
    let layout_per = layout_begun.elapsed() / runs;
    println!("{count} states: layout {layout_per:?}, layout and SVG {per:?} ({} bytes of SVG)", svg.len());
    if let Some(out) = std::env::args().nth(1) {
        std::fs::write(&out, &svg).expect("write the SVG");
        std::fs::write(format!("{out}.json"), serde_json::to_string_pretty(&def).expect("JSON"))
            .expect("write the definition");
        println!("wrote {out}");
    }
}
