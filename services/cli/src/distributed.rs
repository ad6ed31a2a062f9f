//! The distributed services: `expressway frontend` (the gRPC API on Kafka and Redis),
//! `expressway worker` (a member of the workers' consumer group) and `expressway results`
//! (moves outcomes and events into the retained results stream, serves subscribers). Any
//! number of each can run.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use expressway_asl::Limits;
use expressway_bus::kafka::{ensure_topics, KafkaBus, KafkaHub, KafkaProbe, KafkaSource};
use expressway_bus::redis::{RedisReplies, RedisResults, RedisResultsConfig, RedisStops};
use expressway_bus::retry::Backoff;
use expressway_frontend::{Frontend, FrontendConfig, ResultsApi};
use expressway_store::arn::Partition;
use expressway_store::redis::{connect, ping, Conn, RedisConfig, RedisExecutions, RedisRegistry};
use expressway_store::starter::{Resolver, StartPolicy};
use expressway_store::Registry;
use expressway_tasks::Integrations;
use expressway_worker::{StoreStarter, Worker, WorkerConfig};
use tokio::sync::watch;

use crate::config::Config;
use crate::grpc;
use crate::health::Readiness;
use crate::shutdown::Shutdown;

fn partition(cfg: &Config) -> Partition {
    Partition { region: cfg.region.clone(), account: cfg.account.clone() }
}

fn redis_config(cfg: &Config) -> RedisConfig {
    RedisConfig {
        url: cfg.redis.server_url().to_string(),
        cluster_urls: cfg.redis.cluster_urls.clone(),
        prefix: cfg.redis.prefix.clone(),
        retention: Duration::from_secs(cfg.redis.retention_seconds),
        response_timeout: Duration::from_millis(cfg.redis.response_timeout_ms),
        username: cfg.redis.username.clone(),
        password: cfg.redis.password.clone(),
        tls_ca_file: cfg.redis.tls_ca_file.clone(),
        tls_cert_file: cfg.redis.tls_cert_file.clone(),
        tls_key_file: cfg.redis.tls_key_file.clone(),
        wait_replicas: cfg.redis.wait_replicas,
        wait_timeout: Duration::from_millis(cfg.redis.wait_timeout_ms),
    }
}

/// Whether an error at start-up may pass by itself (a service still coming up) or not (bad
/// credentials): only the first kind is retried.
trait Transient {
    fn transient(&self) -> bool;
}

impl Transient for expressway_bus::BusError {
    fn transient(&self) -> bool {
        self.is_retryable()
    }
}

impl Transient for expressway_store::StoreError {
    fn transient(&self) -> bool {
        self.is_retryable()
    }
}

/// Retry a start-up step while a backing service comes up, then give up with its error.
async fn with_retries<T, E: std::fmt::Display + Transient, F: Future<Output = Result<T, E>>>(
    what: &str,
    mut f: impl FnMut() -> F,
) -> anyhow::Result<T> {
    let mut backoff = Backoff::starting_at(Duration::from_millis(200));
    for attempt in 1..=10 {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if attempt < 10 && e.transient() => {
                tracing::warn!(attempt, error = %e, "{what} failed; retrying");
                backoff.wait().await;
            }
            Err(e) => anyhow::bail!("{what} failed: {e}"),
        }
    }
    unreachable!("the loop returns on its last attempt")
}

async fn topics(cfg: &Config) -> anyhow::Result<()> {
    let mut names = vec![
        cfg.kafka.executions_topic.as_str(),
        cfg.kafka.results_topic.as_str(),
        cfg.kafka.dead_letter_topic.as_str(),
    ];
    names.extend(cfg.triggers.iter().map(|t| t.topic.as_str()));
    with_retries("creating Kafka topics", || ensure_topics(&cfg.kafka, &names)).await
}

fn results_config(cfg: &Config) -> RedisResultsConfig {
    let redis = redis_config(cfg);
    let shards = cfg.results.shards(redis.is_cluster());
    RedisResultsConfig { shards, ..RedisResultsConfig::new(redis, cfg.results.subscriber_buffer) }
}

/// The Results API over the Redis results stream.
async fn results_api(
    cfg: &Config,
    executions: Arc<RedisExecutions>,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<ResultsApi> {
    let rc = results_config(cfg);
    let stream = with_retries("following the results stream", || RedisResults::connect(&rc)).await?;
    let auth = expressway_frontend::auth::Auth::from_config(&cfg.auth).context("invalid auth settings")?;
    Ok(ResultsApi { hub: Arc::new(stream), executions, stream_buffer: cfg.results.stream_buffer, shutdown, auth })
}

/// How long a distributed server says NOT_SERVING before it stops taking calls: long enough
/// for a load balancer's health checks to notice.
const HEALTH_GRACE: Duration = Duration::from_secs(2);

/// How often a serving process checks that Kafka and Redis answer.
const PROBE_EVERY: Duration = Duration::from_secs(2);

/// Readiness that follows Kafka and Redis: probed every [`PROBE_EVERY`] until the drain.
fn probes(cfg: &Config, redis: &Conn) -> anyhow::Result<Readiness> {
    let readiness = Readiness::default();
    let kafka = Arc::new(KafkaProbe::new(&cfg.kafka).context("creating the Kafka probe")?);
    readiness.probe("kafka", PROBE_EVERY, move || {
        let kafka = kafka.clone();
        async move { kafka.check(PROBE_EVERY).await }
    });
    let redis = redis.clone();
    readiness.probe("redis", PROBE_EVERY, move || {
        let redis = redis.clone();
        async move { ping(&redis, PROBE_EVERY).await }
    });
    Ok(readiness)
}

/// Run a frontend until `shutdown` resolves.
pub async fn run_frontend(cfg: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let security = grpc::Security::load(&cfg.tls, &cfg.auth)?;
    let redis_cfg = redis_config(&cfg);
    let conn = with_retries("connecting to Redis", || connect(&redis_cfg)).await?;
    topics(&cfg).await?;
    let bus = Arc::new(KafkaBus::new(&cfg.kafka).context("creating the Kafka producer")?);
    let hub = Arc::new(KafkaHub::new(&cfg.kafka).context("creating the results producer")?);
    let listener =
        tokio::net::TcpListener::bind(cfg.listen).await.with_context(|| format!("cannot listen on {}", cfg.listen))?;
    let http_listener = match cfg.http_listen {
        Some(addr) => Some(crate::http::bind(addr, security.tls.is_some()).await?),
        None => None,
    };
    let shutdown = Shutdown::on(shutdown);
    let executions = Arc::new(RedisExecutions::new(conn.clone(), &redis_cfg));
    let conn_probe = conn.clone();
    let registry: Arc<dyn Registry> = Arc::new(RedisRegistry::new(conn, &redis_cfg, partition(&cfg)));
    let replies = with_retries("listening for replies", || RedisReplies::start(&redis_cfg)).await?;
    let results = results_api(&cfg, executions.clone(), shutdown.flag()).await?;
    let frontend = Frontend {
        config: FrontendConfig {
            partition: partition(&cfg),
            dedupe_window: Duration::from_secs(cfg.starts.dedupe_window_seconds),
            max_input_bytes: cfg.starts.max_input_bytes,
            sync_timeout: Duration::from_secs(cfg.frontend.sync_timeout_seconds),
            max_nesting_depth: cfg.frontend.max_nesting_depth,
        },
        registry: registry.clone(),
        resolver: Arc::new(Resolver::new(registry, Duration::from_millis(cfg.starts.registry_cache_ms))),
        executions,
        bus: bus.clone(),
        hub: hub.clone(),
        replies: Arc::new(replies),
        stops: Arc::new(with_retries("connecting the stop sender", || RedisStops::sender(&redis_cfg)).await?),
        auth: security.auth.clone(),
        // TestState calls the integrations configured for the workers.
        tasks: Arc::new(Integrations::new(cfg.tasks.clone()).map_err(anyhow::Error::msg)?),
    };
    let drain = Duration::from_secs(cfg.drain_timeout_seconds);
    let readiness = probes(&cfg, &conn_probe)?;
    let http = http_listener.map(|l| {
        let router = crate::http::api(frontend.clone(), readiness.clone(), shutdown.flag());
        if let Ok(addr) = l.local_addr() {
            tracing::info!("the console: http://{addr}/console/");
        }
        tokio::spawn(crate::http::serve(router, l, shutdown.clone(), HEALTH_GRACE, drain))
    });
    let lifecycle = grpc::Lifecycle { readiness, grace: HEALTH_GRACE, drain };
    grpc::serve(Some(frontend), results, listener, "distributed frontend", security, lifecycle, async move {
        shutdown.begun().await
    })
    .await?;
    if let Some(http) = http {
        http.await.context("the HTTP server failed")??;
    }
    bus.flush(Duration::from_secs(10));
    hub.flush(Duration::from_secs(10));
    Ok(())
}

/// Run a worker until `shutdown` resolves; then finish in-flight executions, commit, leave.
pub async fn run_worker(cfg: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let http_listener = match cfg.http_listen {
        Some(addr) => Some(crate::http::bind(addr, false).await?),
        None => None,
    };
    let redis_cfg = redis_config(&cfg);
    let conn = with_retries("connecting to Redis", || connect(&redis_cfg)).await?;
    let readiness = probes(&cfg, &conn)?;
    topics(&cfg).await?;
    let registry = Arc::new(RedisRegistry::new(conn.clone(), &redis_cfg, partition(&cfg)));
    let executions = Arc::new(RedisExecutions::new(conn, &redis_cfg));
    let hub = Arc::new(KafkaHub::new(&cfg.kafka).context("creating the results producer")?);
    let starter = Arc::new(StoreStarter {
        resolver: Resolver::new(registry.clone(), Duration::from_millis(cfg.starts.registry_cache_ms)),
        executions: executions.clone(),
        policy: StartPolicy {
            partition: partition(&cfg),
            dedupe_window: Duration::from_secs(cfg.starts.dedupe_window_seconds),
            max_input_bytes: cfg.starts.max_input_bytes,
        },
    });
    let source = KafkaSource::new(&cfg.kafka, &cfg.triggers, starter).context("creating the Kafka consumer")?;
    let limits = Limits {
        execution_timeout: Some(Duration::from_secs(cfg.worker.execution_timeout_seconds)),
        ..Limits::default()
    };
    let replies = with_retries("connecting the reply sender", || RedisReplies::sender(&redis_cfg)).await?;
    let worker = Arc::new(Worker::new(
        registry,
        executions,
        hub.clone(),
        Arc::new(replies),
        Arc::new(Integrations::new(cfg.tasks.clone()).map_err(anyhow::Error::msg)?),
        WorkerConfig {
            concurrency: cfg.worker.concurrency,
            limits,
            lease: Duration::from_secs(cfg.worker.lease_seconds),
            max_attempts: cfg.worker.max_attempts,
            drain_timeout: Duration::from_secs(cfg.drain_timeout_seconds),
            ..WorkerConfig::default()
        },
    ));
    let stops = with_retries("listening for stopped executions", || RedisStops::start(&redis_cfg)).await?;
    let _following = worker.follow_stops(&stops);
    let draining = readiness.clone();
    let shutdown = Shutdown::on(async move {
        shutdown.await;
        draining.draining();
        tracing::info!("shutting down: no new executions; finishing those in flight");
    });
    // The HTTP listener outlives the drain: while the worker finishes what it runs, `/readyz`
    // says it drains and `/metrics` can still be scraped. It closes once the worker is done.
    let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
    let http_stop = Shutdown::on(async move {
        let _ = stopped_rx.await;
    });
    let http = http_listener.map(|l| {
        let stop = http_stop.clone();
        tokio::spawn(crate::http::serve(crate::http::ops(readiness), l, stop, Duration::ZERO, Duration::from_secs(1)))
    });
    tracing::info!(group = %cfg.kafka.group_id, topic = %cfg.kafka.executions_topic, "worker started");
    let source = worker.run(source, shutdown.flag()).await;
    source.close();
    hub.flush(Duration::from_secs(10));
    let _ = stopped_tx.send(());
    if let Some(http) = http {
        http.await.context("the HTTP server failed")??;
    }
    tracing::info!("worker stopped");
    Ok(())
}

/// Run a results service until `shutdown` resolves: ingest the results topic into Redis and
/// serve the Results API.
pub async fn run_results(cfg: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let security = grpc::Security::load(&cfg.tls, &cfg.auth)?;
    let http_listener = match cfg.http_listen {
        Some(addr) => Some(crate::http::bind(addr, security.tls.is_some()).await?),
        None => None,
    };
    let redis_cfg = redis_config(&cfg);
    let conn = with_retries("connecting to Redis", || connect(&redis_cfg)).await?;
    topics(&cfg).await?;
    let conn_probe = conn.clone();
    let rc = results_config(&cfg);
    let stream = Arc::new(with_retries("following the results stream", || RedisResults::connect(&rc)).await?);
    let ingest = expressway_results::Ingest::new(
        &cfg.kafka,
        &expressway_results::IngestConfig { group_id: cfg.results.group_id.clone(), ..Default::default() },
        stream.clone(),
    )
    .context("creating the results consumer")?;
    let listener =
        tokio::net::TcpListener::bind(cfg.listen).await.with_context(|| format!("cannot listen on {}", cfg.listen))?;
    let shutdown = Shutdown::on(shutdown);
    let ingesting = tokio::spawn(ingest.run(shutdown.flag()));
    let executions = Arc::new(RedisExecutions::new(conn.clone(), &redis_cfg));
    // The console's live executions pages read the same stream and stores.
    let live = expressway_console::server::Live {
        hub: stream.clone(),
        executions: executions.clone(),
        registry: Arc::new(RedisRegistry::new(conn, &redis_cfg, partition(&cfg))),
        auth: security.auth.clone(),
    };
    let results = ResultsApi {
        hub: stream,
        executions,
        stream_buffer: cfg.results.stream_buffer,
        shutdown: shutdown.flag(),
        auth: security.auth.clone(),
    };
    tracing::info!(topic = %cfg.kafka.results_topic, group = %cfg.results.group_id, "results service started");
    let drain = Duration::from_secs(cfg.drain_timeout_seconds);
    let readiness = probes(&cfg, &conn_probe)?;
    let http = http_listener.map(|l| {
        let router = crate::http::live(live, readiness.clone(), shutdown.flag());
        if let Ok(addr) = l.local_addr() {
            tracing::info!("the console (live executions): http://{addr}/console/");
        }
        tokio::spawn(crate::http::serve(router, l, shutdown.clone(), HEALTH_GRACE, drain))
    });
    let lifecycle = grpc::Lifecycle { readiness, grace: HEALTH_GRACE, drain };
    let begun = shutdown.clone();
    grpc::serve(None, results, listener, "results service", security, lifecycle, async move { begun.begun().await })
        .await?;
    if let Some(http) = http {
        http.await.context("the HTTP server failed")??;
    }
    ingesting.await.context("the results consumer failed")?;
    tracing::info!("results service stopped");
    Ok(())
}
