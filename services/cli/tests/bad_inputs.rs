//! Hostile but fair inputs against the `expressway dev` process: each gets a clean AWS-style
//! error (or its bounded outcome) while the process keeps serving — a health check and a
//! hello execution succeed after every case — and its peak memory stays bounded.

use std::time::{Duration, Instant};

use expressway_proto::v1 as pb;
use pb::executions_client::ExecutionsClient;
use pb::state_machines_client::StateMachinesClient;
use serde_json::{json, Value};
use tonic::transport::Channel;
use tonic::Code;

/// Peak resident memory allowed to the server across all cases.
const PEAK_RSS_LIMIT_KIB: u64 = 512 * 1024;

struct Dev {
    process: expressway_testkit::dev::Dev,
    channel: Channel,
}

impl Dev {
    async fn start(extra: &[&str]) -> Dev {
        let process = expressway_testkit::dev::Dev::builder(env!("CARGO_BIN_EXE_expressway"))
            .args(extra)
            .env("EXPRESSWAY_WORKERS", "8")
            .start()
            .expect("start expressway dev");
        let channel = Channel::from_shared(process.grpc_url()).expect("url").connect().await.expect("connect");
        Dev { process, channel }
    }

    /// The server's peak resident memory so far (VmHWM), in KiB.
    fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.process.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    async fn create(&self, name: &str, definition: &str) -> Result<String, tonic::Status> {
        let req = pb::CreateStateMachineRequest {
            name: name.into(),
            definition: definition.into(),
            r#type: pb::StateMachineType::Express as i32,
            ..Default::default()
        };
        StateMachinesClient::new(self.channel.clone())
            .create_state_machine(req)
            .await
            .map(|r| r.into_inner().state_machine_arn)
    }

    async fn run(&self, arn: &str, input: Value) -> pb::StartSyncExecutionResponse {
        let req =
            pb::StartExecutionRequest { state_machine_arn: arn.into(), input: input.to_string(), ..Default::default() };
        ExecutionsClient::new(self.channel.clone()).start_sync_execution(req).await.expect("sync start").into_inner()
    }

    /// The process still serves: SERVING, a hello execution succeeds, memory is bounded.
    async fn still_serving(&self, case: &str) {
        let mut health = tonic_health::pb::health_client::HealthClient::new(self.channel.clone());
        let h = health
            .check(tonic_health::pb::HealthCheckRequest { service: "expressway.v1.Executions".into() })
            .await
            .unwrap_or_else(|e| panic!("{case}: health check failed: {e}"))
            .into_inner();
        assert_eq!(h.status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32, "{case}");
        let hello = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"hi","End":true}}}"#;
        let arn = match self.create("hello", hello).await {
            Ok(a) => a,
            Err(e) => panic!("{case}: {e}"),
        };
        let r = self.run(&arn, json!({})).await;
        assert_eq!((r.status, r.output.as_str()), (pb::ExecutionStatus::Succeeded as i32, "\"hi\""), "{case}");
        let peak = self.peak_rss_kib();
        assert!(peak < PEAK_RSS_LIMIT_KIB, "{case}: peak RSS {peak} KiB");
    }
}

fn failed_with(r: &pb::StartSyncExecutionResponse, status: pb::ExecutionStatus, error: &str) {
    assert_eq!((r.status, r.error.as_str()), (status as i32, error), "{} / {}", r.error, r.cause);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_executions_end_cleanly_and_the_server_goes_on() {
    let dev = Dev::start(&[]).await;

    // A loop that never waits, with a 2-second limit.
    let spin = r#"{"TimeoutSeconds":2,"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"}}}"#;
    let arn = dev.create("spin", spin).await.expect("create");
    let began = Instant::now();
    let r = dev.run(&arn, json!({})).await;
    failed_with(&r, pb::ExecutionStatus::TimedOut, "States.Timeout");
    assert!(began.elapsed() < Duration::from_secs(10), "took {:?}", began.elapsed());
    dev.still_serving("a loop of Pass states").await;

    // CPU-bound JSONata: cut at its step limit, long before any time limit.
    let cpu = r#"{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass",
        "Output":"{% $reduce([1..9999999], function($a, $b) { $a + $b }) %}","End":true}}}"#;
    let arn = dev.create("cpu", cpu).await.expect("create");
    let r = dev.run(&arn, json!({})).await;
    failed_with(&r, pb::ExecutionStatus::Failed, "States.QueryEvaluationError");
    assert!(r.cause.contains("U1002"), "{}", r.cause);
    dev.still_serving("CPU-heavy JSONata").await;

    // Sizes computed from user data.
    for (name, expr, outcome) in [
        ("pad-negative", "$pad('x', -1e300)", Err("States.QueryEvaluationError")),
        ("pad-huge", "$pad('x', 6e9)", Err("States.QueryEvaluationError")),
        ("substring-huge", "$substring('hello', 1, 9223372036854775807)", Ok(json!("ello"))),
        ("string-doubling", "$reduce([1..40], function($a, $b) { $a & $a }, 'x')", Err("States.QueryEvaluationError")),
    ] {
        let def = json!({"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {"Type": "Pass",
            "Output": format!("{{% {expr} %}}"), "End": true}}});
        let arn = dev.create(name, &def.to_string()).await.expect("create");
        let r = dev.run(&arn, json!({})).await;
        match outcome {
            Err(error) => failed_with(&r, pb::ExecutionStatus::Failed, error),
            Ok(v) => {
                assert_eq!(r.status, pb::ExecutionStatus::Succeeded as i32, "{name}: {} {}", r.error, r.cause);
                assert_eq!(serde_json::from_str::<Value>(&r.output).expect("json"), v, "{name}");
            }
        }
        dev.still_serving(name).await;
    }

    // A Map over a hundred thousand items: forty at a time, and an output too big to keep.
    let map = r#"{"QueryLanguage":"JSONata","TimeoutSeconds":60,"StartAt":"M","States":{"M":{"Type":"Map",
        "Items":"{% [1..100000] %}","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}"#;
    let arn = dev.create("huge-map", map).await.expect("create");
    let r = dev.run(&arn, json!({})).await;
    failed_with(&r, pb::ExecutionStatus::Failed, "States.DataLimitExceeded");
    dev.still_serving("a Map over 100,000 items").await;

    // Definitions: over AWS's 1 MiB, and one whose diagnostics would not fit in a status.
    let huge = json!({"Comment": "x".repeat(1_100_000), "StartAt": "A", "States": {"A": {"Type": "Succeed"}}});
    let e = dev.create("huge", &huge.to_string()).await.expect_err("too large");
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("more than the limit of 1048576 bytes"), "{}", e.message());
    let states: serde_json::Map<String, Value> =
        (0..2000).map(|i| (format!("S{i}"), json!({"Type": "Pass", "Next": format!("Gone{i}")}))).collect();
    let e = dev.create("broken", &json!({"StartAt": "S0", "States": states}).to_string()).await.expect_err("invalid");
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    dev.still_serving("oversized and very wrong definitions").await;

    // An input nested past JSON's limit: named as such, nothing queued.
    let arn =
        dev.create("plain", r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#).await.expect("create");
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let req = pb::StartExecutionRequest { state_machine_arn: arn, input: deep, ..Default::default() };
    let e = ExecutionsClient::new(dev.channel.clone()).start_execution(req).await.expect_err("too deep");
    assert!(e.code() == Code::InvalidArgument && e.message().contains("nested more than 127 levels deep"), "{e:?}");
    dev.still_serving("a deeply nested input").await;
    eprintln!("peak RSS of the server over every case: {} KiB", dev.peak_rss_kib());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_store_refuses_starts_and_recovers() {
    let dev = Dev::start(&["--max-executions", "20"]).await;
    let wait = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":2,"End":true}}}"#;
    let arn = dev.create("wait", wait).await.expect("create");
    let mut ex = ExecutionsClient::new(dev.channel.clone());
    let mut refused = None;
    for i in 0..30 {
        let req = pb::StartExecutionRequest {
            state_machine_arn: arn.clone(),
            name: format!("w{i}"),
            input: "{}".into(),
            ..Default::default()
        };
        if let Err(e) = ex.start_execution(req).await {
            refused = Some((i, e));
            break;
        }
    }
    let (at, e) = refused.expect("a start past the store's capacity is refused");
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    assert!(e.message().contains("store full"), "{}", e.message());
    assert!(at >= 19, "refused at {at} of 20");
    // Once they finish, their room is taken by new executions.
    tokio::time::sleep(Duration::from_secs(3)).await;
    dev.still_serving("a full store").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_full_in_bytes_refuses_starts_and_recovers() {
    // One worker busy for a second per execution, and room for about five 200 KB inputs.
    let dev = Dev::start(&["--workers", "1", "--max-queue-bytes", "1048576"]).await;
    let wait = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}"#;
    let arn = dev.create("wait", wait).await.expect("create");
    let mut ex = ExecutionsClient::new(dev.channel.clone());
    let input = json!({ "blob": "x".repeat(200_000) }).to_string();
    let mut refused = None;
    for i in 0..20 {
        let req = pb::StartExecutionRequest {
            state_machine_arn: arn.clone(),
            name: format!("big{i}"),
            input: input.clone(),
            ..Default::default()
        };
        if let Err(e) = ex.start_execution(req).await {
            refused = Some((i, e));
            break;
        }
    }
    let (at, e) = refused.expect("a start past the queue's byte budget is refused");
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    assert!(e.message().contains("queue is full"), "{}", e.message());
    assert!((5..=7).contains(&at), "refused at start {at}: 1 running and about 5 queued fit in 1 MiB");
    // The refused start left nothing behind: its name can be used again once there is room.
    tokio::time::sleep(Duration::from_secs(7)).await;
    dev.still_serving("a queue full in bytes").await;
    let again = pb::StartExecutionRequest {
        state_machine_arn: arn.clone(),
        name: format!("big{at}"),
        input,
        ..Default::default()
    };
    ex.start_execution(again).await.expect("the refused name starts once the queue has room");
}
