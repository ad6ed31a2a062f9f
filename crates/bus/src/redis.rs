//! The results stream and reply routing on Redis, for the distributed mode.
//!
//! - [`RedisResults`] keeps the results stream in a Redis stream, `{prefix}results`. Entries
//!   carry contiguous positions (1, 2, 3…; the entry id is `0-{position}`), assigned atomically
//!   with the append, so a subscriber can resume from any position and is told exactly how many
//!   messages it missed. Entries older than the retention period are trimmed. Each process runs
//!   one tailer that, while anyone subscribes, reads new entries once and fans them out to its
//!   local subscribers through a bounded broadcast: a slow subscriber falls behind (and is told
//!   so, with the position to resume from), it never stalls the others.
//! - [`RedisReplies`] routes the outcome of a synchronous call to the one frontend that waits
//!   for it: each frontend listens on its own channel `{prefix}reply:{id}`, and workers publish
//!   there. Pub/sub is not durable, so callers also look at the execution store now and then.
//!
//! On a Redis Cluster the stream's keys carry one hash tag (`{prefix}{results}`,
//! `{prefix}{results}:clock`), so the trim script's two keys share a slot, and the channels
//! are **sharded** (`SSUBSCRIBE`/`SPUBLISH`, Redis 7): a message goes only to the primary
//! (and replicas) of its channel's slot, rather than to every node as a plain `PUBLISH`
//! does on a cluster, so reply traffic spreads over the shards with the frontends' channels.
//! The cluster client renews a subscription on whichever node serves its slot after a
//! reconnect or a failover; what is published meanwhile is lost, as on one server.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use redis::streams::{StreamId, StreamRangeReply, StreamReadReply};
use tokio::sync::{broadcast, oneshot};

use expressway_store::redis::{Conn, RedisConfig};

use crate::retry::Backoff;
use crate::{
    BusError, Delivered, OutcomeMessage, Receipt, ReplyRouter, ResultMessage, ResultsHub, Subscription, Waiting,
};

/// A script's text hashed once (redis-rs hashes it on every `Script::new`).
macro_rules! script {
    ($text:ident) => {{
        static SCRIPT: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| redis::Script::new($text));
        &*SCRIPT
    }};
}

fn unavailable(e: redis::RedisError) -> BusError {
    BusError::Unavailable(format!("redis: {e}"))
}

fn store_unavailable(e: expressway_store::StoreError) -> BusError {
    BusError::Unavailable(format!("redis: {e}"))
}

/// Trims what is older than the retention period, once a second per appending process. A
/// sorted set maps append times (one a second) to the positions reached by then, which is
/// what trimming by age needs.
const TRIM: &str = r#"
local now = tonumber(ARGV[1])
redis.call('ZADD', KEYS[2], now, ARGV[3])
local cutoff = now - tonumber(ARGV[2])
local old = redis.call('ZREVRANGEBYSCORE', KEYS[2], cutoff, '-inf', 'LIMIT', 0, 1)
if old[1] then
  redis.call('XTRIM', KEYS[1], 'MINID', '0-' .. (tonumber(old[1]) + 1))
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cutoff)
end
return 0
"#;

fn entry_position(id: &str) -> Option<u64> {
    id.strip_prefix("0-")?.parse().ok()
}

fn decode(entry: &StreamId) -> Option<(u64, Arc<ResultMessage>)> {
    let position = entry_position(&entry.id)?;
    let raw: Vec<u8> = entry.get("m")?;
    match serde_json::from_slice::<ResultMessage>(&raw) {
        Ok(m) => Some((position, Arc::new(m))),
        Err(e) => {
            tracing::warn!(position, error = %e, "unreadable entry in the results stream; skipped");
            None
        }
    }
}

/// Settings of the Redis results stream.
#[derive(Debug, Clone)]
pub struct RedisResultsConfig {
    /// The server, key prefix and retention (how long entries are kept for resuming
    /// subscribers).
    pub redis: RedisConfig,
    /// How far a live subscriber may fall behind before it skips messages.
    pub subscriber_buffer: usize,
}

struct Shared {
    conn: Conn,
    stream: String,
    clock: String,
    /// When this process last trimmed (ms since the epoch).
    trimmed_ms: std::sync::atomic::AtomicU64,
    retention: Duration,
    buffer: usize,
    tx: broadcast::Sender<(u64, Arc<ResultMessage>)>,
}

impl Shared {
    /// Up to `count` entries from `from` on.
    async fn range(&self, from: u64, count: usize) -> Result<Vec<(u64, Arc<ResultMessage>)>, BusError> {
        let mut c = self.conn.clone();
        let reply: StreamRangeReply = redis::cmd("XRANGE")
            .arg(&self.stream)
            .arg(format!("0-{from}"))
            .arg("+")
            .arg("COUNT")
            .arg(count)
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(reply.ids.iter().filter_map(decode).collect())
    }

    /// Append, retrying with backoff for as long as Redis refuses: whoever calls it holds what
    /// depends on the append (receipts, offset commits) until it is done.
    async fn append_until_stored(&self, messages: &[Vec<u8>]) -> u64 {
        let mut backoff = Backoff::default();
        loop {
            match self.append(messages).await {
                Ok(last) => return last,
                Err(e) => {
                    tracing::warn!(error = %e, messages = messages.len(), "results not appended yet; retrying");
                    backoff.wait().await;
                }
            }
        }
    }

    /// Append in order at the next contiguous positions: `XADD {stream} 0-*` takes the next
    /// sequence number of the stream's id atomically, so appenders on any number of
    /// processes interleave without a script (the ids are `0-1`, `0-2`…).
    async fn append(&self, messages: &[Vec<u8>]) -> Result<u64, BusError> {
        if messages.is_empty() {
            return Ok(0);
        }
        let mut pipe = redis::pipe();
        for m in messages {
            pipe.cmd("XADD").arg(&self.stream).arg("0-*").arg("m").arg(m.as_slice());
        }
        let mut c = self.conn.clone();
        let ids: Vec<String> = pipe.query_async(&mut c).await.map_err(unavailable)?;
        let last = ids.last().and_then(|id| entry_position(id)).unwrap_or(0);
        let now = expressway_store::now_ms() as u64;
        let since = now.saturating_sub(self.trimmed_ms.load(std::sync::atomic::Ordering::Relaxed));
        if since >= 1000 {
            self.trimmed_ms.store(now, std::sync::atomic::Ordering::Relaxed);
            let trimmed: Result<i64, _> = script!(TRIM)
                .key(&self.stream)
                .key(&self.clock)
                .arg(now)
                .arg(self.retention.as_millis() as u64)
                .arg(last)
                .invoke_async(&mut c)
                .await;
            if let Err(e) = trimmed {
                // The next append a second later trims instead.
                tracing::warn!(error = %e, "results stream not trimmed");
            }
        }
        Ok(last)
    }

    /// The oldest retained position and the newest appended one (0 when none).
    async fn bounds(&self) -> Result<(Option<u64>, u64), BusError> {
        let mut c = self.conn.clone();
        let (first, info): (StreamRangeReply, redis::Value) = redis::pipe()
            .cmd("XRANGE")
            .arg(&self.stream)
            .arg("-")
            .arg("+")
            .arg("COUNT")
            .arg(1)
            .cmd("XINFO")
            .arg("STREAM")
            .arg(&self.stream)
            .ignore_errors()
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok((first.ids.first().and_then(|e| entry_position(&e.id)), last_generated(&info)))
    }
}

/// The position of the newest entry ever appended, from `XINFO STREAM` (0 for a stream that
/// does not exist yet).
fn last_generated(info: &redis::Value) -> u64 {
    let redis::Value::Array(fields) = info else { return 0 };
    let mut it = fields.iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        if matches!(k, redis::Value::BulkString(b) if b == b"last-generated-id") {
            if let redis::Value::BulkString(id) = v {
                return entry_position(&String::from_utf8_lossy(id)).unwrap_or(0);
            }
        }
    }
    0
}

/// The results stream in Redis: appended to by the results service, read by any process.
pub struct RedisResults {
    shared: Arc<Shared>,
    tailer: tokio::task::JoinHandle<()>,
    /// Messages published directly, appended one batch at a time so they keep their order.
    appender: std::sync::OnceLock<tokio::sync::mpsc::UnboundedSender<(Vec<u8>, tokio::sync::watch::Sender<bool>)>>,
}

/// Append what `publish` queued, in order, as much at once as is waiting; a batch that Redis
/// refuses is tried again (the messages after it wait behind it).
async fn append_in_order(
    shared: Arc<Shared>,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<(Vec<u8>, tokio::sync::watch::Sender<bool>)>,
) {
    let mut queued = Vec::new();
    while rx.recv_many(&mut queued, 512).await > 0 {
        let (messages, receipts): (Vec<Vec<u8>>, Vec<_>) = queued.drain(..).unzip();
        shared.append_until_stored(&messages).await;
        for done in receipts {
            let _ = done.send(true);
        }
    }
}

impl RedisResults {
    /// Connect and start following the stream.
    pub async fn connect(cfg: &RedisResultsConfig) -> Result<Self, BusError> {
        let conn = cfg.redis.connect().await.map_err(store_unavailable)?;
        let (tx, _) = broadcast::channel(cfg.subscriber_buffer.max(1));
        let prefix = &cfg.redis.prefix;
        let shared = Arc::new(Shared {
            conn,
            // One hash tag: the trim script's two keys share a slot on a cluster.
            stream: format!("{prefix}{{results}}"),
            clock: format!("{prefix}{{results}}:clock"),
            trimmed_ms: std::sync::atomic::AtomicU64::new(0),
            retention: cfg.redis.retention,
            buffer: cfg.subscriber_buffer.max(1),
            tx,
        });
        let (_, last) = shared.bounds().await?;
        let tailer = tokio::spawn(tail(cfg.redis.clone(), shared.clone(), last));
        Ok(RedisResults { shared, tailer, appender: std::sync::OnceLock::new() })
    }

    /// Append serialized [`ResultMessage`]s in order; returns the last position assigned.
    pub async fn append(&self, messages: &[Vec<u8>]) -> Result<u64, BusError> {
        self.shared.append(messages).await
    }

    /// [`RedisResults::append`], retried with backoff until Redis takes it.
    pub async fn append_until_stored(&self, messages: &[Vec<u8>]) -> u64 {
        self.shared.append_until_stored(messages).await
    }

    /// Subscribers currently following this process's tailer.
    pub fn subscribers(&self) -> usize {
        self.shared.tx.receiver_count()
    }
}

impl Drop for RedisResults {
    fn drop(&mut self) {
        self.tailer.abort();
    }
}

/// Read every new entry once and broadcast it to this process's subscribers.
async fn tail(redis: RedisConfig, shared: Arc<Shared>, mut last: u64) {
    // XREAD blocks: it gets a connection of its own, with a timeout longer than the block.
    let mut conn: Option<Conn> = None;
    let mut backoff = Backoff::default();
    // A read never fills more than half a subscriber's buffer, so one that keeps up never lags.
    let batch = (shared.buffer / 2).clamp(1, 1024);
    loop {
        if shared.tx.receiver_count() == 0 {
            // Nobody follows the stream here: skip ahead instead of reading what nobody wants.
            // Only to an end seen before anyone subscribed: a subscriber takes its starting
            // point after it subscribes, so it never starts before where the reads resume.
            if let Ok((_, newest)) = shared.bounds().await {
                if shared.tx.receiver_count() == 0 {
                    last = newest;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        let c = match &mut conn {
            Some(c) => c,
            None => match redis.connect_with_timeout(Duration::from_secs(5)).await {
                Ok(c) => conn.insert(c),
                Err(e) => {
                    tracing::warn!(error = %e, "results stream: cannot connect to redis; retrying");
                    backoff.wait().await;
                    continue;
                }
            },
        };
        let read: Result<Option<StreamReadReply>, _> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(batch)
            .arg("BLOCK")
            .arg(1000)
            .arg("STREAMS")
            .arg(&shared.stream)
            .arg(format!("0-{last}"))
            .query_async(c)
            .await;
        match read {
            Ok(reply) => {
                backoff.reset();
                for key in reply.map(|r| r.keys).unwrap_or_default() {
                    for entry in &key.ids {
                        if let Some(p) = entry_position(&entry.id) {
                            last = last.max(p);
                        }
                        if let Some(item) = decode(entry) {
                            // No subscribers is fine: entries stay in Redis for those who come later.
                            let _ = shared.tx.send(item);
                        }
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "results stream: read failed; retrying");
                conn = None;
                backoff.wait().await;
            }
        }
    }
}

impl ResultsHub for RedisResults {
    /// Results reach Redis through the results service; a direct publish appends in the background.
    fn publish(&self, message: ResultMessage) -> Receipt {
        let Some(raw) = crate::encode_result(&message) else { return Receipt::done() };
        let (done, receipt) = tokio::sync::watch::channel(false);
        let appender = self.appender.get_or_init(|| {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            tokio::spawn(append_in_order(self.shared.clone(), rx));
            tx
        });
        if appender.send((raw, done)).is_err() {
            tracing::warn!(execution_arn = %message.execution_arn(), "the results stream is closed; a result was not appended");
        }
        Receipt::pending(receipt)
    }

    fn subscribe(&self, from: Option<u64>) -> Box<dyn Subscription> {
        let rx = self.shared.tx.subscribe();
        Box::new(RedisSubscription {
            shared: self.shared.clone(),
            rx,
            backlog: VecDeque::new(),
            expect: from.unwrap_or(0).max(1),
            catching_up: from.is_some(),
            check_retention: from.is_some(),
            live_from_now: from.is_none(),
        })
    }
}

/// How many buffers' worth a live subscriber may be behind the newest entry and still catch
/// up from Redis; beyond, it skips to the last buffer's worth.
const LAG_TOLERANCE: usize = 4;

struct RedisSubscription {
    shared: Arc<Shared>,
    rx: broadcast::Receiver<(u64, Arc<ResultMessage>)>,
    backlog: VecDeque<(u64, Arc<ResultMessage>)>,
    /// The next position this subscriber should see.
    expect: u64,
    /// Reading retained entries from Redis (a resume, or filling a gap) rather than live ones.
    catching_up: bool,
    /// A resume first says what is no longer retained.
    check_retention: bool,
    /// A live subscription starts at the stream's end as of its first read.
    live_from_now: bool,
}

fn stream_ended(e: BusError) -> Option<Delivered> {
    tracing::warn!(error = %e, "results stream unavailable; the subscription ends");
    None
}

#[async_trait]
impl Subscription for RedisSubscription {
    async fn next(&mut self) -> Option<Delivered> {
        if std::mem::take(&mut self.live_from_now) {
            match self.shared.bounds().await {
                Ok((_, newest)) => self.expect = newest + 1,
                Err(e) => return stream_ended(e),
            }
        }
        loop {
            if let Some((position, message)) = self.backlog.pop_front() {
                self.expect = position + 1;
                return Some(Delivered::Message { position, message });
            }
            if self.catching_up {
                if std::mem::take(&mut self.check_retention) {
                    let (oldest, last) = match self.shared.bounds().await {
                        Ok(b) => b,
                        Err(e) => return stream_ended(e),
                    };
                    // Positions before the oldest retained one are gone: say how many.
                    let available = oldest.unwrap_or(last + 1);
                    if self.expect < available {
                        let skipped = available - self.expect;
                        self.expect = available;
                        return Some(Delivered::FellBehind { skipped, resume_from: available });
                    }
                }
                match self.shared.range(self.expect, 512).await {
                    Ok(page) if page.is_empty() => self.catching_up = false,
                    Ok(page) => self.backlog.extend(page),
                    Err(e) => return stream_ended(e),
                }
                continue;
            }
            match self.rx.recv().await {
                // Already read from the retained entries.
                Ok((position, _)) if position < self.expect => continue,
                // The tailer started after this subscriber's last read: fill in from Redis.
                Ok((position, _)) if position > self.expect => self.catching_up = true,
                Ok((position, message)) => {
                    self.expect = position + 1;
                    return Some(Delivered::Message { position, message });
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // A burst outran this subscriber. What it missed is retained: read it from
                    // Redis, unless it is so far behind that it must skip (and be told so).
                    let newest = match self.shared.bounds().await {
                        Ok((_, newest)) => newest,
                        Err(e) => return stream_ended(e),
                    };
                    self.catching_up = true;
                    let limit = (self.shared.buffer * LAG_TOLERANCE) as u64;
                    if newest + 1 > self.expect + limit {
                        let resume_from = self.expect;
                        self.expect = newest + 1 - self.shared.buffer as u64;
                        return Some(Delivered::FellBehind { skipped: self.expect - resume_from, resume_from });
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

/// Routed replies for synchronous calls: this frontend's channel, and publishing to others'.
pub struct RedisReplies {
    conn: Conn,
    channel: String,
    /// `SPUBLISH` on a cluster, `PUBLISH` on one server.
    publish: &'static str,
    waiting: Arc<Waiting>,
    _listener: Listener,
}

impl RedisReplies {
    /// Listen on a channel of this process's own; returns once the subscription is active.
    pub async fn start(cfg: &RedisConfig) -> Result<Self, BusError> {
        let conn = cfg.connect().await.map_err(store_unavailable)?;
        let channel = format!("{}reply:{}", cfg.prefix, uuid::Uuid::new_v4().simple());
        let waiting = Arc::new(Waiting::default());
        // Replies lost while disconnected: their callers find the outcomes in the store.
        let deliver = {
            let (waiting, channel) = (waiting.clone(), channel.clone());
            move |payload: &[u8]| match serde_json::from_slice::<OutcomeMessage>(payload) {
                Ok(outcome) => waiting.deliver(outcome),
                Err(e) => tracing::warn!(%channel, error = %e, "unreadable reply; ignored"),
            }
        };
        let listener = Listener::start(cfg, &channel, deliver).await?;
        Ok(RedisReplies { conn, channel, publish: publish_command(cfg), waiting, _listener: listener })
    }

    /// Callers still waiting (a leak check for tests).
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// A worker-side router: it only publishes replies, it receives none.
    pub async fn sender(cfg: &RedisConfig) -> Result<Self, BusError> {
        let conn = cfg.connect().await.map_err(store_unavailable)?;
        Ok(RedisReplies {
            conn,
            channel: String::new(),
            publish: publish_command(cfg),
            waiting: Arc::default(),
            _listener: Listener::None,
        })
    }
}

fn publish_command(cfg: &RedisConfig) -> &'static str {
    if cfg.is_cluster() {
        "SPUBLISH"
    } else {
        "PUBLISH"
    }
}

/// What keeps a subscription alive: a task that follows a single server's channel, or a
/// cluster connection subscribed to a sharded channel (its pushes go to a callback).
enum Listener {
    None,
    Task(tokio::task::JoinHandle<()>),
    Cluster(#[allow(dead_code)] redis::cluster_async::ClusterConnection),
}

impl Listener {
    /// Subscribe to `channel` and hand each message to `on_message`; returns once the
    /// subscription is active.
    async fn start(
        cfg: &RedisConfig,
        channel: &str,
        on_message: impl Fn(&[u8]) + Send + Sync + 'static,
    ) -> Result<Listener, BusError> {
        if cfg.is_cluster() {
            let expected = channel.as_bytes().to_vec();
            let push = move |info: redis::PushInfo| {
                if info.kind == redis::PushKind::SMessage {
                    if let [redis::Value::BulkString(ch), redis::Value::BulkString(payload)] = info.data.as_slice() {
                        if *ch == expected {
                            on_message(payload);
                        }
                    }
                }
                Ok::<(), std::convert::Infallible>(())
            };
            let client = cfg.cluster_subscriber(push).map_err(store_unavailable)?;
            let mut conn = client.get_async_connection().await.map_err(unavailable)?;
            conn.ssubscribe(channel).await.map_err(unavailable)?;
            return Ok(Listener::Cluster(conn));
        }
        let client = cfg.client().map_err(store_unavailable)?;
        let mut pubsub = client.get_async_pubsub().await.map_err(unavailable)?;
        pubsub.subscribe(channel).await.map_err(unavailable)?;
        Ok(Listener::Task(tokio::spawn(listen(client, pubsub, channel.to_string(), on_message))))
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Listener::Task(t) = self {
            t.abort();
        }
    }
}

/// Hand every message of `channel` to `on_message`, resubscribing when the connection drops.
async fn listen(
    client: redis::Client,
    mut pubsub: redis::aio::PubSub,
    channel: String,
    on_message: impl Fn(&[u8]) + Send + 'static,
) {
    loop {
        {
            let mut messages = pubsub.on_message();
            while let Some(msg) = messages.next().await {
                on_message(msg.get_payload_bytes());
            }
        }
        // The connection dropped: messages sent meanwhile are lost (each user of a channel
        // says what covers for that).
        tracing::warn!(%channel, "channel disconnected; resubscribing");
        let mut backoff = Backoff::default();
        pubsub = loop {
            match client.get_async_pubsub().await {
                Ok(mut p) => match p.subscribe(&channel).await {
                    Ok(()) => break p,
                    Err(e) => tracing::warn!(%channel, error = %e, "cannot resubscribe"),
                },
                Err(e) => tracing::warn!(%channel, error = %e, "cannot reconnect"),
            }
            backoff.wait().await;
        };
    }
}

#[async_trait]
impl ReplyRouter for RedisReplies {
    fn address(&self) -> String {
        self.channel.clone()
    }

    fn expect(&self, execution_arn: &str) -> oneshot::Receiver<OutcomeMessage> {
        self.waiting.expect(execution_arn)
    }

    fn cancel(&self, execution_arn: &str) {
        self.waiting.cancel(execution_arn);
    }

    async fn reply(&self, reply_to: &str, outcome: OutcomeMessage) -> Result<(), BusError> {
        if reply_to.is_empty() {
            return Ok(());
        }
        let payload = serde_json::to_vec(&outcome).map_err(|e| BusError::Unavailable(e.to_string()))?;
        let mut c = self.conn.clone();
        let receivers: i64 =
            redis::cmd(self.publish).arg(reply_to).arg(payload).query_async(&mut c).await.map_err(unavailable)?;
        if receivers == 0 {
            tracing::debug!(%reply_to, execution_arn = %outcome.execution_arn, "no frontend listens for this reply");
        }
        Ok(())
    }
}

/// StopExecution's signal to every worker, on one Redis pub/sub channel (`{prefix}stops`).
/// A stop sent while a worker's subscription is down does not reach it: that run goes on to
/// its end, and its outcome loses to the ABORTED one already recorded.
pub struct RedisStops {
    conn: Conn,
    channel: String,
    publish: &'static str,
    tx: tokio::sync::broadcast::Sender<String>,
    _listener: Listener,
}

impl RedisStops {
    /// Subscribe; returns once the subscription is active.
    pub async fn start(cfg: &RedisConfig) -> Result<Self, BusError> {
        let conn = cfg.connect().await.map_err(store_unavailable)?;
        let channel = format!("{}stops", cfg.prefix);
        let (tx, _) = tokio::sync::broadcast::channel(1024);
        let forward = {
            let tx = tx.clone();
            move |payload: &[u8]| {
                let _ = tx.send(String::from_utf8_lossy(payload).into_owned());
            }
        };
        let listener = Listener::start(cfg, &channel, forward).await?;
        Ok(RedisStops { conn, channel, publish: publish_command(cfg), tx, _listener: listener })
    }

    /// A frontend's side: it only sends stops.
    pub async fn sender(cfg: &RedisConfig) -> Result<Self, BusError> {
        let conn = cfg.connect().await.map_err(store_unavailable)?;
        let (tx, _) = tokio::sync::broadcast::channel(1);
        Ok(RedisStops {
            conn,
            channel: format!("{}stops", cfg.prefix),
            publish: publish_command(cfg),
            tx,
            _listener: Listener::None,
        })
    }
}

#[async_trait]
impl crate::Stops for RedisStops {
    async fn send(&self, execution_arn: &str) -> Result<(), BusError> {
        let mut c = self.conn.clone();
        let _: i64 = redis::cmd(self.publish)
            .arg(&self.channel)
            .arg(execution_arn)
            .query_async(&mut c)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    fn listen(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.tx.subscribe()
    }
}
