//! The results stream and reply routing against a real redis-server and a real Redis
//! Cluster (three primaries, three replicas; every test runs on both): contiguous positions,
//! resuming, trimming by age, slow subscribers, and replies reaching only their own frontend
//! (sharded pub/sub on the cluster).

use std::sync::Arc;
use std::time::Duration;

use expressway_bus::redis::{RedisReplies, RedisResults, RedisResultsConfig};
use expressway_bus::{Delivered, OutcomeMessage, ReplyRouter, ResultMessage, ResultsHub, Subscription};
use expressway_store::redis::RedisConfig;
use expressway_store::ExecutionStatus;

/// Each test once on a single server and once on a cluster.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_a_server() {
                let server = expressway_testkit::redis().expect("redis-server");
                let base = super::RedisConfig { url: server.redis_url(), prefix: "t:".into(), ..Default::default() };
                super::$name(base).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_a_cluster() {
                let cluster = expressway_testkit::redis_cluster::RedisCluster::start().expect("redis cluster");
                let base = super::RedisConfig { cluster_urls: cluster.urls(), prefix: "t:".into(), ..Default::default() };
                super::$name(base).await;
            }
        }
    )*};
}

on_both!(
    positions_are_contiguous_and_resumable_from_any_process,
    a_live_subscriber_that_arrives_while_nobody_follows_sees_what_comes_next,
    trimmed_entries_are_reported_with_the_oldest_retained_position,
    a_slow_subscriber_is_told_it_fell_behind_and_can_resume_while_a_fast_one_sees_all,
    replies_reach_only_the_frontend_that_waits,
);

fn outcome(i: u64) -> OutcomeMessage {
    OutcomeMessage {
        execution_arn: format!("arn:e{i}"),
        execution_name: format!("e{i}"),
        state_machine_arn: "arn:sm".into(),
        status: ExecutionStatus::Succeeded,
        input: None,
        output: Some(i.to_string()),
        error: None,
        cause: None,
        start_ms: 0,
        stop_ms: 0,
    }
}

fn raw(range: std::ops::Range<u64>) -> Vec<Vec<u8>> {
    range.map(|i| serde_json::to_vec(&ResultMessage::Outcome(outcome(i))).expect("json")).collect()
}

fn config(base: &RedisConfig, retention: Duration, buffer: usize) -> RedisResultsConfig {
    RedisResultsConfig { redis: RedisConfig { retention, ..base.clone() }, subscriber_buffer: buffer }
}

/// What a subscription yields next, as text: `pos=output` or `behind:skipped:resume_from`.
async fn next(sub: &mut Box<dyn Subscription>) -> String {
    next_within(sub, Duration::from_secs(10)).await
}

async fn next_within(sub: &mut Box<dyn Subscription>, within: Duration) -> String {
    match tokio::time::timeout(within, sub.next()).await {
        Ok(Some(Delivered::Message { position, message })) => match &*message {
            ResultMessage::Outcome(o) => format!("{position}={}", o.output.as_deref().unwrap_or("")),
            ResultMessage::Event(_) => format!("{position}=event"),
        },
        Ok(Some(Delivered::FellBehind { skipped, resume_from })) => format!("behind:{skipped}:{resume_from}"),
        Ok(None) => "end".into(),
        Err(_) => "timeout".into(),
    }
}

async fn take(sub: &mut Box<dyn Subscription>, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(next(sub).await);
    }
    out
}

async fn positions_are_contiguous_and_resumable_from_any_process(base: RedisConfig) {
    let writer = RedisResults::connect(&config(&base, Duration::from_secs(3600), 64)).await.expect("connect");
    assert_eq!(writer.append(&raw(0..5)).await, Ok(5));

    // Another process (another connection) resumes from a position and then follows live.
    let reader = RedisResults::connect(&config(&base, Duration::from_secs(3600), 64)).await.expect("connect");
    let mut sub = reader.subscribe(Some(3));
    assert_eq!(take(&mut sub, 3).await, vec!["3=2", "4=3", "5=4"]);
    assert_eq!(writer.append(&raw(5..7)).await, Ok(7));
    assert_eq!(take(&mut sub, 2).await, vec!["6=5", "7=6"]);

    // A live subscription sees what comes after its first read, nothing before.
    let mut live = reader.subscribe(None);
    let first = tokio::spawn(async move {
        let got = take(&mut live, 2).await;
        (got, live)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    writer.append(&raw(7..9)).await.expect("append");
    let (got, _live) = first.await.expect("task");
    assert_eq!(got, vec!["8=7", "9=8"]);
}

async fn a_live_subscriber_that_arrives_while_nobody_follows_sees_what_comes_next(base: RedisConfig) {
    // The tailer skips ahead while nobody follows the stream; a subscriber arriving meanwhile
    // must still get every entry after its first read, however the two interleave.
    let hub = RedisResults::connect(&config(&base, Duration::from_secs(3600), 64)).await.expect("connect");
    for round in 0..6u64 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let mut sub = hub.subscribe(None);
        assert_eq!(next_within(&mut sub, Duration::from_millis(20)).await, "timeout");
        hub.append(&raw(round..round + 1)).await.expect("append");
        assert_eq!(next(&mut sub).await, format!("{}={round}", round + 1), "round {round}");
    }
}

async fn trimmed_entries_are_reported_with_the_oldest_retained_position(base: RedisConfig) {
    let hub = RedisResults::connect(&config(&base, Duration::from_secs(1), 64)).await.expect("connect");
    hub.append(&raw(0..2)).await.expect("append");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    hub.append(&raw(2..3)).await.expect("append");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    hub.append(&raw(3..4)).await.expect("append");
    // Positions 1-3 are older than the retention period; 4 remains.
    let mut sub = hub.subscribe(Some(1));
    assert_eq!(take(&mut sub, 2).await, vec!["behind:3:4", "4=3"]);
}

async fn a_slow_subscriber_is_told_it_fell_behind_and_can_resume_while_a_fast_one_sees_all(base: RedisConfig) {
    let hub = Arc::new(RedisResults::connect(&config(&base, Duration::from_secs(3600), 32)).await.expect("connect"));
    let mut slow = hub.subscribe(None);
    let mut fast = hub.subscribe(None);
    // Both subscriptions start at the end of the (empty) stream.
    let fast_reader = tokio::spawn(async move { take(&mut fast, 300).await });
    assert_eq!(next_within(&mut slow, Duration::from_millis(300)).await, "timeout", "nothing published yet");
    for i in 0..30 {
        hub.append(&raw(i * 10..(i + 1) * 10)).await.expect("append");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let all = fast_reader.await.expect("task");
    let expected: Vec<String> = (0..300).map(|i| format!("{}={i}", i + 1)).collect();
    assert_eq!(all, expected, "the fast subscriber sees everything, in order");

    // The slow one read nothing while 300 messages went by a buffer of 32 (more than the 4
    // buffers' worth a subscriber may catch up from Redis).
    let notice = next(&mut slow).await;
    let parts: Vec<u64> =
        notice.strip_prefix("behind:").expect(&notice).split(':').map(|p| p.parse().expect("n")).collect();
    let (skipped, resume_from) = (parts[0], parts[1]);
    assert_eq!(resume_from, 1, "the first message it missed");
    let rest = take(&mut slow, (300 - skipped) as usize).await;
    assert_eq!(rest, expected[skipped as usize..].to_vec(), "then it continues after the skipped ones");
    // Resuming from the notice's position replays what it missed.
    let mut again = hub.subscribe(Some(resume_from));
    assert_eq!(take(&mut again, skipped as usize).await, expected[..skipped as usize].to_vec());
}

async fn replies_reach_only_the_frontend_that_waits(base: RedisConfig) {
    let cfg = base;
    let a = RedisReplies::start(&cfg).await.expect("a");
    let b = RedisReplies::start(&cfg).await.expect("b");
    assert_ne!(a.address(), b.address());
    let worker = RedisReplies::sender(&cfg).await.expect("sender");
    // Both wait for the same execution, but the command named a's address.
    let at_a = a.expect("arn:e1");
    let mut at_b = b.expect("arn:e1");
    worker.reply(&a.address(), outcome(1)).await.expect("reply");
    let got = tokio::time::timeout(Duration::from_secs(5), at_a).await.expect("in time").expect("reply");
    assert_eq!(got.output.as_deref(), Some("1"));
    assert_eq!(a.waiting(), 0);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(at_b.try_recv().is_err(), "b must not receive a's reply");
    assert_eq!(b.waiting(), 1);
    b.cancel("arn:e1");
    assert_eq!(b.waiting(), 0, "a caller that goes away frees its slot");
}
