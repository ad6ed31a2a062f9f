//! Child processes that cannot outlive their test: each is killed when its [`Server`] drops,
//! and a watchdog kills it (and removes its directory) when the test process dies first, so
//! a crashed or aborted test leaves no broker behind.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(0)
}

pub(crate) fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).is_ok()
}

/// A new empty directory under the system's temp dir.
pub(crate) fn fresh_dir(tag: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "expressway-{tag}-{}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        free_port()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// A server process, killed and reaped on drop; its directory is removed then too.
pub struct Server {
    child: Mutex<Option<Child>>,
    pub port: u16,
    pub dir: PathBuf,
    what: String,
    keep_dir: bool,
    /// What the watchdog removes if this process dies first (`dir`, or the directory of a
    /// whole cluster that holds it).
    orphan_dir: PathBuf,
    /// The command last spawned (program and arguments), for [`Server::restart`].
    last: Option<(std::ffi::OsString, Vec<std::ffi::OsString>)>,
}

impl Server {
    /// Spawn `cmd` in `dir` with its output in `dir/server.log`.
    pub(crate) fn start(cmd: Command, port: u16, dir: PathBuf, what: &str) -> Result<Server, String> {
        let mut server = Server::unstarted(port, dir, what);
        server.spawn(cmd)?;
        Ok(server)
    }

    /// A server not running yet: [`Server::spawn`] starts it.
    pub(crate) fn unstarted(port: u16, dir: PathBuf, what: &str) -> Server {
        Server {
            child: Mutex::new(None),
            port,
            orphan_dir: dir.clone(),
            dir,
            what: what.to_string(),
            keep_dir: false,
            last: None,
        }
    }

    /// Spawn (again) in the same directory, appending to the same log.
    pub(crate) fn spawn(&mut self, mut cmd: Command) -> Result<(), String> {
        self.kill();
        self.last = Some((cmd.get_program().to_owned(), cmd.get_args().map(|a| a.to_owned()).collect()));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log"))
            .map_err(|e| format!("log file: {e}"))?;
        let err = log.try_clone().map_err(|e| format!("log file: {e}"))?;
        let child = cmd
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(err))
            .spawn()
            .map_err(|e| format!("cannot start {}: {e} (see .ci/run for the install)", self.what))?;
        watchdog(child.id(), &self.orphan_dir);
        *self.child() = Some(child);
        Ok(())
    }

    pub(crate) fn wait_for_port(&self, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if port_open(self.port) {
                return Ok(());
            }
            if !self.is_running() {
                return Err(format!("{} exited: {}", self.what, self.log_tail(20)));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("{} did not open port {}: {}", self.what, self.port, self.log_tail(20)))
    }

    fn child(&self) -> std::sync::MutexGuard<'_, Option<Child>> {
        self.child.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the process still runs.
    pub fn is_running(&self) -> bool {
        self.child().as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    pub fn pid(&self) -> Option<u32> {
        self.child().as_ref().map(|c| c.id())
    }

    /// Send a signal (`"-STOP"`, `"-CONT"`, `"-TERM"`…).
    pub fn signal(&self, sig: &str) {
        if let Some(pid) = self.pid() {
            let _ = Command::new("kill").args([sig, &pid.to_string()]).status();
        }
    }

    /// SIGKILL the process and reap it; the directory stays (for a restart).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child().take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Start the same command again in the same directory (after [`Server::kill`], or a
    /// signal that ended it), and wait until its port is open.
    pub fn restart(&mut self) -> Result<(), String> {
        let (program, args) = self.last.clone().ok_or_else(|| format!("{} was never started", self.what))?;
        let mut cmd = Command::new(program);
        cmd.args(args);
        self.spawn(cmd)?;
        self.wait_for_port(Duration::from_secs(30))
    }

    /// Wait up to `within` for the process to exit by itself (after a SIGTERM, say).
    pub fn wait_exit(&self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if !self.is_running() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Have the watchdog remove `dir` (which holds this server's) when the test dies first.
    pub(crate) fn orphan_dir(mut self, dir: PathBuf) -> Self {
        self.orphan_dir = dir;
        self
    }

    /// Keep the directory after the server stops (to read its log after a failure).
    pub fn keep_dir(&mut self) {
        self.keep_dir = true;
    }

    /// The server's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// The last `lines` lines of the log.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = self.log();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if !self.keep_dir && !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Kill `child` (and remove `dir`) once this process is gone; exits by itself when the child
/// ends first.
fn watchdog(child: u32, dir: &std::path::Path) {
    let me = std::process::id();
    let script = format!(
        "while kill -0 {me} 2>/dev/null && kill -0 {child} 2>/dev/null; do sleep 1; done; \
         if kill -0 {child} 2>/dev/null; then kill -9 {child}; rm -rf '{}'; fi",
        dir.display()
    );
    let dog = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Ok(mut dog) = dog {
        // Reaped when it ends, so finished watchdogs leave no zombies.
        std::thread::spawn(move || dog.wait());
    }
}
