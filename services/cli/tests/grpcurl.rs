//! grpcurl 1.8 (the release older tooling ships, whose reflection client speaks v1alpha) lists,
//! describes and calls the API of `expressway dev` through server reflection alone, without
//! the protos. grpcurl must be on PATH: `.ci/run` installs it (`go install …@v1.8.9` into
//! `target/tools`). Outside CI (no `CI` variable) the test passes with a note when it is
//! missing; in CI a missing grpcurl fails it.

use std::process::{Command, Output};

use serde_json::Value;

use expressway_testkit::dev::Dev;

fn dev() -> Dev {
    Dev::builder(env!("CARGO_BIN_EXE_expressway"))
        .args(["--region", "us-east-1", "--account", "000000000000"])
        .start()
        .expect("start expressway dev")
}

/// `grpcurl -plaintext …` against `dev`, with `args` before the address and `after` behind it.
fn grpcurl(dev: &Dev, args: &[&str], after: &[&str]) -> Output {
    Command::new("grpcurl")
        .arg("-plaintext")
        .args(args)
        .arg(format!("127.0.0.1:{}", dev.grpc))
        .args(after)
        .output()
        .expect("run grpcurl")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn grpcurl_lists_describes_and_calls_by_reflection() {
    let version = match Command::new("grpcurl").arg("-version").output() {
        Ok(o) => text(&o),
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("grpcurl is needed in CI (.ci/run installs it into target/tools): {e}")
        }
        Err(_) => {
            eprintln!("grpcurl is not on PATH: skipped (CI installs it; so does `bash .ci/run`)");
            return;
        }
    };
    eprintln!("{}", version.trim());
    let dev = dev();

    let listed = grpcurl(&dev, &[], &["list"]);
    let services = text(&listed);
    assert!(listed.status.success(), "{services}");
    for service in
        ["expressway.v1.StateMachines", "expressway.v1.Executions", "expressway.v1.Results", "grpc.health.v1.Health"]
    {
        assert!(services.lines().any(|l| l.trim() == service), "{service} missing from:\n{services}");
    }

    let described = grpcurl(&dev, &[], &["describe", "expressway.v1.StateMachines"]);
    let description = text(&described);
    assert!(described.status.success(), "{description}");
    assert!(
        description.contains("rpc DeleteStateMachineVersion ( .expressway.v1.DeleteStateMachineVersionRequest )"),
        "{description}"
    );
    let message = grpcurl(&dev, &[], &["describe", "expressway.v1.CreateStateMachineRequest"]);
    assert!(text(&message).contains("string definition = 2;"), "{}", text(&message));

    let definition = r#"{\"StartAt\":\"P\",\"States\":{\"P\":{\"Type\":\"Pass\",\"End\":true}}}"#;
    let create = format!(r#"{{"name": "hello", "definition": "{definition}", "type": "EXPRESS"}}"#);
    let created = grpcurl(&dev, &["-d", &create], &["expressway.v1.StateMachines/CreateStateMachine"]);
    assert!(created.status.success(), "{}", text(&created));
    let created: Value = serde_json::from_slice(&created.stdout).expect("JSON");
    let arn = created["stateMachineArn"].as_str().expect("arn");
    assert_eq!(arn, "arn:aws:states:us-east-1:000000000000:stateMachine:hello");

    let start = format!(r#"{{"stateMachineArn": "{arn}", "input": "{{\"k\": 1}}"}}"#);
    let sync = grpcurl(&dev, &["-d", &start], &["expressway.v1.Executions/StartSyncExecution"]);
    assert!(sync.status.success(), "{}", text(&sync));
    let sync: Value = serde_json::from_slice(&sync.stdout).expect("JSON");
    assert_eq!((sync["status"].as_str(), sync["output"].as_str()), (Some("SUCCEEDED"), Some(r#"{"k":1}"#)), "{sync}");

    let missing = format!(r#"{{"stateMachineArn": "{arn}-missing"}}"#);
    let refused = grpcurl(&dev, &["-d", &missing], &["expressway.v1.StateMachines/DescribeStateMachine"]);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("NotFound"), "{}", text(&refused));
}
