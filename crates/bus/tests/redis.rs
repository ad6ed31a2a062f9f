//! The results stream and reply routing against a real redis-server and a real Redis
//! Cluster (three primaries, three replicas; every test runs on both, the stream with one
//! shard on the server and three on the cluster): positions, resuming, trimming by age, slow
//! subscribers, and replies reaching only their own frontend (sharded pub/sub on the cluster).
//! Then the sharded stream's own cases on the cluster: shards on different primaries, two
//! writers and two readers agreeing on one order, a writer that dies between taking positions
//! and writing them, trimming every shard alike, and a process set to another number of shards.

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

/// The stream's settings: the default number of shards (one on a server, three on a cluster).
fn config(base: &RedisConfig, retention: Duration, buffer: usize) -> RedisResultsConfig {
    RedisResultsConfig::new(RedisConfig { retention, ..base.clone() }, buffer)
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

// The sharded stream's tests, also on both (three shards on the single server too).
on_both!(
    two_writers_and_two_readers_agree_on_one_order,
    a_writer_that_dies_between_taking_positions_and_writing_them_leaves_a_gap_every_reader_closes_alike,
    every_shard_is_trimmed_to_the_same_position,
    a_process_set_to_another_number_of_shards_does_not_start,
    a_changed_number_of_shards_continues_the_positions,
);

/// Three shards, wherever the stream is.
fn sharded(base: &RedisConfig, retention: Duration) -> RedisResultsConfig {
    RedisResultsConfig { shards: 3, gap_grace: Duration::from_millis(500), ..config(base, retention, 64) }
}

fn labelled(label: &str, range: std::ops::Range<u64>) -> Vec<Vec<u8>> {
    range
        .map(|i| {
            let mut o = outcome(i);
            o.output = Some(format!("{label}{i}"));
            serde_json::to_vec(&ResultMessage::Outcome(o)).expect("json")
        })
        .collect()
}

/// A raw connection, for what the stream's API does not do (a writer that dies halfway).
async fn raw_conn(base: &RedisConfig) -> expressway_store::redis::Conn {
    base.connect().await.expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shards_of_a_cluster_live_on_different_primaries() {
    let cluster = expressway_testkit::redis_cluster::RedisCluster::start().expect("redis cluster");
    let base = RedisConfig { cluster_urls: cluster.urls(), prefix: "t:".into(), ..Default::default() };
    let hub = RedisResults::connect(&config(&base, Duration::from_secs(3600), 64)).await.expect("connect");
    assert_eq!(hub.shard_keys().len(), expressway_bus::redis::DEFAULT_CLUSTER_SHARDS, "the default on a cluster");
    let primaries: std::collections::HashSet<u16> =
        hub.shard_keys().iter().map(|k| cluster.primary_for(k).expect("primary")).collect();
    assert_eq!(primaries.len(), 3, "{:?} on {primaries:?}", hub.shard_keys());
}

async fn two_writers_and_two_readers_agree_on_one_order(base: RedisConfig) {
    let cfg = sharded(&base, Duration::from_secs(3600));
    let (w1, w2) = (RedisResults::connect(&cfg).await.expect("w1"), RedisResults::connect(&cfg).await.expect("w2"));
    let (r1, r2) = (RedisResults::connect(&cfg).await.expect("r1"), RedisResults::connect(&cfg).await.expect("r2"));
    // A live subscriber on r2 from before the first append, reading while they are written.
    let mut live = r2.subscribe(None);
    assert_eq!(next_within(&mut live, Duration::from_millis(300)).await, "timeout");
    let live = tokio::spawn(async move { take(&mut live, 400).await });
    let write = |w: RedisResults, label: &'static str| async move {
        let mut i = 0;
        // Batches of 1 to 7, interleaving with the other writer's.
        for size in (0..).map(|k| 1 + (k * 5 + label.len()) % 7) {
            if i >= 200 {
                break;
            }
            let end = (i + size as u64).min(200);
            w.append(&labelled(label, i..end)).await.expect("append");
            i = end;
        }
        w
    };
    let (w1, w2) = tokio::join!(tokio::spawn(write(w1, "a")), tokio::spawn(write(w2, "bb")));
    let (_w1, _w2) = (w1.expect("w1"), w2.expect("w2"));

    let mut from_start = r1.subscribe(Some(1));
    let all = take(&mut from_start, 400).await;
    let parsed: Vec<(u64, String)> = all
        .iter()
        .map(|s| {
            let (p, o) = s.split_once('=').expect(s);
            (p.parse().expect(s), o.to_string())
        })
        .collect();
    assert!(parsed.windows(2).all(|w| w[0].0 < w[1].0), "positions rise: {all:?}");
    for label in ["a", "bb"] {
        // "a…" and "bb…": neither label starts the other's messages.
        let own: Vec<&str> = parsed.iter().map(|(_, o)| o.as_str()).filter(|o| o.starts_with(label)).collect();
        let expected: Vec<String> = (0..200).map(|i| format!("{label}{i}")).collect();
        assert_eq!(own, expected, "each writer's messages once, in its order");
    }
    assert_eq!(live.await.expect("live"), all, "a live reader on another process sees the same sequence");
    // Resuming on the other process, from any position, gives exactly what follows it.
    let (position, _) = &parsed[150];
    let mut resumed = r2.subscribe(Some(*position));
    assert_eq!(take(&mut resumed, 250).await, all[150..].to_vec());
}

async fn a_writer_that_dies_between_taking_positions_and_writing_them_leaves_a_gap_every_reader_closes_alike(
    base: RedisConfig,
) {
    let cfg = sharded(&base, Duration::from_secs(3600));
    let writer = RedisResults::connect(&cfg).await.expect("writer");
    assert_eq!(writer.append(&raw(0..3)).await, Ok(3));
    // Another writer takes positions 4-8 and dies before it writes them.
    let mut c = raw_conn(&base).await;
    let taken: u64 = redis::cmd("INCRBY").arg("t:{results}:next").arg(5).query_async(&mut c).await.expect("incrby");
    assert_eq!(taken, 8);
    assert_eq!(writer.append(&raw(3..5)).await, Ok(10));

    // Two readers in two processes, both from the start, and a live one.
    let (a, b) = (RedisResults::connect(&cfg).await.expect("a"), RedisResults::connect(&cfg).await.expect("b"));
    let (mut sa, mut sb) = (a.subscribe(Some(1)), b.subscribe(Some(1)));
    let started = std::time::Instant::now();
    let expected = vec!["1=0", "2=1", "3=2", "9=3", "10=4"];
    assert_eq!(take(&mut sa, 5).await, expected);
    assert!(started.elapsed() >= Duration::from_millis(400), "the gap was waited for: {:?}", started.elapsed());
    assert_eq!(take(&mut sb, 5).await, expected, "the other process emits the same sequence");

    // Closed for good: every shard is past the gap, so the dead writer could not fill it now.
    for key in writer.shard_keys() {
        let late: Result<String, _> =
            redis::cmd("XADD").arg(key).arg("0-6").arg("m").arg("late").query_async(&mut c).await;
        assert!(late.is_err(), "{key} took a write into the closed gap");
    }
    // Both follow on live, and a resume inside the gap starts at the next message.
    assert_eq!(writer.append(&raw(5..6)).await, Ok(11));
    assert_eq!(take(&mut sa, 1).await, vec!["11=5"]);
    assert_eq!(take(&mut sb, 1).await, vec!["11=5"]);
    let mut inside = b.subscribe(Some(5));
    assert_eq!(take(&mut inside, 2).await, vec!["9=3", "10=4"]);

    // A gap at the end of the stream, seen live: closed once the next message is there.
    let taken: u64 = redis::cmd("INCRBY").arg("t:{results}:next").arg(2).query_async(&mut c).await.expect("incrby");
    assert_eq!(taken, 13);
    assert_eq!(writer.append(&raw(6..7)).await, Ok(14));
    assert_eq!(take(&mut sa, 1).await, vec!["14=6"]);
    assert_eq!(take(&mut sb, 1).await, vec!["14=6"]);
}

async fn every_shard_is_trimmed_to_the_same_position(base: RedisConfig) {
    let hub = RedisResults::connect(&sharded(&base, Duration::from_secs(1))).await.expect("connect");
    // Three batches: one on each shard (a batch goes to shard `first mod 3`).
    for i in 0..3 {
        hub.append(&raw(i * 2..i * 2 + 2)).await.expect("append");
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    hub.append(&raw(6..7)).await.expect("append");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    hub.append(&raw(7..8)).await.expect("append");
    // The clock saw position 7 more than a second ago: every shard keeps only what follows it.
    let mut c = raw_conn(&base).await;
    for key in hub.shard_keys() {
        let ids: redis::streams::StreamRangeReply =
            redis::cmd("XRANGE").arg(key).arg("-").arg("+").query_async(&mut c).await.expect("xrange");
        let kept: Vec<&str> = ids.ids.iter().map(|e| e.id.as_str()).collect();
        assert!(kept.iter().all(|id| *id == "0-8"), "{key} keeps {kept:?}");
    }
    let mut sub = hub.subscribe(Some(1));
    assert_eq!(take(&mut sub, 2).await, vec!["behind:7:8", "8=7"]);
}

async fn a_process_set_to_another_number_of_shards_does_not_start(base: RedisConfig) {
    let _first = RedisResults::connect(&sharded(&base, Duration::from_secs(3600))).await.expect("connect");
    let other = RedisResultsConfig { shards: 2, ..sharded(&base, Duration::from_secs(3600)) };
    match RedisResults::connect(&other).await {
        Err(e @ expressway_bus::BusError::Invalid(_)) => {
            assert!(!e.is_retryable());
            assert!(e.to_string().contains("has 3 shards"), "{e}");
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a process with 2 shards started on a stream of 3"),
    }
}

/// With `redis.wait_replicas`, an append counts once a replica has it: too few replicas make
/// it a failed append (the results service retries it before it commits its offsets).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_too_few_replicas_acknowledge_fails() {
    let cluster = expressway_testkit::redis_cluster::RedisCluster::start().expect("redis cluster");
    let base = RedisConfig {
        cluster_urls: cluster.urls(),
        prefix: "t:".into(),
        wait_timeout: Duration::from_millis(100),
        // Above the longest WAIT below: a WAIT is a command the client times too.
        response_timeout: Duration::from_secs(15),
        ..Default::default()
    };
    let greedy = RedisConfig { wait_replicas: 2, ..base.clone() };
    let hub = RedisResults::connect(&config(&greedy, Duration::from_secs(3600), 64)).await.expect("connect");
    let e = hub.append(&raw(0..2)).await.expect_err("one replica per primary");
    // One replica per primary: one at most acknowledges (none, if it is slower than the wait).
    assert!(e.is_retryable() && e.to_string().contains(" of 2 replicas"), "{e}");
    // A replica acknowledges within a millisecond or so, unless the machine is busy (the
    // test suites run side by side): a generous timeout for the append that must succeed.
    let enough = RedisConfig { wait_replicas: 1, wait_timeout: Duration::from_secs(10), ..base };
    let hub = RedisResults::connect(&config(&enough, Duration::from_secs(3600), 64)).await.expect("connect");
    assert_eq!(hub.append(&raw(2..4)).await, Ok(4), "the next positions (the failed batch is there, unacknowledged)");
}

async fn a_changed_number_of_shards_continues_the_positions(base: RedisConfig) {
    let one = RedisResultsConfig { shards: 1, ..sharded(&base, Duration::from_secs(3600)) };
    let hub = RedisResults::connect(&one).await.expect("one shard");
    assert_eq!(hub.append(&raw(0..4)).await, Ok(4));
    drop(hub);
    // Every process stopped, the recorded number deleted: three shards from now on.
    let mut c = raw_conn(&base).await;
    let _: i64 = redis::cmd("DEL").arg("t:{results}:shards").query_async(&mut c).await.expect("del");
    let hub = RedisResults::connect(&sharded(&base, Duration::from_secs(3600))).await.expect("three shards");
    assert_eq!(hub.append(&raw(4..6)).await, Ok(6), "after the single stream's last position");
    let mut sub = hub.subscribe(Some(2));
    assert_eq!(take(&mut sub, 3).await, vec!["behind:3:5", "5=4", "6=5"], "what came before is not in the shards");
    drop((sub, hub));
    // And back to one: its stream goes on after the shards' last position.
    let _: i64 = redis::cmd("DEL").arg("t:{results}:shards").query_async(&mut c).await.expect("del");
    let hub = RedisResults::connect(&one).await.expect("one shard again");
    assert_eq!(hub.append(&raw(6..7)).await, Ok(7));
    let mut sub = hub.subscribe(Some(5));
    assert_eq!(take(&mut sub, 2).await, vec!["behind:2:7", "7=6"]);
}
