//! Apache Kafka in KRaft mode for tests and benchmarks: every node is broker and controller
//! in one JVM, on free loopback ports, with its data in a fresh directory.
//!
//! - [`Kafka::single`]: one node, replication factor 1 (what most suites need);
//! - [`shared`]: one single node per test binary, for suites whose tests use topics and
//!   groups of their own (a JVM takes seconds to start);
//! - [`Kafka::cluster`]: three nodes, replication factor 3 and `min.insync.replicas=2`, so one
//!   node can be killed ([`Kafka::kill`]) and started again ([`Kafka::restart`]).
//!
//! The jars are those of `deploy/local/kafka/pom.xml`, fetched once with Maven by
//! `deploy/local/stack.sh jars` and cached per version (`EXPRESSWAY_KAFKA_LIBS` names a
//! directory of jars instead). A node is ready when the cluster's metadata, asked through the
//! Kafka protocol, lists it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine as _;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;

use crate::process::{free_port, fresh_dir, Server};

/// How to start a cluster.
#[derive(Debug, Clone)]
pub struct KafkaOptions {
    pub nodes: usize,
    /// JVM heap of each node, in MiB.
    pub heap_mb: u32,
    /// Extra `server.properties` lines, applied after the defaults.
    pub properties: Vec<(String, String)>,
    /// Two more listeners beside PLAINTEXT, with these certificates: SSL, and SASL_SSL with
    /// the mechanisms PLAIN and SCRAM-SHA-512 for [`KafkaOptions::users`].
    pub tls: Option<crate::tls::Certs>,
    /// SASL users (name, password), known to both mechanisms.
    pub users: Vec<(String, String)>,
}

impl Default for KafkaOptions {
    fn default() -> Self {
        KafkaOptions { nodes: 1, heap_mb: 512, properties: Vec::new(), tls: None, users: Vec::new() }
    }
}

struct Node {
    id: usize,
    port: u16,
    controller_port: u16,
    /// The SSL and SASL_SSL listeners, when the cluster has them.
    secure_ports: Option<(u16, u16)>,
    server: Server,
}

/// A running Kafka cluster (one node or more); every node stops when it drops.
pub struct Kafka {
    nodes: Vec<Node>,
    libs: PathBuf,
    heap_mb: u32,
    pub dir: PathBuf,
}

/// The directory of the broker's jars, fetched on first use.
pub fn libs() -> Result<PathBuf, String> {
    static LIBS: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    LIBS.get_or_init(|| {
        if let Some(dir) = std::env::var_os("EXPRESSWAY_KAFKA_LIBS") {
            return Ok(PathBuf::from(dir));
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/local/stack.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg("jars")
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if !out.status.success() {
            return Err(format!("{} jars failed (Java 17 and Maven are needed; see .ci/run)", script.display()));
        }
        Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
    })
    .clone()
}

fn log4j_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/local/kafka/log4j2.properties")
}

/// A KRaft cluster id: 16 random bytes, base64url without padding (as `kafka-storage
/// random-uuid` prints them). Like Kafka's own, never one that starts with `-`: the storage
/// tool would read it as an option (one id in 64 did, and failed the suite).
fn cluster_id() -> String {
    loop {
        let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes());
        if !id.starts_with('-') {
            return id;
        }
    }
}

/// One single-node broker for the whole test binary, started on first use and stopped when
/// the process exits. Tests sharing it must use topics and groups of their own.
pub fn shared() -> Result<&'static Kafka, String> {
    static SHARED: OnceLock<Result<Kafka, String>> = OnceLock::new();
    SHARED.get_or_init(Kafka::single).as_ref().map_err(Clone::clone)
}

impl Kafka {
    /// One node.
    pub fn single() -> Result<Kafka, String> {
        Kafka::start(KafkaOptions::default())
    }

    /// Three nodes, every topic replicated three times with two in sync for a write.
    pub fn cluster() -> Result<Kafka, String> {
        Kafka::start(KafkaOptions { nodes: 3, heap_mb: 384, ..KafkaOptions::default() })
    }

    pub fn start(opts: KafkaOptions) -> Result<Kafka, String> {
        let libs = libs()?;
        let dir = fresh_dir("kafka");
        let n = opts.nodes.max(1);
        let ports: Vec<(u16, u16)> = (0..n).map(|_| (free_port(), free_port())).collect();
        let voters: Vec<String> =
            ports.iter().enumerate().map(|(i, (_, ctl))| format!("{}@127.0.0.1:{ctl}", i + 1)).collect();
        let rf = n.min(3);
        let mut nodes = Vec::with_capacity(n);
        let mut formats = Vec::with_capacity(n);
        let id = cluster_id();
        for (i, (port, ctl)) in ports.iter().copied().enumerate() {
            let node_dir = dir.join(format!("node-{}", i + 1));
            std::fs::create_dir_all(&node_dir).map_err(|e| format!("{}: {e}", node_dir.display()))?;
            let secure_ports = opts.tls.as_ref().map(|_| (free_port(), free_port()));
            let (mut listeners, mut advertised) = (
                format!("PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{ctl}"),
                format!("PLAINTEXT://127.0.0.1:{port}"),
            );
            if let Some((ssl, sasl)) = secure_ports {
                let extra = format!(",SSL://127.0.0.1:{ssl},SASL_SSL://127.0.0.1:{sasl}");
                listeners.push_str(&extra);
                advertised.push_str(&extra);
            }
            let mut props = vec![
                ("process.roles".to_string(), "broker,controller".to_string()),
                ("node.id".into(), (i + 1).to_string()),
                ("controller.quorum.voters".into(), voters.join(",")),
                ("listeners".into(), listeners),
                ("advertised.listeners".into(), advertised),
                ("controller.listener.names".into(), "CONTROLLER".into()),
                (
                    "listener.security.protocol.map".into(),
                    "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL".into(),
                ),
                ("inter.broker.listener.name".into(), "PLAINTEXT".into()),
                ("log.dirs".into(), node_dir.join("data").display().to_string()),
                ("num.partitions".into(), "8".into()),
                ("default.replication.factor".into(), rf.to_string()),
                ("min.insync.replicas".into(), if rf >= 3 { "2" } else { "1" }.into()),
                ("offsets.topic.replication.factor".into(), rf.to_string()),
                ("offsets.topic.num.partitions".into(), "8".into()),
                ("transaction.state.log.replication.factor".into(), rf.to_string()),
                ("transaction.state.log.min.isr".into(), if rf >= 3 { "2" } else { "1" }.into()),
                ("group.initial.rebalance.delay.ms".into(), "0".into()),
                ("auto.create.topics.enable".into(), "false".into()),
                // Topics come and go with the tests: small segments, no lingering deletes.
                ("log.segment.bytes".into(), (64 * 1024 * 1024).to_string()),
                ("log.index.size.max.bytes".into(), (1024 * 1024).to_string()),
                ("file.delete.delay.ms".into(), "1000".into()),
            ];
            if n > 1 {
                // A killed node is noticed in seconds, not the default nine.
                props.push(("broker.session.timeout.ms".into(), "6000".into()));
                props.push(("broker.heartbeat.interval.ms".into(), "1000".into()));
            }
            if let Some(certs) = &opts.tls {
                // One PEM file holds the key and the certificate (Kafka's PEM keystore).
                let keystore = node_dir.join("keystore.pem");
                let read =
                    |p: &std::path::Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
                std::fs::write(&keystore, read(&certs.server_key)? + &read(&certs.server_cert)?)
                    .map_err(|e| format!("{}: {e}", keystore.display()))?;
                let plain_users: String = opts.users.iter().map(|(u, p)| format!(" user_{u}=\"{p}\"")).collect();
                props.extend([
                    ("ssl.keystore.type".to_string(), "PEM".to_string()),
                    ("ssl.keystore.location".into(), keystore.display().to_string()),
                    ("ssl.truststore.type".into(), "PEM".into()),
                    ("ssl.truststore.location".into(), certs.ca.display().to_string()),
                    ("sasl.enabled.mechanisms".into(), "PLAIN,SCRAM-SHA-512".into()),
                    (
                        "listener.name.sasl_ssl.plain.sasl.jaas.config".into(),
                        format!("org.apache.kafka.common.security.plain.PlainLoginModule required{plain_users};"),
                    ),
                    (
                        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config".into(),
                        "org.apache.kafka.common.security.scram.ScramLoginModule required;".into(),
                    ),
                ]);
            }
            props.extend(opts.properties.iter().cloned());
            let text: String = props.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
            let file = node_dir.join("server.properties");
            std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
            let mut format = Command::new("java");
            format
                .arg(format!("-Dlog4j2.configurationFile={}", log4j_config().display()))
                .arg("-cp")
                .arg(libs.join("*"))
                .args(["kafka.tools.StorageTool", "format", "-t", &id, "-c"])
                .arg(&file);
            // SCRAM credentials live in the cluster metadata, written at format time.
            for (u, p) in &opts.users {
                format.arg("--add-scram").arg(format!("SCRAM-SHA-512=[name={u},password={p}]"));
            }
            format.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
            formats.push(format.spawn().map_err(|e| format!("cannot run java (Java 17 is needed): {e}"))?);
            let server = Server::unstarted(port, node_dir, &format!("Kafka node {}", i + 1)).orphan_dir(dir.clone());
            nodes.push(Node { id: i + 1, port, controller_port: ctl, secure_ports, server });
        }
        for f in formats {
            let out = f.wait_with_output().map_err(|e| e.to_string())?;
            if !out.status.success() {
                return Err(format!(
                    "formatting the Kafka storage failed: {}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        let mut kafka = Kafka { nodes, libs, heap_mb: opts.heap_mb, dir };
        for i in 0..kafka.nodes.len() {
            kafka.launch(i)?;
        }
        kafka.wait_ready(Duration::from_secs(120))?;
        Ok(kafka)
    }

    fn launch(&mut self, i: usize) -> Result<(), String> {
        let heap = format!("{}m", self.heap_mb);
        let node = &mut self.nodes[i];
        let mut cmd = Command::new("java");
        cmd.arg(format!("-Xmx{heap}"))
            .arg(format!("-Xms{heap}"))
            .args(["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:+ExitOnOutOfMemoryError"])
            .arg("-Djava.awt.headless=true")
            .arg(format!("-Dlog4j2.configurationFile={}", log4j_config().display()))
            .arg("-cp")
            .arg(self.libs.join("*"))
            .arg("kafka.Kafka")
            .arg(node.server.dir.join("server.properties"));
        node.server.spawn(cmd)
    }

    /// Wait until the metadata lists every running node as a broker.
    fn wait_ready(&self, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        let want: Vec<i32> = self.nodes.iter().filter(|n| n.server.is_running()).map(|n| n.id as i32).collect();
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", self.bootstrap())
            .set("socket.connection.setup.timeout.ms", "1000")
            .create()
            .map_err(|e| format!("a metadata client: {e}"))?;
        loop {
            if let Some(dead) = self.nodes.iter().find(|n| want.contains(&(n.id as i32)) && !n.server.is_running()) {
                return Err(format!("Kafka node {} exited: {}", dead.id, dead.server.log_tail(30)));
            }
            if let Ok(md) = consumer.fetch_metadata(None, Duration::from_secs(2)) {
                let ids: Vec<i32> = md.brokers().iter().map(|b| b.id()).collect();
                if want.iter().all(|w| ids.contains(w)) {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                let logs: Vec<String> = self.nodes.iter().map(|n| n.server.log_tail(20)).collect();
                return Err(format!("Kafka did not become ready in {within:?}: {}", logs.join("\n---\n")));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Every node's listener, as `bootstrap.servers`.
    pub fn bootstrap(&self) -> String {
        self.nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)).collect::<Vec<_>>().join(",")
    }

    pub fn nodes(&self) -> usize {
        self.nodes.len()
    }

    /// The SSL listeners (`security.protocol=SSL`), when started with [`KafkaOptions::tls`].
    pub fn ssl_bootstrap(&self) -> Option<String> {
        self.secure_bootstrap(|(ssl, _)| ssl)
    }

    /// The SASL_SSL listeners (PLAIN or SCRAM-SHA-512 over TLS).
    pub fn sasl_ssl_bootstrap(&self) -> Option<String> {
        self.secure_bootstrap(|(_, sasl)| sasl)
    }

    fn secure_bootstrap(&self, pick: impl Fn((u16, u16)) -> u16) -> Option<String> {
        let ports: Option<Vec<String>> =
            self.nodes.iter().map(|n| n.secure_ports.map(|p| format!("127.0.0.1:{}", pick(p)))).collect();
        ports.map(|p| p.join(","))
    }

    /// The replication factor topics should use on this cluster.
    pub fn replication_factor(&self) -> usize {
        self.nodes.len().min(3)
    }

    /// SIGKILL node `i` (0-based); its data stays for [`Kafka::restart`].
    pub fn kill(&mut self, i: usize) {
        self.nodes[i].server.kill();
    }

    /// Send a signal to node `i` (`"-STOP"`, `"-CONT"`).
    pub fn signal(&self, i: usize, sig: &str) {
        self.nodes[i].server.signal(sig);
    }

    /// Start node `i` again on its ports and data, and wait until it is back in the cluster.
    pub fn restart(&mut self, i: usize) -> Result<(), String> {
        self.launch(i)?;
        self.wait_ready(Duration::from_secs(120))
    }

    pub fn pid(&self, i: usize) -> Option<u32> {
        self.nodes[i].server.pid()
    }

    /// Node `i`'s log.
    pub fn log(&self, i: usize) -> String {
        self.nodes[i].server.log()
    }

    /// The controller port of node `i`.
    pub fn controller_port(&self, i: usize) -> u16 {
        self.nodes[i].controller_port
    }

    /// Keep the data and logs after the cluster stops (to look at them after a failure).
    pub fn keep_dir(&mut self) {
        for n in &mut self.nodes {
            n.server.keep_dir();
        }
    }
}

impl Drop for Kafka {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            n.server.kill();
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cluster_ids_never_read_as_options() {
        // One random id in 64 would start with `-`: ten thousand all but surely include some.
        for _ in 0..10_000 {
            let id = super::cluster_id();
            assert_eq!(id.len(), 22, "{id}");
            assert!(!id.starts_with('-'), "{id}");
        }
    }
}
