//! Every example definition drawn: each state appears once in the SVG (nested ones too), and
//! each transition it names is an edge from it to its target.

use serde_json::Value;

/// (state, target, kind) for every transition, and every state name, found by walking the JSON.
fn walk(block: &Value, states: &mut Vec<String>, edges: &mut Vec<(String, String, &'static str)>) {
    for (name, s) in block["States"].as_object().expect("States") {
        states.push(name.clone());
        if let Some(n) = s["Next"].as_str() {
            edges.push((name.clone(), n.into(), "next"));
        }
        if let Some(n) = s["Default"].as_str() {
            edges.push((name.clone(), n.into(), "default"));
        }
        for c in s["Choices"].as_array().into_iter().flatten() {
            edges.push((name.clone(), c["Next"].as_str().expect("rule Next").into(), "rule"));
        }
        for c in s["Catch"].as_array().into_iter().flatten() {
            edges.push((name.clone(), c["Next"].as_str().expect("catch Next").into(), "catch"));
        }
        for b in s["Branches"].as_array().into_iter().flatten() {
            walk(b, states, edges);
        }
        if let Some(p) = s.get("ItemProcessor").or_else(|| s.get("Iterator")) {
            walk(p, states, edges);
        }
    }
}

fn check(path: &str, text: &str) -> usize {
    let def: Value = serde_json::from_str(text).expect("JSON");
    let svg = expressway_console::definition_svg(text).expect("drawn");
    let (mut states, mut edges) = (Vec::new(), Vec::new());
    walk(&def, &mut states, &mut edges);
    for s in &states {
        let tag = format!("data-state=\"{}\"", expressway_console::svg::escape(s));
        assert_eq!(svg.matches(&tag).count(), 1, "{path}: state {s} drawn once");
    }
    for (from, to, kind) in &edges {
        let tag = format!(
            "class=\"edge {kind}\" data-from=\"{}\" data-to=\"{}\"",
            expressway_console::svg::escape(from),
            expressway_console::svg::escape(to)
        );
        assert!(svg.contains(&tag), "{path}: {kind} edge {from} → {to}");
    }
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    states.len()
}

#[test]
fn every_example_is_drawn_whole() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).expect("examples") {
        let path = entry.expect("entry").path();
        if path.to_string_lossy().ends_with(".asl.json") {
            let text = std::fs::read_to_string(&path).expect("read");
            assert!(check(&path.display().to_string(), &text) > 0);
            seen += 1;
        }
    }
    assert!(seen >= 5, "found {seen} examples");
}

#[test]
fn clusters_nest_their_branches_and_catch_edges_are_labelled() {
    let text = include_str!("../../../examples/retry-catch.asl.json");
    let svg = expressway_console::definition_svg(text).expect("drawn");
    // The Parallel's group holds its branches' states.
    let quote = svg.find("data-state=\"Quote\"").expect("Quote");
    let base = svg.find("data-state=\"Base\"").expect("Base");
    let fallback = svg.find("data-state=\"Fallback\"").expect("Fallback");
    assert!(quote < base && base < fallback, "Base is drawn inside Quote's group, before Fallback");
    assert!(svg.contains(r#"<g class="state parallel" data-state="Quote" data-type="Parallel""#));
    assert!(svg.contains("↻ retry Rates.Unavailable ×2"));
    // The Catch edge carries its error names.
    let catch = svg.find(r#"class="edge catch" data-from="Quote" data-to="Fallback""#).expect("catch edge");
    assert!(svg[catch..].split("</g>").next().expect("edge").contains(">States.ALL</text>"));
}

#[test]
fn choice_rules_and_default_are_labelled() {
    let text = r#"{"StartAt":"Pick","States":{
        "Pick":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":10,"Next":"Big"}],"Default":"Small"},
        "Big":{"Type":"Succeed"},"Small":{"Type":"Fail","Error":"Too.Small"}}}"#;
    let svg = expressway_console::definition_svg(text).expect("drawn");
    assert!(svg.contains("&gt;") && svg.contains("$.n &gt; 10"));
    assert!(svg.contains(">Default</text>"));
    assert!(svg.contains(r#"data-type="Succeed""#) && svg.contains(r#"data-type="Fail""#));
    assert!(svg.contains(">Too.Small</text>"));
}

#[test]
fn a_bad_next_still_draws() {
    let text = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nowhere"}}}"#;
    let svg = expressway_console::definition_svg(text).expect("drawn");
    assert!(svg.contains("data-state=\"A\""));
    assert!(!svg.contains("data-to=\"Nowhere\""));
}
