//! `expressway dev` (the embedded engine) as a child process for the CLI's suites: on free
//! loopback ports, waited for until it listens, its output kept in its directory's
//! `server.log`, and killed when dropped like every [`Server`].

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::process::{free_port, fresh_dir, Server};

/// A running `expressway dev`.
pub struct Dev {
    pub server: Server,
    /// The gRPC API's port.
    pub grpc: u16,
    /// The HTTP listener's port (AWS JSON protocol, console, metrics), when it has one.
    pub http: Option<u16>,
}

impl Dev {
    /// `expressway dev` from the binary at `bin` (a suite passes `env!("CARGO_BIN_EXE_expressway")`).
    pub fn builder(bin: impl Into<PathBuf>) -> DevBuilder {
        DevBuilder { bin: bin.into(), http: false, args: Vec::new(), env: Vec::new() }
    }

    /// `http://127.0.0.1:<grpc>`, what gRPC clients and the CLI's `--endpoint` take.
    pub fn grpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc)
    }

    /// The HTTP listener's port; panics when the builder did not ask for one.
    pub fn http_port(&self) -> u16 {
        self.http.expect("this expressway dev was started without an HTTP listener")
    }

    /// `http://127.0.0.1:<http>`, what AWS SDKs take as their endpoint.
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port())
    }

    pub fn pid(&self) -> u32 {
        self.server.pid().unwrap_or(0)
    }
}

/// How to start a [`Dev`]: gRPC only unless [`DevBuilder::http`], logging at `warn`.
pub struct DevBuilder {
    bin: PathBuf,
    http: bool,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
}

impl DevBuilder {
    /// Serve HTTP too (otherwise `--http-listen off`); the start then waits for that port.
    pub fn http(mut self) -> Self {
        self.http = true;
        self
    }

    /// More arguments after `dev --listen … --http-listen …`.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Start it and wait until it listens (its HTTP port when it has one, else gRPC).
    pub fn start(self) -> Result<Dev, String> {
        let grpc = free_port();
        let http = self.http.then(free_port);
        let mut cmd = Command::new(&self.bin);
        cmd.arg("dev").args(["--listen", &format!("127.0.0.1:{grpc}")]);
        match http {
            Some(port) => cmd.args(["--http-listen", &format!("127.0.0.1:{port}")]),
            None => cmd.args(["--http-listen", "off"]),
        };
        cmd.args(&self.args).env("EXPRESSWAY_LOG", "warn").envs(self.env);
        let server = Server::start(cmd, http.unwrap_or(grpc), fresh_dir("dev"), "expressway dev")?;
        server.wait_for_port(Duration::from_secs(20))?;
        Ok(Dev { server, grpc, http })
    }
}
