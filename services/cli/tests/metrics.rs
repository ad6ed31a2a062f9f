//! Metrics a real Prometheus server scrapes: `expressway dev --http-listen` serves `/metrics`
//! (with `/healthz` and `/readyz`); a `prometheus` process (Debian's package; .ci/run installs
//! it) scrapes it every second, and its query API must report the AWS/States counts of the
//! executions this test ran, labelled by state machine ARN. And a distributed worker's Kafka
//! figures, on a real broker: its consumer lag per partition rises while starts wait for it and
//! returns to 0, and the offsets it committed add up to the executions it consumed.

mod common;

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{channel, create_machine, serial, start_grpc, wait_for, Cluster};
use expressway_proto::v1 as pb;
use serde_json::{json, Value};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.1 request on loopback; the status and the body.
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let a = expressway_testkit::http::call(port, method, path, headers, body, Duration::from_secs(30));
    let (status, body) = (a.status, a.body);
    // Chunked bodies (Prometheus answers so): keep the JSON between the chunk sizes.
    let body = match (body.find('{'), body.rfind('}')) {
        (Some(a), Some(b)) if body.contains("\r\n") => body[a..=b].to_string(),
        _ => body,
    };
    (status, body)
}

fn aws(port: u16, op: &str, body: Value) -> Value {
    let target = format!("AWSStepFunctions.{op}");
    let (status, text) = http(
        port,
        "POST",
        "/",
        &[("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", &target)],
        &body.to_string(),
    );
    assert_eq!(status, 200, "{op}: {text}");
    serde_json::from_str(&text).expect("json")
}

fn wait_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn prometheus_scrapes_the_aws_named_counts_of_a_run() {
    assert!(
        Command::new("prometheus").arg("--version").output().is_ok_and(|o| o.status.success()),
        "the prometheus server must be installed (Debian's package; .ci/run installs it)"
    );
    let dev = expressway_testkit::dev::Dev::builder(env!("CARGO_BIN_EXE_expressway"))
        .http()
        .start()
        .expect("start expressway dev");
    let port = dev.http_port();
    assert_eq!(http(port, "GET", "/healthz", &[], ""), (200, "ok\n".to_string()));
    assert_eq!(http(port, "GET", "/readyz", &[], ""), (200, "ready\n".to_string()));

    let ok = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#;
    let bad = r#"{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Bad","Cause":"on purpose"}}}"#;
    let role = "arn:aws:iam::000000000000:role/unused";
    let create = |name: &str, def: &str| {
        aws(port, "CreateStateMachine", json!({"name": name, "definition": def, "roleArn": role, "type": "EXPRESS"}))
            ["stateMachineArn"]
            .as_str()
            .expect("arn")
            .to_string()
    };
    let (ok_arn, bad_arn) = (create("metered-ok", ok), create("metered-bad", bad));
    for _ in 0..5 {
        assert_eq!(aws(port, "StartSyncExecution", json!({"stateMachineArn": ok_arn}))["status"], "SUCCEEDED");
    }
    for _ in 0..2 {
        assert_eq!(aws(port, "StartSyncExecution", json!({"stateMachineArn": bad_arn}))["status"], "FAILED");
    }

    // A real Prometheus, scraping every second.
    let dir = std::env::temp_dir().join(format!("xw-prometheus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: expressway\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        ),
    )
    .expect("config");
    let prom_port = expressway_testkit::free_port();
    let _prometheus = Killed(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus"),
    );
    wait_port(prom_port, "prometheus");
    let value = |metric: &str, arn: &str| -> Option<f64> {
        let (status, body) = http(prom_port, "GET", &format!("/api/v1/query?query={metric}"), &[], "");
        if status != 200 {
            return None;
        }
        let v: Value = serde_json::from_str(&body).ok()?;
        v["data"]["result"]
            .as_array()?
            .iter()
            .find(|r| r["metric"]["StateMachineArn"] == arn)
            .and_then(|r| r["value"][1].as_str()?.parse().ok())
    };
    let expected = [
        ("ExecutionsStarted", &ok_arn, 5.0),
        ("ExecutionsSucceeded", &ok_arn, 5.0),
        ("ExecutionsStarted", &bad_arn, 2.0),
        ("ExecutionsFailed", &bad_arn, 2.0),
        ("ExecutionTime_count", &ok_arn, 5.0),
        ("ExecutionTime_count", &bad_arn, 2.0),
    ];
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got: Vec<_> = expected.iter().map(|(m, arn, _)| value(m, arn)).collect();
        if expected.iter().zip(&got).all(|((_, _, want), got)| *got == Some(*want)) {
            break;
        }
        assert!(Instant::now() < deadline, "Prometheus reports {got:?}, want {expected:?}");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(value("ExecutionsFailed", &ok_arn), None, "no failure was counted for the machine that succeeds");
    // The gauges of what is going on now went up and came back down.
    let gauge = |metric: &str| -> Option<f64> {
        let (_, body) = http(prom_port, "GET", &format!("/api/v1/query?query={metric}"), &[], "");
        let v: Value = serde_json::from_str(&body).ok()?;
        v["data"]["result"].as_array()?.first().and_then(|r| r["value"][1].as_str()?.parse().ok())
    };
    assert_eq!(gauge("expressway_executions_in_flight"), Some(0.0));
    assert_eq!(gauge("expressway_sync_calls_waiting"), Some(0.0));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The values of `metric` in Prometheus text whose labels include `topic="{topic}"`, by the
/// `partition` label.
fn per_partition(text: &str, metric: &str, topic: &str) -> std::collections::BTreeMap<String, f64> {
    let mut out = std::collections::BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with(&format!("{metric}{{"))) {
        let Some((labels, value)) = line.rsplit_once(' ') else { continue };
        if !labels.contains(&format!("topic=\"{topic}\"")) {
            continue;
        }
        let partition = labels.split("partition=\"").nth(1).and_then(|p| p.split('"').next()).unwrap_or_default();
        out.insert(partition.to_string(), value.parse().expect("a number"));
    }
    out
}

/// Wait until the executions topic's figures on the worker's `/metrics` settle: every partition
/// reported, no lag, the committed offsets adding up to `done` (each partition's next offset;
/// the topic is new, so they start at 0).
async fn settled(c: &Cluster, port: u16, done: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = http(port, "GET", "/metrics", &[], "").1;
        let lag = per_partition(&text, "expressway_kafka_consumer_lag", &c.topic);
        let committed = per_partition(&text, "expressway_kafka_committed_offset", &c.topic);
        let total: f64 = committed.values().sum();
        if lag.len() == 4 && lag.values().all(|l| *l == 0.0) && total == done as f64 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "lag {lag:?}, committed {committed:?}: want no lag on 4 partitions and {done} committed; {}",
            text.lines().filter(|l| l.starts_with("expressway_kafka")).collect::<Vec<_>>().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workers_lag_rises_while_starts_wait_and_its_commits_add_up_to_what_it_consumed() {
    let _serial = serial().await;
    let c = Cluster::new("metrics");
    let (port, ops) = (expressway_testkit::free_port(), expressway_testkit::free_port());
    // Statistics (and so the lag) every second instead of every 5 s.
    let config = c.logs.join("worker.toml");
    std::fs::write(&config, "[kafka.properties]\n\"statistics.interval.ms\" = \"1000\"\n").expect("config");
    let _frontend = c.service("frontend", &["--listen", &format!("127.0.0.1:{port}")], "frontend.log");
    // One execution at a time: starts of a machine that waits 1 s queue up behind it.
    let _worker = c.service(
        "worker",
        &["--config", &config.to_string_lossy(), "--concurrency", "1", "--http-listen", &format!("127.0.0.1:{ops}")],
        "worker.log",
    );
    let ch = channel(port).await;
    wait_port(ops, "the worker's HTTP listener");
    wait_for("the worker assigned", Duration::from_secs(30), || c.assigned("worker.log")).await;
    let metrics = || http(ops, "GET", "/metrics", &[], "").1;
    // The client reports a partition's lag once an offset of it is committed: 40 quick
    // executions give every partition one.
    let quick = create_machine(&ch, "quick", common::HELLO, pb::LogLevel::Off).await;
    start_grpc(&ch, &quick, "quick-", 40).await;
    wait_for("40 outcomes", Duration::from_secs(60), || c.count("xw:out:*") >= 40).await;
    settled(&c, ops, 40).await;

    // Starts of a machine that waits 1 s queue up behind the one execution the worker runs.
    let slow = create_machine(&ch, "slow", common::SLOW, pb::LogLevel::Off).await;
    let n = 8;
    start_grpc(&ch, &slow, "slow-", n).await;
    let mut most = 0.0f64;
    let deadline = Instant::now() + Duration::from_secs(60);
    while c.count("xw:out:*") < 40 + n {
        assert!(Instant::now() < deadline, "only {} executions finished: {}", c.count("xw:out:*"), c.log("worker.log"));
        let lag: f64 = per_partition(&metrics(), "expressway_kafka_consumer_lag", &c.topic).values().sum();
        most = most.max(lag);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(most > 0.0, "the lag rose while starts waited for the worker: {}", metrics());
    assert!(most <= n as f64, "no more lag than waiting starts: {most}");
    settled(&c, ops, 40 + n).await;

    // Each of those commits the broker confirmed was counted.
    let commits = metrics()
        .lines()
        .find(|l| l.starts_with(&format!("expressway_kafka_offsets_committed{{topic=\"{}\"}} ", c.topic)))
        .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok());
    assert!(commits.is_some_and(|k| (4.0..=(40 + n) as f64).contains(&k)), "commits counted: {commits:?}");
}
