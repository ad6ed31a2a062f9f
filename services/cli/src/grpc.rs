//! Serving the API: the Expressway services a process offers, plus health checking and
//! reflection, over TLS (and mutual TLS) when configured, with every API call authenticated
//! when [`expressway_frontend::auth`] is on (health and reflection stay open, as load
//! balancers and tools expect).

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use expressway_frontend::auth::{Auth, AuthConfig};
use expressway_frontend::{Frontend, ResultsApi};
use expressway_proto::v1::{
    executions_server::ExecutionsServer, results_server::ResultsServer, state_machines_server::StateMachinesServer,
};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tonic_health::ServingStatus;

use crate::health::Readiness;

/// TLS for the gRPC listener (`[tls]`, `--tls-cert`, `--tls-key`, `--client-ca`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, clap::Args)]
#[serde(default, deny_unknown_fields)]
pub struct TlsSettings {
    /// The server's certificate chain (PEM); with `key_file`, the listener speaks TLS only.
    #[arg(long = "tls-cert", value_name = "PEM")]
    pub cert_file: Option<PathBuf>,
    /// The server's private key (PEM).
    #[arg(long = "tls-key", value_name = "PEM")]
    pub key_file: Option<PathBuf>,
    /// Require client certificates signed by this CA (PEM): mutual TLS.
    #[arg(long = "client-ca", value_name = "PEM")]
    pub client_ca_file: Option<PathBuf>,
}

/// How a listener is protected: TLS, and who may call.
#[derive(Clone, Default)]
pub struct Security {
    pub tls: Option<tonic::transport::ServerTlsConfig>,
    pub auth: Option<Arc<Auth>>,
}

impl Security {
    /// Read and check the files now, so a bad one stops start-up with its name.
    pub fn load(tls: &TlsSettings, auth: &AuthConfig) -> anyhow::Result<Security> {
        use tonic::transport::{Certificate, Identity, ServerTlsConfig};
        let read = |p: &PathBuf| std::fs::read(p).with_context(|| format!("cannot read {}", p.display()));
        let tls = match (&tls.cert_file, &tls.key_file) {
            (None, None) => {
                anyhow::ensure!(tls.client_ca_file.is_none(), "--client-ca needs --tls-cert and --tls-key");
                None
            }
            (Some(cert), Some(key)) => {
                let mut config = ServerTlsConfig::new().identity(Identity::from_pem(read(cert)?, read(key)?));
                if let Some(ca) = &tls.client_ca_file {
                    config = config.client_ca_root(Certificate::from_pem(read(ca)?));
                }
                Some(config)
            }
            _ => anyhow::bail!("tls: a certificate needs its key (--tls-cert with --tls-key)"),
        };
        let auth = Auth::from_config(auth).context("invalid auth settings")?;
        Ok(Security { tls, auth })
    }
}

/// How a server ends: it says so first (health NOT_SERVING) and keeps taking calls for
/// `grace`, so that load balancers stop sending it any, then drains in-flight calls for at most
/// `drain`: a connection that stays open past it (an idle client that never sends anything, a
/// call that does not end) does not hold the process.
pub struct Lifecycle {
    pub readiness: Readiness,
    pub grace: std::time::Duration,
    pub drain: std::time::Duration,
}

/// Serve `results` and, when given, `frontend` on `listener` until `shutdown` resolves, then
/// end as `lifecycle` says.
pub async fn serve(
    frontend: Option<Frontend>,
    results: ResultsApi,
    listener: TcpListener,
    mode: &str,
    security: Security,
    lifecycle: Lifecycle,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let Lifecycle { readiness, grace, drain } = lifecycle;
    use tonic::server::NamedService;
    let (health_reporter, health) = tonic_health::server::health_reporter();
    // The health service says what `readiness` says, for the whole server ("") and each service.
    let mut services = vec!["", <ResultsServer<ResultsApi> as NamedService>::NAME];
    if frontend.is_some() {
        services.push(<StateMachinesServer<Frontend> as NamedService>::NAME);
        services.push(<ExecutionsServer<Frontend> as NamedService>::NAME);
    }
    let report = {
        let (reporter, services) = (health_reporter.clone(), services.clone());
        move |serving: bool| {
            let (reporter, services) = (reporter.clone(), services.clone());
            async move {
                let status = if serving { ServingStatus::Serving } else { ServingStatus::NotServing };
                for s in services {
                    reporter.set_service_status(s, status).await;
                }
            }
        }
    };
    report(readiness.state().not_ready().is_none()).await;
    let mut changes = readiness.subscribe();
    let follow = report.clone();
    let following = tokio::spawn(async move {
        while changes.changed().await.is_ok() {
            let serving = changes.borrow_and_update().not_ready().is_none();
            follow(serving).await;
        }
    });
    // Reflection in both versions: v1, and v1alpha for the tools that only speak it
    // (grpcurl before 1.9, Postman, evans).
    let reflection_builder = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(expressway_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection = reflection_builder().build_v1().context("building the reflection service")?;
    let reflection_v1alpha =
        reflection_builder().build_v1alpha().context("building the reflection service (v1alpha)")?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, mode, tls = security.tls.is_some(), auth = security.auth.is_some(), "expressway is serving gRPC");
    // Answers go out at once: with Nagle's algorithm a reply written in pieces waits for the
    // caller's delayed ACK (~40 ms). Server::tcp_nodelay does not apply to our own listener.
    let incoming = tokio_stream::StreamExt::map(tokio_stream::wrappers::TcpListenerStream::new(listener), |s| {
        s.inspect(|s| {
            let _ = s.set_nodelay(true);
        })
    });
    // One span per call (exported when traces are on), a child of the caller's `traceparent`.
    let mut builder = tonic::transport::Server::builder().trace_fn(|req| {
        let span = tracing::trace_span!(
            target: expressway_telemetry::EXECUTION_TARGET,
            "grpc",
            rpc.method = %req.uri().path(),
        );
        if let Some(parent) =
            req.headers().get(expressway_telemetry::propagation::TRACEPARENT).and_then(|v| v.to_str().ok())
        {
            expressway_telemetry::propagation::set_parent(&span, parent);
        }
        span
    });
    if let Some(tls) = security.tls {
        builder = builder.tls_config(tls).context("the TLS settings")?;
    }
    let check = || Auth::interceptor(security.auth.clone());
    let (draining_tx, draining_rx) = tokio::sync::oneshot::channel::<()>();
    let server = builder
        .add_service(health)
        .add_service(reflection)
        .add_service(reflection_v1alpha)
        .add_optional_service(frontend.clone().map(|f| StateMachinesServer::with_interceptor(f, check())))
        .add_optional_service(frontend.map(|f| ExecutionsServer::with_interceptor(f, check())))
        .add_service(ResultsServer::with_interceptor(results, check()))
        .serve_with_incoming_shutdown(incoming, async move {
            shutdown.await;
            readiness.draining();
            report(false).await;
            if !grace.is_zero() {
                tracing::info!(grace_ms = grace.as_millis() as u64, "shutting down: health says NOT_SERVING");
                tokio::time::sleep(grace).await;
            }
            tracing::info!(drain_ms = drain.as_millis() as u64, "shutting down: no new calls");
            let _ = draining_tx.send(());
        });
    let _following = AbortOnDrop(following);
    tokio::select! {
        served = server => served.context("serving the gRPC API"),
        _ = async {
            if draining_rx.await.is_err() {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(drain).await;
        } => {
            tracing::warn!("drain deadline passed: the connections still open are closed");
            Ok(())
        }
    }
}

/// Ends a background task when the serving function returns.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
