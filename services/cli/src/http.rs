//! The process's HTTP listener (`--http-listen`, `http_listen`): every process serves its
//! operations endpoints ([`ops`]: `/metrics`, `/healthz`, `/readyz`), and a frontend the frontend
//! crate's router besides ([`expressway_frontend::http::router`], the AWS JSON protocol) and the
//! console ([`expressway_console::router`], at `/console/`), a results service the console's
//! live executions pages ([`expressway_console::live_router`]), on
//! the process's runtime. It drains with the process's [`Shutdown`]: after the grace in which
//! `/readyz` says no, no new connections; open calls finish within the drain deadline, then
//! what is still open is closed.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use axum::serve::ListenerExt as _;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::health::Readiness;
use crate::shutdown::Shutdown;

/// The operations endpoints: `/metrics` (the process's metrics, Prometheus text format),
/// `/healthz` (the process is alive) and `/readyz` (ready for traffic: not draining, Kafka and
/// Redis answering; 503 with the reason otherwise).
pub fn ops(readiness: Readiness) -> axum::Router {
    use axum::http::{header, StatusCode};
    use axum::routing::get;
    axum::Router::new()
        .route(
            "/metrics",
            get(|| async {
                ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], expressway_telemetry::metrics::render())
            }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || {
                let readiness = readiness.clone();
                async move {
                    match readiness.state().not_ready() {
                        None => (StatusCode::OK, "ready\n".to_string()),
                        Some(why) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {why}\n")),
                    }
                }
            }),
        )
}

/// The router of a process that serves the API: the AWS JSON protocol, the console at
/// `/console/` (a browser's `GET /` is sent there) and the operations endpoints.
pub fn api(
    frontend: expressway_frontend::Frontend,
    readiness: Readiness,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> axum::Router {
    expressway_frontend::http::router(frontend.clone())
        .merge(expressway_console::router(frontend, shutdown))
        .merge(ops(readiness))
        .layer(axum::middleware::from_fn(expressway_console::redirect_browsers))
}

/// The router of a results service: the console's live executions pages (it has the results
/// stream, not the management operations) and the operations endpoints.
pub fn live(
    live: expressway_console::server::Live,
    readiness: Readiness,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> axum::Router {
    expressway_console::live_router(live, shutdown)
        .merge(ops(readiness))
        .layer(axum::middleware::from_fn(expressway_console::redirect_browsers))
}

/// An HTTP listen address, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HttpListen(pub Option<SocketAddr>);

impl FromStr for HttpListen {
    type Err = String;
    fn from_str(s: &str) -> Result<HttpListen, String> {
        match s.trim() {
            "" | "off" | "none" => Ok(HttpListen(None)),
            a => a
                .parse()
                .map(|a| HttpListen(Some(a)))
                .map_err(|e| format!("'{a}' is not an address (host:port) or off: {e}")),
        }
    }
}

impl TryFrom<String> for HttpListen {
    type Error = String;
    fn try_from(s: String) -> Result<HttpListen, String> {
        s.parse()
    }
}

impl From<HttpListen> for String {
    fn from(h: HttpListen) -> String {
        h.to_string()
    }
}

impl fmt::Display for HttpListen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(a) => write!(f, "{a}"),
            None => f.write_str("off"),
        }
    }
}

/// Bind `addr`, saying which setting names it when that fails. The listener speaks plain
/// HTTP: with TLS on the gRPC listener (`grpc_tls`), one open beyond loopback is said loudly.
pub async fn bind(addr: SocketAddr, grpc_tls: bool) -> anyhow::Result<TcpListener> {
    if grpc_tls && !addr.ip().is_loopback() {
        tracing::warn!(%addr, "the HTTP listener is plain HTTP while gRPC uses TLS: keep it on loopback or behind a proxy that terminates TLS");
    }
    TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr} (--http-listen; `off` disables it)"))
}

/// Serve `router` on `listener` until `grace` after `shutdown` begins, then drain for at most
/// `drain` (counted from the signal).
pub async fn serve(
    router: axum::Router,
    listener: TcpListener,
    shutdown: Shutdown,
    grace: Duration,
    drain: Duration,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "expressway is serving HTTP");
    // Answers go out at once, as on the gRPC listener.
    let listener = listener.tap_io(|s| {
        let _ = s.set_nodelay(true);
    });
    let begun = shutdown.clone();
    let server = axum::serve(listener, router).with_graceful_shutdown(async move {
        begun.begun().await;
        tokio::time::sleep(grace).await;
    });
    tokio::select! {
        served = server => served.context("serving HTTP"),
        _ = async {
            shutdown.begun().await;
            tokio::time::sleep(shutdown.left_of(drain)).await;
        } => {
            tracing::warn!("drain deadline passed: the HTTP connections still open are closed");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_or_off() {
        assert_eq!("off".parse::<HttpListen>(), Ok(HttpListen(None)));
        assert_eq!("127.0.0.1:8083".parse::<HttpListen>(), Ok(HttpListen(Some(([127, 0, 0, 1], 8083).into()))));
        assert!("localhost".parse::<HttpListen>().is_err());
        assert_eq!(HttpListen(None).to_string(), "off");
    }
}
