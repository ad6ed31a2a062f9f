//! Redis implementations of the registry and the execution store, for the distributed mode.
//!
//! Keys (all under a configurable prefix, `xw:` by default):
//! - `sm:{name}` the state machine record (JSON), `sms` a sorted set of names for listing,
//!   `rev:{id}` immutable revisions (JSON, never deleted while referenced);
//! - `ex:{tag}{arn}` an execution record (JSON, expires after the retention period),
//!   `out:{tag}{arn}` its outcome, written once with SET NX (the first outcome wins),
//!   `name:{tag}{state machine}:{name}` the dedupe key ("{input hash} {arn}", expires after
//!   the window), `claim:{tag}{arn}` the lease of the worker running it, `ran:{tag}{arn}` set
//!   by its first claim, `tries:{tag}{arn}` how many other owners took the lease after the
//!   first (rare: crashes), `hist:{tag}{arn}` history events (a list),
//!   `journal:{tag}{arn}` task results by state, attempt and input (a hash).
//!
//! `{tag}` is a Redis Cluster hash tag: the execution ARN without its unique suffix
//! (`{arn:aws:states:…:express:orders:order-1}`, see [`execution_tag`]), so every key of one
//! execution, and the dedupe key of its name, hash to the same slot. The pipelines and scripts
//! below touch one execution at a time, so on a cluster each goes to one primary, and the
//! ordering arguments made for a single server hold there as they are. Executions spread
//! over all slots. The registry's keys are not tagged: its steps use one key each, or are
//! sent as separate commands ([`Conn`] runs the same code on a single server and a cluster).
//!
//! The steps every execution takes (start, begin, finish) are short pipelines of plain commands
//! whose order makes them safe without a script: `SET … NX GET` both takes a key and says who
//! held it (Redis 7.0 or newer). Running a Lua script costs Redis several times more than the
//! commands inside it, so scripts are kept for the rare steps that need a compare-and-set
//! (lease renewal and release, forgetting a start, an outcome with its history). Multi-key
//! scripts are atomic on one Redis server, and on a cluster too, since their keys share a slot.
//!
//! With [`RedisConfig::wait_replicas`], the writes an execution cannot afford to lose in a
//! failover (the start record with its dedupe key, the outcome) are followed by `WAIT`
//! ([`wait_for_replicas`]): too few acknowledgements make them failed writes, which their
//! callers retry.

use std::time::Duration;

use async_trait::async_trait;
use expressway_asl::HistoryEvent;
use redis::aio::ConnectionLike;
pub use redis::aio::ConnectionManager;
use redis::AsyncCommands;

use crate::model::*;
use crate::{Begin, Claim, ExecutionStore, Registry, Started, StoreError};

mod healing;
pub use healing::Healing;

/// A script's text hashed once (redis-rs hashes it on every `Script::new`).
macro_rules! script {
    ($text:ident) => {{
        static SCRIPT: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| redis::Script::new($text));
        &*SCRIPT
    }};
}

/// How every part of Expressway reaches Redis: the stores here, and the results stream and
/// reply routing in `expressway-bus`. [`RedisConfig::connect`] is the one place that builds
/// a connection.
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// A single server (`redis://` or `rediss://`); ignored when `cluster_urls` is set.
    pub url: String,
    /// Redis Cluster: some of its nodes (any will do; the client learns the others and
    /// follows failovers and slot moves). Empty: the single server at `url`.
    pub cluster_urls: Vec<String>,
    pub prefix: String,
    /// How long finished executions (record, outcome, history, journal) are kept.
    pub retention: Duration,
    /// How long a command may wait for its answer before it fails as unavailable (and is
    /// retried by whoever sent it). Longer than a busy server's worst pause.
    pub response_timeout: Duration,
    /// ACL user and password (they may also be in the URL: `redis://user:password@host`).
    pub username: Option<String>,
    pub password: Option<String>,
    /// For `rediss://`: the CA that signed the server's certificate (PEM; default: the
    /// system's roots), and a client certificate and key when the server asks for one.
    pub tls_ca_file: Option<std::path::PathBuf>,
    pub tls_cert_file: Option<std::path::PathBuf>,
    pub tls_key_file: Option<std::path::PathBuf>,
    /// Replicas that must acknowledge a write before it counts (`WAIT`): the start record
    /// and dedupe key, the outcome, each results append. 0: none (Redis replicates
    /// asynchronously; a primary that dies loses what its replica had not received yet).
    pub wait_replicas: u32,
    /// How long a write waits for those acknowledgements before it fails (and is retried).
    pub wait_timeout: Duration,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            url: "redis://127.0.0.1:6379".into(),
            cluster_urls: Vec::new(),
            prefix: "xw:".into(),
            retention: Duration::from_secs(3600),
            response_timeout: Duration::from_secs(2),
            username: None,
            password: None,
            tls_ca_file: None,
            tls_cert_file: None,
            tls_key_file: None,
            wait_replicas: 0,
            wait_timeout: Duration::from_millis(500),
        }
    }
}

fn invalid(what: &str, e: &dyn std::fmt::Display) -> StoreError {
    StoreError::Invalid(format!("{what}: {e}"))
}

impl RedisConfig {
    /// Whether this is a Redis Cluster (`cluster_urls` set) rather than one server.
    pub fn is_cluster(&self) -> bool {
        !self.cluster_urls.is_empty()
    }

    /// The CA and client certificate for TLS, when any is configured.
    fn certificates(&self) -> Result<Option<redis::TlsCertificates>, StoreError> {
        if self.tls_ca_file.is_none() && self.tls_cert_file.is_none() {
            return Ok(None);
        }
        let read = |p: &std::path::Path| std::fs::read(p).map_err(|e| invalid(&format!("reading {}", p.display()), &e));
        let client_tls = match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(c), Some(k)) => Some(redis::ClientTlsConfig { client_cert: read(c)?, client_key: read(k)? }),
            (None, None) => None,
            _ => {
                return Err(StoreError::Invalid(
                    "redis: a client certificate needs its key, and the other way round".into(),
                ))
            }
        };
        let root_cert = self.tls_ca_file.as_deref().map(read).transpose()?;
        Ok(Some(redis::TlsCertificates { client_tls, root_cert }))
    }

    /// A client for a Redis Cluster.
    pub fn cluster_client(&self) -> Result<redis::cluster::ClusterClient, StoreError> {
        self.cluster_builder(self.response_timeout)?.build().map_err(|e| invalid("redis cluster_urls", &e))
    }

    /// A cluster client whose connections hand what the nodes push (sharded pub/sub
    /// messages) to `push`; it speaks RESP3, and renews its subscriptions on the nodes that
    /// serve their slots after a reconnect or a failover.
    pub fn cluster_subscriber(
        &self,
        push: impl redis::aio::AsyncPushSender,
    ) -> Result<redis::cluster::ClusterClient, StoreError> {
        self.cluster_builder(self.response_timeout)?
            .use_protocol(redis::ProtocolVersion::RESP3)
            .push_sender(push)
            .build()
            .map_err(|e| invalid("redis cluster_urls", &e))
    }

    fn cluster_builder(&self, response_timeout: Duration) -> Result<redis::cluster::ClusterClientBuilder, StoreError> {
        if !self.is_cluster() {
            return Err(StoreError::Invalid("redis: no cluster_urls configured".into()));
        }
        let mut b = redis::cluster::ClusterClientBuilder::new(self.cluster_urls.iter().map(String::as_str))
            .connection_timeout(self.response_timeout)
            .response_timeout(response_timeout)
            // A failover takes the cluster's node timeout and an election: a command is
            // retried (MOVED, a node down) for up to twice the response timeout in all, then
            // fails as unavailable and its caller retries it with its own backoff.
            .overall_response_timeout(Some(response_timeout * 2))
            .retries(8)
            .max_retry_wait(500);
        if let Some(u) = &self.username {
            b = b.username(u);
        }
        if let Some(p) = &self.password {
            b = b.password(p);
        }
        if let Some(certs) = self.certificates()? {
            b = b.certs(certs);
        }
        Ok(b)
    }

    /// A client for the configured single server (for pub/sub and blocking reads on
    /// connections of their own).
    pub fn client(&self) -> Result<redis::Client, StoreError> {
        use redis::IntoConnectionInfo;
        if self.is_cluster() {
            return Err(StoreError::Invalid("redis: a cluster has no single-server client".into()));
        }
        let mut info = self.url.as_str().into_connection_info().map_err(|e| invalid("redis url", &e))?;
        if self.username.is_some() || self.password.is_some() {
            let mut settings = info.redis_settings().clone();
            if let Some(u) = &self.username {
                settings = settings.set_username(u);
            }
            if let Some(p) = &self.password {
                settings = settings.set_password(p);
            }
            info = info.set_redis_settings(settings);
        }
        match self.certificates()? {
            None => redis::Client::open(info).map_err(|e| invalid("redis url", &e)),
            Some(certs) => redis::Client::build_with_tls(info, certs).map_err(|e| invalid("redis TLS settings", &e)),
        }
    }

    /// A shared, multiplexed connection that reconnects by itself: to the single server, or
    /// to every node of the cluster, routing each command by its key's slot.
    pub async fn connect(&self) -> Result<Conn, StoreError> {
        self.connect_with_timeout(self.response_timeout).await
    }

    /// [`RedisConfig::connect`] with a response timeout of its own, on connections of its
    /// own (for blocking reads, which would hold up a shared connection).
    pub async fn connect_with_timeout(&self, response_timeout: Duration) -> Result<Conn, StoreError> {
        if self.prefix.contains(['{', '}']) {
            // A brace would make the prefix the hash tag: every key in one slot.
            return Err(StoreError::Invalid(format!("redis prefix '{}' must not contain braces", self.prefix)));
        }
        if self.is_cluster() {
            let client =
                self.cluster_builder(response_timeout)?.build().map_err(|e| invalid("redis cluster_urls", &e))?;
            let within = self.cluster_connect_within(response_timeout);
            let conn = cluster_connection(client.clone(), within).await?;
            // The cluster client can stop answering for good after a failover (see
            // `healing`): a connection whose commands all went unanswered for three
            // response timeouts is replaced by a new one.
            let connect: healing::Connect<_> =
                std::sync::Arc::new(move || Box::pin(cluster_connection(client.clone(), within)));
            return Ok(Conn::Cluster(Healing::new(conn, response_timeout * STALLED_AFTER_TIMEOUTS, connect)));
        }
        let config = redis::aio::ConnectionManagerConfig::new()
            // Reconnects back off to at most a second apart: a restarted server is found
            // again within a second of its return.
            .set_max_delay(Duration::from_secs(1))
            .set_response_timeout(Some(response_timeout))
            .set_connection_timeout(Some(self.response_timeout));
        let mut conn = ConnectionManager::new_with_config(self.client()?, config).await.map_err(unavailable)?;
        let _: String = redis::cmd("PING").query_async(&mut conn).await.map_err(unavailable)?;
        Ok(Conn::Single(conn))
    }

    /// A connection from `client` (made by [`RedisConfig::cluster_client`] or
    /// [`RedisConfig::cluster_subscriber`]) that answered a PING, within the time connecting
    /// may take.
    pub async fn connect_cluster_client(
        &self,
        client: redis::cluster::ClusterClient,
    ) -> Result<redis::cluster_async::ClusterConnection, StoreError> {
        cluster_connection(client, self.cluster_connect_within(self.response_timeout)).await
    }

    /// How long making a cluster connection may take: connecting to the nodes (each within
    /// the connection timeout, `response_timeout` for their first answer), then asking one for
    /// the slots and checking the connections to the others.
    fn cluster_connect_within(&self, response_timeout: Duration) -> Duration {
        (self.response_timeout + response_timeout) * 2
    }
}

/// Commands on a cluster connection that went unanswered for this many response timeouts,
/// with none answered meanwhile, make it replaced (see [`Healing`]). Longer than a failover
/// keeps the commands to one primary unanswered, and those to the others are answered then.
const STALLED_AFTER_TIMEOUTS: u32 = 3;

/// A new cluster connection that answered a PING, within `within` (the client's own
/// connecting has no overall timeout).
async fn cluster_connection(
    client: redis::cluster::ClusterClient,
    within: Duration,
) -> Result<redis::cluster_async::ClusterConnection, StoreError> {
    let connecting = async {
        let mut conn = client.get_async_connection().await.map_err(unavailable)?;
        let _: String = redis::cmd("PING").query_async(&mut conn).await.map_err(unavailable)?;
        Ok(conn)
    };
    tokio::time::timeout(within, connecting).await.unwrap_or_else(|_| {
        Err(StoreError::Unavailable(format!("no connection to the redis cluster within {within:?}")))
    })
}

/// A connection to a single server or to a cluster: the stores, the results stream and reply
/// routing send their commands through it alike. A cluster routes each command (and each
/// pipeline, whose commands must then share a slot) to the primary that holds its keys.
#[derive(Clone)]
pub enum Conn {
    Single(ConnectionManager),
    Cluster(Healing<redis::cluster_async::ClusterConnection>),
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Conn::Single(_) => "Conn::Single",
            Conn::Cluster(_) => "Conn::Cluster",
        })
    }
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// The hash tag that keeps an execution's keys in one slot: its ARN without the unique
/// suffix of an Express execution (`arn:aws:states:R:A:express:MACHINE:NAME`), so the dedupe
/// key of a name, which every execution started under that name meets, shares it too. Any
/// other string is its own tag. ARNs hold no braces (names may not), so the tag is whole.
pub fn execution_tag(execution_arn: &str) -> &str {
    match execution_arn.rsplit_once(':') {
        Some((head, _))
            if crate::arn::execution_state_machine(execution_arn).is_some() && head.matches(':').count() >= 7 =>
        {
            head
        }
        _ => execution_arn,
    }
}

fn unavailable(e: redis::RedisError) -> StoreError {
    if e.kind() == redis::ErrorKind::AuthenticationFailed {
        // Retrying the same credentials will not help.
        return StoreError::Invalid(format!("redis refused the credentials: {e}"));
    }
    StoreError::Unavailable(e.to_string())
}

fn corrupt(what: &str, e: serde_json::Error) -> StoreError {
    StoreError::Invalid(format!("stored {what} is not readable: {e}"))
}

/// Connect (with automatic reconnection) and check the server answers.
pub async fn connect(cfg: &RedisConfig) -> Result<Conn, StoreError> {
    cfg.connect().await
}

/// A connection that times every command it sends (the `expressway_redis_command_ms`
/// histogram, by command name); the stores send everything through it.
#[derive(Clone)]
pub struct Timed(Conn);

impl redis::aio::ConnectionLike for Timed {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> redis::RedisFuture<'a, redis::Value> {
        let started = std::time::Instant::now();
        Box::pin(async move {
            let r = self.0.req_packed_command(cmd).await;
            let name = match cmd.args_iter().next() {
                Some(redis::Arg::Simple(name)) => String::from_utf8_lossy(name).to_ascii_uppercase(),
                _ => "OTHER".to_string(),
            };
            expressway_telemetry::metrics::redis_command(name, started.elapsed());
            r
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        let started = std::time::Instant::now();
        Box::pin(async move {
            let r = self.0.req_packed_commands(pipeline, offset, count).await;
            expressway_telemetry::metrics::redis_command("PIPELINE".to_string(), started.elapsed());
            r
        })
    }

    fn get_db(&self) -> i64 {
        self.0.get_db()
    }
}

/// Whether the server behind `conn` answers a PING within `within` (a readiness probe).
pub async fn ping(conn: &Conn, within: Duration) -> Result<(), StoreError> {
    let mut c = conn.clone();
    match tokio::time::timeout(within, redis::cmd("PING").query_async::<String>(&mut c)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(unavailable(e)),
        Err(_) => Err(StoreError::Unavailable(format!("redis did not answer a PING within {within:?}"))),
    }
}

/// Wait until `replicas` replicas have every write sent so far on the connection that serves
/// `key` (`WAIT`, sent in one pipeline with a read of `key`, so a cluster routes it to the
/// primary that took the write); fewer within `timeout` is a failed write, to be retried.
/// Nothing to do when `replicas` is 0.
pub async fn wait_for_replicas(
    conn: &mut impl ConnectionLike,
    key: &str,
    replicas: u32,
    timeout: Duration,
) -> Result<(), StoreError> {
    if replicas == 0 {
        return Ok(());
    }
    let (acked,): (u32,) = redis::pipe()
        .cmd("EXISTS")
        .arg(key)
        .ignore()
        .cmd("WAIT")
        .arg(replicas)
        .arg(timeout.as_millis().max(1) as u64)
        .query_async(conn)
        .await
        .map_err(unavailable)?;
    if acked < replicas {
        expressway_telemetry::metrics::count(expressway_telemetry::metrics::REDIS_WAIT_SHORT);
        tracing::warn!(
            %key,
            acked,
            wanted = replicas,
            timeout_ms = timeout.as_millis() as u64,
            "redis write not acknowledged by enough replicas; retried as a failed write"
        );
        return Err(StoreError::Unavailable(format!(
            "the write to {key} reached {acked} of {replicas} replicas within {timeout:?}"
        )));
    }
    Ok(())
}

/// The registry in Redis.
#[derive(Clone)]
pub struct RedisRegistry {
    conn: Timed,
    prefix: String,
    partition: crate::arn::Partition,
}

/// Replace a value only if it still holds what was read (optimistic concurrency).
const CAS: &str = r#"
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 end
return 0
"#;

impl RedisRegistry {
    pub fn new(conn: Conn, cfg: &RedisConfig, partition: crate::arn::Partition) -> Self {
        RedisRegistry { conn: Timed(conn), prefix: cfg.prefix.clone(), partition }
    }

    fn sm_key(&self, name: &str) -> String {
        format!("{}sm:{name}", self.prefix)
    }

    async fn load(&self, name: &str) -> Result<(String, StateMachineRecord), StoreError> {
        let mut c = self.conn.clone();
        let raw: Option<String> = c.get(self.sm_key(name)).await.map_err(unavailable)?;
        let raw = raw.ok_or_else(|| StoreError::NotFound { what: format!("state machine '{name}'") })?;
        let rec = serde_json::from_str(&raw).map_err(|e| corrupt("state machine", e))?;
        Ok((raw, rec))
    }

    /// Read-modify-write a record with retries on concurrent changes.
    async fn modify<T>(
        &self,
        name: &str,
        mut f: impl FnMut(&mut StateMachineRecord) -> Result<T, StoreError>,
    ) -> Result<(StateMachineRecord, T), StoreError> {
        for _ in 0..16 {
            let (raw, mut rec) = self.load(name).await?;
            let out = f(&mut rec)?;
            let next = serde_json::to_string(&rec).map_err(|e| corrupt("state machine", e))?;
            let mut c = self.conn.clone();
            let ok: i32 = script!(CAS)
                .key(self.sm_key(name))
                .arg(raw)
                .arg(next)
                .invoke_async(&mut c)
                .await
                .map_err(unavailable)?;
            if ok == 1 {
                return Ok((rec, out));
            }
        }
        Err(StoreError::Conflict(format!("state machine '{name}' is being changed concurrently; retry")))
    }

    fn revs_key(&self, state_machine_arn: &str) -> String {
        format!("{}revs:{state_machine_arn}", self.prefix)
    }

    /// Store a revision and index it under its machine (which a delete retires as a whole).
    async fn put_revision(&self, r: &Revision) -> Result<(), StoreError> {
        let mut c = self.conn.clone();
        let json = serde_json::to_string(r).map_err(|e| corrupt("revision", e))?;
        let index = self.revs_key(&r.state_machine_arn);
        // Two keys in two slots: the revision first, then its index entry.
        let _: () = c.set(format!("{}rev:{}", self.prefix, r.revision_id), json).await.map_err(unavailable)?;
        let _: () = redis::pipe()
            .sadd(&index, &r.revision_id)
            .ignore()
            // A machine made again under a deleted one's name keeps its index.
            .persist(&index)
            .ignore()
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

#[async_trait]
impl Registry for RedisRegistry {
    async fn create(&self, new: NewStateMachine) -> Result<StateMachineRecord, StoreError> {
        let revision = Revision {
            revision_id: uuid::Uuid::new_v4().to_string(),
            state_machine_arn: new.arn.clone(),
            definition: new.definition.clone(),
            kind: new.kind,
            logging: new.logging.clone(),
            tracing: new.tracing,
        };
        let rec = StateMachineRecord {
            name: new.name.clone(),
            arn: new.arn.clone(),
            current: revision.clone(),
            tags: new.tags.clone(),
            created_ms: new.now_ms,
            updated_ms: new.now_ms,
            versions: Vec::new(),
            aliases: Vec::new(),
            last_version: 0,
        };
        self.put_revision(&revision).await?;
        let mut c = self.conn.clone();
        let json = serde_json::to_string(&rec).map_err(|e| corrupt("state machine", e))?;
        let created: bool = redis::cmd("SET")
            .arg(self.sm_key(&new.name))
            .arg(json)
            .arg("NX")
            .query_async::<Option<String>>(&mut c)
            .await
            .map_err(unavailable)?
            .is_some();
        if !created {
            let (_, existing) = self.load(&new.name).await?;
            if existing.same_settings(&new) {
                return Ok(existing);
            }
            return Err(StoreError::AlreadyExists { what: format!("state machine '{}'", new.name) });
        }
        let _: () = c.zadd(format!("{}sms", self.prefix), &new.name, 0).await.map_err(unavailable)?;
        Ok(rec)
    }

    async fn update(&self, name: &str, u: StateMachineUpdate) -> Result<StateMachineRecord, StoreError> {
        let mut new_revision = None;
        let (rec, _) = self
            .modify(name, |rec| {
                let mut next = rec.current.clone();
                if let Some(d) = &u.definition {
                    next.definition = d.clone();
                }
                if let Some(l) = &u.logging {
                    next.logging = l.clone();
                }
                if let Some(t) = u.tracing {
                    next.tracing = t;
                }
                if next != rec.current {
                    next.revision_id = uuid::Uuid::new_v4().to_string();
                    rec.current = next.clone();
                    rec.updated_ms = u.now_ms;
                    new_revision = Some(next);
                } else {
                    new_revision = None;
                }
                Ok(())
            })
            .await?;
        if let Some(r) = new_revision {
            self.put_revision(&r).await?;
        }
        Ok(rec)
    }

    async fn get(&self, name: &str) -> Result<StateMachineRecord, StoreError> {
        Ok(self.load(name).await?.1)
    }

    async fn revision(&self, revision_id: &str) -> Result<Revision, StoreError> {
        let mut c = self.conn.clone();
        let raw: Option<String> = c.get(format!("{}rev:{revision_id}", self.prefix)).await.map_err(unavailable)?;
        let raw = raw.ok_or_else(|| StoreError::NotFound { what: format!("revision '{revision_id}'") })?;
        serde_json::from_str(&raw).map_err(|e| corrupt("revision", e))
    }

    async fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<StateMachineRecord>, StoreError> {
        let mut c = self.conn.clone();
        let min = match after {
            Some(a) => format!("({a}"),
            None => "-".to_string(),
        };
        let names: Vec<String> = redis::cmd("ZRANGEBYLEX")
            .arg(format!("{}sms", self.prefix))
            .arg(min)
            .arg("+")
            .arg("LIMIT")
            .arg(0)
            .arg(limit)
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        let mut out = Vec::with_capacity(names.len());
        for n in names {
            match self.load(&n).await {
                Ok((_, r)) => out.push(r),
                Err(StoreError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    async fn delete(&self, name: &str) -> Result<(), StoreError> {
        let mut c = self.conn.clone();
        let arn = self.partition.state_machine(name);
        let n: i32 = c.del(self.sm_key(name)).await.map_err(unavailable)?;
        let _: () = c.zrem(format!("{}sms", self.prefix), name).await.map_err(unavailable)?;
        if n == 0 {
            return Err(StoreError::NotFound { what: format!("state machine '{name}'") });
        }
        // Its revisions stay loadable for executions queued before the delete, then expire.
        let index = self.revs_key(&arn);
        let ids: Vec<String> = c.smembers(&index).await.map_err(unavailable)?;
        let keep = crate::memory::DELETED_REVISIONS_KEPT.as_millis() as i64;
        // One command per key: on a cluster they live in different slots (a rare step).
        for id in &ids {
            let _: () = c.pexpire(format!("{}rev:{id}", self.prefix), keep).await.map_err(unavailable)?;
        }
        let _: () = c.pexpire(&index, keep).await.map_err(unavailable)?;
        Ok(())
    }

    async fn publish_version(
        &self,
        name: &str,
        expect_revision: Option<&str>,
        description: &str,
    ) -> Result<Version, StoreError> {
        let now = crate::now_ms();
        let (_, v) =
            self.modify(name, |rec| rec.publish_version(&self.partition, expect_revision, description, now)).await?;
        Ok(v)
    }

    async fn version(&self, name: &str, number: u32) -> Result<Version, StoreError> {
        let rec = self.get(name).await?;
        rec.versions
            .into_iter()
            .find(|v| v.number == number)
            .ok_or_else(|| StoreError::NotFound { what: format!("version {number} of '{name}'") })
    }

    async fn create_alias(&self, state_machine: &str, alias: Alias) -> Result<Alias, StoreError> {
        let (_, a) = self.modify(state_machine, |rec| rec.add_alias(alias.clone())).await?;
        Ok(a)
    }

    async fn alias(&self, state_machine: &str, alias: &str) -> Result<Alias, StoreError> {
        let rec = self.get(state_machine).await?;
        rec.aliases
            .into_iter()
            .find(|a| a.name == alias)
            .ok_or_else(|| StoreError::NotFound { what: format!("alias '{alias}'") })
    }

    async fn change(&self, name: &str, change: MetadataChange) -> Result<StateMachineRecord, StoreError> {
        let (rec, ()) = self.modify(name, |rec| rec.apply(&change)).await?;
        Ok(rec)
    }
}

/// An execution record with its outcome (when there is one) applied.
fn with_outcome(record: &str, outcome: Option<&str>) -> Result<ExecutionRecord, StoreError> {
    let mut rec: ExecutionRecord = serde_json::from_str(record).map_err(|e| corrupt("execution", e))?;
    if let Some(out) = outcome {
        let f: Finished = serde_json::from_str(out).map_err(|e| corrupt("outcome", e))?;
        rec.status = f.status;
        rec.output = f.output;
        rec.error = f.error;
        rec.cause = f.cause;
        rec.stop_ms = Some(f.stop_ms);
    }
    Ok(rec)
}

/// The key of one kind (`ex`, `out`, `claim`…) for an execution, in its tag's slot.
pub fn execution_key(prefix: &str, kind: &str, arn: &str) -> String {
    format!("{prefix}{kind}:{{{}}}{arn}", execution_tag(arn))
}

/// Recent executions in Redis.
#[derive(Clone)]
pub struct RedisExecutions {
    conn: Timed,
    prefix: String,
    retention_ms: u64,
    wait_replicas: u32,
    wait_timeout: Duration,
}

const FORGET: &str = r#"
redis.call('DEL', KEYS[2])
local cur = redis.call('GET', KEYS[1])
if cur and string.sub(cur, -string.len(ARGV[1])) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"#;

/// The outcome once (SET NX) and, only then, the run's history; then the runner's lease goes.
const FINISH: &str = r#"
local first = 0
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  first = 1
  for i = 4, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
  if #ARGV >= 4 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
elseif redis.call('GET', KEYS[1]) == ARGV[1] then
  -- This very outcome: an earlier try whose answer timed out was applied.
  first = 1
end
if redis.call('GET', KEYS[3]) == ARGV[3] then redis.call('DEL', KEYS[3]) end
return first
"#;

/// The lease, and whether another owner ever claimed the execution before (the first owner is
/// kept for the retention period): 2 acquired and no one else ran it, 1 acquired after
/// another owner, 0 held by another.
const CLAIM: &str = r#"
local cur = redis.call('GET', KEYS[1])
if (not cur) or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  local ran = redis.call('GET', KEYS[2])
  if not ran then redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3]) end
  if (not ran) or ran == ARGV[1] then return 2 end
  return 1
end
return 0
"#;

const RELEASE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"#;

/// Add to `pipe`: set `key` to `value` for `px_ms` unless it is held, answering the holder's
/// value (none: the key is now ours).
fn take(pipe: &mut redis::Pipeline, key: &str, value: &str, px_ms: u64) {
    pipe.cmd("SET").arg(key).arg(value).arg("NX").arg("PX").arg(px_ms.max(1)).arg("GET");
}

impl RedisExecutions {
    pub fn new(conn: Conn, cfg: &RedisConfig) -> Self {
        RedisExecutions {
            conn: Timed(conn),
            prefix: cfg.prefix.clone(),
            retention_ms: cfg.retention.as_millis().max(1) as u64,
            wait_replicas: cfg.wait_replicas,
            wait_timeout: cfg.wait_timeout,
        }
    }

    /// Wait for the configured replicas to have what was written to `key`'s slot.
    async fn replicated(&self, key: &str) -> Result<(), StoreError> {
        let mut c = self.conn.clone();
        wait_for_replicas(&mut c, key, self.wait_replicas, self.wait_timeout).await
    }

    fn key(&self, kind: &str, arn: &str) -> String {
        execution_key(&self.prefix, kind, arn)
    }

    /// The dedupe key of an execution's name, in the slot of the execution's own keys.
    fn name_key(&self, rec: &ExecutionRecord) -> String {
        let tag = execution_tag(&rec.execution_arn);
        format!("{}name:{{{tag}}}{}:{}", self.prefix, rec.state_machine_arn, rec.name)
    }

    /// Whether an outcome is recorded (cheap check for redeliveries).
    pub async fn has_outcome(&self, execution_arn: &str) -> Result<bool, StoreError> {
        let mut c = self.conn.clone();
        c.exists(self.key("out", execution_arn)).await.map_err(unavailable)
    }
}

#[async_trait]
impl ExecutionStore for RedisExecutions {
    async fn start(&self, record: ExecutionRecord, dedupe_window: Duration) -> Result<Started, StoreError> {
        let mut c = self.conn.clone();
        let json = serde_json::to_string(&record).map_err(|e| corrupt("execution", e))?;
        let ex_key = self.key("ex", &record.execution_arn);
        if dedupe_window.is_zero() {
            let _: () = c.pset_ex(&ex_key, json, self.retention_ms).await.map_err(unavailable)?;
            self.replicated(&ex_key).await?;
            return Ok(Started::New(record));
        }
        // Take the name and write the record in one round trip. When the name was taken, the
        // record just written is for an ARN nobody has seen, and goes again at once.
        let name_key = self.name_key(&record);
        let mut pipe = redis::pipe();
        let name = format!("{} {}", record.input_hash, record.execution_arn);
        take(&mut pipe, &name_key, &name, dedupe_window.as_millis() as u64);
        let (holder, ()): (Option<String>, ()) =
            pipe.pset_ex(&ex_key, json, self.retention_ms).query_async(&mut c).await.map_err(unavailable)?;
        let Some(holder) = holder else {
            // The name is ours once a replica has it too: a start retried after a failover
            // must still meet it.
            self.replicated(&ex_key).await?;
            return Ok(Started::New(record));
        };
        let _: () = c.del(&ex_key).await.map_err(unavailable)?;
        let (hash, arn) = holder.split_once(' ').unwrap_or((holder.as_str(), ""));
        if hash != record.input_hash {
            return Err(StoreError::AlreadyExists { what: format!("execution '{}'", record.name) });
        }
        // The holder writes its record right after taking the name, possibly on another
        // connection: give that write a moment before answering from what the name says.
        // The name as found must survive a failover as well (its first taker may have failed
        // on its own wait and be retrying as this very call).
        self.replicated(&name_key).await?;
        for wait_ms in [0, 1, 5, 20] {
            tokio::time::sleep(Duration::from_millis(wait_ms)).await;
            match self.get(arn).await {
                Ok(r) => return Ok(Started::Existing(r)),
                Err(StoreError::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(Started::Existing(ExecutionRecord { execution_arn: arn.to_string(), ..record }))
    }

    async fn get(&self, execution_arn: &str) -> Result<ExecutionRecord, StoreError> {
        let mut c = self.conn.clone();
        let (rec, out): (Option<String>, Option<String>) = redis::pipe()
            .get(self.key("ex", execution_arn))
            .get(self.key("out", execution_arn))
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        let rec = rec.ok_or_else(|| StoreError::NotFound { what: format!("execution '{execution_arn}'") })?;
        with_outcome(&rec, out.as_deref())
    }

    async fn forget(&self, execution_arn: &str) -> Result<(), StoreError> {
        let rec = match self.get(execution_arn).await {
            Ok(r) => r,
            Err(StoreError::NotFound { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut c = self.conn.clone();
        let _: i32 = script!(FORGET)
            .key(self.name_key(&rec))
            .key(self.key("ex", execution_arn))
            .arg(execution_arn)
            .invoke_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn finish(&self, execution_arn: &str, outcome: Finished) -> Result<bool, StoreError> {
        let mut c = self.conn.clone();
        let json = serde_json::to_string(&outcome).map_err(|e| corrupt("outcome", e))?;
        let set: Option<String> = redis::cmd("SET")
            .arg(self.key("out", execution_arn))
            .arg(json)
            .arg("NX")
            .arg("PX")
            .arg(self.retention_ms)
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        if set.is_some() {
            self.replicated(&self.key("out", execution_arn)).await?;
        }
        Ok(set.is_some())
    }

    async fn finish_with_history(
        &self,
        execution_arn: &str,
        outcome: Finished,
        history: Vec<HistoryEvent>,
        owner: &str,
    ) -> Result<bool, StoreError> {
        let mut c = self.conn.clone();
        let outcome = serde_json::to_string(&outcome).map_err(|e| corrupt("outcome", e))?;
        if history.is_empty() {
            // The first outcome wins; the lease goes either way. Dropping it without looking
            // whose it is is safe here: an outcome now exists, and `begin` answers with it
            // before it looks at any lease.
            let mut pipe = redis::pipe();
            take(&mut pipe, &self.key("out", execution_arn), &outcome, self.retention_ms);
            let (earlier, ()): (Option<String>, ()) =
                pipe.del(self.key("claim", execution_arn)).query_async(&mut c).await.map_err(unavailable)?;
            // The same outcome already there is this one: an earlier try whose answer timed
            // out (Redis paused, say) was applied, and the caller must still publish it.
            let first = earlier.is_none_or(|e| e == outcome);
            if first {
                self.replicated(&self.key("out", execution_arn)).await?;
            }
            return Ok(first);
        }
        let mut script = script!(FINISH).prepare_invoke();
        script
            .key(self.key("out", execution_arn))
            .key(self.key("hist", execution_arn))
            .key(self.key("claim", execution_arn))
            .arg(outcome)
            .arg(self.retention_ms)
            .arg(owner);
        for e in &history {
            script.arg(serde_json::to_string(e).map_err(|e| corrupt("event", e))?);
        }
        let ok: i32 = script.invoke_async(&mut c).await.map_err(unavailable)?;
        if ok == 1 {
            // Before the worker may commit the start's offset: a retry finds this same
            // outcome and waits again.
            self.replicated(&self.key("out", execution_arn)).await?;
        }
        Ok(ok == 1)
    }

    async fn append_history(&self, execution_arn: &str, events: Vec<HistoryEvent>) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let key = self.key("hist", execution_arn);
        let mut pipe = redis::pipe();
        for e in &events {
            pipe.rpush(&key, serde_json::to_string(e).map_err(|e| corrupt("event", e))?).ignore();
        }
        pipe.pexpire(&key, self.retention_ms as i64).ignore();
        let mut c = self.conn.clone();
        let _: () = pipe.query_async(&mut c).await.map_err(unavailable)?;
        Ok(())
    }

    async fn history(&self, execution_arn: &str) -> Result<Vec<HistoryEvent>, StoreError> {
        let mut c = self.conn.clone();
        let raw: Vec<String> = c.lrange(self.key("hist", execution_arn), 0, -1).await.map_err(unavailable)?;
        raw.iter().map(|r| serde_json::from_str(r).map_err(|e| corrupt("event", e))).collect()
    }

    async fn begin(&self, execution_arn: &str, owner: &str, lease: Duration) -> Result<Begin, StoreError> {
        let mut c = self.conn.clone();
        let claim_key = self.key("claim", execution_arn);
        // In this order: the lease first, then the outcome. A previous holder records its
        // outcome before it lets go of the lease, so a lease that was free means any outcome
        // is already visible to the read after it.
        let mut pipe = redis::pipe();
        take(&mut pipe, &claim_key, owner, lease.as_millis() as u64);
        pipe.get(self.key("out", execution_arn)).exists(self.key("ex", execution_arn));
        take(&mut pipe, &self.key("ran", execution_arn), owner, self.retention_ms);
        let (holder, outcome, exists, first_owner): (Option<String>, Option<String>, bool, Option<String>) =
            pipe.query_async(&mut c).await.map_err(unavailable)?;
        if !exists {
            return Err(StoreError::NotFound { what: format!("execution '{execution_arn}'") });
        }
        if let Some(outcome) = outcome {
            // A redelivery of a finished execution: give back the lease just taken, if any.
            let mut pipe = redis::pipe();
            pipe.get(self.key("ex", execution_arn));
            if holder.is_none() {
                pipe.del(&claim_key).ignore();
            }
            let (record,): (Option<String>,) = pipe.query_async(&mut c).await.map_err(unavailable)?;
            let record = record.ok_or_else(|| StoreError::NotFound { what: format!("execution '{execution_arn}'") })?;
            return Ok(Begin::Finished(Box::new(with_outcome(&record, Some(&outcome))?)));
        }
        let ours_already = match holder.as_deref() {
            None => false,
            Some(h) if h == owner => true,
            Some(_) => return Ok(Begin::Busy),
        };
        // A retried begin found the lease ours already: extend it, as taking it would have.
        if ours_already && !self.claim(execution_arn, owner, lease).await?.acquired() {
            return Ok(Begin::Busy);
        }
        if first_owner.as_deref().is_none_or(|o| o == owner) {
            return Ok(Begin::Acquired { attempt: 1 });
        }
        // Another owner ran it before and did not finish: count this takeover (a retried
        // begin of the same takeover is not a new one).
        let tries_key = self.key("tries", execution_arn);
        let (tries,): (u32,) = if ours_already {
            let (t,): (Option<u32>,) = redis::pipe().get(&tries_key).query_async(&mut c).await.map_err(unavailable)?;
            (t.unwrap_or(1),)
        } else {
            redis::pipe()
                .incr(&tries_key, 1)
                .pexpire(&tries_key, self.retention_ms as i64)
                .ignore()
                .query_async(&mut c)
                .await
                .map_err(unavailable)?
        };
        Ok(Begin::Acquired { attempt: tries.max(1) + 1 })
    }

    async fn claim(&self, execution_arn: &str, owner: &str, lease: Duration) -> Result<Claim, StoreError> {
        let mut c = self.conn.clone();
        let code: i32 = script!(CLAIM)
            .key(self.key("claim", execution_arn))
            .key(self.key("ran", execution_arn))
            .arg(owner)
            .arg(lease.as_millis().max(1) as u64)
            .arg(self.retention_ms)
            .invoke_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(match code {
            2 => Claim::Acquired { first: true },
            1 => Claim::Acquired { first: false },
            _ => Claim::Busy,
        })
    }

    async fn release(&self, execution_arn: &str, owner: &str) -> Result<(), StoreError> {
        let mut c = self.conn.clone();
        let _: i32 = script!(RELEASE)
            .key(self.key("claim", execution_arn))
            .arg(owner)
            .invoke_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn journal_get(&self, execution_arn: &str, key: &str) -> Result<Option<String>, StoreError> {
        let mut c = self.conn.clone();
        c.hget(self.key("journal", execution_arn), key).await.map_err(unavailable)
    }

    async fn journal_put(&self, execution_arn: &str, key: &str, value: &str) -> Result<(), StoreError> {
        let k = self.key("journal", execution_arn);
        let mut c = self.conn.clone();
        let _: () = redis::pipe()
            .hset(&k, key, value)
            .ignore()
            .pexpire(&k, self.retention_ms as i64)
            .ignore()
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_execution_and_its_name_share_a_tag() {
        let p = crate::arn::Partition::default();
        let a = p.express_execution("orders", "order-1", "u1");
        let b = p.express_execution("orders", "order-1", "u2");
        assert_eq!(execution_tag(&a), "arn:aws:states:us-east-1:000000000000:express:orders:order-1");
        assert_eq!(execution_tag(&a), execution_tag(&b), "every run under one name meets its dedupe key");
        assert_ne!(execution_tag(&a), execution_tag(&p.express_execution("orders", "order-2", "u1")));
        assert_eq!(execution_tag("arn:1"), "arn:1", "anything else is its own tag");
        assert_eq!(execution_key("xw:", "ex", &a), format!("xw:ex:{{{}}}{a}", execution_tag(&a)));
    }
}
