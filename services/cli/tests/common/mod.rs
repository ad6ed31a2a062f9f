//! Helpers shared by the suites that run the distributed services as processes against a
//! real Apache Kafka broker (one per test binary) and a real redis-server (one per test).
//!
//! `EXPRESSWAY_TEST_REDIS=cluster` runs the same suites on a Redis Cluster of three primaries
//! and three replicas instead (one per test): `.ci/run` runs them both ways.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use expressway_proto::v1 as pb;
use expressway_testkit::kafka::Kafka;
use expressway_testkit::Server;
use pb::executions_client::ExecutionsClient;
use pb::state_machines_client::StateMachinesClient;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use redis::Commands;
use serde_json::json;
use tonic::transport::Channel;

/// These suites start Redis and several processes each: run them one at a time so that a
/// 2-core machine does not starve the consumer group's heartbeats.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    SERIAL.lock().await
}

/// A service process, killed on drop.
pub struct Proc {
    pub child: Option<Child>,
}

impl Proc {
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }
    pub fn signal(&self, sig: &str) {
        let _ = Command::new("kill").args([sig, &self.pid().to_string()]).status();
    }
    pub fn wait(&mut self, within: Duration) -> bool {
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

/// The Redis the services use: one server, or a cluster.
pub enum Redis {
    Server(Server),
    Cluster(expressway_testkit::redis_cluster::RedisCluster),
}

impl Redis {
    /// What `EXPRESSWAY_TEST_REDIS` asks for (`cluster`, else a single server).
    pub fn from_env() -> Redis {
        match std::env::var("EXPRESSWAY_TEST_REDIS").as_deref() {
            Ok("cluster") => Redis::cluster(),
            _ => Redis::Server(expressway_testkit::redis().expect("redis-server")),
        }
    }

    pub fn cluster() -> Redis {
        Redis::Cluster(expressway_testkit::redis_cluster::RedisCluster::start().expect("a redis cluster"))
    }

    /// The flag that points a service at it.
    pub fn args(&self) -> [String; 2] {
        match self {
            Redis::Server(s) => ["--redis-url".into(), s.redis_url()],
            Redis::Cluster(c) => ["--redis-cluster-urls".into(), c.urls_joined()],
        }
    }

    /// The single server (for the tests that stop and restart it).
    pub fn server(&mut self) -> &mut Server {
        match self {
            Redis::Server(s) => s,
            Redis::Cluster(_) => panic!("this test stops a single redis-server; run it without EXPRESSWAY_TEST_REDIS"),
        }
    }

    fn dir(&self) -> std::path::PathBuf {
        match self {
            Redis::Server(s) => s.dir.clone(),
            Redis::Cluster(c) => c.dir().to_path_buf(),
        }
    }
}

/// A blocking connection to either; `KEYS` on a cluster asks every primary.
pub enum RedisConn {
    Server(redis::Connection),
    Cluster(Box<redis::cluster::ClusterConnection>),
}

impl redis::ConnectionLike for RedisConn {
    fn req_packed_command(&mut self, cmd: &[u8]) -> redis::RedisResult<redis::Value> {
        match self {
            RedisConn::Server(c) => c.req_packed_command(cmd),
            RedisConn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands(
        &mut self,
        cmd: &[u8],
        offset: usize,
        count: usize,
    ) -> redis::RedisResult<Vec<redis::Value>> {
        match self {
            RedisConn::Server(c) => c.req_packed_commands(cmd, offset, count),
            RedisConn::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn req_command(&mut self, cmd: &redis::Cmd) -> redis::RedisResult<redis::Value> {
        match self {
            RedisConn::Server(c) => c.req_command(cmd),
            RedisConn::Cluster(c) => c.req_command(cmd),
        }
    }

    fn get_db(&self) -> i64 {
        0
    }

    fn check_connection(&mut self) -> bool {
        match self {
            RedisConn::Server(c) => c.check_connection(),
            RedisConn::Cluster(c) => c.check_connection(),
        }
    }

    fn is_open(&self) -> bool {
        match self {
            RedisConn::Server(c) => c.is_open(),
            RedisConn::Cluster(c) => c.is_open(),
        }
    }
}

/// The key of one kind (`out`, `claim`, `ran`…) that the services keep for an execution.
pub fn key(kind: &str, execution_arn: &str) -> String {
    expressway_store::redis::execution_key("xw:", kind, execution_arn)
}

/// The execution ARN in one of those keys.
pub fn arn_of(key: &str) -> &str {
    key.split_once('}').map_or(key, |(_, arn)| arn)
}

pub struct Cluster {
    pub kafka: &'static Kafka,
    pub redis: Redis,
    pub topic: String,
    pub group: String,
    pub logs: std::path::PathBuf,
}

impl Cluster {
    pub fn new(tag: &str) -> Cluster {
        Cluster::with_redis(tag, Redis::from_env())
    }

    pub fn with_redis(tag: &str, redis: Redis) -> Cluster {
        let kafka = expressway_testkit::kafka::shared().expect("a Kafka broker (see .ci/run)");
        let logs = redis.dir();
        Cluster { kafka, redis, topic: format!("exec-{tag}"), group: format!("workers-{tag}"), logs }
    }

    pub fn service(&self, kind: &str, extra: &[&str], log: &str) -> Proc {
        self.service_env(kind, extra, log, &[])
    }

    pub fn service_env(&self, kind: &str, extra: &[&str], log: &str, env: &[(&str, String)]) -> Proc {
        let out = std::fs::File::create(self.logs.join(log)).expect("log");
        let err = out.try_clone().expect("log");
        let child = Command::new(env!("CARGO_BIN_EXE_expressway"))
            .arg(kind)
            .args(["--kafka-bootstrap-servers", &self.kafka.bootstrap()])
            .args(self.redis.args())
            .args(["--executions-topic", &self.topic])
            .args(["--group-id", &self.group])
            .args(extra)
            .env("EXPRESSWAY_KAFKA__PARTITIONS", "4")
            .env("EXPRESSWAY_KAFKA__RESULTS_TOPIC", format!("{}-results", self.topic))
            .env("EXPRESSWAY_KAFKA__DEAD_LETTER_TOPIC", format!("{}-dlq", self.topic))
            .env("EXPRESSWAY_RESULTS__GROUP_ID", format!("results-{}", self.topic))
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

    pub fn redis(&self) -> RedisConn {
        match &self.redis {
            Redis::Server(s) => RedisConn::Server(
                redis::Client::open(s.redis_url()).expect("url").get_connection().expect("redis connection"),
            ),
            Redis::Cluster(c) => {
                let client = redis::cluster::ClusterClient::new(c.urls()).expect("urls");
                RedisConn::Cluster(Box::new(client.get_connection().expect("cluster connection")))
            }
        }
    }

    pub fn count(&self, pattern: &str) -> usize {
        let mut c = self.redis();
        let keys: Vec<String> = c.keys(pattern).expect("keys");
        keys.len()
    }

    /// Whether a service's log says it was assigned partitions (not an empty assignment, as
    /// an incremental rebalance's first round may be).
    pub fn assigned(&self, log: &str) -> bool {
        self.log(log).lines().any(|l| l.contains("partitions assigned") && !l.contains("partitions=0"))
    }

    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.logs.join(name)).unwrap_or_default()
    }

    /// The records on the dead-letter topic so far: (key, value, `expressway-error` header).
    pub fn dead_letters(&self) -> Vec<(String, String, String)> {
        use rdkafka::consumer::{BaseConsumer, Consumer};
        use rdkafka::message::{Headers, Message};
        use rdkafka::{Offset, TopicPartitionList};
        let topic = format!("{}-dlq", self.topic);
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", self.kafka.bootstrap())
            .set("group.id", "dlq-reader")
            .set("enable.auto.commit", "false")
            .create()
            .expect("consumer");
        let timeout = Duration::from_secs(10);
        let metadata = consumer.fetch_metadata(Some(&topic), timeout).expect("metadata");
        let mut tpl = TopicPartitionList::new();
        let mut expected = 0;
        for p in metadata.topics().iter().flat_map(|t| t.partitions()) {
            let (low, high) = consumer.fetch_watermarks(&topic, p.id(), timeout).expect("watermarks");
            expected += high - low;
            tpl.add_partition_offset(&topic, p.id(), Offset::Beginning).expect("partition");
        }
        consumer.assign(&tpl).expect("assign");
        let text = |b: Option<&[u8]>| String::from_utf8_lossy(b.unwrap_or_default()).to_string();
        let mut out = Vec::new();
        let deadline = Instant::now() + timeout;
        while (out.len() as i64) < expected && Instant::now() < deadline {
            if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
                let why =
                    m.headers().and_then(|h| h.iter().find(|x| x.key == "expressway-error").map(|x| text(x.value)));
                out.push((text(m.key()), text(m.payload()), why.unwrap_or_default()));
            }
        }
        out
    }
}

pub async fn channel(port: u16) -> Channel {
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..600 {
        if let Ok(c) = Channel::from_shared(url.clone()).expect("url").connect().await {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the frontend did not come up at {url}");
}

pub async fn create_machine(ch: &Channel, name: &str, definition: &str, level: pb::LogLevel) -> String {
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
pub async fn start_grpc(ch: &Channel, arn: &str, prefix: &str, n: usize) -> Vec<String> {
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
pub async fn start_raw(c: &Cluster, arn: &str, prefix: &str, range: std::ops::Range<usize>) {
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

pub async fn wait_until(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    false
}

pub async fn wait_for(what: &str, within: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("timed out waiting for {what}");
}

pub const HELLO: &str = r#"{"StartAt":"H","States":{"H":{"Type":"Pass","Parameters":{"n.$":"$.i"},"End":true}}}"#;
pub const SLOW: &str =
    r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"P"},"P":{"Type":"Pass","End":true}}}"#;
