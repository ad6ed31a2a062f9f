//! Distributed-mode throughput against its raw ceiling, on the same Apache Kafka broker and
//! Redis, with the CPU each process spends per execution.
//!
//! 1. Raw ceiling: produce N keyed start records (as a frontend encodes them) to a topic,
//!    consume them in a consumer group, and do one Redis `SET NX` per record: the least work
//!    any Kafka + Redis engine must do, with Expressway's own client settings.
//! 2. Expressway: one frontend, `BENCH_WORKERS` worker processes (default 1) and the results
//!    service (release build); N `hello` executions started through gRPC by 2,048 concurrent
//!    callers, timed from the first StartExecution to the Nth recorded outcome.
//!
//! Both are measured in `BENCH_ROUNDS` alternating rounds (default 3), each phase on a fresh
//! broker (warmed up with 200,000 records first, as a long-running broker is) and Redis; prints every round, the CPU microseconds per execution of every process
//! (from /proc: frontend, worker, results, Redis, broker, the load client), and on its last
//! line the ratio of the medians. Besides CPU, the Expressway phase counts what each execution
//! costs the servers: Redis commands by name (`INFO commandstats`, the bench's own polling left
//! out), Redis memory, and records appended to the executions, results and offsets topics (their
//! high watermarks); `benches/capacity.py` turns the JSON into a capacity table. `distributed scaling [N]` runs the Expressway phase with 1,
//! 2 and 4 workers instead. `BENCH_SERVICE_CONFIG` names a configuration file for the
//! services (to try settings); `BENCH_JSON` a file to write every figure to, as JSON;
//! `BENCH_KAFKA` and `BENCH_REDIS` run one phase (`BENCH_PHASE=raw` for the raw ceiling) on
//! servers of your own.
//! Usage:
//!   cargo build --release -p expressway-cli && \
//!   cargo run --release -p expressway-benches --bin distributed -- [N]

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use expressway_benches::{connect, expressway_bin, hello_machine, median, CpuMeter, Proc};
use expressway_bus::kafka::KafkaConfig;
use expressway_proto::v1 as pb;
use expressway_testkit::kafka::{Kafka, KafkaOptions};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::Message;
use redis::AsyncCommands;
use serde_json::json;

/// Partitions of every topic in both phases.
const PARTITIONS: i32 = 8;

/// The broker and Redis a phase runs on: fresh ones of its own, or servers given with
/// `BENCH_KAFKA` and `BENCH_REDIS` (with `BENCH_BROKER_PID` and `BENCH_REDIS_PID` to count
/// their CPU too).
struct Servers {
    bootstrap: String,
    redis_url: String,
    broker_pid: Option<u32>,
    redis_pid: Option<u32>,
    _own: Option<(Kafka, expressway_testkit::Server)>,
}

fn external() -> Option<Servers> {
    let pid = |var: &str| std::env::var(var).ok().and_then(|p| p.parse().ok());
    Some(Servers {
        bootstrap: std::env::var("BENCH_KAFKA").ok()?,
        redis_url: std::env::var("BENCH_REDIS").ok()?,
        broker_pid: pid("BENCH_BROKER_PID"),
        redis_pid: pid("BENCH_REDIS_PID"),
        _own: None,
    })
}

/// Produce and consume `n` start-sized records on a topic of their own: a fresh JVM spends
/// its first seconds compiling the broker's hot paths, which a long-running broker has long
/// done, so each phase measures a warm broker.
async fn warm_up(bootstrap: &str, n: usize) -> anyhow::Result<()> {
    let cfg = KafkaConfig {
        bootstrap_servers: bootstrap.into(),
        partitions: PARTITIONS,
        group_id: "bench-warm".into(),
        ..Default::default()
    };
    expressway_bus::kafka::ensure_topics(&cfg, &["bench-warm"]).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let p: FutureProducer = cfg.producer_config().create()?;
    let consumer: StreamConsumer = cfg.consumer_config().create()?;
    consumer.subscribe(&["bench-warm"])?;
    let payload = vec![b'x'; 350];
    let mut pending = Vec::with_capacity(1000);
    for i in 0..n {
        let key = i.to_string();
        pending.push(p.send_result(FutureRecord::to("bench-warm").key(&key).payload(&payload)).map_err(|(e, _)| e)?);
        if pending.len() == 1000 {
            for d in pending.drain(..) {
                let _ = d.await;
            }
        }
    }
    for d in pending {
        let _ = d.await;
    }
    for _ in 0..n {
        consumer.recv().await?;
    }
    Ok(())
}

async fn fresh() -> anyhow::Result<Servers> {
    if let Some(s) = external() {
        return Ok(s);
    }
    // A broker sized as a small production one would be (the test kit's default heap is less).
    let kafka = Kafka::start(KafkaOptions { heap_mb: 1024, ..KafkaOptions::default() }).map_err(anyhow::Error::msg)?;
    let redis = expressway_testkit::redis().map_err(anyhow::Error::msg)?;
    warm_up(&kafka.bootstrap(), 200_000).await?;
    Ok(Servers {
        bootstrap: kafka.bootstrap(),
        redis_url: redis.redis_url(),
        broker_pid: kafka.pid(0),
        redis_pid: redis.pid(),
        _own: Some((kafka, redis)),
    })
}

impl Servers {
    fn meter(&self) -> CpuMeter {
        let mut m = CpuMeter::default();
        m.add("broker", self.broker_pid);
        m.add("redis", self.redis_pid);
        m.add("load client", Some(std::process::id()));
        m
    }
}

/// Microseconds of CPU per unit of work, by process.
type CpuPer = BTreeMap<String, f64>;

struct Measured {
    rate: f64,
    cpu: CpuPer,
    /// Per execution: Redis commands by name, Redis memory, Kafka records by topic (the
    /// Expressway phase only).
    traffic: Option<Traffic>,
}

/// What one execution costs Redis and Kafka besides CPU.
#[derive(Debug, Clone, Default)]
struct Traffic {
    redis_commands: BTreeMap<String, f64>,
    redis_memory_bytes: f64,
    kafka_records: BTreeMap<String, f64>,
}

impl Traffic {
    fn json(&self) -> serde_json::Value {
        json!({
            "redis_commands_per_execution": self.redis_commands.values().sum::<f64>(),
            "redis_commands_by_name": self.redis_commands,
            "redis_memory_bytes_per_execution": self.redis_memory_bytes,
            "kafka_records_per_execution": self.kafka_records,
        })
    }

    fn print(&self) {
        let total: f64 = self.redis_commands.values().sum();
        let by: Vec<String> = self.redis_commands.iter().map(|(k, v)| format!("{k} {v:.2}")).collect();
        println!("Redis commands per execution: {total:.2} ({})", by.join(", "));
        println!("Redis memory per execution (retained): {:.0} bytes", self.redis_memory_bytes);
        let by: Vec<String> = self.kafka_records.iter().map(|(k, v)| format!("{k} {v:.3}")).collect();
        println!("Kafka records per execution: {}", by.join(", "));
    }

    /// The median of each figure over rounds.
    fn median(all: &[Traffic]) -> Option<Traffic> {
        let first = all.first()?;
        let med = |f: &dyn Fn(&Traffic) -> Option<f64>| median(&mut all.iter().filter_map(f).collect::<Vec<_>>());
        Some(Traffic {
            redis_commands: first
                .redis_commands
                .keys()
                .map(|k| (k.clone(), med(&|t: &Traffic| t.redis_commands.get(k).copied())))
                .collect(),
            redis_memory_bytes: med(&|t: &Traffic| Some(t.redis_memory_bytes)),
            kafka_records: first
                .kafka_records
                .keys()
                .map(|k| (k.clone(), med(&|t: &Traffic| t.kafka_records.get(k).copied())))
                .collect(),
        })
    }
}

/// Calls per Redis command so far (`INFO commandstats`), and the memory in use.
async fn redis_counts(conn: &mut redis::aio::ConnectionManager) -> anyhow::Result<(BTreeMap<String, u64>, u64)> {
    let stats: String = redis::cmd("INFO").arg("commandstats").query_async(conn).await?;
    let mut calls = BTreeMap::new();
    for line in stats.lines() {
        // cmdstat_set:calls=12,usec=34,…
        if let Some((name, rest)) = line.strip_prefix("cmdstat_").and_then(|l| l.split_once(':')) {
            let n = rest.split(',').find_map(|kv| kv.strip_prefix("calls=")).and_then(|n| n.parse().ok());
            calls.insert(name.to_string(), n.unwrap_or(0));
        }
    }
    let memory: String = redis::cmd("INFO").arg("memory").query_async(conn).await?;
    let used = memory.lines().find_map(|l| l.strip_prefix("used_memory:")).and_then(|n| n.trim().parse().ok());
    Ok((calls, used.unwrap_or(0)))
}

/// Records appended so far to each topic (the sum of its partitions' high watermarks).
fn kafka_counts(bootstrap: &str, topics: &[&str]) -> anyhow::Result<BTreeMap<String, i64>> {
    let cfg =
        KafkaConfig { bootstrap_servers: bootstrap.into(), group_id: "bench-watermarks".into(), ..Default::default() };
    let c: rdkafka::consumer::BaseConsumer = cfg.consumer_config().create()?;
    let within = Duration::from_secs(10);
    let mut out = BTreeMap::new();
    for topic in topics {
        let md = c.fetch_metadata(Some(topic), within)?;
        let mut sum = 0;
        for t in md.topics() {
            for p in t.partitions() {
                sum += c.fetch_watermarks(topic, p.id(), within)?.1;
            }
        }
        out.insert(topic.to_string(), sum);
    }
    Ok(out)
}

async fn raw_ceiling(s: &Servers, n: usize) -> anyhow::Result<Measured> {
    let bootstrap = s.bootstrap.clone();
    let topic = "bench-raw";
    let cfg = KafkaConfig {
        bootstrap_servers: bootstrap.clone(),
        partitions: PARTITIONS,
        group_id: "bench-raw".into(),
        ..Default::default()
    };
    let p: FutureProducer = cfg.producer_config().create()?;
    let consumer: StreamConsumer = cfg.consumer_config().create()?;
    let conn = redis::aio::ConnectionManager::new(redis::Client::open(s.redis_url.as_str())?).await?;
    expressway_bus::kafka::ensure_topics(&cfg, &[topic]).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    p.send(FutureRecord::to(topic).key("warm").payload("{}"), Duration::from_secs(30))
        .await
        .map_err(|(e, _)| anyhow::anyhow!("{e}"))?;
    consumer.subscribe(&[topic])?;
    let warm = consumer.recv().await?;
    let _ = warm.offset();

    // The same records as Expressway's: a start command of a `hello` execution, as a frontend
    // encodes it.
    let payload = expressway_bus::kafka::encode_start(&expressway_bus::StartCommand {
        execution_arn: "arn:aws:states:us-east-1:000000000000:express:hello:e12345:0123456789abcdef0123456789abcdef"
            .into(),
        execution_name: "e12345".into(),
        state_machine_arn: "arn:aws:states:us-east-1:000000000000:stateMachine:hello".into(),
        revision_id: "00000000-0000-0000-0000-000000000000".into(),
        input: "{\"name\":\"world\"}".into(),
        start_ms: 1_700_000_000_000,
        reply_to: None,
        trace_header: None,
        depth: 0,
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let meter = s.meter();
    let before = meter.sample();
    let started = Instant::now();
    let prod = {
        let p = p.clone();
        let payload = payload.clone();
        tokio::spawn(async move {
            let mut pending = Vec::with_capacity(1000);
            for i in 0..n {
                let key = format!("raw-{i}");
                pending.push(p.send_result(FutureRecord::to(topic).key(&key).payload(&payload)).map_err(|(e, _)| e));
                if pending.len() == 1000 {
                    for d in pending.drain(..) {
                        let _ = d?.await;
                    }
                }
            }
            for d in pending {
                let _ = d?.await;
            }
            Ok::<_, rdkafka::error::KafkaError>(())
        })
    };
    let mut inflight = tokio::task::JoinSet::new();
    let mut seen = 0;
    while seen < n {
        let m = consumer.recv().await?;
        let key = String::from_utf8_lossy(m.key().unwrap_or_default()).to_string();
        if key == "warm" {
            continue;
        }
        seen += 1;
        let mut c = conn.clone();
        inflight.spawn(async move {
            let _: Option<String> = redis::cmd("SET")
                .arg(format!("bench:{key}"))
                .arg("1")
                .arg("NX")
                .query_async(&mut c)
                .await
                .ok()
                .flatten();
        });
        while inflight.len() > 256 {
            inflight.join_next().await;
        }
    }
    while inflight.join_next().await.is_some() {}
    prod.await??;
    let secs = started.elapsed().as_secs_f64();
    let cpu = meter.per_unit(&before, &meter.sample(), n);
    let _: () = conn.clone().del("bench:warm").await.unwrap_or(());
    Ok(Measured { rate: n as f64 / secs, cpu, traffic: None })
}

fn service(bin: &str, kind: &str, bootstrap: &str, redis_url: &str, extra: &[&str]) -> anyhow::Result<Proc> {
    let mut cmd = Command::new(bin);
    cmd.arg(kind);
    // A configuration file of your own for the services (tuning experiments).
    if let Ok(file) = std::env::var("BENCH_SERVICE_CONFIG") {
        cmd.args(["--config", &file]);
    }
    let child = cmd
        .args(["--kafka-bootstrap-servers", bootstrap, "--redis-url", redis_url])
        .args(extra)
        .env("EXPRESSWAY_LOG", "warn")
        .env("EXPRESSWAY_KAFKA__PARTITIONS", PARTITIONS.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {bin} {kind}"))?;
    Ok(Proc(child))
}

async fn expressway(s: &Servers, n: usize, workers: usize) -> anyhow::Result<Measured> {
    let (bootstrap, redis_url) = (s.bootstrap.clone(), s.redis_url.clone());
    let bin = expressway_bin();
    let port = expressway_testkit::free_port();
    let listen = format!("127.0.0.1:{port}");
    let results_listen = format!("127.0.0.1:{}", expressway_testkit::free_port());
    let frontend = service(&bin, "frontend", &bootstrap, &redis_url, &["--listen", &listen])?;
    let mut pool = Vec::new();
    for _ in 0..workers {
        pool.push(service(&bin, "worker", &bootstrap, &redis_url, &["--concurrency", "512"])?);
    }
    let results = service(&bin, "results", &bootstrap, &redis_url, &["--listen", &results_listen])?;
    let url = format!("http://{listen}");
    let ch = connect(port).await?;
    let arn = hello_machine(&ch).await?;
    // Warm up: executions end to end (topics, group formation, every worker assigned).
    let mut ex = pb::executions_client::ExecutionsClient::new(ch.clone());
    for i in 0..(20 * workers) {
        ex.start_sync_execution(pb::StartExecutionRequest {
            state_machine_arn: arn.clone(),
            input: format!("{{\"name\":\"warm{i}\"}}"),
            ..Default::default()
        })
        .await?;
    }
    let client = redis::Client::open(redis_url.as_str())?;
    let mut conn = redis::aio::ConnectionManager::new(client).await?;

    let mut meter = s.meter();
    meter.add("frontend", Some(frontend.0.id()));
    for (i, w) in pool.iter().enumerate() {
        let name = if workers == 1 { "worker".to_string() } else { format!("worker {}", i + 1) };
        meter.add(&name, Some(w.0.id()));
    }
    meter.add("results", Some(results.0.id()));

    // Several connections: one HTTP/2 connection carries at most ~200 concurrent calls.
    let mut channels = Vec::new();
    for _ in 0..16 {
        channels.push(tonic::transport::Channel::from_shared(url.clone())?.connect().await?);
    }
    let defaults = KafkaConfig::default();
    let topics = [defaults.executions_topic.as_str(), defaults.results_topic.as_str(), "__consumer_offsets"];
    let (redis_before, memory_before) = redis_counts(&mut conn).await?;
    let kafka_before = kafka_counts(&bootstrap, &topics)?;
    let mut polled = 0u64;
    let before = meter.sample();
    // Names unique to this run: a server of your own may hold earlier runs' names, and a
    // repeated name is a deduplicated start, not a new execution.
    let run = format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis());
    let started = Instant::now();
    let clients = 2048;
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..clients {
        let ch = channels[c % channels.len()].clone();
        let arn = arn.clone();
        let run = run.clone();
        tasks.spawn(async move {
            let mut ex = pb::executions_client::ExecutionsClient::new(ch);
            let mut arns = Vec::new();
            let mut i = c;
            while i < n {
                let req = pb::StartExecutionRequest {
                    state_machine_arn: arn.clone(),
                    name: format!("e{run}-{i}"),
                    input: "{\"name\":\"world\"}".into(),
                    trace_header: String::new(),
                };
                match ex.start_execution(req).await {
                    Ok(r) => {
                        arns.push(r.into_inner().execution_arn);
                        i += clients
                    }
                    Err(e) if e.code() == tonic::Code::ResourceExhausted => {
                        tokio::time::sleep(Duration::from_millis(5)).await
                    }
                    Err(e) => return Err(anyhow::anyhow!("start failed: {e}")),
                }
            }
            Ok(arns)
        });
    }
    let mut pending = Vec::with_capacity(n);
    while let Some(r) = tasks.join_next().await {
        pending.extend(r??);
    }
    let accepted = started.elapsed().as_secs_f64();
    // Watch only the outcomes still missing (cheap for Redis, unlike scanning its keys while the
    // engine works against it).
    while !pending.is_empty() {
        let mut done = Vec::with_capacity(pending.len());
        for chunk in pending.chunks(2000) {
            let mut pipe = redis::pipe();
            for arn in chunk {
                pipe.exists(expressway_store::redis::execution_key("xw:", "out", arn));
            }
            polled += chunk.len() as u64;
            done.extend(pipe.query_async::<Vec<bool>>(&mut conn).await?);
        }
        let mut done = done.into_iter();
        pending.retain(|_| !done.next().unwrap_or(false));
        if started.elapsed() > Duration::from_secs(600) {
            bail!("{} of {n} executions did not finish in 10 minutes", pending.len());
        }
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = meter.per_unit(&before, &meter.sample(), n);
    println!("expressway: accepted {n} in {accepted:.2}s, all outcomes recorded after {secs:.2}s");
    // The commands of the bench itself (its EXISTS polling, the INFO before) are left out.
    let (redis_after, memory_after) = redis_counts(&mut conn).await?;
    let kafka_after = kafka_counts(&bootstrap, &topics)?;
    let mut redis_commands = BTreeMap::new();
    for (name, after) in &redis_after {
        let mut calls = after.saturating_sub(redis_before.get(name).copied().unwrap_or(0));
        if name == "exists" {
            calls = calls.saturating_sub(polled);
        }
        if name != "info" && calls > 0 {
            redis_commands.insert(name.clone(), calls as f64 / n as f64);
        }
    }
    let kafka_records = kafka_after
        .iter()
        .map(|(t, after)| (t.clone(), (after - kafka_before.get(t).copied().unwrap_or(0)) as f64 / n as f64))
        .collect();
    let traffic = Traffic {
        redis_commands,
        redis_memory_bytes: memory_after.saturating_sub(memory_before) as f64 / n as f64,
        kafka_records,
    };
    Ok(Measured { rate: n as f64 / secs, cpu, traffic: Some(traffic) })
}

/// The gRPC floor: `n` health checks (a unary echo) from the same 2,048 callers on 16
/// connections to a frontend, with nothing behind it.
async fn echo_floor(s: &Servers, n: usize) -> anyhow::Result<Measured> {
    let bin = expressway_bin();
    let port = expressway_testkit::free_port();
    let listen = format!("127.0.0.1:{port}");
    let frontend = service(&bin, "frontend", &s.bootstrap, &s.redis_url, &["--listen", &listen])?;
    connect(port).await?;
    let url = format!("http://{listen}");
    let mut channels = Vec::new();
    for _ in 0..16 {
        channels.push(tonic::transport::Channel::from_shared(url.clone())?.connect().await?);
    }
    let mut meter = CpuMeter::default();
    meter.add("frontend", Some(frontend.0.id()));
    meter.add("load client", Some(std::process::id()));
    let before = meter.sample();
    let started = Instant::now();
    let clients = 2048;
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..clients {
        let ch = channels[c % channels.len()].clone();
        tasks.spawn(async move {
            let mut health = tonic_health::pb::health_client::HealthClient::new(ch);
            let mut i = c;
            while i < n {
                health.check(tonic_health::pb::HealthCheckRequest { service: String::new() }).await?;
                i += clients;
            }
            Ok::<_, anyhow::Error>(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    let secs = started.elapsed().as_secs_f64();
    Ok(Measured { rate: n as f64 / secs, cpu: meter.per_unit(&before, &meter.sample(), n), traffic: None })
}

fn print_cpu(title: &str, rows: &[(String, CpuPer)]) {
    let mut names: Vec<String> = Vec::new();
    for (_, cpu) in rows {
        for k in cpu.keys() {
            if !names.contains(k) {
                names.push(k.clone());
            }
        }
    }
    println!("{title}");
    for (label, cpu) in rows {
        let total: f64 = cpu.values().sum();
        let parts: Vec<String> =
            names.iter().filter_map(|k| cpu.get(k).map(|v| format!("{k} {v:.1}"))).collect::<Vec<_>>();
        println!("  {label}: {} | all {total:.1} us", parts.join(", "));
    }
}

fn median_cpu(all: &[CpuPer]) -> CpuPer {
    let mut out = CpuPer::new();
    if let Some(first) = all.first() {
        for k in first.keys() {
            let mut xs: Vec<f64> = all.iter().filter_map(|c| c.get(k).copied()).collect();
            out.insert(k.clone(), median(&mut xs));
        }
    }
    out
}

fn write_json(v: serde_json::Value) -> anyhow::Result<()> {
    if let Ok(path) = std::env::var("BENCH_JSON") {
        std::fs::write(&path, serde_json::to_string_pretty(&v)?).with_context(|| format!("writing {path}"))?;
        println!("figures written to {path}");
    }
    Ok(())
}

async fn scaling(n: usize) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    let mut figures = Vec::new();
    for workers in [1usize, 2, 4] {
        let s = fresh().await?;
        let m = expressway(&s, n, workers).await?;
        let total: f64 = m.cpu.values().sum();
        println!("workers {workers}: {:.0} executions/s over {n}, CPU {total:.1} us per execution", m.rate);
        let mut f = json!({"workers": workers, "executions_per_second": m.rate, "cpu_us_per_execution": m.cpu});
        if let (Some(t), Some(obj)) = (&m.traffic, f.as_object_mut()) {
            t.print();
            obj.extend(t.json().as_object().cloned().unwrap_or_default());
        }
        figures.push(f);
        rows.push((format!("{workers} worker(s), {:.0}/s", m.rate), m.cpu));
    }
    print_cpu("CPU microseconds per execution, by process:", &rows);
    write_json(json!({"scaling": figures, "executions": n}))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let scaling_run = args.first().is_some_and(|a| a == "scaling");
    if scaling_run {
        args.remove(0);
    }
    let n: usize = args.first().map(|s| s.parse()).transpose()?.unwrap_or(100_000);
    if scaling_run {
        return scaling(n).await;
    }
    if external().is_some() && std::env::var("BENCH_PHASE").as_deref() != Ok("both") {
        // Servers of your own: one phase (BENCH_PHASE=raw for the raw ceiling).
        let s = fresh().await?;
        let workers: usize = std::env::var("BENCH_WORKERS").ok().map(|s| s.parse()).transpose()?.unwrap_or(1);
        let phase = std::env::var("BENCH_PHASE").unwrap_or_default();
        let (label, m) = if phase == "raw" {
            ("raw ceiling", raw_ceiling(&s, n).await?)
        } else if phase == "echo" {
            ("grpc echo", echo_floor(&s, n).await?)
        } else {
            ("expressway", expressway(&s, n, workers.max(1)).await?)
        };
        println!("{label}: {:.0} per second over {n}", m.rate);
        print_cpu("CPU microseconds per execution:", &[(label.to_string(), m.cpu.clone())]);
        let mut figures = json!({"executions": n, "workers": workers, "phase": label,
            "executions_per_second": m.rate, "cpu_us_per_execution": m.cpu});
        if let (Some(t), Some(obj)) = (&m.traffic, figures.as_object_mut()) {
            t.print();
            obj.extend(t.json().as_object().cloned().unwrap_or_default());
        }
        return write_json(figures);
    }
    let workers: usize = std::env::var("BENCH_WORKERS").ok().map(|s| s.parse()).transpose()?.unwrap_or(1).max(1);
    // The machine's run-to-run noise is as large as the differences worth seeing: the raw
    // ceiling and Expressway are measured in alternating rounds, each on a fresh broker and
    // Redis, and their medians compared.
    let rounds: usize = std::env::var("BENCH_ROUNDS").ok().map(|s| s.parse()).transpose()?.unwrap_or(3).max(1);
    let (mut raws, mut e2es, mut raw_cpu, mut e2e_cpu) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut traffic = Vec::new();
    for round in 1..=rounds {
        let s = fresh().await?;
        let raw = raw_ceiling(&s, n).await?;
        println!(
            "round {round}: raw ceiling (produce -> consume + SET NX): {:.0} records/s over {n} records",
            raw.rate
        );
        drop(s);
        let s = fresh().await?;
        let e2e = expressway(&s, n, workers).await?;
        println!(
            "round {round}: expressway end to end (StartExecution -> outcome recorded): {:.0} executions/s over {n}",
            e2e.rate
        );
        println!("round {round}: ratio {:.1}%", 100.0 * e2e.rate / raw.rate);
        drop(s);
        raws.push(raw.rate);
        e2es.push(e2e.rate);
        raw_cpu.push(raw.cpu);
        e2e_cpu.push(e2e.cpu);
        traffic.extend(e2e.traffic);
    }
    let traffic = Traffic::median(&traffic).unwrap_or_default();
    traffic.print();
    let (raw_cpu, e2e_cpu) = (median_cpu(&raw_cpu), median_cpu(&e2e_cpu));
    print_cpu(
        "CPU microseconds per execution (per record for the raw ceiling), median of the rounds:",
        &[("raw ceiling".into(), raw_cpu.clone()), ("expressway".into(), e2e_cpu.clone())],
    );
    let (raw, e2e) = (median(&mut raws.clone()), median(&mut e2es.clone()));
    println!("median of {rounds}: raw ceiling {raw:.0} records/s, expressway {e2e:.0} executions/s");
    let mut figures = json!({
        "executions": n, "rounds": rounds, "workers": workers,
        "raw_records_per_second": raws, "expressway_executions_per_second": e2es,
        "raw_cpu_us_per_record": raw_cpu, "expressway_cpu_us_per_execution": e2e_cpu,
        "ratio": e2e / raw,
    });
    if let Some(obj) = figures.as_object_mut() {
        obj.extend(traffic.json().as_object().cloned().unwrap_or_default());
    }
    write_json(figures)?;
    println!("ratio: {:.1}% of the raw ceiling", 100.0 * e2e / raw);
    Ok(())
}
