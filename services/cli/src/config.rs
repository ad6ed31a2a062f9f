//! Configuration of the distributed services (`frontend`, `worker`, `results`), layered: defaults, then
//! a TOML file (`--config`), then `EXPRESSWAY_…` environment variables (nested keys with `__`,
//! e.g. `EXPRESSWAY_KAFKA__BOOTSTRAP_SERVERS`), then flags. Unknown keys are rejected and the
//! result is validated before anything starts.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{ensure, Context as _};
use expressway_bus::kafka::{KafkaConfig, TriggerMapping};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisSettings {
    /// One server (`redis://` or `rediss://`); when neither this nor `cluster_urls` is set,
    /// `redis://127.0.0.1:6379`.
    pub url: Option<String>,
    /// Redis Cluster: some of its nodes' URLs (a list, or one comma-separated string for an
    /// environment variable or the flag). Not with `url`.
    #[serde(deserialize_with = "list_or_commas")]
    pub cluster_urls: Vec<String>,
    pub prefix: String,
    /// How long finished executions stay readable (DescribeExecution, history, dedupe).
    pub retention_seconds: u64,
    /// How long a command waits for Redis's answer before it is retried.
    pub response_timeout_ms: u64,
    /// ACL user and password (`EXPRESSWAY_REDIS__PASSWORD` keeps it out of files).
    pub username: Option<String>,
    pub password: Option<String>,
    /// For `rediss://` URLs: the server's CA (PEM; default: the system's roots), and a client
    /// certificate and key for servers that ask for one (`tls-auth-clients yes`).
    pub tls_ca_file: Option<PathBuf>,
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    /// Replicas that must acknowledge the start record, the outcome and each results append
    /// (`WAIT`) before they count; fewer within `wait_timeout_ms` is a failed write, retried.
    /// 0 (the default): Redis's asynchronous replication alone.
    pub wait_replicas: u32,
    pub wait_timeout_ms: u64,
}

/// The single server's URL when no cluster is configured.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

impl RedisSettings {
    /// The single server to use (the default one when none is set).
    pub fn server_url(&self) -> &str {
        self.url.as_deref().unwrap_or(DEFAULT_REDIS_URL)
    }
}

/// A list of strings, or one string of comma-separated items.
fn list_or_commas<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        List(Vec<String>),
        One(String),
    }
    Ok(match Either::deserialize(d)? {
        Either::List(l) => l,
        Either::One(s) => s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect(),
    })
}

impl Default for RedisSettings {
    fn default() -> Self {
        RedisSettings {
            url: None,
            cluster_urls: Vec::new(),
            prefix: "xw:".into(),
            retention_seconds: 3600,
            response_timeout_ms: 2000,
            username: None,
            password: None,
            tls_ca_file: None,
            tls_cert_file: None,
            tls_key_file: None,
            wait_replicas: 0,
            wait_timeout_ms: 500,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerSettings {
    /// Executions run at once by one worker process.
    pub concurrency: usize,
    /// Lease on a running execution; a crashed worker's executions resume after it expires.
    pub lease_seconds: u64,
    pub execution_timeout_seconds: u64,
    /// Runs of an asynchronous execution cut off (its worker died) before it counts as
    /// poison: recorded FAILED (`Expressway.ExecutionCrashed`) and dead-lettered.
    pub max_attempts: u32,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings { concurrency: 256, lease_seconds: 15, execution_timeout_seconds: 300, max_attempts: 3 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FrontendSettings {
    pub sync_timeout_seconds: u64,
    /// How deep executions started by nested-execution tasks may go (each synchronous level
    /// holds a worker slot while it waits).
    pub max_nesting_depth: u32,
}

impl Default for FrontendSettings {
    fn default() -> Self {
        FrontendSettings { sync_timeout_seconds: 300, max_nesting_depth: 5 }
    }
}

/// How every execution starts, whether a frontend takes the call or a worker reads a trigger
/// record: both record it the same way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StartSettings {
    /// How long a named start is deduplicated.
    pub dedupe_window_seconds: u64,
    pub max_input_bytes: usize,
    /// How long a start may use a state machine as it was read before (0: read it on every
    /// start). Changes made through the same frontend are seen at once; through another, after
    /// at most this long, like AWS's eventually consistent updates.
    pub registry_cache_ms: u64,
}

impl Default for StartSettings {
    fn default() -> Self {
        StartSettings { dedupe_window_seconds: 300, max_input_bytes: 256 * 1024, registry_cache_ms: 1000 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResultsSettings {
    /// Consumer group of the results services.
    pub group_id: String,
    /// How far a live subscriber may fall behind the results stream in one go; a subscriber
    /// further behind catches up from Redis, and one more than four times this behind skips
    /// messages (it is told so, with the position to resume from).
    pub subscriber_buffer: usize,
    /// Messages queued towards one subscriber's connection.
    pub stream_buffer: usize,
    /// Redis streams the results stream is spread over (1 to 256): unset, one on a single
    /// server and three on a cluster. Every process of a deployment must use the same number
    /// (the first records it in Redis, the others refuse to start with another).
    pub stream_shards: Option<usize>,
}

impl Default for ResultsSettings {
    fn default() -> Self {
        ResultsSettings {
            group_id: "expressway-results".into(),
            subscriber_buffer: 4096,
            stream_buffer: 64,
            stream_shards: None,
        }
    }
}

impl ResultsSettings {
    /// The number of shards of the results stream: as set, or the default for the mode.
    pub fn shards(&self, cluster: bool) -> usize {
        match (self.stream_shards, cluster) {
            (Some(n), _) => n,
            (None, true) => expressway_bus::redis::DEFAULT_CLUSTER_SHARDS,
            (None, false) => 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the frontend serves gRPC.
    pub listen: SocketAddr,
    /// Where the frontend serves HTTP (the AWS JSON protocol); off unless set.
    pub http_listen: Option<SocketAddr>,
    pub region: String,
    pub account: String,
    pub kafka: KafkaConfig,
    pub redis: RedisSettings,
    pub worker: WorkerSettings,
    pub frontend: FrontendSettings,
    pub starts: StartSettings,
    pub results: ResultsSettings,
    /// Topics whose every record starts an execution of a state machine.
    pub triggers: Vec<TriggerMapping>,
    /// Task integrations: functions, HTTP connections, allowlist.
    pub tasks: expressway_tasks::TasksConfig,
    /// On shutdown, how long open calls and executions in flight may take to finish; then a
    /// worker hands what still runs back to the group, and a listener closes what is open.
    pub drain_timeout_seconds: u64,
    /// TLS of the gRPC listener (frontend, results).
    pub tls: crate::grpc::TlsSettings,
    /// Who may call the API and what they may do.
    pub auth: expressway_frontend::auth::AuthConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:50051".parse().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 50051))),
            http_listen: None,
            region: "us-east-1".into(),
            account: "000000000000".into(),
            kafka: KafkaConfig::default(),
            redis: RedisSettings::default(),
            worker: WorkerSettings::default(),
            frontend: FrontendSettings::default(),
            starts: StartSettings::default(),
            results: ResultsSettings::default(),
            triggers: Vec::new(),
            tasks: expressway_tasks::TasksConfig::default(),
            drain_timeout_seconds: 30,
            tls: Default::default(),
            auth: Default::default(),
        }
    }
}

/// Flags common to the distributed services; each overrides the file and the environment.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServiceArgs {
    /// A TOML configuration file.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// gRPC listen address (frontend, results).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// HTTP listen address (frontend: the AWS JSON protocol); off unless set.
    #[arg(long)]
    pub http_listen: Option<SocketAddr>,
    /// Kafka bootstrap servers, e.g. 127.0.0.1:9092.
    #[arg(long)]
    pub kafka_bootstrap_servers: Option<String>,
    /// Redis URL, e.g. redis://127.0.0.1:6379.
    #[arg(long, conflicts_with = "redis_cluster_urls")]
    pub redis_url: Option<String>,
    /// Redis Cluster nodes, comma-separated, e.g. redis://10.0.0.1:6379,redis://10.0.0.2:6379.
    #[arg(long)]
    pub redis_cluster_urls: Option<String>,
    /// Executions run at once by a worker.
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Kafka consumer group of the workers.
    #[arg(long)]
    pub group_id: Option<String>,
    /// Name of the executions topic.
    #[arg(long)]
    pub executions_topic: Option<String>,
    #[command(flatten)]
    pub tls: crate::grpc::TlsSettings,
}

const TOP_LEVEL: &[&str] = &[
    "listen",
    "http_listen",
    "region",
    "account",
    "kafka",
    "redis",
    "worker",
    "frontend",
    "starts",
    "results",
    "triggers",
    "tasks",
    "drain_timeout_seconds",
    "tls",
    "auth",
];

impl Config {
    pub fn load(args: &ServiceArgs) -> anyhow::Result<Config> {
        let mut f = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = &args.config {
            ensure!(path.exists(), "the configuration file {} does not exist", path.display());
            f = f.merge(Toml::file(path));
        }
        // Only variables naming a configuration key belong here; other EXPRESSWAY_ variables
        // (EXPRESSWAY_LOG, EXPRESSWAY_ENDPOINT…) serve other commands.
        f = f.merge(Env::prefixed("EXPRESSWAY_").split("__").filter(|k| {
            // The key as the variable names it (after the prefix): `KAFKA__PARTITIONS`.
            let key = k.as_str().to_ascii_lowercase();
            let top = key.split("__").next().unwrap_or("").split('.').next().unwrap_or("").to_string();
            TOP_LEVEL.contains(&top.as_str())
        }));
        if let Some(v) = &args.listen {
            f = f.merge(Serialized::default("listen", v));
        }
        if let Some(v) = &args.http_listen {
            f = f.merge(Serialized::default("http_listen", v));
        }
        if let Some(v) = &args.kafka_bootstrap_servers {
            f = f.merge(Serialized::default("kafka.bootstrap_servers", v));
        }
        if let Some(v) = &args.redis_url {
            f = f.merge(Serialized::default("redis.url", v));
        }
        if let Some(v) = &args.redis_cluster_urls {
            f = f.merge(Serialized::default("redis.cluster_urls", v));
        }
        if let Some(v) = &args.concurrency {
            f = f.merge(Serialized::default("worker.concurrency", v));
        }
        if let Some(v) = &args.group_id {
            f = f.merge(Serialized::default("kafka.group_id", v));
        }
        if let Some(v) = &args.executions_topic {
            f = f.merge(Serialized::default("kafka.executions_topic", v));
        }
        for (key, v) in [
            ("tls.cert_file", &args.tls.cert_file),
            ("tls.key_file", &args.tls.key_file),
            ("tls.client_ca_file", &args.tls.client_ca_file),
        ] {
            if let Some(v) = v {
                f = f.merge(Serialized::default(key, v));
            }
        }
        let mut cfg: Config = f.extract().context("invalid configuration")?;
        // A Redis flag chooses the mode: it replaces the other mode's setting from a file or
        // the environment rather than clashing with it.
        if args.redis_cluster_urls.is_some() {
            cfg.redis.url = None;
        }
        if args.redis_url.is_some() {
            cfg.redis.cluster_urls.clear();
        }
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        ensure!(!self.kafka.bootstrap_servers.is_empty(), "kafka.bootstrap_servers must be set");
        ensure!(self.kafka.partitions >= 1, "kafka.partitions must be at least 1");
        ensure!(self.kafka.replication_factor >= 1, "kafka.replication_factor must be at least 1");
        for t in [&self.kafka.executions_topic, &self.kafka.results_topic, &self.kafka.dead_letter_topic] {
            ensure!(!t.is_empty() && !t.contains(' '), "topic names must be non-empty without spaces: '{t}'");
        }
        ensure!(
            self.redis.url.is_none() || self.redis.cluster_urls.is_empty(),
            "set redis.url (one server) or redis.cluster_urls (a cluster), not both"
        );
        let urls: Vec<&str> = match self.redis.cluster_urls.is_empty() {
            true => vec![self.redis.server_url()],
            false => self.redis.cluster_urls.iter().map(String::as_str).collect(),
        };
        let tls = urls[0].starts_with("rediss://");
        for u in &urls {
            ensure!(
                u.starts_with("redis://") || u.starts_with("rediss://"),
                "redis.url and redis.cluster_urls take redis:// or rediss:// URLs, got '{u}'"
            );
            ensure!(u.starts_with("rediss://") == tls, "redis.cluster_urls: all rediss:// or none");
        }
        ensure!(
            !self.redis.prefix.contains(['{', '}']),
            "redis.prefix must not contain braces (they would make it every key's cluster hash tag)"
        );
        ensure!(
            tls || (self.redis.tls_ca_file.is_none() && self.redis.tls_cert_file.is_none()),
            "redis.tls_* settings need rediss:// URLs"
        );
        ensure!(
            self.redis.tls_cert_file.is_some() == self.redis.tls_key_file.is_some(),
            "redis.tls_cert_file and redis.tls_key_file go together"
        );
        for f in [&self.redis.tls_ca_file, &self.redis.tls_cert_file, &self.redis.tls_key_file].into_iter().flatten() {
            ensure!(f.is_file(), "redis: {} is not a readable file", f.display());
        }
        ensure!(self.redis.response_timeout_ms >= 1, "redis.response_timeout_ms must be at least 1");
        ensure!(self.redis.wait_timeout_ms >= 1, "redis.wait_timeout_ms must be at least 1");
        ensure!(
            self.redis.wait_replicas == 0 || self.redis.wait_timeout_ms < self.redis.response_timeout_ms,
            "redis.wait_timeout_ms must be below redis.response_timeout_ms (a WAIT is a command too)"
        );
        if let Some(p) = self.kafka.properties.get("security.protocol") {
            ensure!(
                ["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"].contains(&p.to_ascii_lowercase().as_str()),
                "kafka.properties security.protocol = '{p}': expected PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL"
            );
        }
        if let Some(m) = self.kafka.properties.get("sasl.mechanism").or(self.kafka.properties.get("sasl.mechanisms")) {
            // Refused here rather than retried forever: GSSAPI needs Cyrus SASL, not in this build.
            ensure!(
                ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"].contains(&m.to_ascii_uppercase().as_str()),
                "kafka.properties sasl.mechanism = '{m}': this build supports PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER"
            );
        }
        ensure!(self.worker.concurrency >= 1, "worker.concurrency must be at least 1");
        ensure!(self.results.subscriber_buffer >= 1, "results.subscriber_buffer must be at least 1");
        ensure!(self.results.stream_buffer >= 1, "results.stream_buffer must be at least 1");
        ensure!(!self.results.group_id.is_empty(), "results.group_id must be set");
        if let Some(n) = self.results.stream_shards {
            let max = expressway_bus::redis::MAX_SHARDS;
            ensure!((1..=max).contains(&n), "results.stream_shards must be 1 to {max}, got {n}");
        }
        ensure!(self.worker.lease_seconds >= 1, "worker.lease_seconds must be at least 1");
        ensure!(self.worker.max_attempts >= 1, "worker.max_attempts must be at least 1");
        ensure!(self.worker.execution_timeout_seconds >= 1, "worker.execution_timeout_seconds must be at least 1");
        ensure!(
            self.account.len() == 12 && self.account.chars().all(|c| c.is_ascii_digit()),
            "account must be 12 digits"
        );
        for t in &self.triggers {
            ensure!(
                expressway_store::arn::parse_state_machine(&t.state_machine_arn).is_some(),
                "trigger on topic '{}': '{}' is not a state machine ARN",
                t.topic,
                t.state_machine_arn
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_top_level_key_can_come_from_the_environment() {
        // The variables are filtered by their first key: one missing from TOP_LEVEL would be
        // ignored without a word.
        let keys: Vec<String> = match serde_json::to_value(Config::default()) {
            Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
            other => panic!("the configuration serializes to an object: {other:?}"),
        };
        let mut listed: Vec<&str> = TOP_LEVEL.to_vec();
        listed.sort_unstable();
        let mut keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(listed, keys);
    }

    #[test]
    fn layers_and_unknown_keys() {
        let dir = std::env::temp_dir().join(format!("xw-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("c.toml");
        std::fs::write(
            &file,
            "region = \"eu-west-1\"\naccount = \"123456789012\"\n[kafka]\npartitions = 4\n[worker]\nconcurrency = 9\n\
             [[triggers]]\ntopic = \"orders\"\nstate_machine_arn = \"arn:aws:states:eu-west-1:123456789012:stateMachine:o\"\n",
        )
        .expect("write");
        let args = ServiceArgs { config: Some(file.clone()), concurrency: Some(3), ..Default::default() };
        let cfg = Config::load(&args).expect("load");
        assert_eq!(cfg.region, "eu-west-1");
        assert_eq!(cfg.kafka.partitions, 4);
        assert_eq!(cfg.worker.concurrency, 3, "flags win over the file");
        assert_eq!(cfg.triggers.len(), 1);
        assert_eq!(cfg.http_listen, None, "HTTP is off unless configured");
        let args = ServiceArgs {
            config: Some(file.clone()),
            http_listen: Some("127.0.0.1:8083".parse().expect("addr")),
            ..Default::default()
        };
        assert_eq!(Config::load(&args).expect("load").http_listen, Some("127.0.0.1:8083".parse().expect("addr")));

        std::fs::write(&file, "[kafka]\nbogus = 1\n").expect("write");
        let err =
            Config::load(&ServiceArgs { config: Some(file.clone()), ..Default::default() }).expect_err("unknown key");
        assert!(format!("{err:#}").contains("bogus"), "{err:#}");

        // Environment variables, nested with `__`, between the file and the flags.
        std::fs::write(&file, "[kafka]\npartitions = 4\n").expect("write");
        std::env::set_var("EXPRESSWAY_KAFKA__PARTITIONS", "6");
        std::env::set_var("EXPRESSWAY_HTTP_LISTEN", "127.0.0.1:9083");
        std::env::set_var("EXPRESSWAY_TASKS__FUNCTIONS__CHARGE__URL", "http://127.0.0.1:1/");
        std::env::set_var("EXPRESSWAY_DRAIN_TIMEOUT_SECONDS", "7");
        let cfg = Config::load(&ServiceArgs { config: Some(file.clone()), ..Default::default() });
        std::env::remove_var("EXPRESSWAY_DRAIN_TIMEOUT_SECONDS");
        std::env::remove_var("EXPRESSWAY_KAFKA__PARTITIONS");
        std::env::remove_var("EXPRESSWAY_HTTP_LISTEN");
        std::env::remove_var("EXPRESSWAY_TASKS__FUNCTIONS__CHARGE__URL");
        let cfg = cfg.expect("load");
        assert_eq!(cfg.kafka.partitions, 6);
        assert_eq!(cfg.http_listen, Some("127.0.0.1:9083".parse().expect("addr")));
        assert_eq!(cfg.tasks.functions.get("charge").map(|f| f.url.as_str()), Some("http://127.0.0.1:1/"));
        assert_eq!(cfg.drain_timeout_seconds, 7);

        // A cluster: a list in the file, or one comma-separated string (the environment, the flag).
        std::fs::write(&file, "[redis]\ncluster_urls = [\"redis://c1:7000\", \"redis://c2:7000\"]\n").expect("write");
        let cfg = Config::load(&ServiceArgs { config: Some(file.clone()), ..Default::default() }).expect("load");
        assert_eq!(cfg.redis.cluster_urls, vec!["redis://c1:7000", "redis://c2:7000"]);
        assert_eq!(cfg.redis.url, None);
        // The results stream's shards: three on a cluster, one on a server, unless set.
        assert_eq!((cfg.results.shards(true), cfg.results.shards(false)), (3, 1));
        std::fs::write(&file, "[results]\nstream_shards = 6\n").expect("write");
        let cfg = Config::load(&ServiceArgs { config: Some(file.clone()), ..Default::default() }).expect("load");
        assert_eq!((cfg.results.shards(true), cfg.results.shards(false)), (6, 6));
        std::fs::write(&file, "[redis]\ncluster_urls = [\"redis://c1:7000\", \"redis://c2:7000\"]\n").expect("write");
        let args = ServiceArgs { redis_cluster_urls: Some("redis://a:1, redis://b:2".into()), ..Default::default() };
        assert_eq!(Config::load(&args).expect("load").redis.cluster_urls, vec!["redis://a:1", "redis://b:2"]);
        assert_eq!(Config::load(&ServiceArgs::default()).expect("load").redis.server_url(), DEFAULT_REDIS_URL);
        // A flag for one mode replaces the file's other one.
        let args =
            ServiceArgs { config: Some(file.clone()), redis_url: Some("redis://one:1".into()), ..Default::default() };
        let cfg = Config::load(&args).expect("load");
        assert_eq!((cfg.redis.url.as_deref(), cfg.redis.cluster_urls.len()), (Some("redis://one:1"), 0));
        std::fs::write(&file, "[redis]\nurl = \"redis://r:6380\"\n").expect("write");
        let args = ServiceArgs {
            config: Some(file.clone()),
            redis_cluster_urls: Some("redis://c:1".into()),
            ..Default::default()
        };
        let cfg = Config::load(&args).expect("load");
        assert_eq!((cfg.redis.url, cfg.redis.cluster_urls), (None, vec!["redis://c:1".to_string()]));

        std::fs::write(&file, "[worker]\nconcurrency = 0\n").expect("write");
        assert!(Config::load(&ServiceArgs { config: Some(file.clone()), ..Default::default() }).is_err());

        // What this build cannot serve is refused at start-up, with the reason.
        for (toml, says) in [
            ("[redis]\nurl = \"redis://r:6380\"\ntls_ca_file = \"/ca.pem\"\n", "need rediss:// URLs"),
            (
                "[redis]\nurl = \"redis://r:6380\"\ncluster_urls = [\"redis://c1:6379\"]\n",
                "redis.url (one server) or redis.cluster_urls (a cluster), not both",
            ),
            ("[redis]\ncluster_urls = [\"redis://c1:6379\", \"rediss://c2:6379\"]\n", "all rediss:// or none"),
            ("[redis]\nprefix = \"{xw}:\"\n", "must not contain braces"),
            ("[results]\nstream_shards = 0\n", "results.stream_shards must be 1 to 256"),
            ("[redis]\nwait_replicas = 1\nwait_timeout_ms = 2000\n", "must be below redis.response_timeout_ms"),
            ("[results]\nstream_shard = 2\n", "unknown field"),
            ("[kafka.properties]\n\"security.protocol\" = \"TLS\"\n", "expected PLAINTEXT, SSL"),
            ("[kafka.properties]\n\"sasl.mechanism\" = \"GSSAPI\"\n", "GSSAPI"),
        ] {
            std::fs::write(&file, toml).expect("write");
            let err = Config::load(&ServiceArgs { config: Some(file.clone()), ..Default::default() }).expect_err(toml);
            assert!(format!("{err:#}").contains(says), "{err:#}");
        }
    }
}
