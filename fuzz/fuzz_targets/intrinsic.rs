//! Intrinsic functions: `<call>\n<json input>`, e.g. `States.Format('{}', $.a)\n{"a": 1}`.
//! The call is parsed as the loader does, then evaluated against the input, a Context object
//! and a variable `$v` (bound to the same document). Without a newline, or when the input is
//! not JSON, a fixed input is used.
#![no_main]

use expressway_asl::env::{ContextSource, Env, Vars};
use expressway_asl::intrinsic::{looks_like_call, Call};
use expressway_asl::ExecutionInfo;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

fn default_input() -> Value {
    json!({
        "a": 1,
        "b": "two",
        "s": "a,b;c",
        "f": 2.5,
        "big": 9007199254740993i64,
        "arr": [1, 2, 2, "x", {"k": 1}, {"k": 1.0}, [1]],
        "obj": {"x": 1, "y": {"z": null}},
        "json": "{\"p\": [1, 2]}",
        "b64": "aGVsbG8=",
        "varname": {"varfield": "v"}
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() > 65536 {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (call_text, input_text) = match text.split_once('\n') {
        Some((c, i)) => (c, Some(i)),
        None => (text, None),
    };
    let _ = looks_like_call(call_text);
    let Ok(call) = Call::parse(call_text) else { return };
    let _ = call.paths().len();

    let input = input_text.and_then(|i| serde_json::from_str::<Value>(i).ok()).unwrap_or_else(default_input);
    let exec = ExecutionInfo {
        execution_arn: "arn:aws:states:us-east-1:123456789012:express:m:e".into(),
        execution_name: "e".into(),
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:m".into(),
        state_machine_name: "m".into(),
        start_time: "2024-01-01T00:00:00.000Z".into(),
        input: Some(input.clone()),
        ..Default::default()
    };
    let ctx = ContextSource::new(&exec, "S", "2024-01-01T00:00:00.000Z".into());
    let mut vars = Vars::new();
    vars.set("v".into(), input.clone());
    vars.set("varname".into(), json!({"varfield": "v"}));
    let env = Env { input: &input, ctx: &ctx, vars: &vars };
    match call.eval(&env) {
        Ok(v) => {
            let _ = v.to_string();
        }
        Err(e) => {
            let _ = (e.name().len(), e.is_terminal());
        }
    }
});
