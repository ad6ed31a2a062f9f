//! The fault suite: a distributed deployment on a three-node Kafka cluster (one frontend, two
//! workers, the results service, Redis with AOF) under a bounded load of named asynchronous
//! executions (a fifth of them call a recording HTTP function) and a stream of synchronous
//! calls, with one fault injected per scenario. Every scenario is accounted for:
//!
//! - **lost**: an accepted start (StartExecution answered) with no recorded outcome, or whose
//!   outcome never reached the results stream;
//! - **duplicate outcomes**: an execution with two different outcomes on the results stream
//!   (it ran to completion twice);
//! - **duplicate task calls**: a call to the function for an execution whose task result was
//!   already journaled (the journal exists so that a re-run never calls it again);
//! - synchronous calls answered (a result), interrupted (`Expressway.ExecutionInterrupted`, or
//!   the transport broke because the frontend died) and hung (no answer in a minute);
//! - time to recover: from the fault until every execution accepted before it has its
//!   outcome.
//!
//! Used by `benches/src/bin/faults.rs` (every scenario, printed as a table) and by the
//! asserting tests in `benches/tests/faults.rs`.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use expressway_proto::v1 as pb;
use expressway_testkit::kafka::Kafka;
use expressway_testkit::Server;
use tonic::transport::Channel;

use crate::{connect, expressway_bin};

/// What to break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// SIGKILL one of the two workers; nothing replaces it.
    KillWorker,
    /// SIGKILL the frontend while calls are in flight; it is started again 2 s later.
    KillFrontend,
    /// SIGKILL the results service; it is started again 2 s later.
    KillResults,
    /// SIGKILL one Kafka node; it is started again 10 s later.
    KillBroker,
    /// Stop Redis (SIGTERM: it writes its AOF) and start it again 2 s later.
    RestartRedis,
    /// Freeze Redis for 5 s (SIGSTOP, then SIGCONT).
    FreezeRedis,
}

impl Fault {
    pub const ALL: [Fault; 6] = [
        Fault::KillWorker,
        Fault::KillFrontend,
        Fault::KillResults,
        Fault::KillBroker,
        Fault::RestartRedis,
        Fault::FreezeRedis,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::KillWorker => "SIGKILL a worker",
            Fault::KillFrontend => "SIGKILL the frontend",
            Fault::KillResults => "SIGKILL the results service",
            Fault::KillBroker => "SIGKILL a Kafka broker",
            Fault::RestartRedis => "restart Redis (AOF)",
            Fault::FreezeRedis => "freeze Redis 5 s",
        }
    }
}

/// What a scenario measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub accepted: usize,
    pub completed: usize,
    pub lost: usize,
    /// Accepted executions whose outcome is recorded but missing from the results stream
    /// (counted in `lost` too).
    pub missing_from_stream: usize,
    pub duplicate_outcomes: usize,
    pub duplicate_task_calls: usize,
    pub task_calls: usize,
    pub sync_answered: usize,
    pub sync_interrupted: usize,
    pub sync_hung: usize,
    pub recovery: Duration,
}

/// A service process that can be killed and started again.
struct Service {
    kind: &'static str,
    args: Vec<String>,
    env: Vec<(String, String)>,
    log: std::path::PathBuf,
    child: Option<Child>,
}

impl Service {
    fn start(&mut self) -> anyhow::Result<()> {
        let out = std::fs::OpenOptions::new().create(true).append(true).open(&self.log)?;
        let err = out.try_clone()?;
        let child = Command::new(expressway_bin())
            .arg(self.kind)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .with_context(|| format!("starting {} {}", expressway_bin(), self.kind))?;
        self.child = Some(child);
        Ok(())
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}

const PASS: &str = r#"{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"i.$":"$.i"},"Next":"W"},"W":{"Type":"Wait","Seconds":1,"End":true}}}"#;

/// A Task calling the recording function with the execution's id, then a Pass.
const TASK: &str = r#"{"StartAt":"Call","States":{
  "Call":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
          "Parameters":{"FunctionName":"record","Payload":{"execution.$":"$$.Execution.Id","i.$":"$.i"}},
          "ResultSelector":{"ok.$":"$.Payload.ok"},"ResultPath":"$.call","Next":"Done"},
  "Done":{"Type":"Pass","End":true}}}"#;

/// One deployment under test.
pub struct Deployment {
    pub kafka: Kafka,
    pub redis: Server,
    frontend: Service,
    workers: Vec<Service>,
    results: Service,
    port: u16,
    dir: std::path::PathBuf,
    function: expressway_testkit::HttpServer,
    duplicate_calls: Arc<AtomicU64>,
}

impl Deployment {
    pub fn start() -> anyhow::Result<Deployment> {
        let kafka = Kafka::cluster().map_err(anyhow::Error::msg)?;
        let redis = expressway_testkit::redis_with(&["--appendonly", "yes", "--appendfsync", "everysec"])
            .map_err(anyhow::Error::msg)?;
        let dir = redis.dir.clone();
        // The recording function: a call for an execution whose task result is already in
        // the journal is a duplicate the journal should have prevented.
        let duplicate_calls = Arc::new(AtomicU64::new(0));
        let journal_redis = redis::Client::open(redis.redis_url())?;
        let dups = duplicate_calls.clone();
        let function = expressway_testkit::http_server(Arc::new(move |req: &expressway_testkit::Request| {
            let body: serde_json::Value = serde_json::from_str(&req.body).unwrap_or_default();
            if let Some(arn) = body["execution"].as_str() {
                if let Ok(mut c) = journal_redis.get_connection() {
                    let done: usize = redis::cmd("HLEN")
                        .arg(expressway_store::redis::execution_key("xw:", "journal", arn))
                        .query(&mut c)
                        .unwrap_or(0);
                    if done > 0 {
                        dups.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            (200, "{\"ok\":true}".to_string())
        }))
        .map_err(anyhow::Error::msg)?;
        let port = expressway_testkit::free_port();
        let common = |extra: &[String]| -> Vec<String> {
            let mut a = vec![
                "--kafka-bootstrap-servers".to_string(),
                kafka.bootstrap(),
                "--redis-url".into(),
                redis.redis_url(),
            ];
            a.extend(extra.iter().cloned());
            a
        };
        let env = vec![
            ("EXPRESSWAY_LOG".to_string(), "info".to_string()),
            ("EXPRESSWAY_KAFKA__PARTITIONS".into(), "6".into()),
            ("EXPRESSWAY_KAFKA__REPLICATION_FACTOR".into(), "3".into()),
            ("EXPRESSWAY_WORKER__LEASE_SECONDS".into(), "4".into()),
            ("EXPRESSWAY_TASKS__FUNCTIONS__RECORD__URL".into(), format!("http://127.0.0.1:{}/", function.port)),
        ];
        let service = |kind: &'static str, extra: &[String], log: &str| Service {
            kind,
            args: common(extra),
            env: env.clone(),
            log: dir.join(log),
            child: None,
        };
        let mut frontend = service("frontend", &["--listen".into(), format!("127.0.0.1:{port}")], "frontend.log");
        let results_listen = format!("127.0.0.1:{}", expressway_testkit::free_port());
        let mut results = service("results", &["--listen".into(), results_listen], "results.log");
        let mut workers = vec![
            service("worker", &["--concurrency".into(), "256".into()], "worker1.log"),
            service("worker", &["--concurrency".into(), "256".into()], "worker2.log"),
        ];
        frontend.start()?;
        results.start()?;
        for w in &mut workers {
            w.start()?;
        }
        Ok(Deployment { kafka, redis, frontend, workers, results, port, dir, function, duplicate_calls })
    }

    /// A service's log (`frontend.log`, `worker1.log`…).
    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }

    async fn channel(&self) -> anyhow::Result<Channel> {
        connect(self.port).await
    }

    async fn inject(&mut self, fault: Fault) -> anyhow::Result<()> {
        match fault {
            Fault::KillWorker => self.workers[0].kill(),
            Fault::KillFrontend => {
                self.frontend.kill();
                tokio::time::sleep(Duration::from_secs(2)).await;
                self.frontend.start()?;
            }
            Fault::KillResults => {
                self.results.kill();
                tokio::time::sleep(Duration::from_secs(2)).await;
                self.results.start()?;
            }
            Fault::KillBroker => {
                self.kafka.kill(1);
                tokio::time::sleep(Duration::from_secs(10)).await;
                let kafka = &mut self.kafka;
                tokio::task::block_in_place(|| kafka.restart(1)).map_err(anyhow::Error::msg)?;
            }
            Fault::RestartRedis => {
                self.redis.signal("-TERM");
                let redis = &self.redis;
                if !tokio::task::block_in_place(|| redis.wait_exit(Duration::from_secs(30))) {
                    anyhow::bail!("redis did not stop on SIGTERM");
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
                let redis = &mut self.redis;
                tokio::task::block_in_place(|| redis.restart()).map_err(anyhow::Error::msg)?;
            }
            Fault::FreezeRedis => {
                self.redis.signal("-STOP");
                tokio::time::sleep(Duration::from_secs(5)).await;
                self.redis.signal("-CONT");
            }
        }
        Ok(())
    }
}

async fn create(ch: &Channel, name: &str, definition: &str) -> anyhow::Result<String> {
    let mut sm = pb::state_machines_client::StateMachinesClient::new(ch.clone());
    Ok(sm
        .create_state_machine(pb::CreateStateMachineRequest {
            name: name.into(),
            definition: definition.into(),
            r#type: pb::StateMachineType::Express as i32,
            ..Default::default()
        })
        .await?
        .into_inner()
        .state_machine_arn)
}

/// Accepted starts, by name: the ARN and when it was accepted.
type Accepted = Arc<Mutex<HashMap<String, (String, Instant)>>>;

/// Run one scenario: `total` named asynchronous executions at about `rate` a second, a
/// stream of synchronous calls beside them, and `fault` injected once a third of the load
/// is in.
pub async fn scenario(fault: Fault, total: usize, rate: usize) -> anyhow::Result<(Report, Deployment)> {
    let mut d = tokio::task::block_in_place(Deployment::start)?;
    let ch = d.channel().await?;
    let pass = create(&ch, "pass", PASS).await?;
    let task = create(&ch, "task", TASK).await?;
    // The group has formed and every part answers once a synchronous call comes back.
    let mut ex = pb::executions_client::ExecutionsClient::new(ch.clone());
    for i in 0..4 {
        ex.start_sync_execution(pb::StartExecutionRequest {
            state_machine_arn: pass.clone(),
            name: format!("warm-{i}"),
            input: "{\"i\":0}".into(),
            ..Default::default()
        })
        .await?;
    }

    let accepted: Accepted = Arc::default();
    let load_done = Arc::new(AtomicBool::new(false));
    // Asynchronous starts: 16 callers, each retrying its current name until it is accepted
    // (a repeated name is the same execution, so a retry never starts a second one).
    let per_caller_interval = Duration::from_secs_f64(16.0 / rate.max(1) as f64);
    let mut callers = tokio::task::JoinSet::new();
    for c in 0..16usize {
        let (ch, pass, task, accepted) = (ch.clone(), pass.clone(), task.clone(), accepted.clone());
        callers.spawn(async move {
            let mut ex = pb::executions_client::ExecutionsClient::new(ch);
            let mut tick = tokio::time::interval(per_caller_interval);
            let mut i = c;
            while i < total {
                tick.tick().await;
                let name = format!("a{i}");
                let machine = if i % 5 == 0 { &task } else { &pass };
                let req = pb::StartExecutionRequest {
                    state_machine_arn: machine.clone(),
                    name: name.clone(),
                    input: format!("{{\"i\":{i}}}"),
                    trace_header: String::new(),
                };
                let mut req = tonic::Request::new(req);
                req.set_timeout(Duration::from_secs(10));
                match ex.start_execution(req).await {
                    Ok(r) => {
                        let arn = r.into_inner().execution_arn;
                        accepted.lock().unwrap_or_else(|p| p.into_inner()).insert(name, (arn, Instant::now()));
                        i += 16;
                    }
                    // Not accepted (unavailable, throttled, the frontend gone): try again.
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
    }
    // Synchronous calls beside them, four at a time, until the asynchronous load is in.
    let sync_answered = Arc::new(AtomicU64::new(0));
    let sync_interrupted = Arc::new(AtomicU64::new(0));
    let sync_hung = Arc::new(AtomicU64::new(0));
    let mut syncs = tokio::task::JoinSet::new();
    for c in 0..4usize {
        let (ch, pass, done) = (ch.clone(), pass.clone(), load_done.clone());
        let (answered, interrupted, hung) = (sync_answered.clone(), sync_interrupted.clone(), sync_hung.clone());
        syncs.spawn(async move {
            let mut ex = pb::executions_client::ExecutionsClient::new(ch);
            let mut i = 0;
            while !done.load(Ordering::Relaxed) {
                let mut req = tonic::Request::new(pb::StartExecutionRequest {
                    state_machine_arn: pass.clone(),
                    name: format!("s{c}-{i}"),
                    input: format!("{{\"i\":{i}}}"),
                    trace_header: String::new(),
                });
                req.set_timeout(Duration::from_secs(60));
                i += 1;
                match ex.start_sync_execution(req).await {
                    Ok(r) if r.get_ref().error == "Expressway.ExecutionInterrupted" => {
                        interrupted.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(s) if s.code() == tonic::Code::DeadlineExceeded => {
                        hung.fetch_add(1, Ordering::Relaxed);
                    }
                    // The call broke (the frontend died) or was refused: the caller knows.
                    Err(_) => {
                        interrupted.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
    }

    // The fault, once a third of the load is in.
    while accepted.lock().unwrap_or_else(|p| p.into_inner()).len() < total / 3 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let fault_at = Instant::now();
    // Recovery: until every execution accepted before the fault has its outcome, watched
    // from now on, beside the load.
    let before: Vec<String> =
        accepted.lock().unwrap_or_else(|p| p.into_inner()).values().map(|(a, _)| a.clone()).collect();
    let redis_url = d.redis.redis_url();
    let recovered = tokio::spawn(async move {
        let Ok(client) = redis::Client::open(redis_url) else { return None };
        let mut pending = before;
        let deadline = Instant::now() + Duration::from_secs(300);
        while Instant::now() < deadline {
            if let Ok(mut conn) = client.get_multiplexed_async_connection().await {
                let mut pipe = redis::pipe();
                for arn in &pending {
                    pipe.exists(expressway_store::redis::execution_key("xw:", "out", arn));
                }
                if let Ok(done) = pipe.query_async::<Vec<bool>>(&mut conn).await {
                    let mut it = done.into_iter();
                    pending.retain(|_| !it.next().unwrap_or(false));
                    if pending.is_empty() {
                        return Some(fault_at.elapsed());
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        None
    });
    d.inject(fault).await?;
    while callers.join_next().await.is_some() {}
    load_done.store(true, Ordering::Relaxed);
    while syncs.join_next().await.is_some() {}

    // Wait for the outcomes.
    let all: Vec<(String, Instant)> =
        accepted.lock().unwrap_or_else(|p| p.into_inner()).values().map(|(a, t)| (a.clone(), *t)).collect();
    let mut conn = redis::aio::ConnectionManager::new(redis::Client::open(d.redis.redis_url())?).await?;
    let mut pending: Vec<&str> = all.iter().map(|(a, _)| a.as_str()).collect();
    let deadline = Instant::now() + Duration::from_secs(180);
    while !pending.is_empty() && Instant::now() < deadline {
        let mut pipe = redis::pipe();
        for arn in &pending {
            pipe.exists(expressway_store::redis::execution_key("xw:", "out", arn));
        }
        let done: Vec<bool> = match pipe.query_async(&mut conn).await {
            Ok(d) => d,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        let mut it = done.into_iter();
        pending.retain(|_| !it.next().unwrap_or(false));
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let recovery = recovered.await.ok().flatten().unwrap_or_else(|| fault_at.elapsed());
    // The results service appends behind the outcomes: give it a moment, then read the
    // whole stream.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let outcomes = stream_outcomes(&mut conn).await?;
    let mut missing_from_stream = 0;
    let mut duplicate_outcomes = 0;
    for (arn, _) in &all {
        match outcomes.get(arn) {
            None => missing_from_stream += 1,
            Some(distinct) if distinct.len() > 1 => duplicate_outcomes += 1,
            Some(_) => {}
        }
    }
    let unfinished: HashSet<&str> = pending.iter().copied().collect();
    let lost = all.iter().filter(|(a, _)| unfinished.contains(a.as_str()) || !outcomes.contains_key(a)).count();
    let report = Report {
        accepted: all.len(),
        completed: all.len() - unfinished.len(),
        lost,
        missing_from_stream,
        duplicate_outcomes,
        duplicate_task_calls: d.duplicate_calls.load(Ordering::Relaxed) as usize,
        task_calls: d.function.requests.lock().map(|r| r.len()).unwrap_or(0),
        sync_answered: sync_answered.load(Ordering::Relaxed) as usize,
        sync_interrupted: sync_interrupted.load(Ordering::Relaxed) as usize,
        sync_hung: sync_hung.load(Ordering::Relaxed) as usize,
        recovery,
    };
    Ok((report, d))
}

/// Every outcome on the results stream, by execution: the distinct (status, stop time) pairs.
async fn stream_outcomes(
    conn: &mut redis::aio::ConnectionManager,
) -> anyhow::Result<HashMap<String, HashSet<(String, i64)>>> {
    let mut out: HashMap<String, HashSet<(String, i64)>> = HashMap::new();
    let mut from = "-".to_string();
    loop {
        let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg("xw:{results}")
            .arg(&from)
            .arg("+")
            .arg("COUNT")
            .arg(2000)
            .query_async(conn)
            .await?;
        let Some(last) = reply.ids.last() else { break };
        from = format!("({}", last.id);
        for entry in &reply.ids {
            let Some(raw) = entry.get::<Vec<u8>>("m") else { continue };
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(&raw) else { continue };
            if let Some(o) = v.get("Outcome") {
                let arn = o["execution_arn"].as_str().unwrap_or_default().to_string();
                let key = (o["status"].to_string(), o["stop_ms"].as_i64().unwrap_or(0));
                out.entry(arn).or_default().insert(key);
            }
        }
    }
    Ok(out)
}
