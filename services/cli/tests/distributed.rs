//! Distributed mode on a real Kafka-API broker and a real redis-server: separate frontend and
//! worker processes, executions started through gRPC and through raw Kafka records, duplicate
//! starts, a worker killed with SIGKILL and replaced, and a worker shut down gracefully.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use expressway_proto::v1 as pb;
use expressway_testkit::{free_port, Server};
use pb::executions_client::ExecutionsClient;
use pb::state_machines_client::StateMachinesClient;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use redis::Commands;
use serde_json::json;
use tonic::transport::Channel;

/// These suites start a broker, Redis and several processes each: run them one at a time so
/// that a 2-core machine does not starve the consumer group's heartbeats.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    SERIAL.lock().await
}

/// A service process, killed on drop.
struct Proc {
    child: Option<Child>,
}

impl Proc {
    fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }
    fn signal(&self, sig: &str) {
        let _ = Command::new("kill").args([sig, &self.pid().to_string()]).status();
    }
    fn wait(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(_)) = c.try_wait() {
                    self.child = None;
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

struct Cluster {
    kafka: Server,
    redis: Server,
    topic: String,
    group: String,
    logs: std::path::PathBuf,
}

impl Cluster {
    fn new(tag: &str) -> Cluster {
        let kafka = expressway_testkit::kafka().expect("a Kafka broker (see .ci/run)");
        let redis = expressway_testkit::redis().expect("redis-server");
        let logs = kafka.dir.clone();
        Cluster { kafka, redis, topic: format!("exec-{tag}"), group: format!("workers-{tag}"), logs }
    }

    fn service(&self, kind: &str, extra: &[&str], log: &str) -> Proc {
        self.service_env(kind, extra, log, &[])
    }

    fn service_env(&self, kind: &str, extra: &[&str], log: &str, env: &[(&str, String)]) -> Proc {
        let out = std::fs::File::create(self.logs.join(log)).expect("log");
        let err = out.try_clone().expect("log");
        let child = Command::new(env!("CARGO_BIN_EXE_expressway"))
            .arg(kind)
            .args(["--kafka-bootstrap-servers", &self.kafka.bootstrap()])
            .args(["--redis-url", &self.redis.redis_url()])
            .args(["--executions-topic", &self.topic])
            .args(["--group-id", &self.group])
            .args(extra)
            .env("EXPRESSWAY_KAFKA__PARTITIONS", "4")
            .env("EXPRESSWAY_KAFKA__RESULTS_TOPIC", format!("{}-results", self.topic))
            .env("EXPRESSWAY_KAFKA__DEAD_LETTER_TOPIC", format!("{}-dlq", self.topic))
            .env("EXPRESSWAY_WORKER__LEASE_SECONDS", "3")
            .env("EXPRESSWAY_LOG", "info")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .expect("start the expressway binary");
        Proc { child: Some(child) }
    }

    fn redis(&self) -> redis::Connection {
        redis::Client::open(self.redis.redis_url()).expect("url").get_connection().expect("redis connection")
    }

    fn count(&self, pattern: &str) -> usize {
        let mut c = self.redis();
        let keys: Vec<String> = c.keys(pattern).expect("keys");
        keys.len()
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.logs.join(name)).unwrap_or_default()
    }
}

async fn channel(port: u16) -> Channel {
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..600 {
        if let Ok(c) = Channel::from_shared(url.clone()).expect("url").connect().await {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the frontend did not come up at {url}");
}

async fn create_machine(ch: &Channel, name: &str, definition: &str, level: pb::LogLevel) -> String {
    let mut sm = StateMachinesClient::new(ch.clone());
    sm.create_state_machine(pb::CreateStateMachineRequest {
        name: name.into(),
        definition: definition.into(),
        r#type: pb::StateMachineType::Express as i32,
        logging_configuration: Some(pb::LoggingConfiguration { level: level as i32, include_execution_data: false }),
        ..Default::default()
    })
    .await
    .expect("create")
    .into_inner()
    .state_machine_arn
}

/// Start `n` executions through gRPC with names `{prefix}{i}`, a few at a time.
async fn start_grpc(ch: &Channel, arn: &str, prefix: &str, n: usize) -> Vec<String> {
    let mut handles = Vec::new();
    let per = n.div_ceil(16);
    for chunk in 0..16 {
        let ch = ch.clone();
        let arn = arn.to_string();
        let prefix = prefix.to_string();
        handles.push(tokio::spawn(async move {
            let mut ex = ExecutionsClient::new(ch);
            let mut arns = Vec::new();
            for i in chunk * per..((chunk + 1) * per).min(n) {
                let req = pb::StartExecutionRequest {
                    state_machine_arn: arn.clone(),
                    name: format!("{prefix}{i}"),
                    input: json!({"i": i}).to_string(),
                    trace_header: String::new(),
                };
                loop {
                    match ex.start_execution(req.clone()).await {
                        Ok(r) => {
                            arns.push(r.into_inner().execution_arn);
                            break;
                        }
                        Err(e)
                            if e.code() == tonic::Code::ResourceExhausted || e.code() == tonic::Code::Unavailable =>
                        {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        Err(e) => panic!("start failed: {e}"),
                    }
                }
            }
            arns
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.expect("task"));
    }
    all
}

/// Produce `n` trigger records (`{"stateMachineArn", "name", "input"}`) to the executions topic.
async fn start_raw(c: &Cluster, arn: &str, prefix: &str, range: std::ops::Range<usize>) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", c.kafka.bootstrap())
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .create()
        .expect("producer");
    let mut pending = Vec::new();
    for i in range {
        let name = format!("{prefix}{i}");
        let value = json!({"stateMachineArn": arn, "name": name, "input": {"i": i}}).to_string();
        let p = producer.clone();
        let topic = c.topic.clone();
        pending.push(tokio::spawn(async move {
            let rec = FutureRecord::to(&topic).key(&name).payload(&value);
            p.send(rec, Duration::from_secs(30)).await.map(|_| ()).map_err(|(e, _)| e.to_string())
        }));
        if pending.len() >= 500 {
            for h in pending.drain(..) {
                h.await.expect("task").expect("produce");
            }
        }
    }
    for h in pending {
        h.await.expect("task").expect("produce");
    }
}

async fn wait_until(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    false
}

async fn wait_for(what: &str, within: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("timed out waiting for {what}");
}

const HELLO: &str = r#"{"StartAt":"H","States":{"H":{"Type":"Pass","Parameters":{"n.$":"$.i"},"End":true}}}"#;
const SLOW: &str =
    r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"P"},"P":{"Type":"Pass","End":true}}}"#;

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
        let out: String = r.get(format!("xw:out:{arn}")).expect("outcome");
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert_eq!(v["status"], "Succeeded", "{out}");
    }
    assert!(!c.log("w1.log").contains("panicked") && !c.log("w2.log").contains("panicked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_is_replaced_and_a_stopped_one_hands_over() {
    let _serial = serial().await;
    let c = Cluster::new("failover");
    let port = free_port();
    let _frontend = c.service("frontend", &["--listen", &format!("127.0.0.1:{port}")], "frontend.log");
    let mut w1 = c.service("worker", &["--concurrency", "64"], "w1.log");
    let mut w2 = c.service("worker", &["--concurrency", "64"], "w2.log");
    let ch = channel(port).await;
    let arn = create_machine(&ch, "slow", SLOW, pb::LogLevel::All).await;
    // Let the group form (the broker rebalances a few times at first).
    tokio::time::sleep(Duration::from_secs(4)).await;

    let total = 600;
    let arns = start_grpc(&ch, &arn, "s-", total).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Crash one worker mid-run; an orchestrator starts a replacement.
    w1.signal("-KILL");
    assert!(w1.wait(Duration::from_secs(5)), "the killed worker exits");
    // The replacement joins once the broker has expired the dead member (session timeout 6 s):
    // the test broker only hands a dead member's partitions out at a membership change after
    // that (../shared/kafka-for-tests.md, limitation 1).
    tokio::time::sleep(Duration::from_secs(7)).await;
    let _w3 = c.service("worker", &["--concurrency", "64"], "w3.log");
    tokio::time::sleep(Duration::from_secs(4)).await;
    // Stop another gracefully while work remains: it finishes what it runs and leaves.
    w2.signal("-TERM");
    assert!(w2.wait(Duration::from_secs(60)), "the stopped worker drains and exits");
    assert!(c.log("w2.log").contains("worker stopped"), "graceful exit: {}", c.log("w2.log"));

    let done = wait_until(Duration::from_secs(120), || c.count("xw:out:*") >= total).await;
    if !done {
        panic!(
            "only {} of {total} executions finished; worker logs:\n{}\n{}\n{}",
            c.count("xw:out:*"),
            c.log("w1.log"),
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
        let events: Vec<String> = r.lrange(format!("xw:hist:{arn}"), 0, -1).expect("history");
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
    tokio::time::sleep(Duration::from_secs(7)).await;
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
