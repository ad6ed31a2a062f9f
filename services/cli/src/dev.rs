//! The embedded all-in-one server (`expressway dev`): the gRPC API, an in-process worker pool,
//! the in-memory bus, stores and results stream, in one process; and on a second port, the
//! process's HTTP surface (the AWS JSON protocol, on 127.0.0.1:8083 as Step Functions Local).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use crate::grpc;
use crate::health::Readiness;
use crate::shutdown::Shutdown;
use expressway_asl::Limits;
use expressway_bus::memory::{bus, LocalReplies, MemoryHub, MemoryStops};
use expressway_frontend::{Frontend, FrontendConfig, ResultsApi};
use expressway_store::arn::Partition;
use expressway_store::memory::{MemoryExecutions, MemoryRegistry};
use expressway_store::starter::Resolver;
use expressway_tasks::{FunctionTarget, Integrations, TasksConfig};
use expressway_worker::{Worker, WorkerConfig};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Settings of the embedded server. Every flag can also be set as an `EXPRESSWAY_…`
/// environment variable; flags win.
#[derive(Debug, Clone, clap::Args)]
pub struct DevArgs {
    /// Address to serve the gRPC API on.
    #[arg(long, env = "EXPRESSWAY_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// Address to serve HTTP on (the AWS JSON protocol for the AWS SDKs and CLI), or `off`.
    #[arg(long, env = "EXPRESSWAY_HTTP_LISTEN", default_value = "127.0.0.1:8083")]
    pub http_listen: crate::http::HttpListen,
    /// Executions run at once by the in-process worker pool.
    #[arg(long, env = "EXPRESSWAY_WORKERS", default_value_t = 256)]
    pub workers: usize,
    /// Executions that may wait in the queue; beyond it StartExecution answers RESOURCE_EXHAUSTED.
    #[arg(long, env = "EXPRESSWAY_QUEUE_CAPACITY", default_value_t = 100_000)]
    pub queue_capacity: usize,
    /// Bytes the queued executions may hold (inputs and names); beyond it StartExecution
    /// answers RESOURCE_EXHAUSTED.
    #[arg(long, env = "EXPRESSWAY_MAX_QUEUE_BYTES", default_value_t = 256 << 20)]
    pub max_queue_bytes: usize,
    /// How long a named StartExecution is deduplicated, in seconds.
    #[arg(long, env = "EXPRESSWAY_DEDUPE_WINDOW_SECONDS", default_value_t = 300)]
    pub dedupe_window_seconds: u64,
    /// How long finished executions stay available to DescribeExecution and history, in seconds.
    #[arg(long, env = "EXPRESSWAY_RETENTION_SECONDS", default_value_t = 3600)]
    pub retention_seconds: u64,
    /// Most executions kept in memory.
    #[arg(long, env = "EXPRESSWAY_MAX_EXECUTIONS", default_value_t = 100_000)]
    pub max_executions: usize,
    /// Bytes the in-memory execution store may hold (inputs, outputs, history); finished
    /// executions go first, and a full store refuses starts with RESOURCE_EXHAUSTED.
    #[arg(long, env = "EXPRESSWAY_MAX_STORE_BYTES", default_value_t = 1 << 30)]
    pub max_store_bytes: usize,
    /// Results kept for subscribers that resume from a position.
    #[arg(long, env = "EXPRESSWAY_RESULTS_RETAINED", default_value_t = 10_000)]
    pub results_retained: usize,
    /// Bytes the retained results may hold; the oldest go first. Live subscribers read from
    /// the same retention, so one that falls further behind is told it fell behind.
    #[arg(long, env = "EXPRESSWAY_MAX_RESULTS_BYTES", default_value_t = 256 << 20)]
    pub max_results_bytes: usize,
    /// Execution time limit in seconds (Express: 300).
    #[arg(long, env = "EXPRESSWAY_EXECUTION_TIMEOUT_SECONDS", default_value_t = 300)]
    pub execution_timeout_seconds: u64,
    /// Region written into ARNs.
    #[arg(long, env = "EXPRESSWAY_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Account id written into ARNs.
    #[arg(long, env = "EXPRESSWAY_ACCOUNT", default_value = "000000000000")]
    pub account: String,
    #[command(flatten)]
    pub tasks: TaskArgs,
    #[command(flatten)]
    pub tls: crate::grpc::TlsSettings,
    /// On shutdown, how long open calls and accepted executions may take to finish; what is
    /// still running or queued then is cut off (and reported).
    #[arg(long, env = "EXPRESSWAY_DRAIN_TIMEOUT_SECONDS", default_value_t = 30)]
    pub drain_timeout_seconds: u64,
    /// A TOML file with `[auth]`-style settings: tokens_file, jwks_file, policies.
    #[arg(long, env = "EXPRESSWAY_AUTH_CONFIG", value_name = "TOML")]
    pub auth_config: Option<std::path::PathBuf>,
}

impl DevArgs {
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.workers > 0, "--workers must be at least 1");
        anyhow::ensure!(self.queue_capacity > 0, "--queue-capacity must be at least 1");
        anyhow::ensure!(self.results_retained > 0, "--results-retained must be at least 1");
        anyhow::ensure!(self.execution_timeout_seconds > 0, "--execution-timeout-seconds must be at least 1");
        anyhow::ensure!(
            self.account.len() == 12 && self.account.chars().all(|c| c.is_ascii_digit()),
            "--account must be 12 digits"
        );
        anyhow::ensure!(!self.region.is_empty() && !self.region.contains(':'), "--region must be a region name");
        Ok(())
    }
}

/// Serve on an already bound listener until `shutdown` resolves; then stop accepting calls,
/// run every execution already accepted to its end, and return.
pub async fn serve(
    args: DevArgs,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    args.validate()?;
    let auth = match &args.auth_config {
        None => Default::default(),
        Some(p) => {
            use figment::providers::{Format, Toml};
            figment::Figment::from(Toml::file(p))
                .extract::<expressway_frontend::auth::AuthConfig>()
                .with_context(|| format!("invalid auth settings in {}", p.display()))?
        }
    };
    let security = crate::grpc::Security::load(&args.tls, &auth)?;
    let partition = Partition { region: args.region.clone(), account: args.account.clone() };
    let registry: Arc<dyn expressway_store::Registry> = Arc::new(MemoryRegistry::new(partition.clone()));
    let executions = Arc::new(
        MemoryExecutions::new(Duration::from_secs(args.retention_seconds), args.max_executions)
            .with_max_bytes(args.max_store_bytes),
    );
    let (bus, source) = bus(args.queue_capacity, args.max_queue_bytes);
    let queue = bus.gauge();
    let hub = Arc::new(MemoryHub::new(args.results_retained, args.max_results_bytes));
    let replies = Arc::new(LocalReplies::default());
    let http_listener = match args.http_listen.0 {
        Some(addr) => Some(crate::http::bind(addr, security.tls.is_some()).await?),
        None => None,
    };
    let shutdown = Shutdown::on(shutdown);

    let mut tasks = args.tasks.load()?;
    if tasks.expressway_endpoint.is_empty() {
        // Nested executions start on this very server.
        tasks.expressway_endpoint = format!("http://{}", listener.local_addr()?);
    }
    let limits =
        Limits { execution_timeout: Some(Duration::from_secs(args.execution_timeout_seconds)), ..Limits::default() };
    // One set of integrations: the worker's, which TestState calls too.
    let integrations = Arc::new(Integrations::new(tasks).map_err(anyhow::Error::msg)?);
    let worker = Arc::new(Worker::new(
        registry.clone(),
        executions.clone(),
        hub.clone(),
        replies.clone(),
        integrations.clone(),
        WorkerConfig { concurrency: args.workers, limits, ..WorkerConfig::default() },
    ));
    // The worker stops when the bus is closed and drained (all frontends gone), never earlier:
    // the in-memory queue is not durable, so accepted executions must run before exit.
    let (_never_tx, never) = watch::channel(false);
    let stops = Arc::new(MemoryStops::default());
    let _following = worker.follow_stops(&*stops);
    let workers = tokio::spawn(worker.clone().run(source, never));

    let frontend = Frontend {
        config: FrontendConfig {
            partition,
            dedupe_window: Duration::from_secs(args.dedupe_window_seconds),
            sync_timeout: Duration::from_secs(args.execution_timeout_seconds),
            ..FrontendConfig::default()
        },
        resolver: Arc::new(Resolver::new(registry.clone(), Duration::ZERO)),
        registry,
        executions: executions.clone(),
        bus: Arc::new(bus),
        hub: hub.clone(),
        replies,
        stops,
        auth: security.auth.clone(),
        tasks: integrations,
    };
    let results =
        ResultsApi { hub, executions, stream_buffer: 64, shutdown: shutdown.flag(), auth: security.auth.clone() };

    let mode = "embedded mode: in-memory bus and stores";
    let drain = Duration::from_secs(args.drain_timeout_seconds);
    let readiness = Readiness::default();
    let http = http_listener.map(|l| {
        let router = crate::http::api(frontend.clone(), readiness.clone(), shutdown.flag());
        if let Ok(addr) = l.local_addr() {
            tracing::info!("the console: http://{addr}/console/");
        }
        tokio::spawn(crate::http::serve(router, l, shutdown.clone(), Duration::ZERO, drain))
    });
    let begun = shutdown.clone();
    // One process on a developer's machine: nothing routes around it, so no grace.
    let lifecycle = grpc::Lifecycle { readiness, grace: Duration::ZERO, drain };
    grpc::serve(Some(frontend), results, listener, mode, security, lifecycle, async move { begun.begun().await })
        .await?;
    if let Some(http) = http {
        http.await.context("the HTTP server failed")??;
    }
    tracing::info!("gRPC server stopped; finishing accepted executions");
    let left = shutdown.left_of(drain);
    match tokio::time::timeout(left, workers).await {
        Ok(done) => {
            done.context("the worker pool failed")?;
            tracing::info!("all accepted executions finished");
        }
        Err(_) => {
            // In memory, nothing survives the process: say exactly what is cut off.
            let running = worker.running();
            tracing::error!(
                running = running.len(),
                queued = queue.queued(),
                executions = ?running.iter().take(50).collect::<Vec<_>>(),
                "drain deadline passed: these accepted executions are cut off without an outcome"
            );
        }
    }
    Ok(())
}

/// Task integration flags shared by `run` and `dev`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TaskArgs {
    /// A Lambda-compatible function: NAME=URL (repeatable). The name or its ARN can be used as
    /// a Task's FunctionName or Resource.
    #[arg(long = "function", value_name = "NAME=URL")]
    pub functions: Vec<String>,
    /// A host HTTP tasks may call (repeatable; `*.example.com` or `*`).
    #[arg(long = "http-allow", value_name = "HOST")]
    pub http_allow: Vec<String>,
    /// Let allowed names resolve to loopback and private addresses (`localhost`, 10.x…).
    #[arg(long)]
    pub http_allow_private_networks: bool,
    /// A TOML file with task integration settings (functions, connections, allowlist).
    #[arg(long, env = "EXPRESSWAY_TASKS_CONFIG")]
    pub tasks_config: Option<std::path::PathBuf>,
}

impl TaskArgs {
    /// Task integration settings from `--tasks-config`, `--function` and `--http-allow`.
    pub fn load(&self) -> anyhow::Result<TasksConfig> {
        use figment::providers::{Format, Toml};
        let mut cfg = match &self.tasks_config {
            Some(p) => figment::Figment::from(Toml::file(p))
                .extract::<TasksConfig>()
                .with_context(|| format!("invalid task settings in {}", p.display()))?,
            None => TasksConfig::default(),
        };
        for f in &self.functions {
            let (name, url) = f.split_once('=').context("--function takes NAME=URL")?;
            anyhow::ensure!(
                url.starts_with("http://") || url.starts_with("https://"),
                "--function {name}: the URL must be http(s)"
            );
            cfg.functions.insert(name.to_string(), FunctionTarget { url: url.to_string() });
        }
        cfg.http_allowlist.extend(self.http_allow.iter().cloned());
        cfg.http_allow_private_networks |= self.http_allow_private_networks;
        Ok(cfg)
    }
}
