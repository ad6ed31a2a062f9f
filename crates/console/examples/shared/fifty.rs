//! The 50-state machine the layout is measured and checked with (shared by the `layout50`
//! example and the label placement test).

use serde_json::{json, Map, Value};

/// 50 states: 40 in 8 groups of 5, a Parallel of three, a Map of two, and five more.
pub fn machine() -> Value {
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
