//! Distributed mode on a real Apache Kafka broker and a real redis-server: separate frontend
//! and worker processes, executions started through gRPC and through raw Kafka records,
//! duplicate starts, a worker killed with SIGKILL (the survivor takes over), a worker shut
//! down gracefully, journaled tasks not run again after a crash, and a poison execution (each
//! worker running it dies) failed and dead-lettered instead of taking down the whole pool.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use expressway_proto::v1 as pb;
use expressway_testkit::free_port;
use redis::Commands;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_and_raw_kafka_starts_each_reach_exactly_one_outcome() {
    let _serial = serial().await;
    let c = Cluster::new("main");
    let port = free_port();
    let _frontend = c.service("frontend", &["--listen", &format!("127.0.0.1:{port}")], "frontend.log");
    let _w1 = c.service("worker", &["--concurrency", "128"], "w1.log");
    let _w2 = c.service("worker", &["--concurrency", "128"], "w2.log");
    let ch = channel(port).await;
    let arn = create_machine(&ch, "hello", HELLO, pb::LogLevel::Off).await;

    let grpc = start_grpc(&ch, &arn, "g-", 2000).await;
    start_raw(&c, &arn, "k-", 0..2000).await;
    // Duplicates: the same names again, through both paths.
    let again = start_grpc(&ch, &arn, "g-", 100).await;
    assert_eq!(&again[..], &grpc[..100], "a repeated named start returns the same execution");
    start_raw(&c, &arn, "k-", 0..100).await;

    wait_for("4000 outcomes", Duration::from_secs(240), || c.count("xw:out:*") >= 4000).await;
    // Let late duplicates land, then check nothing extra was created.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(c.count("xw:ex:*"), 4000, "executions recorded");
    assert_eq!(c.count("xw:out:*"), 4000, "outcomes recorded");
    let mut r = c.redis();
    for arn in grpc.iter().step_by(97) {
        let out: String = r.get(key("out", arn)).expect("outcome");
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert_eq!(v["status"], "Succeeded", "{out}");
    }
    assert!(!c.log("w1.log").contains("panicked") && !c.log("w2.log").contains("panicked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_workers_executions_move_to_the_survivor_and_a_stopped_one_hands_over() {
    let _serial = serial().await;
    let c = Cluster::new("failover");
    let port = free_port();
    let _frontend = c.service("frontend", &["--listen", &format!("127.0.0.1:{port}")], "frontend.log");
    let mut w1 = c.service("worker", &["--concurrency", "64"], "w1.log");
    let mut w2 = c.service("worker", &["--concurrency", "64"], "w2.log");
    let ch = channel(port).await;
    let arn = create_machine(&ch, "slow", SLOW, pb::LogLevel::All).await;
    // Both workers in the group, each with its share of the partitions.
    wait_for("both workers assigned", Duration::from_secs(30), || c.assigned("w1.log") && c.assigned("w2.log")).await;

    let first = 600;
    let mut arns = start_grpc(&ch, &arn, "s-", first).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Crash one worker mid-run and start nothing in its place: once the broker expires the
    // dead member (session timeout, 6 s), the survivor is assigned its partitions and runs
    // what it left once their leases expire.
    w1.signal("-KILL");
    assert!(w1.wait(Duration::from_secs(5)), "the killed worker exits");
    let killed = std::time::Instant::now();
    let done = wait_until(Duration::from_secs(90), || c.count("xw:out:*") >= first).await;
    assert!(
        done,
        "only {} of {first} executions finished with the survivor alone; its log:\n{}",
        c.count("xw:out:*"),
        c.log("w2.log")
    );
    eprintln!("the survivor finished the killed worker's executions {:?} after the kill", killed.elapsed());

    // A new worker joins, and the survivor is stopped gracefully while work remains: it
    // finishes what it runs, hands its partitions over and leaves.
    let _w3 = c.service("worker", &["--concurrency", "64"], "w3.log");
    wait_for("the new worker assigned", Duration::from_secs(30), || c.assigned("w3.log")).await;
    let second = 300;
    arns.extend(start_grpc(&ch, &arn, "t-", second).await);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    w2.signal("-TERM");
    assert!(w2.wait(Duration::from_secs(60)), "the stopped worker drains and exits");
    assert!(c.log("w2.log").contains("worker stopped"), "graceful exit: {}", c.log("w2.log"));
    let total = first + second;
    let done = wait_until(Duration::from_secs(90), || c.count("xw:out:*") >= total).await;
    if !done {
        panic!(
            "only {} of {total} executions finished; worker logs:\n{}\n{}",
            c.count("xw:out:*"),
            c.log("w2.log"),
            c.log("w3.log")
        );
    }
    assert_eq!(c.count("xw:ex:*"), total);
    assert_eq!(c.count("xw:out:*"), total);
    // History is appended when a run completes; a completed execution run twice would show
    // two ExecutionStarted events.
    let mut r = c.redis();
    let mut runs: HashMap<usize, usize> = HashMap::new();
    for arn in &arns {
        let events: Vec<String> = r.lrange(key("hist", arn), 0, -1).expect("history");
        let started = events.iter().filter(|e| e.contains("\"ExecutionStarted\"")).count();
        *runs.entry(started).or_default() += 1;
    }
    assert_eq!(runs.get(&1).copied().unwrap_or(0), total, "runs per execution: {runs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journaled_tasks_are_not_run_again_after_a_crash() {
    let _serial = serial().await;
    // A function that records every call: the test then counts calls per execution.
    let calls = expressway_testkit::http_server(std::sync::Arc::new(|_req: &expressway_testkit::Request| {
        (200, "{\"charged\":true}".to_string())
    }))
    .expect("function server");
    let c = Cluster::new("journal");
    let function = [("EXPRESSWAY_TASKS__FUNCTIONS__CHARGE__URL", format!("http://127.0.0.1:{}/", calls.port))];
    let port = free_port();
    let _frontend = c.service("frontend", &["--listen", &format!("127.0.0.1:{port}")], "frontend.log");
    let mut w1 = c.service_env("worker", &["--concurrency", "256"], "w1.log", &function);
    let ch = channel(port).await;
    let def = r#"{"StartAt":"Charge","States":{
        "Charge":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"charge","Payload.$":"$"},"ResultPath":"$.charge","Next":"Settle"},
        "Settle":{"Type":"Wait","Seconds":3,"Next":"Done"},
        "Done":{"Type":"Pass","End":true}}}"#;
    let arn = create_machine(&ch, "charge", def, pb::LogLevel::Off).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let total = 200;
    start_grpc(&ch, &arn, "j-", total).await;
    // Every execution has charged and is waiting: crash the worker now.
    let charged =
        wait_until(Duration::from_secs(60), || calls.requests.lock().map(|r| r.len()).unwrap_or(0) >= total).await;
    if !charged {
        let mut r = c.redis();
        let outs: Vec<String> = r.keys("xw:out:*").expect("keys");
        let sample: Option<String> = outs.first().and_then(|k| r.get(k).ok());
        panic!(
            "only {} charges; {} outcomes, e.g. {sample:?}; worker log: {}",
            calls.requests.lock().map(|r| r.len()).unwrap_or(0),
            outs.len(),
            c.log("w1.log")
        );
    }
    w1.signal("-KILL");
    assert!(w1.wait(Duration::from_secs(5)));
    assert_eq!(c.count("xw:out:*"), 0, "nothing finished before the crash");
    // The only worker died: a new one takes its partitions once the broker expires it.
    let _w2 = c.service_env("worker", &["--concurrency", "256"], "w2.log", &function);
    let done = wait_until(Duration::from_secs(120), || c.count("xw:out:*") >= total).await;
    assert!(done, "only {} of {total} finished after the replacement: {}", c.count("xw:out:*"), c.log("w2.log"));
    let mut per_input: HashMap<String, usize> = HashMap::new();
    for r in calls.requests.lock().expect("lock").iter() {
        *per_input.entry(r.body.clone()).or_default() += 1;
    }
    assert_eq!(per_input.len(), total, "each execution charged");
    assert!(
        per_input.values().all(|n| *n == 1),
        "a journaled task ran again: {:?}",
        per_input.values().filter(|n| **n > 1).count()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_execution_that_takes_down_every_worker_is_failed_and_dead_lettered() {
    let _serial = serial().await;
    let c = Cluster::new("poison");
    let port = free_port();
    let _frontend = c.service("frontend", &["--listen", &format!("127.0.0.1:{port}")], "frontend.log");
    let env = [("EXPRESSWAY_WORKER__MAX_ATTEMPTS", "2".to_string()), ("EXPRESSWAY_WORKER__LEASE_SECONDS", "1".into())];
    let ch = channel(port).await;
    let long = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":240,"End":true}}}"#;
    let stuck = create_machine(&ch, "stuck", long, pb::LogLevel::Off).await;
    let arn = start_grpc(&ch, &stuck, "poison-", 1).await.remove(0);
    // Each worker that takes the execution dies while running it (as one that ran out of
    // memory would): two runs cut off, with max_attempts = 2.
    for i in 1..=2 {
        let log = format!("w{i}.log");
        let mut w = c.service_env("worker", &["--concurrency", "8"], &log, &env);
        let owner = format!("worker-{:x}-", w.pid());
        let claimed = wait_until(Duration::from_secs(60), || {
            let holder: Option<String> = c.redis().get(key("claim", &arn)).unwrap_or(None);
            holder.is_some_and(|h| h.starts_with(&owner))
        })
        .await;
        assert!(claimed, "worker {i} never took the execution: {}", c.log(&log));
        w.signal("-KILL");
        assert!(w.wait(Duration::from_secs(5)));
    }
    // The next worker fails it without running it, dead-letters its record and keeps serving.
    let _w3 = c.service_env("worker", &["--concurrency", "8"], "w3.log", &env);
    wait_for("the poison outcome", Duration::from_secs(60), || c.count(&key("out", &arn)) == 1).await;
    let out: String = c.redis().get(key("out", &arn)).expect("outcome");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["status"], "Failed", "{out}");
    assert_eq!(v["error"], "Expressway.ExecutionCrashed", "{out}");
    assert!(v["cause"].as_str().unwrap_or_default().starts_with("2 runs of this execution were cut off"), "{out}");
    let dead = c.dead_letters();
    assert_eq!(dead.len(), 1, "one dead letter: {dead:?}");
    let (key, value, why) = &dead[0];
    assert_eq!(key, "poison-0", "keyed by execution name");
    assert!(value.contains(&arn), "the start record itself: {value}");
    assert!(why.contains("worker.max_attempts = 2"), "{why}");
    let hello = create_machine(&ch, "hello", HELLO, pb::LogLevel::Off).await;
    start_grpc(&ch, &hello, "after-", 50).await;
    wait_for("executions after the poison one", Duration::from_secs(60), || c.count("xw:out:*") == 51).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_execution_ends_the_run_on_the_worker_running_it() {
    let _serial = serial().await;
    let c = Cluster::new("stop");
    let port = free_port();
    let _frontend = c.service("frontend", &["--listen", &format!("127.0.0.1:{port}")], "frontend.log");
    let _worker = c.service("worker", &["--concurrency", "8"], "w1.log");
    let ch = channel(port).await;
    let long = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}}"#;
    let arn = create_machine(&ch, "long", long, pb::LogLevel::All).await;
    let execution = start_grpc(&ch, &arn, "stop-", 1).await.remove(0);
    let claim = key("claim", &execution);
    wait_for("the run to start", Duration::from_secs(60), || c.count(&claim) == 1).await;
    let mut ex = pb::executions_client::ExecutionsClient::new(ch.clone());
    ex.stop_execution(pb::StopExecutionRequest {
        execution_arn: execution.clone(),
        error: "Operator.Stop".into(),
        cause: "no longer needed".into(),
    })
    .await
    .expect("stop");
    // The run ends and gives its lease back, instead of holding it (and a worker slot) for
    // the rest of its minute.
    wait_for("the run to end", Duration::from_secs(5), || c.count(&claim) == 0).await;
    assert!(c.log("w1.log").contains("stopped execution: its run ends"), "{}", c.log("w1.log"));
    let d = ex
        .describe_execution(pb::DescribeExecutionRequest { execution_arn: execution.clone() })
        .await
        .expect("describe")
        .into_inner();
    assert_eq!(d.status, pb::ExecutionStatus::Aborted as i32);
    assert_eq!((d.error.as_str(), d.cause.as_str()), ("Operator.Stop", "no longer needed"));
}

/// `examples/kafka` as its README runs it: with the example's configuration (a trigger
/// mapping from `orders`), a record of `order-event.json` on `orders` starts `order-events`,
/// whose Task publishes `order-summary.json` to `order-summaries`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kafka_example_runs_from_a_record_on_its_topic_and_publishes_its_summary() {
    use rdkafka::consumer::{Consumer, StreamConsumer};
    use rdkafka::producer::{FutureProducer, FutureRecord};
    use rdkafka::{ClientConfig, Message};

    let _serial = serial().await;
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/kafka");
    let read = |name: &str| std::fs::read_to_string(example.join(name)).expect("example file");
    let config = example.join("expressway.toml").display().to_string();
    let c = Cluster::new("example");
    let port = free_port();
    // The example's file, with this test's broker, Redis and topics given as flags and variables.
    let publish_to = [("EXPRESSWAY_TASKS__KAFKA_BOOTSTRAP_SERVERS", c.kafka.bootstrap())];
    let _frontend =
        c.service("frontend", &["--config", &config, "--listen", &format!("127.0.0.1:{port}")], "frontend.log");
    let _worker = c.service_env("worker", &["--config", &config], "worker.log", &publish_to);
    let ch = channel(port).await;
    let arn = create_machine(&ch, "order-events", &read("order-events.asl.json"), pb::LogLevel::Off).await;
    assert_eq!(arn, "arn:aws:states:us-east-1:000000000000:stateMachine:order-events", "the ARN the mapping names");

    // The topic the workflow publishes to exists, as the example's README has it created.
    let admin: rdkafka::admin::AdminClient<_> =
        ClientConfig::new().set("bootstrap.servers", c.kafka.bootstrap()).create().expect("admin");
    let topic = rdkafka::admin::NewTopic::new("order-summaries", 1, rdkafka::admin::TopicReplication::Fixed(1));
    admin.create_topics([&topic], &rdkafka::admin::AdminOptions::new()).await.expect("create the topic");

    let summaries: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", c.kafka.bootstrap())
        .set("group.id", "example-reader")
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer");
    let producer: FutureProducer =
        ClientConfig::new().set("bootstrap.servers", c.kafka.bootstrap()).create().expect("producer");
    let event = read("order-event.json");
    producer
        .send(FutureRecord::to("orders").key("o-1001").payload(event.trim()), Duration::from_secs(30))
        .await
        .map_err(|(e, _)| e)
        .expect("produce the order event");

    // The workflow's own record.
    let expected: serde_json::Value = serde_json::from_str(&read("order-summary.json")).expect("json");
    summaries.subscribe(&["order-summaries"]).expect("subscribe");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let record = loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no summary on order-summaries; worker log:\n{}",
            c.log("worker.log")
        );
        match tokio::time::timeout(Duration::from_secs(2), summaries.recv()).await {
            Ok(Ok(m)) => break (m.key().map(<[u8]>::to_vec), m.payload().map(<[u8]>::to_vec)),
            _ => continue,
        }
    };
    assert_eq!(record.0.as_deref(), Some(&b"o-1001"[..]), "keyed by the order");
    let value: serde_json::Value = serde_json::from_slice(&record.1.expect("a value")).expect("the summary is JSON");
    assert_eq!(value, expected);
}

/// One AWS JSON protocol call over raw HTTP/1.1: the status and the JSON answer.
fn aws_call(port: u16, op: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
    let target = format!("AWSStepFunctions.{op}");
    let headers = [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", target.as_str())];
    let a = expressway_testkit::http::call(port, "POST", "/", &headers, &body.to_string(), Duration::from_secs(60));
    (a.status, serde_json::from_str(&a.body).unwrap_or_default())
}

/// `expressway frontend --http-listen` serves the AWS JSON protocol over the distributed
/// stores: a synchronous start's outcome comes back through reply routing, as on gRPC.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frontend_with_http_listen_serves_the_aws_protocol() {
    let _serial = serial().await;
    let c = Cluster::new("aws");
    let (port, http) = (free_port(), free_port());
    let args = ["--listen", &format!("127.0.0.1:{port}"), "--http-listen", &format!("127.0.0.1:{http}")];
    let _frontend = c.service("frontend", &args, "frontend.log");
    let _worker = c.service("worker", &["--concurrency", "8"], "w1.log");
    let _ = channel(port).await; // the frontend is up
    let answers = tokio::task::spawn_blocking(move || {
        let definition = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"ok":true},"End":true}}}"#;
        let (status, created) =
            aws_call(http, "CreateStateMachine", &serde_json::json!({"name": "aws", "definition": definition}));
        assert_eq!(status, 200, "{created}");
        let arn = created["stateMachineArn"].clone();
        let sync = aws_call(http, "StartSyncExecution", &serde_json::json!({"stateMachineArn": arn, "input": "{}"}));
        let described =
            aws_call(http, "DescribeExecution", &serde_json::json!({"executionArn": sync.1["executionArn"]}));
        let missing = aws_call(
            http,
            "DescribeStateMachine",
            &serde_json::json!({"stateMachineArn": format!("{}x", arn.as_str().unwrap_or(""))}),
        );
        (sync, described, missing)
    })
    .await
    .expect("the calls");
    let ((status, sync), (_, described), (missing_status, missing)) = answers;
    assert_eq!(
        (status, sync["status"].as_str(), sync["output"].as_str()),
        (200, Some("SUCCEEDED"), Some(r#"{"ok":true}"#)),
        "{sync}"
    );
    assert_eq!(described["status"], "SUCCEEDED", "{described}");
    assert_eq!((missing_status, missing["__type"].as_str()), (400, Some("StateMachineDoesNotExist")), "{missing}");
}

/// The boto3 suite `expressway dev` passes (tests/aws/boto3_suite.py), unmodified, against a
/// frontend, a worker and the results service: every operation and error over Kafka, Redis
/// and reply routing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_boto3_suite_passes_against_distributed_processes() {
    let _serial = serial().await;
    let c = Cluster::new("boto3");
    let (port, http) = (free_port(), free_port());
    let args = ["--listen", &format!("127.0.0.1:{port}"), "--http-listen", &format!("127.0.0.1:{http}")];
    let _frontend = c.service("frontend", &args, "frontend.log");
    let _worker = c.service("worker", &["--concurrency", "8"], "w1.log");
    let _results = c.service("results", &["--listen", &format!("127.0.0.1:{}", free_port())], "results.log");
    let _ = channel(port).await; // the frontend is up
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/aws/boto3_suite.py");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3").arg(script).arg(format!("http://127.0.0.1:{http}")).output()
    })
    .await
    .expect("the suite")
    .expect("python3 with boto3 (.ci/run installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("boto3 suite passed"),
        "the boto3 suite failed against the distributed frontend:\n{stdout}\n{}\nfrontend log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        c.log("frontend.log")
    );
}

/// A Redis Cluster primary is killed (SIGKILL) while executions start and run: its replica
/// takes over its slots after the node timeout, the services follow the new topology, and
/// every start the frontend accepted, before, during and after the failover, reaches its
/// outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_primary_killed_under_load_is_replaced_and_every_accepted_start_finishes() {
    primary_failover(false).await;
}

/// The same with `redis.wait_replicas` 1: the start record, the dedupe key and the outcome
/// count only once a replica has them. The promoted replica has no replica of its own until
/// the killed node comes back (restarted after the failover, as an orchestrator would), so
/// meanwhile the writes to its slots fail as unavailable and are retried; then every accepted
/// start finishes, once.
///
/// Under this load (every command of the promoted primary's slots timing out while it waits
/// for a replica) a process's cluster connection can stop answering for good after the
/// failover, the client's own repair waiting on a lock; it is then replaced by a new one
/// (`expressway_store::redis::Healing`), without which some executions never finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_primary_killed_under_load_with_writes_waiting_for_a_replica_loses_no_start() {
    primary_failover(true).await;
}

async fn primary_failover(wait_for_replica: bool) {
    let _serial = serial().await;
    let mut c = Cluster::with_redis("redisfail", Redis::cluster());
    let env = match wait_for_replica {
        true => vec![("EXPRESSWAY_REDIS__WAIT_REPLICAS", "1".to_string())],
        false => Vec::new(),
    };
    let port = free_port();
    let _frontend = c.service_env("frontend", &["--listen", &format!("127.0.0.1:{port}")], "frontend.log", &env);
    let _w1 = c.service_env("worker", &["--concurrency", "128"], "w1.log", &env);
    let _w2 = c.service_env("worker", &["--concurrency", "128"], "w2.log", &env);
    let ch = channel(port).await;
    let arn = create_machine(&ch, "hello", HELLO, pb::LogLevel::Off).await;
    let total = 3000;
    let began = std::time::Instant::now();
    let starts = {
        let (ch, arn) = (ch.clone(), arn.clone());
        tokio::spawn(async move { start_grpc(&ch, &arn, "f-", total).await })
    };
    wait_for("the first outcomes", Duration::from_secs(120), || c.count("xw:out:*") >= 300).await;
    let Redis::Cluster(cluster) = &mut c.redis else { unreachable!() };
    let victim = cluster.primaries().expect("primaries")[0];
    let killed_at = std::time::Instant::now();
    cluster.kill(victim);
    cluster.wait_ok(Duration::from_secs(30)).expect("a replica takes over");
    let failover = killed_at.elapsed();
    if wait_for_replica {
        // Back as the new primary's replica: the writes waiting for one go through again.
        cluster.restart(victim).expect("restart the killed node");
        cluster.wait_ok(Duration::from_secs(60)).expect("the killed node rejoins as a replica");
    }
    let replicated = killed_at.elapsed();
    let accepted = starts.await.expect("starts");
    assert_eq!(accepted.len(), total, "every start was accepted (UNAVAILABLE during the failover is retried)");
    let done = wait_until(Duration::from_secs(180), || c.count("xw:out:*") >= total).await;
    let mut r = c.redis();
    let missing: Vec<&String> = accepted
        .iter()
        .filter(|a| !redis::Commands::exists::<_, bool>(&mut r, key("out", a)).unwrap_or(false))
        .collect();
    assert!(
        done && missing.is_empty(),
        "{} of {total} accepted executions have no outcome after the failover ({failover:?}): {:?}\n{}",
        missing.len(),
        missing.iter().take(5).collect::<Vec<_>>(),
        c.log("w1.log").lines().rev().take(20).collect::<Vec<_>>().join("\n")
    );
    assert_eq!(c.count("xw:out:*"), total, "one outcome each");
    let short = c.log("w1.log").matches("not acknowledged by enough replicas").count()
        + c.log("w2.log").matches("not acknowledged by enough replicas").count()
        + c.log("frontend.log").matches("not acknowledged by enough replicas").count();
    if wait_for_replica {
        assert!(short > 0, "writes to the promoted replica's slots waited for a replica it did not have yet");
    }
    eprintln!(
        "failover of primary {victim} took {failover:?} (a replica again after {replicated:?}); {total} of {total} \
         executions finished in {:?}; {short} writes short of a replica, retried",
        began.elapsed()
    );
}
