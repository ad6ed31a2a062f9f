//! The interpreter end to end: two fixed state machines run on a fuzzed JSON input (bytes
//! that are not JSON are skipped).
//!
//! - A JSONPath machine built from the order example (examples/order.asl.json): a chain of
//!   stages, each a one-branch Parallel with a `States.ALL` Catch so that a stage that fails
//!   on a malformed input does not hide the stages after it. The stages use Pass with
//!   Parameters and intrinsic functions (all 18 but UUID/MathRandom without seed), Choice
//!   rules of every kind, a Map over `$.items`, InputPath/ResultPath/OutputPath, Assign and
//!   a Wait with SecondsPath.
//! - A JSONata machine from examples/orders-jsonata.asl.json (Output, Assign, Condition).
//!
//! Runs use `NoTasks`, a `ManualClock` (Wait costs nothing) and a JSONata step budget of
//! 200 000; history events are recorded to exercise their construction.
#![no_main]

use std::sync::{Arc, OnceLock};

use expressway_asl::{
    EventLog, ExecutionInfo, Interpreter, Limits, MachineType, ManualClock, NoTasks, Outcome, StateMachine,
};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

/// One stage: `state` run inside a Parallel whose result lands at `$.stages.<name>`, and
/// whose failure lands at `$.errors.<name>`; either way the next stage runs.
fn stage(name: &str, state: Value, next: &str) -> (String, Value) {
    let mut inner = state;
    inner["End"] = json!(true);
    (
        name.to_string(),
        json!({
            "Type": "Parallel",
            "Branches": [{"StartAt": name, "States": {name: inner}}],
            "ResultPath": format!("$.stages.{name}"),
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": format!("$.errors.{name}"), "Next": next}],
            "Next": next,
        }),
    )
}

fn pass(parameters: Value) -> Value {
    json!({"Type": "Pass", "Parameters": parameters})
}

fn jsonpath_machine() -> String {
    let stages: Vec<(&str, Value)> = vec![
        (
            "Normalize",
            pass(json!({
                "orderId.$": "$.orderId",
                "customer.$": "$.customer",
                "count.$": "States.ArrayLength($.items)",
                "key.$": "States.Format('order-{}-{}', $.customer.id, $.orderId)",
            })),
        ),
        ("Hash", pass(json!({"sha.$": "States.Hash($.orderId, 'SHA-256')", "md5.$": "States.Hash($.customer, 'MD5')"}))),
        ("Hash2", pass(json!({"h.$": "States.Hash($.data, $.algorithm)"}))),
        ("Unique", pass(json!({"u.$": "States.ArrayUnique($.items)", "c.$": "States.ArrayContains($.items, $.needle)"}))),
        ("Partition", pass(json!({"p.$": "States.ArrayPartition($.items, $.size)"}))),
        ("GetItem", pass(json!({"i.$": "States.ArrayGetItem($.items, $.index)"}))),
        ("Range", pass(json!({"r.$": "States.ArrayRange($.start, $.end, $.step)"}))),
        ("Add", pass(json!({"sum.$": "States.MathAdd($.a, $.b)"}))),
        ("Random", pass(json!({"r.$": "States.MathRandom($.start, $.end, $.seed)"}))),
        ("Split", pass(json!({"parts.$": "States.StringSplit($.text, $.delimiter)"}))),
        ("Base64", pass(json!({"d.$": "States.Base64Decode(States.Base64Encode($.text))"}))),
        ("Base64Raw", pass(json!({"d.$": "States.Base64Decode($.b64)"}))),
        ("Json", pass(json!({"j.$": "States.StringToJson($.json)", "s.$": "States.JsonToString($)"}))),
        ("Merge", pass(json!({"m.$": "States.JsonMerge($.customer, $.extra, false)"}))),
        ("Format", pass(json!({"f.$": "States.Format($.template, $.a, $.b, $.text)"}))),
        (
            "Nested",
            pass(json!({
                "region.$": "States.ArrayGetItem(States.StringSplit($.ip, '.'), 0)",
                "arr.$": "States.Array($.a, States.Array($.b), 'lit', 1, null, true)",
                "len.$": "States.ArrayLength(States.ArrayPartition(States.ArrayRange(1, 9, 2), 2))",
                "ctx.$": "$$.Execution.Name",
                "state.$": "$$.State.Name",
            })),
        ),
        (
            "PriceItems",
            json!({
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrency": 0,
                "ItemSelector": {"item.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index"},
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": "Price",
                    "States": {
                        "Price": {
                            "Type": "Pass",
                            "InputPath": "$.item",
                            "Parameters": {"sku.$": "$.sku", "qty.$": "$.qty", "unit.$": "$.price",
                                           "total.$": "States.MathAdd($.qty, $.price)"},
                            "Next": "IsBulk"
                        },
                        "IsBulk": {
                            "Type": "Choice",
                            "Choices": [
                                {"Variable": "$.qty", "NumericGreaterThanEquals": 10, "Next": "Bulk"},
                                {"Variable": "$.qty", "NumericLessThanPath": "$.unit", "Next": "Cheap"}
                            ],
                            "Default": "Single"
                        },
                        "Bulk": {"Type": "Pass", "Result": "bulk", "ResultPath": "$.tier", "End": true},
                        "Cheap": {"Type": "Pass", "Result": "cheap", "ResultPath": "$.tier", "End": true},
                        "Single": {"Type": "Pass", "Result": "single", "ResultPath": "$.tier", "End": true}
                    }
                },
                "ResultSelector": {"priced.$": "$", "n.$": "States.ArrayLength($)"},
                "ResultPath": "$.priced",
                "OutputPath": "$.priced"
            }),
        ),
        (
            "Route",
            json!({
                "Type": "Choice",
                "Choices": [
                    {"And": [{"Variable": "$.customer.tier", "StringEquals": "gold"},
                             {"Variable": "$.count", "NumericGreaterThan": 2}], "Next": "Priority"},
                    {"Variable": "$.customer.country", "StringMatches": "U*", "Next": "Domestic"},
                    {"Variable": "$.customer.country", "StringMatches": "*\\**?", "Next": "Domestic"},
                    {"Or": [{"Variable": "$.when", "TimestampLessThan": "2020-01-01T00:00:00Z"},
                            {"Variable": "$.when", "TimestampGreaterThanEqualsPath": "$.since"}], "Next": "Domestic"},
                    {"Not": {"Variable": "$.flag", "IsBoolean": true}, "Next": "International"},
                    {"Variable": "$.flag", "BooleanEqualsPath": "$.other", "Next": "Priority"},
                    {"Variable": "$.a", "NumericEqualsPath": "$.b", "Next": "Priority"},
                    {"Variable": "$.text", "StringLessThanEqualsPath": "$.template", "Next": "Priority"},
                    {"Variable": "$.when", "IsTimestamp": true, "Next": "Domestic"},
                    {"Variable": "$.missing", "IsPresent": true, "Next": "Domestic"},
                    {"Variable": "$.z", "IsNull": true, "Next": "International"},
                    {"Variable": "$.a", "IsNumeric": true, "Next": "International"},
                    {"Variable": "$.text", "IsString": true, "Next": "International"}
                ],
                "Default": "International"
            }),
        ),
        (
            "Wait",
            json!({"Type": "Wait", "SecondsPath": "$.wait"}),
        ),
    ];

    // Chain: each stage's Next (and Catch) is the stage after it; the last goes to Done.
    let mut states = serde_json::Map::new();
    let names: Vec<&str> = stages.iter().map(|(n, _)| *n).collect();
    for (i, (name, state)) in stages.into_iter().enumerate() {
        let next = names.get(i + 1).copied().unwrap_or("Done");
        if name == "Route" {
            // A Choice cannot end a branch: give it its own targets inside the Parallel.
            let mut branch = serde_json::Map::new();
            branch.insert("Route".into(), state);
            for (target, lane) in [("Priority", "priority"), ("Domestic", "domestic"), ("International", "intl")] {
                branch.insert(target.into(), json!({"Type": "Pass", "Result": {"lane": lane}, "End": true}));
            }
            states.insert(
                name.into(),
                json!({
                    "Type": "Parallel",
                    "Branches": [{"StartAt": "Route", "States": branch}],
                    "ResultPath": "$.routing",
                    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.errors.Route", "Next": next}],
                    "Next": next,
                }),
            );
            continue;
        }
        let (n, s) = stage(name, state, next);
        states.insert(n, s);
    }
    states.insert(
        "Done".into(),
        json!({
            "Type": "Pass",
            "Parameters": {"stages.$": "$.stages", "errors.$": "$.errors", "id.$": "States.Hash(States.JsonToString($), 'SHA-1')"},
            "Assign": {"last.$": "$.stages"},
            "OutputPath": "$",
            "End": true
        }),
    );
    let mut root = serde_json::Map::new();
    root.insert("Comment".into(), json!("fuzz: Choice + Pass/Parameters + intrinsics + Map"));
    root.insert("StartAt".into(), json!(names[0]));
    root.insert("TimeoutSeconds".into(), json!(60));
    root.insert("States".into(), Value::Object(states));
    Value::Object(root).to_string()
}

const JSONATA_MACHINE: &str = r#"{
  "Comment": "A JSONata order pipeline (examples/orders-jsonata.asl.json), with a Map",
  "QueryLanguage": "JSONata",
  "StartAt": "Price",
  "States": {
    "Price": {
      "Type": "Pass",
      "Assign": {"customer": "{% $states.input.customer %}"},
      "Output": {
        "lines": "{% $states.input.items.{ 'sku': sku, 'total': qty * price } %}",
        "subtotal": "{% $sum($states.input.items.(qty * price)) %}",
        "items": "{% $states.input.items %}"
      },
      "Next": "Discount"
    },
    "Discount": {
      "Type": "Choice",
      "Choices": [
        {"Condition": "{% $states.input.subtotal >= 100 %}", "Next": "Apply", "Assign": {"rate": 0.1}},
        {"Condition": "{% $count($states.input.lines) > 3 %}", "Next": "Each", "Assign": {"rate": 0.05}}
      ],
      "Default": "Apply",
      "Assign": {"rate": 0}
    },
    "Each": {
      "Type": "Map",
      "Items": "{% $states.input.lines %}",
      "ItemProcessor": {
        "ProcessorConfig": {"Mode": "INLINE"},
        "StartAt": "Line",
        "States": {
          "Line": {"Type": "Pass", "Output": "{% $merge([$states.input, {'up': $uppercase($string($states.input.sku))}]) %}", "End": true}
        }
      },
      "Output": {"lines": "{% $states.result %}", "subtotal": "{% $sum($states.result.total) %}"},
      "Next": "Apply"
    },
    "Apply": {
      "Type": "Pass",
      "Output": {
        "customer": "{% $customer %}",
        "lines": "{% $states.input.lines %}",
        "discount": "{% $round($states.input.subtotal * $rate, 2) %}",
        "total": "{% $round($states.input.subtotal * (1 - $rate), 2) %}",
        "skus": "{% $join($states.input.lines.sku, ',') %}",
        "when": "{% $states.context.Execution.StartTime %}"
      },
      "End": true
    }
  }
}"#;

struct Machines {
    jsonpath: StateMachine,
    jsonata: StateMachine,
}

fn machines() -> &'static Machines {
    static M: OnceLock<Machines> = OnceLock::new();
    M.get_or_init(|| Machines {
        jsonpath: StateMachine::from_json_with(&jsonpath_machine(), MachineType::Express)
            .unwrap_or_else(|e| panic!("the fuzz JSONPath machine is invalid: {e:?}")),
        jsonata: StateMachine::from_json_with(JSONATA_MACHINE, MachineType::Express)
            .unwrap_or_else(|e| panic!("the fuzz JSONata machine is invalid: {e:?}")),
    })
}

/// `EXPRESSWAY_FUZZ_DEBUG=1` prints each outcome (to check what a corpus input reaches).
fn debug() -> bool {
    static D: OnceLock<bool> = OnceLock::new();
    *D.get_or_init(|| std::env::var_os("EXPRESSWAY_FUZZ_DEBUG").is_some())
}

fn run(machine: &StateMachine, input: Value) {
    let interp = Interpreter::new(
        Arc::new(NoTasks),
        Arc::new(ManualClock::new(0)),
        Limits { max_evaluation_steps: 200_000, ..Default::default() },
    );
    let info = ExecutionInfo {
        execution_arn: "arn:aws:states:us-east-1:123456789012:express:fuzz:e".into(),
        execution_name: "e".into(),
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:fuzz".into(),
        state_machine_name: "fuzz".into(),
        ..Default::default()
    };
    let events = EventLog::default();
    let outcome = futures::executor::block_on(interp.execute(machine, input, info, &events));
    if debug() {
        eprintln!("outcome: {outcome:?}");
    }
    match outcome {
        Outcome::Succeeded(v) => {
            let _ = v.to_string();
        }
        Outcome::Failed(e) | Outcome::TimedOut(e) => {
            let _ = e.name().len();
        }
        Outcome::Aborted => panic!("aborted without a Cancel"),
    }
    for e in events.take() {
        let _ = serde_json::to_string(&e);
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() > 65536 {
        return;
    }
    let Ok(input) = serde_json::from_slice::<Value>(data) else { return };
    let m = machines();
    run(&m.jsonpath, input.clone());
    run(&m.jsonata, input);
});
