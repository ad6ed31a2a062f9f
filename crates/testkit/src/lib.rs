//! Real servers for integration tests and benchmarks, each on free loopback ports in a fresh
//! directory and stopped when dropped (or, for a server shared by a whole test binary, when
//! that process exits):
//!
//! - [`redis()`]: a `redis-server` (Debian's package; `.ci/run` installs it);
//! - [`redis_cluster::RedisCluster`]: a Redis Cluster of three primaries and three replicas;
//! - [`kafka`]: Apache Kafka in KRaft mode, one node ([`kafka::Kafka::single`], or the one
//!   [`kafka::shared`] per test binary) or a cluster of three for replication and broker faults;
//!   its jars come from Maven Central through `deploy/local/stack.sh jars`;
//! - [`http_server`]: a small HTTP server that records what it receives (Task functions);
//! - [`dev::Dev`]: `expressway dev`, the embedded engine, for the CLI's suites;
//! - [`tls::Certs`]: a CA with server and client certificates for TLS tests;
//! - [`otlp::receiver`]: an OpenTelemetry (OTLP/HTTP) trace receiver that keeps every span.

pub mod dev;
pub mod kafka;
mod process;
pub mod redis_cluster;
pub mod tls;

use std::process::Command;
use std::time::Duration;

pub use process::{free_port, Server};

/// A redis-server that keeps nothing on disk.
pub fn redis() -> Result<Server, String> {
    redis_with(&[])
}

/// A redis-server with extra arguments (`["--appendonly", "yes"]`, say); it runs in its own
/// directory, so persistence files stay there.
pub fn redis_with(args: &[&str]) -> Result<Server, String> {
    let port = free_port();
    let dir = process::fresh_dir("redis");
    let mut cmd = Command::new("redis-server");
    cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
    cmd.args(args);
    let server = Server::start(cmd, port, dir, "redis-server")?;
    server.wait_for_port(Duration::from_secs(20))?;
    Ok(server)
}

impl Server {
    pub fn redis_url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

pub mod http;
pub mod otlp;
pub use http::{http_server, HttpServer, Request};
