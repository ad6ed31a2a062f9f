//! Definition validation: every problem is reported with its code and JSON location, and
//! hostile documents get errors, never panics or hangs.

use expressway_asl::{DefinitionError, Diagnostic, MachineType, StateMachine};
use serde_json::json;

fn diags(def: serde_json::Value, ty: MachineType) -> Vec<Diagnostic> {
    match StateMachine::from_value(&def, ty) {
        Ok(_) => Vec::new(),
        Err(e) => e.diagnostics(),
    }
}

fn has(d: &[Diagnostic], code: &str, location: &str) -> bool {
    d.iter().any(|x| x.code == code && x.location == location)
}

#[test]
fn reports_every_problem_with_its_location() {
    let d = diags(
        json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Next": "Nowhere", "Bogus": 1},
            "B": {"Type": "Pass", "End": true},
            "C": {"Type": "Task", "Resource": "arn:x", "Next": "B", "End": true},
            "D": {"Type": "Task", "Resource": "arn:x", "End": true,
                  "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}]}
        }}),
        MachineType::Standard,
    );
    assert!(has(&d, "MISSING_TRANSITION_TARGET", "/States/A/Next"), "{d:#?}");
    assert!(has(&d, "SCHEMA_VALIDATION_FAILED", "/States/A/Bogus"), "{d:#?}");
    assert!(has(&d, "UNREACHABLE_STATE", "/States/B"), "{d:#?}");
    assert!(has(&d, "SCHEMA_VALIDATION_FAILED", "/States/C"), "Next and End together: {d:#?}");
    assert!(has(&d, "SCHEMA_VALIDATION_FAILED", "/States/D/Retry/0/ErrorEquals"), "{d:#?}");
    assert!(d.len() >= 5);
}

#[test]
fn missing_top_level_fields_and_bad_paths() {
    let d = diags(json!({}), MachineType::Standard);
    assert_eq!(d.len(), 1);
    assert!(d[0].message.contains("States") && d[0].message.contains("StartAt"));

    let d = diags(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "not a path",
            "Parameters": {"x.$": "States.Nope(1)"}, "End": true}}}),
        MachineType::Standard,
    );
    assert!(has(&d, "SCHEMA_VALIDATION_FAILED", "/States/A/InputPath"), "{d:#?}");
    assert!(has(&d, "SCHEMA_VALIDATION_FAILED", "/States/A/Parameters"), "{d:#?}");
}

#[test]
fn query_language_decides_which_fields_are_allowed() {
    let d = diags(
        json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {}, "Output": "{% 1 + %}", "End": true}}}),
        MachineType::Standard,
    );
    assert!(has(&d, "SCHEMA_VALIDATION_FAILED", "/States/A/Parameters"), "{d:#?}");
    assert!(has(&d, "SCHEMA_VALIDATION_FAILED", "/States/A/Output"), "a bad JSONata expression: {d:#?}");
    let d = diags(
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Output": "x", "End": true}}}),
        MachineType::Standard,
    );
    assert!(has(&d, "SCHEMA_VALIDATION_FAILED", "/States/A/Output"), "{d:#?}");
}

#[test]
fn express_machines_reject_long_running_patterns() {
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken", "Next": "B"},
        "B": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2", "Next": "C"},
        "C": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:1:activity:a", "Next": "D"},
        "D": {"Type": "Map", "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "P",
              "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}});
    let d = diags(def.clone(), MachineType::Express);
    for loc in [
        "/States/A/Resource",
        "/States/B/Resource",
        "/States/C/Resource",
        "/States/D/ItemProcessor/ProcessorConfig/Mode",
    ] {
        assert!(has(&d, "SCHEMA_VALIDATION_FAILED", loc), "{loc}: {d:#?}");
    }
    assert!(diags(def, MachineType::Standard).is_empty());
}

#[test]
fn nested_blocks_are_validated_in_place() {
    let d = diags(
        json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
            {"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "Outside"}}}]}}}),
        MachineType::Standard,
    );
    assert!(has(&d, "MISSING_TRANSITION_TARGET", "/States/P/Branches/0/States/X/Next"), "{d:#?}");
}

#[test]
fn hostile_input_gets_errors_not_panics() {
    // Deep nesting.
    let deep = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    match StateMachine::from_json(&deep) {
        Err(DefinitionError::Json(m)) => assert!(m.starts_with("nested more than 127 levels deep"), "{m}"),
        other => panic!("{other:?}"),
    }
    // AWS's size limit, before anything is parsed.
    let huge =
        format!(r#"{{"Comment":"{}","StartAt":"A","States":{{"A":{{"Type":"Succeed"}}}}}}"#, "x".repeat(1 << 20));
    match StateMachine::from_json(&huge) {
        Err(e @ DefinitionError::TooLarge { limit: 1_048_576, .. }) => {
            assert_eq!(e.diagnostics()[0].code, "DEFINITION_TOO_LARGE")
        }
        other => panic!("{other:?}"),
    }
    // Many faults: the message names ten and counts the rest.
    let states: serde_json::Map<String, serde_json::Value> =
        (0..40).map(|i| (format!("S{i}"), json!({"Type": "Pass", "Next": "Gone"}))).collect();
    let many = json!({"StartAt": "S0", "States": states}).to_string();
    let e = StateMachine::from_json(&many).expect_err("invalid");
    assert!(e.diagnostics().len() >= 40);
    let m = e.to_string();
    assert!(m.contains("more (ValidateStateMachineDefinition lists them all)") && m.len() < 2000, "{m}");
    // Malformed JSON and wrong types.
    assert!(matches!(StateMachine::from_json("{\"StartAt\": "), Err(DefinitionError::Json(_))));
    assert!(StateMachine::from_json("[]").is_err());
    assert!(StateMachine::from_json(r#"{"StartAt": 1, "States": []}"#).is_err());
    // Pathological expressions.
    let nested_call = format!("{}'x'{}", "States.Array(".repeat(5000), ")".repeat(5000));
    let def =
        json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"x.$": nested_call}, "End": true}}});
    let _ = StateMachine::from_value(&def, MachineType::Standard);
    let jsonata = format!("{{% {}1{} %}}", "(".repeat(20_000), ")".repeat(20_000));
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass", "Output": jsonata, "End": true}}});
    assert!(StateMachine::from_value(&def, MachineType::Standard).is_err());
    // A huge but valid definition loads.
    let mut states = serde_json::Map::new();
    for i in 0..5000 {
        let next = if i + 1 < 5000 {
            json!({"Type": "Pass", "Next": format!("S{}", i + 1)})
        } else {
            json!({"Type": "Succeed"})
        };
        states.insert(format!("S{i}"), next);
    }
    assert!(StateMachine::from_value(&json!({"StartAt": "S0", "States": states}), MachineType::Standard).is_ok());
}
