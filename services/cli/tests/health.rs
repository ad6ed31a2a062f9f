//! Health that tells the truth: a distributed frontend's gRPC health service (and `/readyz`)
//! says SERVING while Kafka and Redis answer, NOT_SERVING while Redis is down and SERVING again
//! once it is back, and NOT_SERVING to the connections still open while the process drains;
//! its `/metrics` times the Redis commands and Kafka records it sent.

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
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes()).expect("write");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read");
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

async fn becomes(ch: &tonic::transport::Channel, want: ServingStatus, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let now = status(ch, "expressway.v1.Executions").await;
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

    c.redis.kill();
    becomes(&ch, ServingStatus::NotServing, Duration::from_secs(15)).await;
    assert_eq!(get(http, "/readyz"), (503, "not ready: unreachable: redis\n".to_string()));
    assert_eq!(get(http, "/healthz").0, 200, "alive all the same");
    c.redis.restart().expect("redis back");
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
    frontend.signal("-TERM");
    becomes(&ch, ServingStatus::NotServing, Duration::from_secs(5)).await;
    let out = call.await.expect("joined").expect("the call in flight is answered").into_inner();
    assert_eq!(out.status, pb::ExecutionStatus::Succeeded as i32, "{}", c.log("frontend.log"));
}
