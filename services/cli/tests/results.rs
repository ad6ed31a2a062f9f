//! The results service and synchronous calls across processes, on a real Kafka-API broker and
//! a real redis-server: subscribers see every event of 1,000 executions in order, resume from a
//! position (on another process) without a gap, a slow subscriber is told it fell behind while a
//! fast one sees everything; synchronous calls through two frontends and two workers get their
//! own outputs; a synchronous execution whose worker dies is not run again. The results
//! service's `/metrics` counts its subscribers (down again once they hang up) and the times one
//! fell behind.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use expressway_proto::v1 as pb;
use expressway_testkit::free_port;
use pb::executions_client::ExecutionsClient;
use pb::results_client::ResultsClient;
use pb::subscribe_response::Body;
use serde_json::{json, Value};
use tonic::transport::{Channel, Endpoint};

const TWO_STEPS: &str = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","End":true}}}"#;

fn all_events(from: Option<u64>) -> pb::SubscribeRequest {
    pb::SubscribeRequest { all_events: true, from_position: from, ..Default::default() }
}

/// One message as seen by a subscriber.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Event { arn: String, id: i64, kind: String },
    Outcome { arn: String, status: i32 },
    Behind { skipped: u64, resume_from: u64 },
}

async fn subscribe(ch: &Channel, req: pb::SubscribeRequest) -> tonic::Streaming<pb::SubscribeResponse> {
    ResultsClient::new(ch.clone()).subscribe(req).await.expect("subscribe").into_inner()
}

async fn read(stream: &mut tonic::Streaming<pb::SubscribeResponse>, within: Duration) -> Option<(u64, Seen)> {
    let msg = tokio::time::timeout(within, stream.message()).await.ok()?.expect("stream")?;
    let seen = match msg.body.expect("body") {
        Body::Event(e) => {
            let ev = e.event.expect("event");
            Seen::Event { arn: e.execution_arn, id: ev.id, kind: ev.r#type }
        }
        Body::Outcome(o) => Seen::Outcome { arn: o.execution_arn, status: o.status },
        Body::FellBehind(f) => Seen::Behind { skipped: f.skipped, resume_from: f.resume_from },
    };
    Some((msg.position, seen))
}

/// Read until `outcomes` outcomes have arrived (or `max` messages, when given).
async fn read_until(
    stream: &mut tonic::Streaming<pb::SubscribeResponse>,
    outcomes: usize,
    max: Option<usize>,
) -> Vec<(u64, Seen)> {
    let mut out = Vec::new();
    let mut done = 0;
    while done < outcomes && max.is_none_or(|m| out.len() < m) {
        let Some(item) = read(stream, Duration::from_secs(60)).await else {
            panic!("the stream stalled after {} messages ({done} outcomes)", out.len());
        };
        if matches!(item.1, Seen::Outcome { .. }) {
            done += 1;
        }
        out.push(item);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_see_every_event_in_order_resume_and_fall_behind() {
    let _serial = serial().await;
    let c = Cluster::new("results");
    let (fport, rport, ops) = (free_port(), free_port(), free_port());
    let small = [("EXPRESSWAY_RESULTS__SUBSCRIBER_BUFFER", "256".to_string())];
    let _frontend = c.service_env("frontend", &["--listen", &format!("127.0.0.1:{fport}")], "frontend.log", &small);
    let _worker = c.service("worker", &[], "worker.log");
    let _results = c.service_env(
        "results",
        &["--listen", &format!("127.0.0.1:{rport}"), "--http-listen", &format!("127.0.0.1:{ops}")],
        "results.log",
        &small,
    );
    let fch = channel(fport).await;
    let rch = channel(rport).await;
    let arn = create_machine(&fch, "logged", TWO_STEPS, pb::LogLevel::All).await;

    // Three subscribers on the results service; the slow one gets a small HTTP/2 window, so
    // what it does not read backs up into the service's buffers.
    let mut fast = subscribe(&rch, all_events(None)).await;
    let mut resuming = subscribe(&rch, all_events(None)).await;
    let slow_ch = Endpoint::from_shared(format!("http://127.0.0.1:{rport}"))
        .expect("url")
        .initial_stream_window_size(Some(16 * 1024))
        .initial_connection_window_size(Some(16 * 1024))
        .connect()
        .await
        .expect("connect");
    let mut slow = subscribe(&slow_ch, all_events(None)).await;

    // A first execution shows every subscription is live before the measured ones start.
    let mut ex = ExecutionsClient::new(fch.clone());
    ex.start_execution(pb::StartExecutionRequest {
        state_machine_arn: arn.clone(),
        name: "warm".into(),
        input: "{}".into(),
        trace_header: String::new(),
    })
    .await
    .expect("start");
    let warm = read_until(&mut fast, 1, None).await;
    assert_eq!(warm.len(), 7, "6 events and the outcome: {warm:?}");
    read_until(&mut resuming, 1, None).await;
    read_until(&mut slow, 1, None).await;
    assert_eq!(gauge(ops, "expressway_subscribers"), Some(3.0), "three subscribers on the results service");

    // The fast subscriber reads all along, whatever the others do; the resuming one reads
    // 2,000 messages, hangs up, and below resumes from the frontend, another process, at the
    // position after its last message.
    let fast = tokio::spawn(async move { read_until(&mut fast, 1000, None).await });
    let resuming = tokio::spawn(async move { read_until(&mut resuming, 1000, Some(2000)).await });
    let arns = start_grpc(&fch, &arn, "r", 1000).await;
    assert_eq!(arns.len(), 1000);
    let first_part = resuming.await.expect("resuming subscriber");
    let all = fast.await.expect("fast subscriber");
    let last = first_part.last().map(|(p, _)| *p).expect("messages");
    let mut resumed = subscribe(&fch, all_events(Some(last + 1))).await;
    let outcomes_before = first_part.iter().filter(|(_, s)| matches!(s, Seen::Outcome { .. })).count();
    let second_part = read_until(&mut resumed, 1000 - outcomes_before, None).await;

    // The fast subscriber: 7 messages per execution, positions contiguous, per execution in
    // order (ExecutionStarted first, ids ascending, the outcome last).
    assert_eq!(all.len(), 7000, "every event and outcome of 1,000 executions");
    for w in all.windows(2) {
        assert_eq!(w[1].0, w[0].0 + 1, "positions are contiguous");
    }
    let mut per: HashMap<String, Vec<Seen>> = HashMap::new();
    for (_, s) in &all {
        let arn = match s {
            Seen::Event { arn, .. } | Seen::Outcome { arn, .. } => arn.clone(),
            Seen::Behind { .. } => panic!("the fast subscriber fell behind"),
        };
        per.entry(arn).or_default().push(s.clone());
    }
    assert_eq!(per.len(), 1000);
    for arn in &arns {
        let seen = per.get(arn).expect("every execution");
        let kinds: Vec<&str> = seen
            .iter()
            .map(|s| match s {
                Seen::Event { kind, .. } => kind.as_str(),
                _ => "outcome",
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "ExecutionStarted",
                "PassStateEntered",
                "PassStateExited",
                "PassStateEntered",
                "PassStateExited",
                "ExecutionSucceeded",
                "outcome"
            ],
            "{arn}"
        );
        let ids: Vec<i64> =
            seen.iter().filter_map(|s| if let Seen::Event { id, .. } = s { Some(*id) } else { None }).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{arn}: event ids ascend: {ids:?}");
    }

    // Resumed: the two parts together are exactly what the fast subscriber saw.
    let mut joined = first_part.clone();
    joined.extend(second_part);
    assert_eq!(joined, all, "a resume from a position misses nothing and repeats nothing");

    // The slow subscriber now reads what the service kept for it: somewhere it was told it fell
    // behind, with the position to resume from; everything it did get is in order.
    let mut slow_seen = Vec::new();
    while let Some(item) = read(&mut slow, Duration::from_secs(2)).await {
        slow_seen.push(item);
    }
    let behind: Vec<&Seen> = slow_seen.iter().map(|(_, s)| s).filter(|s| matches!(s, Seen::Behind { .. })).collect();
    assert!(!behind.is_empty(), "the slow subscriber must be told it fell behind ({} messages read)", slow_seen.len());
    let skipped: u64 = behind.iter().map(|s| if let Seen::Behind { skipped, .. } = s { *skipped } else { 0 }).sum();
    let delivered = slow_seen.len() - behind.len();
    assert_eq!(delivered as u64 + skipped, 7000, "each message was either delivered or counted as skipped");
    if let Some(Seen::Behind { resume_from, .. }) = behind.first() {
        let mut replay = subscribe(&rch, all_events(Some(*resume_from))).await;
        let (p, s) = read(&mut replay, Duration::from_secs(10)).await.expect("a replayed message");
        assert_eq!(p, *resume_from);
        let original = all.iter().find(|(q, _)| *q == p).map(|(_, s)| s.clone());
        assert_eq!(Some(s), original, "the replay starts with the first message it missed");
    }
    // Every time it was told so was counted (the resuming subscriber, which hung up while
    // messages kept coming, may have been counted once more before its stream was dropped).
    let told = gauge(ops, "expressway_subscribers_fell_behind").unwrap_or(0.0);
    assert!(told >= behind.len() as f64, "FellBehind counted {told} times, {} told", behind.len());
    // Everyone hung up: the gauge comes down without another message arriving.
    drop(slow);
    assert!(
        wait_until(Duration::from_secs(10), || gauge(ops, "expressway_subscribers") == Some(0.0)).await,
        "subscribers still counted: {:?}",
        gauge(ops, "expressway_subscribers")
    );
}

/// A metric without labels from a process's `/metrics`.
fn gauge(port: u16, name: &str) -> Option<f64> {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("write");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read");
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_calls_through_two_frontends_and_two_workers_get_their_own_output() {
    let _serial = serial().await;
    let c = Cluster::new("sync");
    let ports = [free_port(), free_port()];
    let _f1 = c.service("frontend", &["--listen", &format!("127.0.0.1:{}", ports[0])], "frontend1.log");
    let _f2 = c.service("frontend", &["--listen", &format!("127.0.0.1:{}", ports[1])], "frontend2.log");
    let _w1 = c.service("worker", &[], "worker1.log");
    let _w2 = c.service("worker", &[], "worker2.log");
    let chans = [channel(ports[0]).await, channel(ports[1]).await];
    let arn = create_machine(&chans[0], "echo", HELLO, pb::LogLevel::Off).await;
    tokio::time::sleep(Duration::from_secs(4)).await; // both workers in the group

    let mut calls = tokio::task::JoinSet::new();
    for i in 0..400usize {
        let ch = chans[i % 2].clone();
        let arn = arn.clone();
        calls.spawn(async move {
            let mut ex = ExecutionsClient::new(ch);
            let mut req = tonic::Request::new(pb::StartExecutionRequest {
                state_machine_arn: arn,
                name: format!("s{i}"),
                input: json!({"i": i}).to_string(),
                trace_header: String::new(),
            });
            req.set_timeout(Duration::from_secs(60));
            let r = ex.start_sync_execution(req).await.expect("sync call").into_inner();
            (i, r)
        });
    }
    let mut n = 0;
    while let Some(done) = calls.join_next().await {
        let (i, r) = done.expect("task");
        assert_eq!(r.status, pb::ExecutionStatus::Succeeded as i32, "call {i}: {r:?}");
        assert_eq!(r.name, format!("s{i}"));
        let out: Value = serde_json::from_str(&r.output).expect("output");
        assert_eq!(out, json!({"n": i}), "call {i} got someone else's output");
        n += 1;
    }
    assert_eq!(n, 400);
    // Both workers ran some of them (a first claim records its owner), so replies crossed
    // from either worker to either frontend.
    let mut r = c.redis();
    let keys: Vec<String> = redis::Commands::keys(&mut r, "xw:ran:*").expect("keys");
    let owners: std::collections::HashSet<String> =
        keys.iter().map(|k| redis::Commands::get(&mut r, k).expect("owner")).collect();
    assert_eq!(owners.len(), 2, "both workers ran executions");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synchronous_execution_is_not_run_again_when_its_worker_dies() {
    let _serial = serial().await;
    let c = Cluster::new("atmostonce");
    let port = free_port();
    let _frontend = c.service("frontend", &["--listen", &format!("127.0.0.1:{port}")], "frontend.log");
    let mut first = c.service("worker", &[], "worker1.log");
    let _second = c.service("worker", &[], "worker2.log");
    let ch = channel(port).await;
    let wait =
        r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":6,"Next":"P"},"P":{"Type":"Pass","End":true}}}"#;
    let arn = create_machine(&ch, "waits", wait, pb::LogLevel::Off).await;
    wait_for("both workers assigned", Duration::from_secs(30), || {
        c.assigned("worker1.log") && c.assigned("worker2.log")
    })
    .await;

    let mut sync_calls = tokio::task::JoinSet::new();
    for i in 0..20usize {
        let ch = ch.clone();
        let arn = arn.clone();
        sync_calls.spawn(async move {
            let mut ex = ExecutionsClient::new(ch);
            let req = pb::StartExecutionRequest {
                state_machine_arn: arn,
                name: format!("sync{i}"),
                input: "{}".into(),
                trace_header: String::new(),
            };
            ex.start_sync_execution(req).await.map(|r| r.into_inner())
        });
    }
    let async_arns = start_grpc(&ch, &arn, "async", 20).await;
    // Every execution is running (each has been claimed once); note who runs which.
    wait_for("40 leased executions", Duration::from_secs(30), || c.count("xw:claim:*") == 40).await;
    let mut r = c.redis();
    let keys: Vec<String> = redis::Commands::keys(&mut r, "xw:claim:*").expect("keys");
    let victim = format!("worker-{:x}-", first.pid());
    let mut on_victim = std::collections::HashSet::new();
    for k in &keys {
        let owner: String = redis::Commands::get(&mut r, k).expect("owner");
        if owner.starts_with(&victim) {
            on_victim.insert(arn_of(k).to_string());
        }
    }
    assert!(!on_victim.is_empty() && on_victim.len() < 40, "both workers run some: {} on the victim", on_victim.len());
    // Kill one worker and start nothing in its place: the survivor takes its partitions.
    first.signal("-KILL");
    assert!(first.wait(Duration::from_secs(10)));

    let mut interrupted = 0;
    while let Some(done) = sync_calls.join_next().await {
        let r = done.expect("task").expect("the caller gets an answer");
        if on_victim.contains(&r.execution_arn) {
            // Its run was cut off: synchronous Express runs at most once, so it is not re-run.
            assert_eq!(r.status, pb::ExecutionStatus::Failed as i32, "{r:?}");
            assert_eq!(r.error, "Expressway.ExecutionInterrupted");
            assert!(r.cause.contains("at most once"), "{}", r.cause);
            interrupted += 1;
        } else {
            assert_eq!(r.status, pb::ExecutionStatus::Succeeded as i32, "the survivor's own run: {r:?}");
        }
    }
    eprintln!("{interrupted} synchronous calls interrupted by the crash");
    // Asynchronous executions are at least once: the survivor ran them all to success.
    let mut ex = ExecutionsClient::new(ch.clone());
    for a in &async_arns {
        let mut status = 0;
        for _ in 0..120 {
            let d = ex
                .describe_execution(pb::DescribeExecutionRequest { execution_arn: a.clone() })
                .await
                .expect("describe")
                .into_inner();
            status = d.status;
            if status != pb::ExecutionStatus::Running as i32 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        assert_eq!(status, pb::ExecutionStatus::Succeeded as i32, "{a}");
    }
}
