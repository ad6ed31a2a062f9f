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

    // The client's input and output flags, refused before any call (nothing listens on :9).
    let client = |args: &[&str]| {
        let o = bin().args(args).args(["--endpoint", "http://127.0.0.1:9"]).output().expect("run");
        (o.status.code(), String::from_utf8_lossy(&o.stderr).to_string())
    };
    let (code, err) = client(&["describe-state-machine", "--cli-input-json", "{}"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("the following arguments are required: --state-machine-arn"), "{err}");
    let (code, err) = client(&["describe-state-machine", "--cli-input-json", "[1]"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--cli-input-json must be a JSON object"), "{err}");
    let (code, err) = client(&["list-state-machines", "--output", "yaml"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("yaml"), "{err}");
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

    // A definition that reads the Context object sees each execution's own name and ARN.
    let named = write(
        &d,
        "named.json",
        r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"name.$":"$$.Execution.Name","id.$":"$$.Execution.Id","machine.$":"$$.StateMachine.Name"},"End":true}}}"#,
    );
    let o = bin().args(["run", "--repeat", "3", "--definition"]).arg(&named).output().expect("run");
    assert!(o.status.success());
    assert_eq!(
        last_line(&o)["output"],
        json!({"name": "run-2", "id": "arn:aws:states:local:000000000000:express:cli:run-2", "machine": "cli"})
    );
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

use expressway_testkit::dev::Dev;

/// `expressway dev` on free ports (gRPC only), killed on drop.
fn dev() -> Dev {
    Dev::builder(env!("CARGO_BIN_EXE_expressway"))
        .args(["--region", "us-east-1", "--account", "000000000000"])
        .start()
        .expect("start expressway dev")
}

/// One client command against `dev`: exit code, stdout as JSON (`null` when empty), stderr.
fn client(dev: &Dev, args: &[&str]) -> (Option<i32>, Value, String) {
    let o = bin().args(args).args(["--endpoint-url", &dev.grpc_url()]).output().expect("run");
    let out = String::from_utf8_lossy(&o.stdout);
    let v = if out.trim().is_empty() { Value::Null } else { serde_json::from_str(&out).expect("stdout is JSON") };
    (o.status.code(), v, String::from_utf8_lossy(&o.stderr).to_string())
}

fn ok(dev: &Dev, args: &[&str]) -> Value {
    let (code, v, err) = client(dev, args);
    assert_eq!(code, Some(0), "{args:?}: {err}");
    v
}

/// The error line of a failed command: the AWS CLI's wording, exit 1.
fn fails(dev: &Dev, args: &[&str]) -> String {
    let (code, v, err) = client(dev, args);
    assert_eq!((code, v), (Some(1), Value::Null), "{args:?}: {err}");
    err
}

/// Every operation as a subcommand with the AWS CLI's name and flags, against `expressway dev`:
/// structures in shorthand and JSON, lists, `file://`, booleans both ways, every page unless
/// one is asked for, output without empty members and with ISO 8601 dates, and errors named
/// as AWS names them.
#[test]
fn client_commands_take_the_aws_cli_names_and_flags() {
    let d = tempdir("client");
    let dev = dev();
    let def = write(&d, "pass.json", r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#);
    let wait = write(&d, "wait.json", r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":30,"End":true}}}"#);
    let input = write(&d, "input.json", r#"{"from":"file"}"#);
    let file = |p: &PathBuf| format!("file://{}", p.display());

    let created = ok(
        &dev,
        &[
            "create-state-machine",
            "--name",
            "hello",
            "--definition",
            &file(&def),
            "--role-arn",
            "arn:aws:iam::000000000000:role/ignored",
            "--type",
            "EXPRESS",
            "--logging-configuration",
            "level=ALL,includeExecutionData=true",
            "--tags",
            "key=team,value=core",
            "key=env,value=dev",
            "--publish",
        ],
    );
    let arn = created["stateMachineArn"].as_str().expect("arn").to_string();
    assert_eq!(arn, "arn:aws:states:us-east-1:000000000000:stateMachine:hello");
    assert_eq!(created["stateMachineVersionArn"], format!("{arn}:1"));
    let date = created["creationDate"].as_str().expect("an ISO 8601 date");
    assert!(date.len() == 32 && date.ends_with("+00:00") && date.as_bytes()[10] == b'T', "{date}");

    let described = ok(&dev, &["describe-state-machine", "--state-machine-arn", &arn]);
    assert_eq!(described["loggingConfiguration"], json!({"level": "ALL", "includeExecutionData": true}));
    assert_eq!(described["type"], "EXPRESS");
    assert!(described.get("description").is_none(), "empty members are left out: {described}");

    // Updates with JSON structures, a new version, the versions newest first.
    let updated = ok(
        &dev,
        &[
            "update-state-machine",
            "--state-machine-arn",
            &arn,
            "--definition",
            &format!("@{}", wait.display()),
            "--logging-configuration",
            r#"{"level":"ALL","includeExecutionData":true}"#,
            "--publish",
            "--version-description",
            "waits",
        ],
    );
    assert_eq!(updated["stateMachineVersionArn"], format!("{arn}:2"));
    let versions = ok(&dev, &["list-state-machine-versions", "--state-machine-arn", &arn]);
    let listed: Vec<&str> = versions["stateMachineVersions"]
        .as_array()
        .expect("versions")
        .iter()
        .filter_map(|v| v["stateMachineVersionArn"].as_str())
        .collect();
    assert_eq!(listed, vec![format!("{arn}:2"), format!("{arn}:1")]);
    let published = ok(&dev, &["publish-state-machine-version", "--state-machine-arn", &arn, "--description", "x"]);
    assert_eq!(published["stateMachineVersionArn"], format!("{arn}:2"), "the current revision is version 2");

    // Aliases: shorthand routing, then a JSON array; a routed version cannot be deleted.
    let alias = ok(
        &dev,
        &[
            "create-state-machine-alias",
            "--name",
            "live",
            "--routing-configuration",
            &format!("stateMachineVersionArn={arn}:1,weight=100"),
        ],
    );
    let alias_arn = alias["stateMachineAliasArn"].as_str().expect("alias").to_string();
    let routes = format!(
        r#"[{{"stateMachineVersionArn":"{arn}:1","weight":40}},{{"stateMachineVersionArn":"{arn}:2","weight":60}}]"#
    );
    ok(
        &dev,
        &[
            "update-state-machine-alias",
            "--state-machine-alias-arn",
            &alias_arn,
            "--routing-configuration",
            &routes,
            "--description",
            "canary",
        ],
    );
    let described = ok(&dev, &["describe-state-machine-alias", "--state-machine-alias-arn", &alias_arn]);
    assert_eq!(described["description"], "canary");
    assert_eq!(described["routingConfiguration"][1]["weight"], 60);
    let aliases = ok(&dev, &["list-state-machine-aliases", "--state-machine-arn", &arn]);
    assert_eq!(aliases["stateMachineAliases"][0]["stateMachineAliasArn"], alias_arn.as_str());
    let err = fails(&dev, &["delete-state-machine-version", "--state-machine-version-arn", &format!("{arn}:1")]);
    assert!(
        err.starts_with("An error occurred (ConflictException) when calling the DeleteStateMachineVersion operation: "),
        "{err}"
    );
    assert_eq!(
        ok(&dev, &["delete-state-machine-alias", "--state-machine-alias-arn", &alias_arn]),
        Value::Null,
        "prints nothing"
    );
    ok(&dev, &["delete-state-machine-version", "--state-machine-version-arn", &format!("{arn}:1")]);
    ok(&dev, &["delete-state-machine-version", "--state-machine-version-arn", &format!("{arn}:1")]);

    // Executions: start, describe, the machine it runs, stop, history without data.
    let started = ok(&dev, &["start-execution", "--state-machine-arn", &arn, "--name", "e1", "--input", &file(&input)]);
    let exec = started["executionArn"].as_str().expect("execution").to_string();
    let for_exec = ok(&dev, &["describe-state-machine-for-execution", "--execution-arn", &exec]);
    assert!(for_exec["definition"].as_str().is_some_and(|d| d.contains("Wait")), "{for_exec}");
    let stopped = ok(&dev, &["stop-execution", "--execution-arn", &exec, "--error", "Op.Stop", "--cause", "enough"]);
    assert!(stopped["stopDate"].is_string(), "{stopped}");
    let described = ok(&dev, &["describe-execution", "--execution-arn", &exec]);
    assert_eq!((described["status"].as_str(), described["error"].as_str()), (Some("ABORTED"), Some("Op.Stop")));
    assert_eq!(described["input"], r#"{"from":"file"}"#);
    let err = fails(&dev, &["list-executions", "--state-machine-arn", &arn]);
    assert!(err.contains("(StateMachineTypeNotSupported)"), "{err}");

    // Sync executions, validation on the server.
    // (--logging-level and --include-execution-data: the earlier spelling of the logging
    // configuration, still taken.)
    let pass = ok(
        &dev,
        &[
            "create-state-machine",
            "--name",
            "pass",
            "--definition",
            &file(&def),
            "--logging-level",
            "ALL",
            "--include-execution-data",
        ],
    );
    let pass_arn = pass["stateMachineArn"].as_str().expect("arn").to_string();
    let sync = ok(&dev, &["start-sync-execution", "--state-machine-arn", &pass_arn, "--input", r#"{"a":1}"#]);
    assert_eq!((sync["status"].as_str(), sync["output"].as_str()), (Some("SUCCEEDED"), Some(r#"{"a":1}"#)));
    let exec = sync["executionArn"].as_str().expect("execution");
    let history = ok(&dev, &["get-execution-history", "--execution-arn", exec, "--no-include-execution-data"]);
    let started_event = &history["events"][0];
    assert_eq!(started_event["type"], "ExecutionStarted", "{history}");
    assert!(started_event["timestamp"].is_string(), "{history}");
    assert!(started_event["executionStartedEventDetails"].get("input").is_none(), "{history}");
    let history = ok(&dev, &["get-execution-history", "--execution-arn", exec, "--reverse-order"]);
    assert_eq!(history["events"][0]["type"], "ExecutionSucceeded", "{history}");
    assert_eq!(history["events"][0]["executionSucceededEventDetails"]["output"], r#"{"a":1}"#, "{history}");
    let bad = write(&d, "bad.json", r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Gone"}}}"#);
    let checked = ok(&dev, &["validate-state-machine-definition", "--definition", &file(&bad), "--type", "EXPRESS"]);
    assert_eq!(checked["result"], "FAIL");
    assert_eq!(checked["diagnostics"][0]["code"], "MISSING_TRANSITION_TARGET");

    // Tags: several keys at once, or a JSON list.
    ok(
        &dev,
        &[
            "tag-resource",
            "--resource-arn",
            &pass_arn,
            "--tags",
            r#"[{"key":"a","value":"1"},{"key":"b","value":"2"}]"#,
        ],
    );
    ok(&dev, &["untag-resource", "--resource-arn", &pass_arn, "--tag-keys", "a", "absent"]);
    let tags = ok(&dev, &["list-tags-for-resource", "--resource-arn", &pass_arn]);
    assert_eq!(tags, json!({"tags": [{"key": "b", "value": "2"}]}));
    let err = fails(&dev, &["tag-resource", "--resource-arn", &format!("{arn}-missing"), "--tags", "key=a,value=b"]);
    assert!(err.contains("(ResourceNotFound) when calling the TagResource operation"), "{err}");

    // Pages: all of them by default, one with --max-results, the next with --next-token.
    let all = ok(&dev, &["list-state-machines"]);
    assert_eq!(all["stateMachines"].as_array().map(Vec::len), Some(2), "{all}");
    let first = ok(&dev, &["list-state-machines", "--max-results", "1"]);
    assert_eq!(first["stateMachines"][0]["name"], "hello");
    let token = first["nextToken"].as_str().expect("a next token");
    let second = ok(&dev, &["list-state-machines", "--max-results", "1", "--next-token", token]);
    assert_eq!(second["stateMachines"][0]["name"], "pass");
    assert!(second.get("nextToken").is_none(), "{second}");

    // Errors name AWS's exception; invalid definitions list their locations.
    let err = fails(&dev, &["describe-state-machine", "--state-machine-arn", &format!("{arn}-missing")]);
    assert!(
        err.starts_with(
            "An error occurred (StateMachineDoesNotExist) when calling the DescribeStateMachine operation: "
        ),
        "{err}"
    );
    let err = fails(&dev, &["create-state-machine", "--name", "bad", "--definition", &file(&bad)]);
    assert!(err.contains("(InvalidDefinition)") && err.contains("at /States/A/Next"), "{err}");
    let err = fails(&dev, &["describe-state-machine", "--state-machine-arn", "not-an-arn"]);
    assert!(err.contains("(InvalidArn)"), "{err}");
    ok(&dev, &["delete-state-machine", "--state-machine-arn", &pass_arn]);
    let err = fails(&dev, &["describe-state-machine", "--state-machine-arn", &pass_arn]);
    assert!(err.contains("(StateMachineDoesNotExist)"), "{err}");
}

/// A mistyped command gets suggestions; `completions` prints a script for each shell.
#[test]
fn mistyped_commands_get_suggestions_and_shells_get_completions() {
    let o = bin().args(["describe-state-machin", "--state-machine-arn", "x"]).output().expect("run");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("similar subcommand") && err.contains("'describe-state-machine'"), "{err}");
    for (shell, marker) in [("bash", "complete -F"), ("zsh", "#compdef expressway"), ("fish", "complete -c expressway")]
    {
        let o = bin().args(["completions", shell]).output().expect("run");
        assert!(o.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&o.stdout);
        assert!(script.contains(marker), "{shell}: {}", &script[..script.len().min(200)]);
        assert!(script.contains("delete-state-machine-version") && script.contains("state-machine-arn"), "{shell}");
    }
    let o = bin().args(["list-state-machines", "--max-results", "many"]).output().expect("run");
    assert_eq!(o.status.code(), Some(2), "misuse");
}

/// The README's quick start, as written there, against `expressway dev`: the client commands
/// of its second shell block run one after another (`xw` is the built binary; `watch`, which
/// follows until Ctrl-C, and the completion line are left out) and the synchronous start prints
/// the greeting.
#[test]
fn the_readme_quick_start_runs_as_written() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).expect("README");
    let after = readme.split_once("Then, from another terminal").expect("the quick start").1;
    let block = after.split_once("```sh\n").expect("its shell block").1.split_once("```").expect("closed").0;
    let commands: Vec<&str> = block
        .lines()
        .filter(|l| !l.starts_with("alias xw=") && !l.starts_with("xw watch") && !l.contains("completions"))
        .collect();
    assert!(commands.iter().any(|l| l.contains("start-sync-execution")), "the block starts an execution:\n{block}");
    let dev = dev();
    let script = format!("set -euo pipefail\nxw() {{ \"$XW\" \"$@\"; }}\n{}\n", commands.join("\n"));
    let o = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .env("XW", env!("CARGO_BIN_EXE_expressway"))
        .env("EXPRESSWAY_ENDPOINT", dev.grpc_url())
        .output()
        .expect("bash");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "the quick start failed:\n{script}\n{out}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains(r#"{\"greeting\":\"Hello, world!\"}"#), "the synchronous start's output:\n{out}");
    assert!(out.contains("\"ExecutionSucceeded\""), "the history of the execution started through the alias:\n{out}");
}
