//! The interpreter end to end: fixed state machines run on a fuzzed JSON input (bytes that
//! are not JSON are skipped). Each input runs through:
//! - the order example (examples/order.asl.json): Pass with Parameters and intrinsics, a Map
//!   with an inner Choice, a Choice with And and StringMatches;
//! - a JSONata pipeline (examples/orders-jsonata.asl.json plus a Map): Output, Assign,
//!   Condition, `$states.context`;
//! - small one-purpose JSONPath machines, each on its own (an intrinsic failure is an
//!   uncatchable States.Runtime that would end a longer chain): every intrinsic function on
//!   fields of the input, Wait with SecondsPath/TimestampPath, a Map with ItemSelector,
//!   ResultSelector and Catch, a Choice with every kind of rule and a Parallel behind it.
//!
//! Runs use `NoTasks`, a `ManualClock` (Wait costs nothing) and a JSONata step budget of
//! 200 000; history events are recorded (EventLog) to exercise their construction.
#![no_main]

use std::sync::{Arc, OnceLock};

use expressway_asl::{
    EventLog, ExecutionInfo, Interpreter, Limits, MachineType, ManualClock, NoTasks, Outcome, StateMachine,
};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

/// The order example (examples/order.asl.json) verbatim: Pass with Parameters and
/// intrinsics, a Map with an inner Choice, a Choice with And and StringMatches.
const ORDER_MACHINE: &str = r#"{
  "Comment": "Order routing: Pass + Choice + Map + intrinsics, no external tasks",
  "StartAt": "Normalize",
  "States": {
    "Normalize": {
      "Type": "Pass",
      "Parameters": {
        "orderId.$": "$.orderId",
        "customer.$": "$.customer",
        "items.$": "$.items",
        "count.$": "States.ArrayLength($.items)",
        "key.$": "States.Format('order-{}-{}', $.customer.id, $.orderId)"
      },
      "Next": "PriceItems"
    },
    "PriceItems": {
      "Type": "Map",
      "ItemsPath": "$.items",
      "MaxConcurrency": 0,
      "ItemProcessor": {
        "ProcessorConfig": {"Mode": "INLINE"},
        "StartAt": "Price",
        "States": {
          "Price": {
            "Type": "Pass",
            "Parameters": {"sku.$": "$.sku", "qty.$": "$.qty", "unit.$": "$.price"},
            "Next": "IsBulk"
          },
          "IsBulk": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.qty", "NumericGreaterThanEquals": 10, "Next": "Bulk"}],
            "Default": "Single"
          },
          "Bulk": {"Type": "Pass", "Result": "bulk", "ResultPath": "$.tier", "End": true},
          "Single": {"Type": "Pass", "Result": "single", "ResultPath": "$.tier", "End": true}
        }
      },
      "ResultPath": "$.priced",
      "Next": "Route"
    },
    "Route": {
      "Type": "Choice",
      "Choices": [
        {"And": [{"Variable": "$.customer.tier", "StringEquals": "gold"}, {"Variable": "$.count", "NumericGreaterThan": 2}], "Next": "Priority"},
        {"Variable": "$.customer.country", "StringMatches": "U*", "Next": "Domestic"}
      ],
      "Default": "International"
    },
    "Priority": {"Type": "Pass", "Result": {"lane": "priority"}, "ResultPath": "$.routing", "Next": "Done"},
    "Domestic": {"Type": "Pass", "Result": {"lane": "domestic"}, "ResultPath": "$.routing", "Next": "Done"},
    "International": {"Type": "Pass", "Result": {"lane": "intl"}, "ResultPath": "$.routing", "Next": "Done"},
    "Done": {
      "Type": "Pass",
      "Parameters": {"key.$": "$.key", "lane.$": "$.routing.lane", "priced.$": "$.priced", "id.$": "States.Hash($.key, 'SHA-256')"},
      "End": true
    }
  }
}"#;

fn pass(parameters: Value) -> Value {
    json!({"Type": "Pass", "Parameters": parameters, "End": true})
}

/// Small one-purpose machines, each run on its own so that an input that fails one (an
/// intrinsic failure is an uncatchable States.Runtime) still reaches the others.
fn stage_machines() -> Vec<String> {
    let single = |name: &str, state: Value| json!({"StartAt": name, "States": {name: state}});
    let mut out = vec![
        single(
            "Hash",
            pass(json!({"sha.$": "States.Hash($.orderId, 'SHA-256')", "md5.$": "States.Hash($.customer, 'MD5')"})),
        ),
        single("Hash2", pass(json!({"h.$": "States.Hash($.data, $.algorithm)"}))),
        single(
            "Unique",
            pass(json!({"u.$": "States.ArrayUnique($.items)", "c.$": "States.ArrayContains($.items, $.needle)"})),
        ),
        single("Partition", pass(json!({"p.$": "States.ArrayPartition($.items, $.size)"}))),
        single("GetItem", pass(json!({"i.$": "States.ArrayGetItem($.items, $.index)"}))),
        single("Range", pass(json!({"r.$": "States.ArrayRange($.start, $.end, $.step)"}))),
        single("Add", pass(json!({"sum.$": "States.MathAdd($.a, $.b)"}))),
        single("Random", pass(json!({"r.$": "States.MathRandom($.start, $.end, $.seed)"}))),
        single("Split", pass(json!({"parts.$": "States.StringSplit($.text, $.delimiter)"}))),
        single("Base64", pass(json!({"d.$": "States.Base64Decode(States.Base64Encode($.text))"}))),
        single("Base64Raw", pass(json!({"d.$": "States.Base64Decode($.b64)"}))),
        single("Json", pass(json!({"j.$": "States.StringToJson($.json)", "s.$": "States.JsonToString($)"}))),
        single("Merge", pass(json!({"m.$": "States.JsonMerge($.customer, $.extra, false)"}))),
        single("Format", pass(json!({"f.$": "States.Format($.template, $.a, $.b, $.text)"}))),
        single(
            "Nested",
            json!({
                "Type": "Pass",
                "InputPath": "$",
                "Parameters": {
                    "region.$": "States.ArrayGetItem(States.StringSplit($.ip, '.'), 0)",
                    "arr.$": "States.Array($.a, States.Array($.b), 'lit', 1, null, true)",
                    "len.$": "States.ArrayLength(States.ArrayPartition(States.ArrayRange(1, 9, 2), 2))",
                    "ctx.$": "$$.Execution.Name",
                    "state.$": "$$.State.Name"
                },
                "ResultPath": "$.nested",
                "OutputPath": "$.nested",
                "End": true
            }),
        ),
        single("Wait", json!({"Type": "Wait", "SecondsPath": "$.wait", "End": true})),
        single("WaitUntil", json!({"Type": "Wait", "TimestampPath": "$.when", "End": true})),
    ];
    // A Map whose items may fail (Fail state), caught by the Map's Catch; an item selector
    // reading the Context object; a result selector.
    out.push(json!({
        "StartAt": "PriceItems",
        "States": {
            "PriceItems": {
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
                            "Parameters": {"sku.$": "$.sku", "qty.$": "$.qty", "unit.$": "$.price"},
                            "Next": "IsBulk"
                        },
                        "IsBulk": {
                            "Type": "Choice",
                            "Choices": [
                                {"Variable": "$.qty", "NumericLessThan": 0, "Next": "Negative"},
                                {"Variable": "$.qty", "NumericGreaterThanEquals": 10, "Next": "Bulk"},
                                {"Variable": "$.qty", "NumericLessThanPath": "$.unit", "Next": "Cheap"}
                            ],
                            "Default": "Single"
                        },
                        "Negative": {"Type": "Fail", "Error": "Fuzz.Negative", "Cause": "negative quantity"},
                        "Bulk": {"Type": "Pass", "Result": "bulk", "ResultPath": "$.tier", "End": true},
                        "Cheap": {"Type": "Pass", "Result": "cheap", "ResultPath": "$.tier", "End": true},
                        "Single": {"Type": "Pass", "Result": "single", "ResultPath": "$.tier", "End": true}
                    }
                },
                "ResultSelector": {"priced.$": "$", "n.$": "States.ArrayLength($)"},
                "ResultPath": "$.priced",
                "Catch": [{"ErrorEquals": ["Fuzz.Negative"], "ResultPath": "$.error", "Next": "Caught"}],
                "End": true
            },
            "Caught": {"Type": "Pass", "Parameters": {"why.$": "$.error.Cause"}, "End": true}
        }
    }));
    // Every kind of Choice rule, with Parallel branches behind it.
    let lane = |l: &str| json!({"Type": "Pass", "Result": {"lane": l}, "End": true});
    out.push(json!({
        "StartAt": "Route",
        "States": {
            "Route": {
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
            },
            "Priority": lane("priority"),
            "Domestic": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"c.$": "$.customer"}, "End": true}}},
                    {"StartAt": "B", "States": {"B": {"Type": "Fail", "Error": "Fuzz.Branch", "Cause": "b"}}}
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Intl2"}],
                "End": true
            },
            "Intl2": lane("intl"),
            "International": lane("intl")
        }
    }));
    out.into_iter().map(|v| v.to_string()).collect()
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

fn machines() -> &'static [StateMachine] {
    static M: OnceLock<Vec<StateMachine>> = OnceLock::new();
    M.get_or_init(|| {
        let mut texts = vec![ORDER_MACHINE.to_string(), JSONATA_MACHINE.to_string()];
        texts.extend(stage_machines());
        texts
            .iter()
            .map(|t| {
                StateMachine::from_json_with(t, MachineType::Express)
                    .unwrap_or_else(|e| panic!("a fuzz machine is invalid: {e:?}\n{t}"))
            })
            .collect()
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
    for m in machines() {
        run(m, input.clone());
    }
});
