//! The ASL conformance corpus, one named test per case: each case in
//! `tests/conformance/cases` holds a definition, an input and the result the AWS Step
//! Functions service produced for it (see `tests/conformance/README.md` and `NOTICE`). A case
//! runs as `expressway run` runs an execution (STANDARD validation, no Task integrations, the
//! 300 s limit), on a clock that advances by what is waited, so Wait states and retry
//! intervals cost no time. Results compare as the corpus describes: status; the output as
//! JSON (key order ignored, numbers by value); the error name; the cause when one was
//! recorded. `cargo test -p expressway-asl --test conformance -- NAME` runs the cases whose
//! name contains NAME.

mod json_diff;

use json_diff::first_difference;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use expressway_asl::{
    ExecutionInfo, Interpreter, Limits, MachineType, ManualClock, NoEvents, NoTasks, Outcome, StateMachine,
};
use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::{json, Value};

fn main() {
    let args = Arguments::from_args();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/cases");
    let mut files: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            eprintln!("cannot read the conformance corpus in {}: {e}", dir.display());
            std::process::exit(1);
        }
    };
    files.retain(|p| p.extension().is_some_and(|x| x == "json"));
    files.sort();
    let trials = files
        .into_iter()
        .map(|path| {
            let name = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
            Trial::test(name, move || {
                let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                let case: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
                check(&case)
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn check(case: &Value) -> Result<(), Failed> {
    let actual = run(&case["definition"], case["input"].clone());
    match compare(&case["expect"], &actual) {
        None => Ok(()),
        Some(why) => Err(format!("{why}\nactual: {actual}").into()),
    }
}

/// The result line `expressway run` prints for this definition and input.
fn run(definition: &Value, input: Value) -> Value {
    let machine = match StateMachine::from_json_with(&definition.to_string(), MachineType::Standard) {
        Ok(m) => m,
        Err(e) => return json!({"status": "INVALID_DEFINITION", "error": "InvalidDefinition", "cause": e.to_string()}),
    };
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
    let limits = Limits { execution_timeout: Some(Duration::from_secs(300)), ..Limits::default() };
    let interp = Interpreter::new(Arc::new(NoTasks), Arc::new(ManualClock::new(now)), limits);
    let info = ExecutionInfo {
        execution_arn: "arn:aws:states:local:000000000000:express:cli:run-0".into(),
        execution_name: "run-0".into(),
        state_machine_arn: "arn:aws:states:local:000000000000:stateMachine:cli".into(),
        state_machine_name: "cli".into(),
        ..ExecutionInfo::default()
    };
    match futures::executor::block_on(interp.execute(&machine, input, info, &NoEvents)) {
        Outcome::Succeeded(v) => json!({"status": "SUCCEEDED", "output": v}),
        Outcome::Failed(e) => json!({"status": "FAILED", "error": e.error, "cause": e.cause}),
        Outcome::TimedOut(e) => json!({"status": "TIMED_OUT", "error": e.error, "cause": e.cause}),
        Outcome::Aborted => json!({"status": "ABORTED"}),
    }
}

/// `None` when `actual` matches the expectation, else why not.
fn compare(expect: &Value, actual: &Value) -> Option<String> {
    let status = &actual["status"];
    if *status != expect["status"] {
        return Some(format!("status: expected {}, got {status} ({})", expect["status"], actual["error"]));
    }
    if status == "SUCCEEDED" {
        return first_difference(&expect["output"], &actual["output"], "$").map(|d| format!("output {d}"));
    }
    if actual["error"] != expect["error"] {
        return Some(format!("error: expected {}, got {}", expect["error"], actual["error"]));
    }
    let cause = &expect["cause"];
    if status == "FAILED" && !cause.is_null() && actual["cause"] != *cause {
        return Some(format!("cause: expected {cause}, got {}", actual["cause"]));
    }
    None
}
