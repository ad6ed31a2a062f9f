//! The `expressway` binary as a user meets it: one JSON line per run, exit codes, messages.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_expressway"))
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write temp file");
    p
}

fn tempdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("expressway-cli-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn last_line(o: &Output) -> Value {
    let out = String::from_utf8_lossy(&o.stdout);
    let line = out.lines().rev().find(|l| !l.trim().is_empty()).expect("a result line");
    serde_json::from_str(line).expect("the result line is JSON")
}

#[test]
fn run_prints_one_json_line_for_each_outcome() {
    let d = tempdir("run");
    let def = write(
        &d,
        "ok.json",
        r#"{"StartAt":"H","States":{"H":{"Type":"Pass","Parameters":{"greeting.$":"States.Format('Hello, {}!', $.name)"},"End":true}}}"#,
    );
    let input = write(&d, "in.json", r#"{"name":"world"}"#);
    let o = bin().args(["run", "--definition"]).arg(&def).arg("--input").arg(&input).output().expect("run");
    assert!(o.status.success());
    assert_eq!(last_line(&o), json!({"status": "SUCCEEDED", "output": {"greeting": "Hello, world!"}}));
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);

    let fail = write(&d, "fail.json", r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E","Cause":"C"}}}"#);
    let o = bin().args(["run", "--definition"]).arg(&fail).output().expect("run");
    assert!(o.status.success());
    assert_eq!(last_line(&o), json!({"status": "FAILED", "error": "E", "cause": "C"}));

    let bad = write(&d, "bad.json", r#"{"StartAt":"X","States":{}}"#);
    let o = bin().args(["run", "--definition"]).arg(&bad).output().expect("run");
    assert!(o.status.success());
    let v = last_line(&o);
    assert_eq!(v["status"], "INVALID_DEFINITION");
    assert_eq!(v["error"], "InvalidDefinition");

    let task = write(
        &d,
        "task.json",
        r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","End":true}}}"#,
    );
    let o = bin().args(["run", "--definition"]).arg(&task).output().expect("run");
    let v = last_line(&o);
    assert_eq!(v["status"], "FAILED");
    assert!(v["cause"].as_str().is_some_and(|c| c.contains("no task integration")), "{v}");
}

#[test]
fn misuse_and_unreadable_files_exit_non_zero_with_a_message() {
    let d = tempdir("misuse");
    let o = bin().args(["run", "--definition", "/nonexistent/def.json"]).output().expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read the definition file"));

    let def = write(&d, "ok.json", r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#);
    let input = write(&d, "in.json", "{\n  \"a\": [1, 2,\n}");
    let o = bin().args(["run", "--definition"]).arg(&def).arg("--input").arg(&input).output().expect("run");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("not valid JSON") && err.contains("line 3"), "{err}");

    let o = bin().args(["run"]).output().expect("run");
    assert_eq!(o.status.code(), Some(2), "a missing --definition is misuse");
}

#[test]
fn repeat_reports_throughput_on_stderr() {
    let d = tempdir("repeat");
    let def = write(&d, "ok.json", r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#);
    let o = bin().args(["run", "--repeat", "50", "--definition"]).arg(&def).output().expect("run");
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("executions=50 seconds="), "{err}");
    assert!(err.contains("per_second="));
    assert_eq!(last_line(&o), json!({"status": "SUCCEEDED", "output": {}}));
}

#[test]
fn validate_lists_every_diagnostic() {
    let d = tempdir("validate");
    let def = write(
        &d,
        "bad.json",
        r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Gone"},"B":{"Type":"Pass","End":true}}}"#,
    );
    let o = bin().args(["validate", "--format", "json", "--definition"]).arg(&def).output().expect("run");
    assert_eq!(o.status.code(), Some(1));
    let v = last_line(&o);
    assert_eq!(v["result"], "FAIL");
    let locs: Vec<&str> =
        v["diagnostics"].as_array().expect("list").iter().filter_map(|d| d["location"].as_str()).collect();
    assert!(locs.contains(&"/States/A/Next") && locs.contains(&"/States/B"), "{v}");

    let o = bin().args(["validate", "--definition"]).arg(&def).output().expect("run");
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("MISSING_TRANSITION_TARGET") && text.contains("/States/A/Next"), "{text}");

    let ok = write(&d, "ok.json", r#"{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}"#);
    let o = bin().args(["validate", "--definition"]).arg(&ok).output().expect("run");
    assert!(o.status.success());

    let express = write(
        &d,
        "express.json",
        r#"{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","End":true}}}"#,
    );
    let o = bin().args(["validate", "--type", "EXPRESS", "--definition"]).arg(&express).output().expect("run");
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn run_calls_functions_given_on_the_command_line() {
    let f = expressway_testkit::http_server(std::sync::Arc::new(|req: &expressway_testkit::Request| {
        let v: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
        (200, json!({"doubled": v["n"].as_i64().unwrap_or(0) * 2}).to_string())
    }))
    .expect("server");
    let d = tempdir("functions");
    let def = write(
        &d,
        "def.json",
        r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"double","Payload.$":"$"},"OutputPath":"$.Payload","End":true}}}"#,
    );
    let input = write(&d, "in.json", r#"{"n": 21}"#);
    let o = bin()
        .args(["run", "--function", &format!("double=http://127.0.0.1:{}/", f.port), "--definition"])
        .arg(&def)
        .arg("--input")
        .arg(&input)
        .output()
        .expect("run");
    assert_eq!(last_line(&o), json!({"status": "SUCCEEDED", "output": {"doubled": 42}}));
}

/// One of the examples' functions (`examples/functions/NAME.py`), serving on a free port until dropped.
struct Function {
    name: String,
    url: String,
    child: std::process::Child,
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_function(script: &Path) -> Function {
    use std::io::BufRead as _;
    let name = script.file_stem().and_then(|n| n.to_str()).expect("name").to_string();
    let port = expressway_testkit::free_port();
    let mut child = Command::new("python3")
        .arg(script)
        .arg(port.to_string())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs the examples' functions");
    // It says so once it listens.
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("read");
    assert!(line.contains("listening"), "{name}: {line}");
    Function { name, url: format!("http://127.0.0.1:{port}/"), child }
}

/// Every example in `examples/` runs as its README says and produces its `.output.json`,
/// with the functions of `examples/functions/` serving.
#[test]
fn every_example_produces_its_recorded_output() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let functions: Vec<Function> = std::fs::read_dir(dir.join("functions"))
        .expect("examples/functions/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "py"))
        .map(|p| start_function(&p))
        .collect();
    assert!(!functions.is_empty(), "the examples' functions");
    let mut ran = 0;
    for entry in std::fs::read_dir(&dir).expect("examples/") {
        let path = entry.expect("entry").path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".asl.json")) else {
            continue;
        };
        let o = bin()
            .args(["run", "--definition"])
            .arg(&path)
            .arg("--input")
            .arg(dir.join(format!("{name}.input.json")))
            .args(functions.iter().flat_map(|f| ["--function".to_string(), format!("{}={}", f.name, f.url)]))
            .output()
            .expect("run");
        let line = last_line(&o);
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{name}.output.json"))).expect("output"))
                .expect("the recorded output is JSON");
        assert_eq!(line, json!({"status": "SUCCEEDED", "output": expected}), "example {name}");
        ran += 1;
    }
    assert!(ran >= 6, "only {ran} examples found in {}", dir.display());
}
