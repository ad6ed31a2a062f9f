//! Real servers for integration tests: a `redis-server` and a Kafka-API broker (Tansu with
//! its sqlite engine, see `../shared/kafka-for-tests.md`), each on a free loopback port in a
//! fresh directory, stopped when dropped. `.ci/run` installs both.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
}

fn wait_for_port(port: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn fresh_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "expressway-{tag}-{}-{}",
        std::process::id(),
        Instant::now().elapsed().as_nanos() ^ (free_port() as u128)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// A child process killed and reaped on drop.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    pub dir: PathBuf,
}

impl Server {
    fn start(mut cmd: Command, port: u16, dir: PathBuf, what: &str) -> Result<Server, String> {
        let log = std::fs::File::create(dir.join("server.log")).map_err(|e| format!("log file: {e}"))?;
        let err = log.try_clone().map_err(|e| format!("log file: {e}"))?;
        let child = cmd
            .current_dir(&dir)
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(err))
            .spawn()
            .map_err(|e| format!("cannot start {what}: {e} (see .ci/run for the install)"))?;
        let mut server = Server { child: Some(child), port, dir };
        if !wait_for_port(port, Duration::from_secs(20)) {
            server.stop();
            return Err(format!("{what} did not open port {port}"));
        }
        Ok(server)
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A redis-server that keeps nothing on disk.
pub fn redis() -> Result<Server, String> {
    let port = free_port();
    let dir = fresh_dir("redis");
    let mut cmd = Command::new("redis-server");
    cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
    Server::start(cmd, port, dir, "redis-server")
}

/// The Tansu binary: `TANSU` if set, else `~/.cargo/bin/tansu`, else `tansu` on PATH.
fn tansu_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("TANSU") {
        return PathBuf::from(p);
    }
    if let Some(home) = std::env::var_os("HOME") {
        let p = PathBuf::from(home).join(".cargo/bin/tansu");
        if p.exists() {
            return p;
        }
    }
    PathBuf::from("tansu")
}

/// A Kafka-API broker with the sqlite storage engine in a fresh directory.
pub fn kafka() -> Result<Server, String> {
    let port = free_port();
    let dir = fresh_dir("kafka");
    let url = format!("tcp://127.0.0.1:{port}");
    let mut cmd = Command::new(tansu_bin());
    cmd.args([
        "broker",
        "--listener-url",
        &url,
        "--advertised-listener-url",
        &url,
        "--storage-engine",
        "sqlite://tansu.db",
    ]);
    Server::start(cmd, port, dir, "the Kafka broker (tansu)")
}

impl Server {
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
    pub fn redis_url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

/// One request received by a [`http_server`].
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// A tiny HTTP/1.1 server on a free port (one thread per connection); `handler` returns the
/// status and body. Stops with the test process.
pub struct HttpServer {
    pub port: u16,
    pub requests: std::sync::Arc<std::sync::Mutex<Vec<Request>>>,
}

type HttpHandler = dyn Fn(&Request) -> (u16, String) + Send + Sync;

pub fn http_server(handler: std::sync::Arc<HttpHandler>) -> Result<HttpServer, String> {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let requests: std::sync::Arc<std::sync::Mutex<Vec<Request>>> = Default::default();
    let log = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut sock) = stream else { continue };
            let handler = handler.clone();
            let log = log.clone();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut tmp = [0u8; 4096];
                let head_end = loop {
                    let n = sock.read(&mut tmp).unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&tmp[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let mut lines = head.split("\r\n");
                let mut first = lines.next().unwrap_or_default().split(' ');
                let method = first.next().unwrap_or_default().to_string();
                let path = first.next().unwrap_or_default().to_string();
                let headers: Vec<(String, String)> = lines
                    .filter_map(|l| {
                        l.split_once(':').map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                    })
                    .collect();
                let len: usize =
                    headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
                while buf.len() < head_end + len {
                    let n = sock.read(&mut tmp).unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&tmp[..n]);
                }
                let req =
                    Request { method, path, headers, body: String::from_utf8_lossy(&buf[head_end..]).to_string() };
                let (status, body) = handler(&req);
                if let Ok(mut l) = log.lock() {
                    l.push(req);
                }
                let resp = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes());
            });
        }
    });
    Ok(HttpServer { port, requests })
}
