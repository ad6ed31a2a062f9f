//! JSONata: `<expression>` or `<expression>\0<json input>`. The expression is parsed, then
//! evaluated with `$states.input` bound to the input (a fixed document by default), a few
//! variables, and a step budget of 200 000 (the engine's `Bindings::check` hook), so that
//! no evaluation can run unbounded.
#![no_main]

use std::collections::HashMap;

use expressway_asl::jsonata::{Bindings, Expr, JsonataError};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

const MAX_STEPS: u64 = 200_000;

struct Host {
    vars: HashMap<&'static str, Value>,
}

impl Bindings for Host {
    fn get(&self, name: &str) -> Option<&Value> {
        self.vars.get(name)
    }

    fn check(&self, steps: u64) -> Result<(), JsonataError> {
        if steps > MAX_STEPS {
            return Err(JsonataError { code: "FUZZ", message: format!("more than {MAX_STEPS} steps") });
        }
        Ok(())
    }
}

fn default_input() -> Value {
    json!({
        "customer": {"id": "c-42", "tier": "gold", "country": "US"},
        "items": [{"sku": "a", "qty": 1, "price": 3.5}, {"sku": "b", "qty": 12, "price": 1.25}],
        "a": {"b": [1, 2, 3]},
        "s": "Hello, World",
        "n": 42,
        "f": -0.5,
        "t": true,
        "z": null
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() > 65536 {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (src, input_text) = match text.split_once('\0') {
        Some((s, i)) => (s, Some(i)),
        None => (text, None),
    };
    let Ok(expr) = Expr::parse(src) else { return };
    let _ = expr.source();
    let _ = expr.reads_context();

    let input = input_text.and_then(|i| serde_json::from_str::<Value>(i).ok()).unwrap_or_else(default_input);
    let mut vars = HashMap::new();
    vars.insert(
        "states",
        json!({
            "input": input,
            "context": {
                "Execution": {"Id": "arn:aws:states:us-east-1:123456789012:express:m:e", "Name": "e",
                              "StartTime": "2024-01-01T00:00:00.000Z", "Input": {}},
                "State": {"Name": "S", "EnteredTime": "2024-01-01T00:00:00.000Z", "RetryCount": 0},
                "StateMachine": {"Id": "arn:aws:states:us-east-1:123456789012:stateMachine:m", "Name": "m"}
            }
        }),
    );
    vars.insert("x", json!(10));
    vars.insert("varname", json!({"varfield": "v"}));
    vars.insert("customer", json!({"id": "c-42"}));
    vars.insert("rate", json!(0.1));
    let host = Host { vars };
    match expr.evaluate(&host) {
        Ok(Some(v)) => {
            let _ = v.to_string();
        }
        Ok(None) => {}
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
