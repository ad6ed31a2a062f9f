//! Health that tells the truth: a distributed frontend's gRPC health service (and `/readyz`)
//! says SERVING while Kafka and Redis answer, NOT_SERVING while Redis is down and SERVING again
//! once it is back, and NOT_SERVING to the connections still open while the process drains;
//! its `/metrics` times the Redis commands and Kafka records it sent and counts the synchronous
//! calls waiting. A worker's `/readyz` and a results service's (and its gRPC health) do the
//! same, each on its own: not ready while Redis is down or the broker does not answer, ready
//! again once they are back, not ready while draining after SIGTERM.

mod common;

use std::time::Duration;

use common::*;
use expressway_proto::v1 as pb;
use expressway_testkit::free_port;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

async fn status(ch: &tonic::transport::Channel, service: &str) -> ServingStatus {
    let r = HealthClient::new(ch.clone())
        .check(HealthCheckRequest { service: service.into() })
        .await
        .expect("a health answer")
        .into_inner();
    ServingStatus::try_from(r.status).expect("a known status")
}

/// `GET path` on the HTTP listener: the status and the body.
fn get(port: u16, path: &str) -> (u16, String) {
    let a = expressway_testkit::http::call(port, "GET", path, &[], "", Duration::from_secs(30));
    (a.status, a.body)
}

async fn becomes(ch: &tonic::transport::Channel, want: ServingStatus, within: Duration) {
    becomes_for(ch, "expressway.v1.Executions", want, within).await
}

/// Wait until the health of `service` (and of the whole server) is `want`.
async fn becomes_for(ch: &tonic::transport::Channel, service: &str, want: ServingStatus, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let now = status(ch, service).await;
        if now == want {
            assert_eq!(status(ch, "").await, want, "the whole server says the same");
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {now:?} after {within:?}, want {want:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_follows_redis_and_the_drain() {
    let _serial = serial().await;
    let mut c = Cluster::new("health");
    let (port, http) = (free_port(), free_port());
    let frontend = c.service(
        "frontend",
        &["--listen", &format!("127.0.0.1:{port}"), "--http-listen", &format!("127.0.0.1:{http}")],
        "frontend.log",
    );
    let _worker = c.service("worker", &[], "worker.log");
    let ch = channel(port).await;
    becomes(&ch, ServingStatus::Serving, Duration::from_secs(10)).await;

    assert_eq!(get(http, "/readyz"), (200, "ready\n".to_string()));

    c.redis.server().kill();
    becomes(&ch, ServingStatus::NotServing, Duration::from_secs(15)).await;
    assert_eq!(get(http, "/readyz"), (503, "not ready: unreachable: redis\n".to_string()));
    assert_eq!(get(http, "/healthz").0, 200, "alive all the same");
    c.redis.server().restart().expect("redis back");
    becomes(&ch, ServingStatus::Serving, Duration::from_secs(15)).await;
    assert_eq!(get(http, "/readyz").0, 200);

    // A synchronous call keeps the drain going; meanwhile the open connection hears the truth.
    let arn = create_machine(&ch, "slow", SLOW, pb::LogLevel::Off).await;
    let mut ex = pb::executions_client::ExecutionsClient::new(ch.clone());
    let call = tokio::spawn(async move {
        ex.start_sync_execution(pb::StartExecutionRequest { state_machine_arn: arn, ..Default::default() }).await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    // What it sent to its dependencies is timed: the start record, the Redis commands.
    let metrics = get(http, "/metrics").1;
    let produced = format!("expressway_kafka_produce_ms_count{{topic=\"{}\"}} ", c.topic);
    assert!(metrics.lines().any(|l| l.starts_with(&produced)), "{metrics}");
    assert!(metrics.lines().any(|l| l.starts_with("expressway_redis_command_ms_count{command=")), "{metrics}");
    assert!(metrics.lines().any(|l| l == "expressway_sync_calls_waiting 1"), "the call waits: {metrics}");
    frontend.signal("-TERM");
    becomes(&ch, ServingStatus::NotServing, Duration::from_secs(5)).await;
    let out = call.await.expect("joined").expect("the call in flight is answered").into_inner();
    assert_eq!(out.status, pb::ExecutionStatus::Succeeded as i32, "{}", c.log("frontend.log"));
}

/// Wait until `GET /readyz` answers `want` (status and body).
async fn readyz_becomes(port: u16, want: (u16, &str), within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let now = get(port, "/readyz");
        if (now.0, now.1.as_str()) == want {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "/readyz still says {now:?} after {within:?}, want {want:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The shared broker, paused with SIGSTOP until this is dropped (a failing test included).
struct Paused(&'static expressway_testkit::kafka::Kafka);

impl Paused {
    fn broker(kafka: &'static expressway_testkit::kafka::Kafka) -> Paused {
        kafka.signal(0, "-STOP");
        Paused(kafka)
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        self.0.signal(0, "-CONT");
    }
}

const READY: (u16, &str) = (200, "ready\n");
const NO_REDIS: (u16, &str) = (503, "not ready: unreachable: redis\n");
const NO_KAFKA: (u16, &str) = (503, "not ready: unreachable: kafka\n");
const DRAINING: (u16, &str) = (503, "not ready: draining\n");
/// Probes run every 2 s and wait 2 s for an answer.
const NOTICED: Duration = Duration::from_secs(15);

/// A machine whose executions take 3 s, long enough to watch a drain.
const WAITS: &str =
    r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3,"Next":"P"},"P":{"Type":"Pass","End":true}}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_is_not_ready_without_redis_or_kafka_nor_while_it_drains() {
    let _serial = serial().await;
    let mut c = Cluster::new("health-worker");
    let (port, ops) = (free_port(), free_port());
    let _frontend = c.service("frontend", &["--listen", &format!("127.0.0.1:{port}")], "frontend.log");
    let mut worker = c.service("worker", &["--http-listen", &format!("127.0.0.1:{ops}")], "worker.log");
    let ch = channel(port).await;
    wait_for("the worker assigned", Duration::from_secs(30), || c.assigned("worker.log")).await;
    readyz_becomes(ops, READY, NOTICED).await;

    c.redis.server().kill();
    readyz_becomes(ops, NO_REDIS, NOTICED).await;
    assert_eq!(get(ops, "/healthz").0, 200, "alive all the same");
    c.redis.server().restart().expect("redis back");
    readyz_becomes(ops, READY, NOTICED).await;

    {
        let _paused = Paused::broker(c.kafka);
        readyz_becomes(ops, NO_KAFKA, NOTICED).await;
    }
    readyz_becomes(ops, READY, NOTICED).await;

    // Two executions in flight when SIGTERM comes: not ready while it finishes them, its
    // metrics still served, then it leaves with both done.
    let arn = create_machine(&ch, "waits", WAITS, pb::LogLevel::Off).await;
    start_grpc(&ch, &arn, "drained-", 2).await;
    wait_for("two executions in flight", Duration::from_secs(30), || {
        get(ops, "/metrics").1.lines().any(|l| l == "expressway_executions_in_flight 2")
    })
    .await;
    worker.signal("-TERM");
    readyz_becomes(ops, DRAINING, Duration::from_secs(2)).await;
    assert_eq!(get(ops, "/healthz").0, 200, "alive while it drains");
    assert!(worker.wait(Duration::from_secs(30)), "the worker drains and exits");
    assert_eq!(c.count("xw:out:*"), 2, "both executions finished before it left: {}", c.log("worker.log"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_results_service_is_not_ready_without_redis_or_kafka_nor_while_it_drains() {
    let _serial = serial().await;
    let mut c = Cluster::new("health-results");
    let (port, ops) = (free_port(), free_port());
    let results = c.service(
        "results",
        &["--listen", &format!("127.0.0.1:{port}"), "--http-listen", &format!("127.0.0.1:{ops}")],
        "results.log",
    );
    let ch = channel(port).await;
    let service = "expressway.v1.Results";
    becomes_for(&ch, service, ServingStatus::Serving, NOTICED).await;
    readyz_becomes(ops, READY, NOTICED).await;

    c.redis.server().kill();
    becomes_for(&ch, service, ServingStatus::NotServing, NOTICED).await;
    assert_eq!(get(ops, "/readyz"), (NO_REDIS.0, NO_REDIS.1.to_string()));
    c.redis.server().restart().expect("redis back");
    becomes_for(&ch, service, ServingStatus::Serving, NOTICED).await;
    assert_eq!(get(ops, "/readyz"), (READY.0, READY.1.to_string()));

    {
        let _paused = Paused::broker(c.kafka);
        becomes_for(&ch, service, ServingStatus::NotServing, NOTICED).await;
        assert_eq!(get(ops, "/readyz"), (NO_KAFKA.0, NO_KAFKA.1.to_string()));
    }
    becomes_for(&ch, service, ServingStatus::Serving, NOTICED).await;
    readyz_becomes(ops, READY, NOTICED).await;

    // A subscriber keeps its connection; on SIGTERM it hears NOT_SERVING at once, and so does
    // /readyz, during the grace before the service stops taking calls.
    let _subscribed = pb::results_client::ResultsClient::new(ch.clone())
        .subscribe(pb::SubscribeRequest { all_events: true, ..Default::default() })
        .await
        .expect("subscribe");
    results.signal("-TERM");
    becomes_for(&ch, service, ServingStatus::NotServing, Duration::from_secs(2)).await;
    assert_eq!(get(ops, "/readyz"), (DRAINING.0, DRAINING.1.to_string()));
}
