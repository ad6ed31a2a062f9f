//! The AWS JSON protocol on `expressway dev --http-listen`, driven by the real clients,
//! unmodified: boto3 (tests/aws/boto3_suite.py: every operation and each error's exception
//! name) and the AWS CLI; plus what no SDK sends (unknown operations, malformed bodies, a
//! `sync-` Host header, a full queue), checked over raw HTTP. python3 with boto3 and the
//! `aws` command must be on PATH (.ci/run installs them); without them the test fails.

use std::net::TcpStream;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::{json, Value};

/// What the SDKs send with dummy credentials.
const SIGV4: &str =
    "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/states/aws4_request, SignedHeaders=host, Signature=00";

/// An `expressway dev` process serving HTTP through `api`, killed on drop.
struct Dev {
    process: expressway_testkit::dev::Dev,
    api: Api,
}

/// The HTTP listener on `port`, called over raw HTTP/1.1.
struct Api {
    port: u16,
}

impl Dev {
    fn start(extra: &[&str]) -> Dev {
        Dev::start_in("us-east-1", "000000000000", extra)
    }

    fn start_in(region: &str, account: &str, extra: &[&str]) -> Dev {
        let process = expressway_testkit::dev::Dev::builder(env!("CARGO_BIN_EXE_expressway"))
            .http()
            .args(["--region", region, "--account", account])
            .args(extra)
            .start()
            .expect("start expressway dev");
        Dev { api: Api { port: process.http_port() }, process }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.api.port)
    }
}

impl Api {
    /// One raw HTTP/1.1 request; the status and the body as JSON (`null` if it is not JSON).
    fn raw(&self, method: &str, host: &str, headers: &[(&str, &str)], body: &str) -> (u16, Value) {
        let mut all = vec![("Host", host)];
        all.extend_from_slice(headers);
        let answer = expressway_testkit::http::call(self.port, method, "/", &all, body, Duration::from_secs(30));
        (answer.status, serde_json::from_str(&answer.body).unwrap_or(Value::Null))
    }

    /// An AWS JSON call as an SDK makes it (dummy SigV4 header included).
    fn call(&self, op: &str, body: &Value) -> (u16, Value) {
        self.call_as(op, body, Some(SIGV4))
    }

    /// An AWS JSON call with this `Authorization` header, or none.
    fn call_as(&self, op: &str, body: &Value, authorization: Option<&str>) -> (u16, Value) {
        let target = format!("AWSStepFunctions.{op}");
        let mut headers = vec![("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", target.as_str())];
        headers.extend(authorization.map(|a| ("Authorization", a)));
        self.raw("POST", &format!("127.0.0.1:{}", self.port), &headers, &body.to_string())
    }
}

fn need(program: &str, args: &[&str], what: &str) -> Output {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{what} is needed by this test (.ci/run installs it): cannot run `{program}`: {e}"));
    assert!(
        out.status.success(),
        "{what} is needed by this test (.ci/run installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn boto3_drives_every_operation_and_error() {
    need("python3", &["-c", "import boto3"], "python3 with boto3");
    let dev = Dev::start(&[]);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/aws/boto3_suite.py");
    let out = Command::new("python3").arg(script).arg(dev.endpoint()).output().expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("boto3 suite passed"),
        "the boto3 suite failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The AWS SDK for JavaScript v3, unmodified (tests/aws/js/sdk_v3.mjs; `.ci/run` installs
/// its package with `npm ci`).
#[test]
fn js_sdk_v3_creates_starts_tests_and_gets_typed_errors() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/aws/js");
    assert!(
        std::path::Path::new(dir).join("node_modules/@aws-sdk/client-sfn").is_dir(),
        "@aws-sdk/client-sfn is needed by this test: run `npm ci` in {dir} (.ci/run does)"
    );
    let dev = Dev::start(&[]);
    let out = Command::new("node")
        .arg(format!("{dir}/sdk_v3.mjs"))
        .arg(dev.endpoint())
        .output()
        .expect("node is needed by this test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("js sdk v3 passed"),
        "the JS SDK v3 script failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn aws(dev: &Dev, args: &[&str], env: &[(&str, &str)]) -> Value {
    let out = Command::new("aws")
        .args(["stepfunctions"])
        .args(args)
        .args(["--endpoint-url", &dev.endpoint(), "--output", "json"])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_MAX_ATTEMPTS", "1")
        .envs(env.iter().copied())
        .output()
        .expect("run aws");
    assert!(out.status.success(), "aws {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// `args` printed by the AWS CLI (over HTTP) and by `expressway` (over gRPC): stdout of each.
fn printed_by_both(dev: &Dev, args: &[&str]) -> (String, String) {
    let run = |mut cmd: Command| {
        let out = cmd.output().expect("run");
        assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    };
    // Timestamps in ISO 8601, as the AWS CLI v2 prints them by default (v1 prints epoch seconds).
    let config = std::env::temp_dir().join(format!("xw-aws-config-{}", std::process::id()));
    std::fs::write(&config, "[default]\ncli_timestamp_format = iso8601\n").expect("aws config");
    let mut aws = Command::new("aws");
    aws.arg("stepfunctions").args(args).args(["--endpoint-url", &dev.endpoint()]).env("AWS_CONFIG_FILE", &config);
    aws.env("AWS_ACCESS_KEY_ID", "test").env("AWS_SECRET_ACCESS_KEY", "test").env("AWS_DEFAULT_REGION", "us-east-1");
    aws.env("AWS_MAX_ATTEMPTS", "1").env("AWS_DISABLE_HOST_PREFIX_INJECTION", "true").env("AWS_PAGER", "");
    let mut ours = Command::new(env!("CARGO_BIN_EXE_expressway"));
    ours.args(args).args(["--endpoint", &dev.process.grpc_url()]);
    (run(aws), run(ours))
}

#[test]
fn query_and_text_output_print_what_the_aws_cli_prints() {
    need("aws", &["--version"], "the AWS CLI");
    let dev = Dev::start(&[]);
    let pass = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"ok":true,"n":[1,2]},"End":true}}}"#;
    let mut arns = Vec::new();
    for (name, kind) in [("orders", "EXPRESS"), ("billing", "STANDARD"), ("audit", "EXPRESS")] {
        let (status, created) = dev.api.call(
            "CreateStateMachine",
            &json!({"name": name, "definition": pass, "type": kind, "roleArn": "arn:aws:iam::000000000000:role/r",
                    "tags": [{"key": "team", "value": name}, {"key": "tier", "value": "1"}]}),
        );
        assert_eq!(status, 200, "{created}");
        arns.push(created["stateMachineArn"].as_str().expect("arn").to_string());
    }
    let orders = arns[0].as_str();
    let cases: &[&[&str]] = &[
        &["list-state-machines", "--query", "stateMachines[].name", "--output", "text"],
        &["list-state-machines", "--query", "stateMachines[?type=='EXPRESS'].[name, type]", "--output", "text"],
        &["list-state-machines", "--query", "length(stateMachines)"],
        &["list-tags-for-resource", "--resource-arn", orders, "--output", "text"],
        &["list-tags-for-resource", "--resource-arn", orders, "--query", "tags[?key=='team'].value | [0]"],
        &[
            "describe-state-machine",
            "--state-machine-arn",
            orders,
            "--query",
            "[name, type, status]",
            "--output",
            "text",
        ],
        &[
            "describe-state-machine",
            "--state-machine-arn",
            orders,
            "--query",
            "loggingConfiguration",
            "--output",
            "text",
        ],
        &["start-sync-execution", "--state-machine-arn", orders, "--query", "[status, output]", "--output", "text"],
    ];
    for args in cases {
        let (aws, ours) = printed_by_both(&dev, args);
        assert!(!aws.is_empty(), "{args:?}: the AWS CLI printed nothing");
        assert_eq!(ours, aws, "{args:?}");
    }
    // A multi-select hash: the same members (in sorted order, where the AWS CLI keeps the
    // expression's).
    let (aws, ours) = printed_by_both(
        &dev,
        &["describe-state-machine", "--state-machine-arn", orders, "--query", "{name: name, arn: stateMachineArn}"],
    );
    let parsed = |s: &str| serde_json::from_str::<Value>(s).expect("json");
    assert_eq!(parsed(&ours), parsed(&aws));
    assert_eq!(parsed(&ours), json!({"name": "orders", "arn": orders}));
    // The whole input as JSON, as the AWS CLI takes it, with a flag overriding one member.
    let input = json!({"stateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:nope"}).to_string();
    let (aws, ours) = printed_by_both(
        &dev,
        &["describe-state-machine", "--cli-input-json", &input, "--state-machine-arn", orders, "--query", "name"],
    );
    assert_eq!((ours.as_str(), aws.as_str()), ("\"orders\"", "\"orders\""));
    // A query that does not parse is refused before any call, with the flag named.
    let bad = Command::new(env!("CARGO_BIN_EXE_expressway"))
        .args(["list-state-machines", "--query", "stateMachines[", "--endpoint", "http://127.0.0.1:9"])
        .output()
        .expect("run");
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("bad value for --query stateMachines["), "{stderr}");
}

/// `--max-items`, `--starting-token`, `--page-size` and `--no-paginate` page as the AWS CLI
/// does, and the NextToken either prints resumes in the other.
#[test]
fn pagination_flags_print_what_the_aws_cli_prints() {
    need("aws", &["--version"], "the AWS CLI");
    let dev = Dev::start(&[]);
    let pass = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
    for name in ["a1", "a2", "a3", "a4", "a5"] {
        let (status, created) = dev.api.call(
            "CreateStateMachine",
            &json!({"name": name, "definition": pass, "type": "EXPRESS", "roleArn": "arn:aws:iam::000000000000:role/r"}),
        );
        assert_eq!(status, 200, "{created}");
    }
    let names = |printed: &str| -> (Vec<String>, Option<String>) {
        let v: Value = serde_json::from_str(printed).expect("json");
        let names = v["stateMachines"]
            .as_array()
            .expect("items")
            .iter()
            .map(|m| m["name"].as_str().unwrap_or("").to_string())
            .collect();
        (names, v["NextToken"].as_str().map(str::to_string))
    };
    let (aws, ours) = printed_by_both(&dev, &["list-state-machines", "--max-items", "2"]);
    assert_eq!(ours, aws);
    let (first, token) = names(&aws);
    assert_eq!(first.len(), 2);
    let token = token.expect("a NextToken after two of five");
    let (aws, ours) = printed_by_both(&dev, &["list-state-machines", "--starting-token", &token, "--max-items", "2"]);
    assert_eq!(ours, aws);
    let (second, token) = names(&aws);
    let token = token.expect("a NextToken after four of five");
    let (aws, ours) = printed_by_both(&dev, &["list-state-machines", "--starting-token", &token]);
    assert_eq!(ours, aws);
    let (third, token) = names(&aws);
    assert_eq!(token, None);
    let all: Vec<String> = [first, second, third].concat();
    assert_eq!(all.len(), 5, "{all:?}");
    let cases: &[&[&str]] = &[
        &["list-state-machines", "--page-size", "2", "--max-items", "3"],
        &["list-state-machines", "--page-size", "2", "--query", "stateMachines[].name", "--output", "text"],
        // Text prints page by page, the query applied to each and to the NextToken.
        &["list-state-machines", "--page-size", "2", "--max-items", "3", "--output", "text"],
        &["list-state-machines", "--max-items", "3", "--query", "stateMachines[].name", "--output", "text"],
        &["list-state-machines", "--max-results", "2"],
        &["list-state-machines", "--no-paginate", "--query", "length(stateMachines)"],
    ];
    for args in cases {
        let (aws, ours) = printed_by_both(&dev, args);
        assert!(!aws.is_empty(), "{args:?}: the AWS CLI printed nothing");
        assert_eq!(ours, aws, "{args:?}");
    }
    // Page by page with cut pages: the token the AWS CLI printed resumes ours and back.
    let (aws, _) = printed_by_both(&dev, &["list-state-machines", "--page-size", "2", "--max-items", "3"]);
    let (_, token) = names(&aws);
    let (aws, ours) =
        printed_by_both(&dev, &["list-state-machines", "--page-size", "2", "--starting-token", &token.expect("token")]);
    assert_eq!(ours, aws);
    assert_eq!(names(&ours).0, all[3..].to_vec());
}

#[test]
fn aws_cli_creates_starts_and_describes() {
    need("aws", &["--version"], "the AWS CLI");
    let dev = Dev::start(&[]);
    let definition = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"doubled.$":"States.MathAdd($.n, $.n)"},"End":true}}}"#;
    let created = aws(
        &dev,
        &[
            "create-state-machine",
            "--name",
            "cli",
            "--definition",
            definition,
            "--role-arn",
            "arn:aws:iam::000000000000:role/unused",
            "--type",
            "EXPRESS",
        ],
        &[],
    );
    let arn = created["stateMachineArn"].as_str().expect("stateMachineArn").to_string();
    assert_eq!(arn, "arn:aws:states:us-east-1:000000000000:stateMachine:cli");
    // The CLI sends StartSyncExecution to sync-<host> unless told not to.
    let no_prefix = [("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")];
    let sync = aws(&dev, &["start-sync-execution", "--state-machine-arn", &arn, "--input", r#"{"n": 21}"#], &no_prefix);
    assert_eq!(sync["status"], "SUCCEEDED", "{sync}");
    assert_eq!(
        serde_json::from_str::<Value>(sync["output"].as_str().expect("output")).expect("json"),
        json!({"doubled": 42})
    );
    let described =
        aws(&dev, &["describe-execution", "--execution-arn", sync["executionArn"].as_str().expect("arn")], &[]);
    assert_eq!(described["status"], "SUCCEEDED", "{described}");
    let machine = aws(&dev, &["describe-state-machine", "--state-machine-arn", &arn], &[]);
    assert_eq!(machine["type"], "EXPRESS");
    assert_eq!(machine["definition"], definition);
    // test-state, a Task mocked, as the AWS CLI's users write it.
    let task =
        r#"{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"f"},"End":true}"#;
    let mock = r#"{"result":"{\"StatusCode\":200,\"Payload\":7}","fieldValidationMode":"STRICT"}"#;
    let tested =
        aws(&dev, &["test-state", "--definition", task, "--mock", mock, "--inspection-level", "DEBUG"], &no_prefix);
    assert_eq!(tested["status"], "SUCCEEDED", "{tested}");
    assert_eq!(tested["output"], r#"{"StatusCode":200,"Payload":7}"#, "{tested}");
    assert_eq!(tested["inspectionData"]["afterParameters"], r#"{"FunctionName":"f"}"#, "{tested}");
}

#[test]
fn requests_no_sdk_sends_get_aws_shaped_answers() {
    let dev = Dev::start(&[]);
    let json_ct = ("Content-Type", "application/x-amz-json-1.0");
    let host = format!("127.0.0.1:{}", dev.api.port);

    let (status, body) = dev.api.call("FlyToTheMoon", &json!({}));
    assert_eq!((status, body["__type"].as_str()), (400, Some("UnknownOperationException")), "{body}");
    let (status, body) = dev.api.raw("POST", &host, &[json_ct, ("X-Amz-Target", "Nope.CreateStateMachine")], "{}");
    assert_eq!((status, body["__type"].as_str()), (400, Some("UnknownOperationException")), "{body}");
    let (status, body) = dev.api.raw("POST", &host, &[json_ct], "{}");
    assert_eq!((status, body["__type"].as_str()), (400, Some("UnknownOperationException")), "{body}");
    let (status, body) = dev.api.raw("GET", &host, &[], "");
    assert_eq!((status, body["__type"].as_str()), (400, Some("UnknownOperationException")), "{body}");

    let target = [json_ct, ("X-Amz-Target", "AWSStepFunctions.DescribeStateMachine")];
    for bad in ["{", "[]", r#"{"stateMachineArn": 7}"#] {
        let (status, body) = dev.api.raw("POST", &host, &target, bad);
        assert_eq!((status, body["__type"].as_str()), (400, Some("SerializationException")), "{bad}: {body}");
    }
    let (status, body) = dev.api.call("DescribeStateMachine", &json!({}));
    assert_eq!((status, body["__type"].as_str()), (400, Some("ValidationException")), "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("'stateMachineArn'")), "{body}");
    let (status, body) = dev.api.call("ListStateMachines", &json!({"maxResults": 5000}));
    assert_eq!((status, body["__type"].as_str()), (400, Some("ValidationException")), "{body}");
    let (status, body) = dev.api.call("CreateStateMachine", &json!({"name": "t", "definition": "{}", "type": "FAST"}));
    assert_eq!((status, body["__type"].as_str()), (400, Some("ValidationException")), "{body}");

    // A definition over AWS's 1 MiB is refused as AWS refuses it; a body beyond what any
    // valid request needs is refused before it is read whole.
    let big = format!(
        r#"{{"StartAt":"P","States":{{"P":{{"Type":"Pass","Comment":"{}","End":true}}}}}}"#,
        "x".repeat(1 << 20)
    );
    let (status, body) = dev.api.call("CreateStateMachine", &json!({"name": "big", "definition": big}));
    assert_eq!((status, body["__type"].as_str()), (400, Some("InvalidDefinition")), "{body}");
    let (status, body) =
        dev.api.call("CreateStateMachine", &json!({"name": "huge", "definition": "x".repeat(5 << 20)}));
    assert_eq!((status, body["__type"].as_str()), (400, Some("ValidationException")), "{body}");

    // StartSyncExecution as the SDKs send it by default: to sync-<host>, on the same listener.
    let definition = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
    let (status, created) = dev.api.call("CreateStateMachine", &json!({"name": "m", "definition": definition}));
    assert_eq!(status, 200, "{created}");
    assert!(created["creationDate"].is_f64(), "timestamps are epoch seconds: {created}");
    let sync_host = format!("sync-localhost:{}", dev.api.port);
    let headers = [json_ct, ("X-Amz-Target", "AWSStepFunctions.StartSyncExecution")];
    let input = json!({"stateMachineArn": created["stateMachineArn"], "input": "{\"k\":1}"}).to_string();
    let (status, sync) = dev.api.raw("POST", &sync_host, &headers, &input);
    assert_eq!(
        (status, sync["status"].as_str(), sync["output"].as_str()),
        (200, Some("SUCCEEDED"), Some("{\"k\":1}")),
        "{sync}"
    );
    // TestState too is sent to sync-<host>.
    let headers = [json_ct, ("X-Amz-Target", "AWSStepFunctions.TestState")];
    let state = json!({"Type": "Pass", "Result": 1, "ResultPath": "$.one", "Next": "N"}).to_string();
    let input = json!({"definition": state, "input": "{\"k\":1}", "inspectionLevel": "TRACE"}).to_string();
    let (status, tested) = dev.api.raw("POST", &sync_host, &headers, &input);
    assert_eq!(
        (status, tested["status"].as_str(), tested["nextState"].as_str(), tested["output"].as_str()),
        (200, Some("SUCCEEDED"), Some("N"), Some("{\"k\":1,\"one\":1}")),
        "{tested}"
    );
    assert_eq!(tested["inspectionData"]["result"], "1", "{tested}");
    let (status, body) = dev.api.call("TestState", &json!({"definition": state, "inspectionLevel": "LOUD"}));
    assert_eq!((status, body["__type"].as_str()), (400, Some("ValidationException")), "{body}");
}

#[test]
fn a_full_queue_answers_throttling() {
    let dev = Dev::start(&["--workers", "1", "--queue-capacity", "1"]);
    let wait = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":30,"End":true}}}"#;
    let (status, created) = dev.api.call("CreateStateMachine", &json!({"name": "slow", "definition": wait}));
    assert_eq!(status, 200, "{created}");
    let start = json!({"stateMachineArn": created["stateMachineArn"]});
    let mut answers = Vec::new();
    for _ in 0..5 {
        let (status, body) = dev.api.call("StartExecution", &start);
        answers.push((status, body["__type"].as_str().map(str::to_string)));
    }
    assert!(answers.iter().any(|(s, _)| *s == 200), "{answers:?}");
    assert!(answers.contains(&(400, Some("ThrottlingException".into()))), "{answers:?}");
}

/// The HTTP listener drains with the process: a call in flight when shutdown begins gets its
/// answer, then the server returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_calls_in_flight_finish_when_the_process_drains() {
    use clap::Parser as _;
    let http = expressway_testkit::free_port();
    let cli = expressway_cli::Cli::parse_from([
        "expressway",
        "dev",
        "--http-listen",
        &format!("127.0.0.1:{http}"),
        "--drain-timeout-seconds",
        "10",
    ]);
    let expressway_cli::Command::Dev(args) = cli.command else { panic!("dev") };
    let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(expressway_cli::dev::serve(args, grpc, async {
        let _ = stopped.await;
    }));
    // Up once it accepts connections; a server that stopped says why.
    for attempt in 0.. {
        if server.is_finished() {
            panic!("the server stopped: {:?}", server.await);
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", http)).await.is_ok() {
            break;
        }
        assert!(attempt < 400, "the HTTP listener did not come up");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let dev = tokio::task::spawn_blocking(move || {
        let api = Api { port: http };
        let wait = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}"#;
        let (status, created) = api.call("CreateStateMachine", &json!({"name": "w", "definition": wait}));
        assert_eq!(status, 200, "{created}");
        api.call("StartSyncExecution", &json!({"stateMachineArn": created["stateMachineArn"]}))
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.send(()).expect("the server waits");
    let (status, sync) = dev.await.expect("the call");
    assert_eq!((status, sync["status"].as_str()), (200, Some("SUCCEEDED")), "{sync}");
    tokio::time::timeout(Duration::from_secs(15), server)
        .await
        .expect("the server drains in time")
        .expect("server task")
        .expect("server result");
    assert!(TcpStream::connect(("127.0.0.1", http)).is_err(), "the HTTP listener is closed");
}

/// With `[auth]` on, the AWS protocol authenticates bearer tokens as gRPC does and applies the
/// same policies; a SigV4 signature by a key that is not configured (the SDKs' dummy `test`)
/// is refused.
#[test]
fn with_auth_on_calls_need_a_bearer_token_and_a_policy() {
    let dir = std::env::temp_dir().join(format!("xw-aws-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("tokens.toml"), "[[tokens]]\nprincipal = \"ci\"\ntoken = \"ci-token\"\n").expect("tokens");
    let auth = dir.join("auth.toml");
    std::fs::write(
        &auth,
        format!(
            "tokens_file = \"{}\"\n[[policies]]\nprincipal = \"ci\"\nactions = [\"states:CreateStateMachine\", \"states:Describe*\"]\n",
            dir.join("tokens.toml").display()
        ),
    )
    .expect("auth");
    let dev = Dev::start_in("eu-west-1", "123456789012", &["--auth-config", &auth.display().to_string()]);
    let definition = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
    let create = json!({"name": "guarded", "definition": definition});
    for authorization in [Some(SIGV4), None, Some("Bearer not-a-token")] {
        let (status, body) = dev.api.call_as("CreateStateMachine", &create, authorization);
        assert_eq!((status, body["__type"].as_str()), (400, Some("UnrecognizedClientException")), "{body}");
    }
    let (status, created) = dev.api.call_as("CreateStateMachine", &create, Some("Bearer ci-token"));
    assert_eq!(status, 200, "{created}");
    let arn = created["stateMachineArn"].clone();
    let (status, described) =
        dev.api.call_as("DescribeStateMachine", &json!({"stateMachineArn": arn}), Some("Bearer ci-token"));
    assert_eq!((status, described["name"].as_str()), (200, Some("guarded")), "{described}");
    let (status, denied) = dev.api.call_as("StartExecution", &json!({"stateMachineArn": arn}), Some("Bearer ci-token"));
    assert_eq!((status, denied["__type"].as_str()), (400, Some("AccessDeniedException")), "{denied}");
    assert!(denied["message"].as_str().is_some_and(|m| m.contains("states:StartExecution")), "{denied}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// boto3's script for the SigV4 test: each line of its output is `<case> <outcome>`, the
/// outcome `ok` or the error code.
const SIGNED_CALLS: &str = r#"
import sys
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, definition = sys.argv[1], sys.argv[2]

def client(key, secret):
    return boto3.client("stepfunctions", endpoint_url=endpoint, region_name="eu-west-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=Config(inject_host_prefix=False, retries={"max_attempts": 1}))

def attempt(case, call, **kwargs):
    try:
        out = call(**kwargs)
        print(case, "ok", out.get("stateMachineArn", ""))
    except ClientError as e:
        print(case, e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])

ci = client("AKIDEXPRESSWAYCI", "ci-secret/with+odd=chars")
attempt("create", ci.create_state_machine, name="signed", definition=definition, roleArn="arn:aws:iam::1:role/x")
attempt("describe", ci.describe_state_machine, stateMachineArn="arn:aws:states:eu-west-1:123456789012:stateMachine:signed")
attempt("denied", ci.start_execution, stateMachineArn="arn:aws:states:eu-west-1:123456789012:stateMachine:signed")
attempt("wrong-secret", client("AKIDEXPRESSWAYCI", "not-the-secret").list_state_machines)
attempt("unknown-key", client("AKIDNOBODY", "ci-secret/with+odd=chars").list_state_machines)
"#;

/// With access keys configured, boto3's SigV4 signatures are verified: the right secret passes
/// (and the key's principal meets the policies), a wrong one is `InvalidSignatureException`, an
/// unknown key `UnrecognizedClientException`. The AWS CLI's signatures pass too.
#[test]
fn sigv4_signatures_are_verified_against_configured_access_keys() {
    need("python3", &["-c", "import boto3"], "python3 with boto3");
    let dir = std::env::temp_dir().join(format!("xw-sigv4-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let keys = dir.join("access-keys.toml");
    std::fs::write(
        &keys,
        "[[access_keys]]\nprincipal = \"ci\"\naccess_key_id = \"AKIDEXPRESSWAYCI\"\nsecret_access_key = \"ci-secret/with+odd=chars\"\n",
    )
    .expect("keys");
    let auth = dir.join("auth.toml");
    std::fs::write(
        &auth,
        format!(
            "access_keys_file = \"{}\"\n[[policies]]\nprincipal = \"ci\"\nactions = [\"states:CreateStateMachine\", \"states:Describe*\", \"states:List*\"]\n",
            keys.display()
        ),
    )
    .expect("auth");
    let dev = Dev::start_in("eu-west-1", "123456789012", &["--auth-config", &auth.display().to_string()]);
    let definition = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
    let out =
        Command::new("python3").args(["-c", SIGNED_CALLS, &dev.endpoint(), definition]).output().expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        vec![
            "create ok arn:aws:states:eu-west-1:123456789012:stateMachine:signed",
            "describe ok arn:aws:states:eu-west-1:123456789012:stateMachine:signed",
            "denied AccessDeniedException 400",
            "wrong-secret InvalidSignatureException 400",
            "unknown-key UnrecognizedClientException 400",
        ],
        "{stdout}"
    );

    // The AWS CLI signs its own way (its own botocore, its own headers); it passes as well.
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIDEXPRESSWAYCI"),
        ("AWS_SECRET_ACCESS_KEY", "ci-secret/with+odd=chars"),
        ("AWS_DEFAULT_REGION", "eu-west-1"),
    ];
    let listed = Command::new("aws")
        .args(["stepfunctions", "list-state-machines", "--endpoint-url", &dev.endpoint(), "--output", "json"])
        .envs(env)
        .output()
        .expect("the AWS CLI (.ci/run installs it)");
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let listed: Value = serde_json::from_slice(&listed.stdout).expect("json");
    assert_eq!(listed["stateMachines"][0]["name"], "signed", "{listed}");
    let _ = std::fs::remove_dir_all(&dir);
}
