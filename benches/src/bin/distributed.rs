//! Distributed-mode throughput against its raw ceiling, on the same broker and Redis.
//!
//! 1. Raw ceiling: produce N keyed records to a topic, consume them in a consumer group, and do
//!    one Redis SET NX per record: the least work any Kafka + Redis engine must do.
//! 2. Expressway: one frontend and one worker process (release build); N `hello` executions
//!    started through gRPC, timed from the first StartExecution to the Nth recorded outcome.
//!
//! Both are measured in `BENCH_ROUNDS` alternating rounds (default 3), each phase on a fresh
//! broker and Redis; prints every round and the ratio of the medians. `BENCH_SERVICE_CONFIG`
//! names a configuration file for the services (to try settings). With `BENCH_KAFKA` and
//! `BENCH_REDIS` only one phase runs, on those servers: Expressway's, or with
//! `BENCH_PHASE=raw` (or `closed`) that one. Usage:
//!   cargo build --release -p expressway-cli && \
//!   cargo run --release -p expressway-benches --bin distributed -- [N]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use expressway_benches::{connect, expressway_bin, hello_machine, Proc};
use expressway_proto::v1 as pb;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message};
use redis::AsyncCommands;

fn producer(bootstrap: &str) -> anyhow::Result<FutureProducer> {
    Ok(ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .create()?)
}

async fn raw_ceiling(bootstrap: &str, redis_url: &str, n: usize) -> anyhow::Result<f64> {
    let topic = "bench-raw";
    let p = producer(bootstrap)?;
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "bench-raw")
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000")
        .create()?;
    let client = redis::Client::open(redis_url)?;
    let conn = redis::aio::ConnectionManager::new(client).await?;
    // Same partition count as Expressway's executions topic; then wait for the group to form.
    let cfg =
        expressway_bus::kafka::KafkaConfig { bootstrap_servers: bootstrap.into(), partitions: 8, ..Default::default() };
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
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
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
    let _: () = conn.clone().del("bench:warm").await.unwrap_or(());
    Ok(n as f64 / secs)
}

/// Produce `n` records from `clients` concurrent callers that each wait for their ack, the
/// way a frontend answers StartExecution only once the record is durable.
async fn closed_loop_produce(bootstrap: &str, n: usize, clients: usize) -> anyhow::Result<f64> {
    closed_loop_produce_to(bootstrap, "bench-closed", n, clients).await
}

async fn closed_loop_produce_to(bootstrap: &str, topic: &'static str, n: usize, clients: usize) -> anyhow::Result<f64> {
    let cfg =
        expressway_bus::kafka::KafkaConfig { bootstrap_servers: bootstrap.into(), partitions: 8, ..Default::default() };
    expressway_bus::kafka::ensure_topics(&cfg, &[topic]).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let p = producer(bootstrap)?;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..clients {
        let p = p.clone();
        tasks.spawn(async move {
            let mut i = c;
            while i < n {
                let key = format!("c-{i}");
                p.send(FutureRecord::to(topic).key(&key).payload("{\"x\":1}"), Duration::from_secs(30))
                    .await
                    .map_err(|(e, _)| anyhow::anyhow!("{e}"))?;
                i += clients;
            }
            Ok::<_, anyhow::Error>(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// The same closed-loop produce while a plain consumer reads the topic as records arrive: the
/// pattern a live system has (consumers keep up with producers), without any Expressway code.
async fn closed_loop_with_live_consumer(bootstrap: &str, n: usize, clients: usize) -> anyhow::Result<f64> {
    let topic = "bench-live";
    let cfg =
        expressway_bus::kafka::KafkaConfig { bootstrap_servers: bootstrap.into(), partitions: 8, ..Default::default() };
    expressway_bus::kafka::ensure_topics(&cfg, &[topic]).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "bench-live")
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()?;
    consumer.subscribe(&[topic])?;
    let reader = tokio::spawn(async move {
        let mut seen = 0usize;
        while seen < n {
            if consumer.recv().await.is_ok() {
                seen += 1;
            }
        }
    });
    tokio::time::sleep(Duration::from_secs(4)).await; // let the group form
    let started = Instant::now();
    closed_loop_produce_to(bootstrap, topic, n, clients).await?;
    reader.await?;
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let mid = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[mid]
    } else {
        (xs[mid - 1] + xs[mid]) / 2.0
    }
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
        .env("EXPRESSWAY_KAFKA__PARTITIONS", "8")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {bin} {kind}"))?;
    Ok(Proc(child))
}

async fn expressway(bootstrap: &str, redis_url: &str, n: usize) -> anyhow::Result<f64> {
    let bin = expressway_bin();
    let port = expressway_testkit::free_port();
    let listen = format!("127.0.0.1:{port}");
    let _frontend = service(&bin, "frontend", bootstrap, redis_url, &["--listen", &listen])?;
    let _worker = service(&bin, "worker", bootstrap, redis_url, &["--concurrency", "512"])?;
    let url = format!("http://{listen}");
    let ch = connect(port).await?;
    let arn = hello_machine(&ch).await?;
    // Warm up: one execution end to end (topics, group formation).
    let mut ex = pb::executions_client::ExecutionsClient::new(ch.clone());
    ex.start_sync_execution(pb::StartExecutionRequest {
        state_machine_arn: arn.clone(),
        input: "{\"name\":\"warm\"}".into(),
        ..Default::default()
    })
    .await?;
    let client = redis::Client::open(redis_url)?;
    let mut conn = redis::aio::ConnectionManager::new(client).await?;

    // Several connections: one HTTP/2 connection carries at most ~200 concurrent calls.
    let mut channels = Vec::new();
    for _ in 0..16 {
        channels.push(tonic::transport::Channel::from_shared(url.clone())?.connect().await?);
    }
    let started = Instant::now();
    let clients = 2048;
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..clients {
        let ch = channels[c % channels.len()].clone();
        let arn = arn.clone();
        tasks.spawn(async move {
            let mut ex = pb::executions_client::ExecutionsClient::new(ch);
            let mut arns = Vec::new();
            let mut i = c;
            while i < n {
                let req = pb::StartExecutionRequest {
                    state_machine_arn: arn.clone(),
                    name: format!("e{i}"),
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
                pipe.exists(format!("xw:out:{arn}"));
            }
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
    println!("expressway: accepted {n} in {accepted:.2}s, all outcomes recorded after {secs:.2}s");
    Ok(n as f64 / secs)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(20_000);
    // Only the end-to-end phase, on servers of your own (to watch the broker while it runs).
    if let (Ok(kafka), Ok(redis)) = (std::env::var("BENCH_KAFKA"), std::env::var("BENCH_REDIS")) {
        match std::env::var("BENCH_PHASE").as_deref() {
            Ok("closed") => {
                let closed = closed_loop_produce(&kafka, n, 2048).await?;
                println!("closed-loop produce (2048 callers, each waiting for its ack): {closed:.0} records/s");
                return Ok(());
            }
            Ok("raw") => {
                let raw = raw_ceiling(&kafka, &redis, n).await?;
                println!("raw ceiling (produce -> consume + SET NX): {raw:.0} records/s over {n} records");
                return Ok(());
            }
            _ => {}
        }
        let e2e = expressway(&kafka, &redis, n).await?;
        println!("expressway end to end (StartExecution -> outcome recorded): {e2e:.0} executions/s over {n}");
        return Ok(());
    }
    // Each measurement gets a fresh broker and Redis: the test broker's sqlite engine slows down
    // as its tables grow, so sharing one would favour whichever phase runs first.
    let fresh = || -> anyhow::Result<(expressway_testkit::kafka::Kafka, expressway_testkit::Server)> {
        Ok((
            expressway_testkit::kafka::Kafka::single().map_err(anyhow::Error::msg)?,
            expressway_testkit::redis().map_err(anyhow::Error::msg)?,
        ))
    };
    // The machine's run-to-run noise is as large as the differences worth seeing: the raw
    // ceiling and Expressway are measured in alternating rounds, and their medians compared.
    let rounds: usize = std::env::var("BENCH_ROUNDS").ok().map(|s| s.parse()).transpose()?.unwrap_or(3).max(1);
    let (mut raws, mut e2es) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        let (kafka, redis) = fresh()?;
        let raw = raw_ceiling(&kafka.bootstrap(), &redis.redis_url(), n).await?;
        println!("round {round}: raw ceiling (produce -> consume + SET NX): {raw:.0} records/s over {n} records");
        drop((kafka, redis));
        if round == 1 {
            let (kafka, redis) = fresh()?;
            let closed = closed_loop_produce(&kafka.bootstrap(), n, 2048).await?;
            println!(
                "round {round}: closed-loop produce (2048 callers, each waiting for its ack): {closed:.0} records/s"
            );
            drop((kafka, redis));
            let (kafka, redis) = fresh()?;
            let live = closed_loop_with_live_consumer(&kafka.bootstrap(), n, 2048).await?;
            println!("round {round}: closed-loop produce with a live consumer reading along (no Expressway code): {live:.0} records/s");
            drop((kafka, redis));
        }
        let (kafka, redis) = fresh()?;
        let e2e = expressway(&kafka.bootstrap(), &redis.redis_url(), n).await?;
        println!(
            "round {round}: expressway end to end (StartExecution -> outcome recorded): {e2e:.0} executions/s over {n}"
        );
        println!("round {round}: ratio {:.1}%", 100.0 * e2e / raw);
        drop((kafka, redis));
        raws.push(raw);
        e2es.push(e2e);
    }
    let (raw, e2e) = (median(&mut raws), median(&mut e2es));
    println!("median of {rounds}: raw ceiling {raw:.0} records/s, expressway {e2e:.0} executions/s");
    println!("ratio: {:.1}% of the raw ceiling", 100.0 * e2e / raw);
    Ok(())
}
