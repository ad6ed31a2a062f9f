//! Serving the API: the Expressway services a process offers, plus health checking and reflection.

use std::future::Future;

use anyhow::Context as _;
use expressway_frontend::{Frontend, ResultsApi};
use expressway_proto::v1::{
    executions_server::ExecutionsServer, results_server::ResultsServer, state_machines_server::StateMachinesServer,
};
use tokio::net::TcpListener;

/// Serve `results` and, when given, `frontend` on `listener` until `shutdown` resolves, then
/// drain in-flight calls.
pub async fn serve(
    frontend: Option<Frontend>,
    results: ResultsApi,
    listener: TcpListener,
    mode: &str,
    shutdown: impl Future<Output = ()> + Send,
) -> anyhow::Result<()> {
    let (health_reporter, health) = tonic_health::server::health_reporter();
    if frontend.is_some() {
        health_reporter.set_serving::<StateMachinesServer<Frontend>>().await;
        health_reporter.set_serving::<ExecutionsServer<Frontend>>().await;
    }
    health_reporter.set_serving::<ResultsServer<ResultsApi>>().await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(expressway_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .context("building the reflection service")?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, mode, "expressway is serving gRPC");
    // Answers go out at once: with Nagle's algorithm a reply written in pieces waits for the
    // caller's delayed ACK (~40 ms). Server::tcp_nodelay does not apply to our own listener.
    let incoming = tokio_stream::StreamExt::map(tokio_stream::wrappers::TcpListenerStream::new(listener), |s| {
        s.inspect(|s| {
            let _ = s.set_nodelay(true);
        })
    });
    let server = tonic::transport::Server::builder()
        .add_service(health)
        .add_service(reflection)
        .add_optional_service(frontend.clone().map(StateMachinesServer::new))
        .add_optional_service(frontend.map(ExecutionsServer::new))
        .add_service(ResultsServer::new(results))
        .serve_with_incoming_shutdown(incoming, async move {
            shutdown.await;
            tracing::info!("shutting down: no new calls");
        });
    server.await.context("serving the gRPC API")
}
