//! StartSyncExecution latency of `hello`, beside the raw floor measured in the same run.
//!
//! - Embedded (`expressway dev`): the floor is a tonic unary echo (the gRPC health check) on
//!   the same server, over the same connection.
//! - Distributed (`expressway frontend` + `expressway worker` on a real Apache Kafka broker
//!   and Redis): the floor is that echo plus a Kafka produce -> consume round trip, with the
//!   producer and consumer settings Expressway itself uses, on the same broker.
//!
//! Calls are made one at a time (a caller waiting for each answer). Prints p50/p99 of each and
//! the ratio of the p99s. Usage:
//!   cargo build --release -p expressway-cli && \
//!   cargo run --release -p expressway-benches --bin latency -- [calls]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use expressway_benches::{connect, expressway_bin, hello_machine, Proc};
use expressway_bus::kafka::KafkaConfig;
use expressway_proto::v1 as pb;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::Message;
use tonic::transport::Channel;

fn spawn(args: &[&str]) -> anyhow::Result<Proc> {
    let bin = expressway_bin();
    let child = Command::new(&bin)
        .args(args)
        .env("EXPRESSWAY_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {bin}"))?;
    Ok(Proc(child))
}

struct Stats {
    p50: Duration,
    p99: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Stats { p50: at(0.50), p99: at(0.99) }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

async fn echo(ch: &Channel) -> anyhow::Result<()> {
    let mut health = tonic_health::pb::health_client::HealthClient::new(ch.clone());
    health.check(tonic_health::pb::HealthCheckRequest { service: String::new() }).await?;
    Ok(())
}

async fn sync_hello(ch: &Channel, arn: &str) -> anyhow::Result<()> {
    let mut ex = pb::executions_client::ExecutionsClient::new(ch.clone());
    let r = ex
        .start_sync_execution(pb::StartExecutionRequest {
            state_machine_arn: arn.into(),
            input: "{\"name\":\"world\"}".into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    if r.status != pb::ExecutionStatus::Succeeded as i32 {
        bail!("hello did not succeed: {r:?}");
    }
    Ok(())
}

async fn async_hello(ch: &Channel, arn: &str) -> anyhow::Result<()> {
    let mut ex = pb::executions_client::ExecutionsClient::new(ch.clone());
    ex.start_execution(pb::StartExecutionRequest {
        state_machine_arn: arn.into(),
        input: "{\"name\":\"world\"}".into(),
        ..Default::default()
    })
    .await?;
    Ok(())
}

/// Time `n` sequential calls of `f` after `n / 10` warm-up calls.
async fn measure<F, Fut>(n: usize, mut f: F) -> anyhow::Result<Stats>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    for _ in 0..(n / 10).max(10) {
        f().await?;
    }
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f().await?;
        samples.push(t.elapsed());
    }
    Ok(stats(samples))
}

fn report(name: &str, floor_name: &str, run: &Stats, floor: &Stats) {
    println!("{name}: StartSyncExecution(hello) p50 {} p99 {}", ms(run.p50), ms(run.p99));
    println!("{name}: floor ({floor_name}) p50 {} p99 {}", ms(floor.p50), ms(floor.p99));
    println!(
        "{name}: p99 ratio {:.2}x the floor (target <= 1.5x), p50 ratio {:.2}x",
        run.p99.as_secs_f64() / floor.p99.as_secs_f64(),
        run.p50.as_secs_f64() / floor.p50.as_secs_f64()
    );
}

async fn embedded(n: usize) -> anyhow::Result<()> {
    let port = expressway_testkit::free_port();
    let _server = spawn(&["dev", "--listen", &format!("127.0.0.1:{port}"), "--http-listen", "off"])?;
    let ch = connect(port).await?;
    let arn = hello_machine(&ch).await?;
    let floor = measure(n, || echo(&ch)).await?;
    let run = measure(n, || sync_hello(&ch, &arn)).await?;
    let start = measure(n, || async_hello(&ch, &arn)).await?;
    report("embedded", "tonic unary echo", &run, &floor);
    println!("embedded: StartExecution(hello), for reference, p50 {} p99 {}", ms(start.p50), ms(start.p99));
    Ok(())
}

async fn distributed(n: usize) -> anyhow::Result<()> {
    let kafka = expressway_testkit::kafka::Kafka::single().map_err(anyhow::Error::msg)?;
    let redis = expressway_testkit::redis().map_err(anyhow::Error::msg)?;
    let (bootstrap, redis_url) = (kafka.bootstrap(), redis.redis_url());
    let port = expressway_testkit::free_port();
    let common = ["--kafka-bootstrap-servers", bootstrap.as_str(), "--redis-url", redis_url.as_str()];
    let listen = format!("127.0.0.1:{port}");
    let mut fargs = vec!["frontend", "--listen", listen.as_str()];
    fargs.extend(common);
    let mut wargs = vec!["worker"];
    wargs.extend(common);
    let _frontend = spawn(&fargs)?;
    let _worker = spawn(&wargs)?;
    let ch = connect(port).await?;
    let arn = hello_machine(&ch).await?;
    sync_hello(&ch, &arn).await?; // the group has formed once this returns

    // The floor: an echo, then one record produced and consumed, with Expressway's settings.
    let cfg =
        KafkaConfig { bootstrap_servers: bootstrap.clone(), group_id: "latency-floor".into(), ..Default::default() };
    let topic = "latency-floor";
    expressway_bus::kafka::ensure_topics(&cfg, &[topic]).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let producer: FutureProducer = cfg.producer_config().create()?;
    let consumer: StreamConsumer = cfg.consumer_config().create()?;
    consumer.subscribe(&[topic])?;
    producer
        .send(FutureRecord::to(topic).key("warm").payload("{}"), Duration::from_secs(30))
        .await
        .map_err(|(e, _)| anyhow::anyhow!("{e}"))?;
    consumer.recv().await?;
    let mut seq = 0u64;
    let floor = measure(n, || {
        seq += 1;
        let key = seq.to_string();
        let (ch, producer, consumer) = (&ch, &producer, &consumer);
        async move {
            echo(ch).await?;
            producer
                .send(FutureRecord::to(topic).key(&key).payload("{\"name\":\"world\"}"), Duration::from_secs(30))
                .await
                .map_err(|(e, _)| anyhow::anyhow!("{e}"))?;
            loop {
                let m = consumer.recv().await?;
                if m.key() == Some(key.as_bytes()) {
                    return Ok(());
                }
            }
        }
    })
    .await?;
    let run = measure(n, || sync_hello(&ch, &arn)).await?;
    report("distributed", "echo + Kafka produce -> consume", &run, &floor);
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args().nth(1).map(|s| s.parse()).transpose()?.unwrap_or(2000);
    embedded(n).await?;
    if std::env::var_os("LATENCY_EMBEDDED_ONLY").is_none() {
        distributed(n).await?;
    }
    Ok(())
}
