//! The results stream and reply routing on Redis, for the distributed mode.
//!
//! - [`RedisResults`] keeps the results stream in Redis streams. Entries carry positions (1,
//!   2, 3…; the entry id is `0-{position}`) that every process reads in the same order, so a
//!   subscriber can resume from any position on any process and is told exactly how many
//!   messages it missed. Entries older than the retention period are trimmed. Each process runs
//!   one tailer that, while anyone subscribes, reads new entries once and fans them out to its
//!   local subscribers through a bounded broadcast: a slow subscriber falls behind (and is told
//!   so, with the position to resume from), it never stalls the others.
//! - [`RedisReplies`] routes the outcome of a synchronous call to the one frontend that waits
//!   for it: each frontend listens on its own channel `{prefix}reply:{id}`, and workers publish
//!   there. Pub/sub is not durable, so callers also look at the execution store now and then.
//!
//! **One shard** (the default on a single server): one stream, `{prefix}{results}`, whose
//! `XADD … 0-*` takes the next position atomically, so appenders on any number of processes
//! interleave and the positions stay contiguous.
//!
//! **Several shards** (the default on a cluster): *S* streams in slots spread over the
//! cluster (see [`shard_keys`]). Positions come from one counter, `{prefix}{results}:next`: an
//! appender takes a batch's positions with one `INCRBY` and writes the batch with explicit ids
//! to one shard, atomically (a script), preferring shard `first mod S`. Explicit ids fence: a
//! shard refuses an id at or below its last one, so a batch goes to another shard that is still
//! below it, and when every shard is past it the appender takes new positions. A reader merges
//! the shards by position (`Merge`). A position is *settled* once every shard's last id is at
//! or past it: no shard can take it any more, so a reader that has read every shard that far
//! knows whether it holds a message. A reader that waits for a position while later ones are
//! there (its writer died between `INCRBY` and the write, or is slow) closes it after a grace
//! period: it writes a tombstone, just below the next position it has seen, to every shard
//! still below that. The position is then settled, empty, on every process, and every process
//! emits the same sequence. Trimming keeps one clock and a marker of the last trimmed position
//! (`{prefix}{results}:clock`, `:trimmed`), and trims every shard to it.
//!
//! The counter, the clock, the marker and the number of shards (`{prefix}{results}:shards`,
//! recorded by the first process, checked by every other) share the hash tag `{results}`, so
//! the scripts that touch several of them stay in one slot. The channels are **sharded** on a
//! cluster (`SSUBSCRIBE`/`SPUBLISH`, Redis 7): a message goes only to the primary (and
//! replicas) of its channel's slot, rather than to every node as a plain `PUBLISH` does on a
//! cluster, so reply traffic spreads over the shards with the frontends' channels. The cluster
//! client renews a subscription on whichever node serves its slot after a reconnect or a
//! failover; what is published meanwhile is lost, as on one server.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::stream::FuturesUnordered;
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

/// Records the append time of a position (one a second per appending process) and answers the
/// position below which entries are older than the retention period. The marker only grows, and
/// is written before any shard is trimmed: a reader that finds it at or past a position knows
/// that position is gone, whichever shards are trimmed already.
const TRIM_CLOCK: &str = r#"
local now = tonumber(ARGV[1])
redis.call('ZADD', KEYS[1], now, ARGV[3])
local cutoff = now - tonumber(ARGV[2])
local cut = tonumber(redis.call('GET', KEYS[2]) or '0')
local old = redis.call('ZREVRANGEBYSCORE', KEYS[1], cutoff, '-inf', 'LIMIT', 0, 1)
if old[1] then
  local reached = tonumber(old[1])
  if reached > cut then
    cut = reached
    redis.call('SET', KEYS[2], cut)
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cutoff)
end
return cut
"#;

/// A batch at explicit positions `ARGV[1]`… on one shard, all or nothing: 0 (and nothing
/// written) when the shard is already at or past the first of them.
const APPEND_AT: &str = r#"
local first = tonumber(ARGV[1])
local r = redis.pcall('XADD', KEYS[1], '0-' .. first, 'm', ARGV[2])
if type(r) == 'table' and r.err then
  if string.find(r.err, 'equal or smaller', 1, true) then return 0 end
  return redis.error_reply(r.err)
end
for i = 3, #ARGV do redis.call('XADD', KEYS[1], '0-' .. (first + i - 2), 'm', ARGV[i]) end
return 1
"#;

/// The number of shards, recorded by the first process (`ARGV[1]`); answers the recorded one.
/// A layout made where another was (its key deleted to change the number) continues the
/// positions after the highest one either layout reached, and marks those before as trimmed,
/// so subscribers resuming from before the change are told they fell behind.
/// KEYS: the record, the counter, the trim marker, the single stream.
const LAYOUT: &str = r#"
local cur = redis.call('GET', KEYS[1])
if cur then return tonumber(cur) end
redis.call('SET', KEYS[1], ARGV[1])
local counter = tonumber(redis.call('GET', KEYS[2]) or '0')
local single = 0
if redis.call('EXISTS', KEYS[4]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[4])
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then single = tonumber(string.match(info[i + 1], '%-(%d+)$')) end
  end
end
local reached = math.max(counter, single)
if tonumber(ARGV[1]) > 1 then
  redis.call('SET', KEYS[2], reached)
elseif counter > single then
  redis.call('XADD', KEYS[4], '0-' .. counter, 't', '')
end
if reached > 0 and (counter > 0 or tonumber(ARGV[1]) > 1) then
  local trimmed = tonumber(redis.call('GET', KEYS[3]) or '0')
  if reached > trimmed then redis.call('SET', KEYS[3], reached) end
end
return tonumber(ARGV[1])
"#;

/// The hash slot of a key's tag (CRC16/XMODEM of the tag, modulo 16384), as Redis Cluster
/// computes it.
fn slot(tag: &str) -> u16 {
    let mut crc: u16 = 0;
    for &b in tag.as_bytes() {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc % 16384
}

/// The keys of the results stream's shards: `{prefix}{results}` for one shard; for *S*, one
/// stream per *S*-th of the 16384 slots, `{prefix}{results:i}` or, when that tag hashes
/// outside the *i*-th range, `{prefix}{results:i:n}` with the smallest `n` that lands in it.
/// A cluster's primaries usually serve contiguous slot ranges of equal size (as `redis-cli
/// --cluster create` makes them), so *S* shards spread evenly over *S* primaries (or over
/// divisors of *S*) instead of landing where their names happen to hash.
pub fn shard_keys(prefix: &str, shards: usize) -> Vec<String> {
    if shards <= 1 {
        return vec![format!("{prefix}{{results}}")];
    }
    (0..shards)
        .map(|i| {
            let range = (i * 16384 / shards) as u16..((i + 1) * 16384 / shards) as u16;
            let tag = std::iter::once(format!("results:{i}"))
                .chain((1..).map(|n| format!("results:{i}:{n}")))
                .find(|t| range.contains(&slot(t)))
                .unwrap_or_default();
            format!("{prefix}{{{tag}}}")
        })
        .collect()
}

/// What an entry holds: a message, or nothing (a tombstone that closed its position, or an
/// entry no process can read; every process skips it alike).
type Entry = Option<Arc<ResultMessage>>;

fn entry_position(id: &str) -> Option<u64> {
    id.strip_prefix("0-")?.parse().ok()
}

fn decode(entry: &StreamId) -> Option<(u64, Entry)> {
    let position = entry_position(&entry.id)?;
    let Some(raw) = entry.get::<Vec<u8>>("m") else { return Some((position, None)) };
    match serde_json::from_slice::<ResultMessage>(&raw) {
        Ok(m) => Some((position, Some(Arc::new(m)))),
        Err(e) => {
            tracing::warn!(position, error = %e, "unreadable entry in the results stream; skipped");
            Some((position, None))
        }
    }
}

/// The shards merged into one sequence by position. Every shard is read in id order; a
/// position is emitted once every position before it is either emitted or settled empty.
struct Merge {
    /// The next position to emit.
    next: u64,
    /// For each shard, how far it has been read: it holds nothing unread at or below this.
    known: Vec<u64>,
    /// Read but not emitted yet, by position.
    pending: BTreeMap<u64, Entry>,
}

impl Merge {
    fn new(next: u64, known: Vec<u64>) -> Self {
        Merge { next, known, pending: BTreeMap::new() }
    }

    /// Entries read from `shard` in id order; it holds nothing else up to `known`.
    fn add(&mut self, shard: usize, entries: impl IntoIterator<Item = (u64, Entry)>, known: u64) {
        for (position, entry) in entries {
            if position < self.next {
                continue;
            }
            // A tombstone and the message it raced with may share a position (on two shards):
            // the message wins. Two messages never do (positions are handed out once), except
            // a batch written again after a lost answer: the same messages.
            let slot = self.pending.entry(position).or_insert(None);
            if slot.is_none() {
                *slot = entry;
            }
        }
        self.known[shard] = self.known[shard].max(known);
    }

    /// Positions at or below this can no longer be written by anyone.
    fn settled(&self) -> u64 {
        self.known.iter().copied().min().unwrap_or(0)
    }

    /// The next message, skipping positions settled empty; `None` when the next position is
    /// not settled yet.
    fn pop(&mut self) -> Option<(u64, Arc<ResultMessage>)> {
        loop {
            let settled = self.settled();
            let first = self.pending.first_key_value().map(|(p, e)| (*p, e.is_some()));
            match first {
                Some((p, true)) if p == self.next => {
                    let (_, message) = self.pending.pop_first()?;
                    self.next += 1;
                    return Some((p, message?));
                }
                Some((p, false)) if p == self.next && p <= settled => {
                    self.pending.pop_first();
                    self.next += 1;
                }
                Some((p, _)) if p < self.next => {
                    self.pending.pop_first();
                }
                _ if self.next <= settled => {
                    let held = first.map_or(u64::MAX, |(p, _)| p);
                    self.next = held.min(settled + 1).max(self.next + 1);
                }
                _ => return None,
            }
        }
    }

    /// Where a tombstone closes the position this merge waits for, when later positions are
    /// there already: just below the next one held (or at it, when it is itself a tombstone).
    fn hole(&self) -> Option<u64> {
        let (&p, _) = self.pending.range(self.next..).next()?;
        Some(if p == self.next { p } else { p - 1 })
    }

    /// The shards that have not been read up to `at`.
    fn behind(&self, at: u64) -> Vec<usize> {
        (0..self.known.len()).filter(|&s| self.known[s] < at).collect()
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
    /// Streams the results are spread over (1: one stream, contiguous positions). Every
    /// process of a deployment must use the same number.
    pub shards: usize,
    /// How long a reader waits for a missing position, while later ones are there, before it
    /// closes it with a tombstone.
    pub gap_grace: Duration,
}

impl RedisResultsConfig {
    /// One shard on a single server, [`DEFAULT_CLUSTER_SHARDS`] on a cluster.
    pub fn new(redis: RedisConfig, subscriber_buffer: usize) -> Self {
        let shards = if redis.is_cluster() { DEFAULT_CLUSTER_SHARDS } else { 1 };
        RedisResultsConfig { redis, subscriber_buffer, shards, gap_grace: DEFAULT_GAP_GRACE }
    }
}

/// Shards of the results stream on a Redis Cluster unless configured: one per primary of the
/// smallest cluster with replicas (three primaries).
pub const DEFAULT_CLUSTER_SHARDS: usize = 3;

/// How long readers wait for a missing position before closing it: far longer than an append
/// takes (a position is missing that long only when its writer stopped or Redis paused), short
/// enough that subscribers are not held up long when a writer dies.
pub const DEFAULT_GAP_GRACE: Duration = Duration::from_secs(1);

/// The most shards a results stream may have.
pub const MAX_SHARDS: usize = 256;

/// The keys of the results stream.
struct Keys {
    shards: Vec<String>,
    /// Append times to positions, for trimming by age.
    clock: String,
    /// The last trimmed position.
    trimmed: String,
    /// The last position handed out (several shards).
    next: String,
    /// The number of shards, as recorded by the first process.
    layout: String,
    /// The stream of the one-shard layout (where a change of layout continues from).
    single: String,
}

impl Keys {
    fn new(prefix: &str, shards: usize) -> Self {
        Keys {
            shards: shard_keys(prefix, shards),
            clock: format!("{prefix}{{results}}:clock"),
            trimmed: format!("{prefix}{{results}}:trimmed"),
            next: format!("{prefix}{{results}}:next"),
            layout: format!("{prefix}{{results}}:shards"),
            single: format!("{prefix}{{results}}"),
        }
    }
}

struct Shared {
    conn: Conn,
    keys: Keys,
    /// When this process last trimmed (ms since the epoch).
    trimmed_ms: AtomicU64,
    retention: Duration,
    buffer: usize,
    gap_grace: Duration,
    /// `WAIT` after each append (see [`RedisConfig::wait_replicas`]).
    wait_replicas: u32,
    wait_timeout: Duration,
    tx: broadcast::Sender<(u64, Arc<ResultMessage>)>,
}

/// The last id each shard ever took, and the highest of them.
struct Bounds {
    tops: Vec<u64>,
    newest: u64,
}

impl Shared {
    fn sharded(&self) -> bool {
        self.keys.shards.len() > 1
    }

    /// Check the number of shards against the one recorded in Redis (recording it first).
    async fn check_layout(&self) -> Result<(), BusError> {
        let mut c = self.conn.clone();
        let recorded: u64 = script!(LAYOUT)
            .key(&self.keys.layout)
            .key(&self.keys.next)
            .key(&self.keys.trimmed)
            .key(&self.keys.single)
            .arg(self.keys.shards.len())
            .invoke_async(&mut c)
            .await
            .map_err(unavailable)?;
        if recorded != self.keys.shards.len() as u64 {
            return Err(BusError::Invalid(format!(
                "the results stream in redis has {recorded} shards ({}), this process is set to {}: every process \
                 must use the same results.stream_shards (to change it, stop every process and delete that key)",
                self.keys.layout,
                self.keys.shards.len()
            )));
        }
        Ok(())
    }

    /// From `next` on, up to `count` entries of each shard merged; and the last trimmed
    /// position, read after the entries (a shard trimmed before they were read has it set).
    async fn read_from(&self, next: u64, count: usize) -> Result<(Merge, u64), BusError> {
        let reads = self.keys.shards.iter().map(|key| {
            let mut c = self.conn.clone();
            async move {
                // The last id first: every entry up to it is in the range read after it.
                let (info, range): (redis::Value, StreamRangeReply) = redis::pipe()
                    .cmd("XINFO")
                    .arg("STREAM")
                    .arg(key)
                    .cmd("XRANGE")
                    .arg(key)
                    .arg(format!("0-{next}"))
                    .arg("+")
                    .arg("COUNT")
                    .arg(count)
                    .ignore_errors()
                    .query_async(&mut c)
                    .await
                    .map_err(unavailable)?;
                let entries: Vec<(u64, Entry)> = range.ids.iter().filter_map(decode).collect();
                let last_read = entries.last().map_or(0, |(p, _)| *p);
                let known = if entries.len() >= count { last_read } else { last_generated(&info).max(last_read) };
                Ok::<_, BusError>((entries, known))
            }
        });
        let shards = futures::future::try_join_all(reads).await?;
        let mut merge = Merge::new(next, vec![0; shards.len()]);
        for (shard, (entries, known)) in shards.into_iter().enumerate() {
            merge.add(shard, entries, known);
        }
        let mut c = self.conn.clone();
        let trimmed: Option<u64> =
            redis::cmd("GET").arg(&self.keys.trimmed).query_async(&mut c).await.map_err(unavailable)?;
        Ok((merge, trimmed.unwrap_or(0)))
    }

    /// Close a position nobody wrote: a tombstone at `at` on each shard in `shards` (a shard
    /// already past it refuses it, which is as good).
    async fn close(&self, at: u64, shards: &[usize]) {
        tracing::warn!(
            position = at,
            shards = shards.len(),
            "results stream: a position was not written in time (its writer stopped or is slow); closing it"
        );
        expressway_telemetry::metrics::count(expressway_telemetry::metrics::RESULTS_POSITIONS_CLOSED);
        let mut c = self.conn.clone();
        for &s in shards {
            let written: Result<String, _> = redis::cmd("XADD")
                .arg(&self.keys.shards[s])
                .arg(format!("0-{at}"))
                .arg("t")
                .arg("")
                .query_async(&mut c)
                .await;
            if let Err(e) = written {
                if !e.to_string().contains("equal or smaller") {
                    tracing::warn!(position = at, error = %e, "results stream: tombstone not written; retried later");
                }
            }
        }
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

    /// Append in order; returns the last position taken.
    async fn append(&self, messages: &[Vec<u8>]) -> Result<u64, BusError> {
        if messages.is_empty() {
            return Ok(0);
        }
        let (last, shard) = if self.sharded() {
            self.append_sharded(messages).await?
        } else {
            (self.append_single(messages).await?, 0)
        };
        // Before the results service commits its offsets: an append a failover would lose is
        // a failed one, appended again.
        let mut c = self.conn.clone();
        expressway_store::redis::wait_for_replicas(
            &mut c,
            &self.keys.shards[shard],
            self.wait_replicas,
            self.wait_timeout,
        )
        .await
        .map_err(store_unavailable)?;
        self.trim(last).await;
        Ok(last)
    }

    /// One stream: `XADD {stream} 0-*` takes the next sequence number of the stream's id
    /// atomically, so appenders on any number of processes interleave without a script (the
    /// ids are `0-1`, `0-2`…).
    async fn append_single(&self, messages: &[Vec<u8>]) -> Result<u64, BusError> {
        let mut pipe = redis::pipe();
        for m in messages {
            pipe.cmd("XADD").arg(&self.keys.shards[0]).arg("0-*").arg("m").arg(m.as_slice());
        }
        let mut c = self.conn.clone();
        let ids: Vec<String> = pipe.query_async(&mut c).await.map_err(unavailable)?;
        Ok(ids.last().and_then(|id| entry_position(id)).unwrap_or(0))
    }

    /// Several shards: positions from the counter, the batch on the first shard still below
    /// them. A write that fails is not retried at the same positions (it may have been
    /// applied): the next attempt takes new ones, and readers close the old ones if empty.
    async fn append_sharded(&self, messages: &[Vec<u8>]) -> Result<(u64, usize), BusError> {
        let mut c = self.conn.clone();
        let n = messages.len() as u64;
        let last: u64 =
            redis::cmd("INCRBY").arg(&self.keys.next).arg(n).query_async(&mut c).await.map_err(unavailable)?;
        let first = last + 1 - n;
        let count = self.keys.shards.len() as u64;
        for k in 0..count {
            let shard = ((first + k) % count) as usize;
            let mut script = script!(APPEND_AT).prepare_invoke();
            script.key(&self.keys.shards[shard]).arg(first);
            for m in messages {
                script.arg(m.as_slice());
            }
            let written: i64 = script.invoke_async(&mut c).await.map_err(unavailable)?;
            if written == 1 {
                return Ok((last, shard));
            }
        }
        Err(BusError::Unavailable(format!(
            "results positions {first}-{last} were closed by readers before they were written; taking new ones"
        )))
    }

    /// Trim what is older than the retention period, once a second per appending process.
    async fn trim(&self, last: u64) {
        let now = expressway_store::now_ms() as u64;
        if now.saturating_sub(self.trimmed_ms.load(Ordering::Relaxed)) < 1000 {
            return;
        }
        self.trimmed_ms.store(now, Ordering::Relaxed);
        let mut c = self.conn.clone();
        let cut: Result<u64, _> = script!(TRIM_CLOCK)
            .key(&self.keys.clock)
            .key(&self.keys.trimmed)
            .arg(now)
            .arg(self.retention.as_millis() as u64)
            .arg(last)
            .invoke_async(&mut c)
            .await;
        let cut = match cut {
            Ok(0) => return,
            Ok(cut) => cut,
            Err(e) => {
                // The next append a second later trims instead.
                tracing::warn!(error = %e, "results stream not trimmed");
                return;
            }
        };
        for key in &self.keys.shards {
            let trimmed: Result<u64, _> =
                redis::cmd("XTRIM").arg(key).arg("MINID").arg(format!("0-{}", cut + 1)).query_async(&mut c).await;
            if let Err(e) = trimmed {
                tracing::warn!(stream = %key, error = %e, "results stream shard not trimmed");
            }
        }
    }

    /// The last id each shard took (0 for a shard that does not exist yet).
    async fn bounds(&self) -> Result<Bounds, BusError> {
        let reads = self.keys.shards.iter().map(|key| {
            let mut c = self.conn.clone();
            async move {
                let (info,): (redis::Value,) = redis::pipe()
                    .cmd("XINFO")
                    .arg("STREAM")
                    .arg(key)
                    .ignore_errors()
                    .query_async(&mut c)
                    .await
                    .map_err(unavailable)?;
                Ok::<_, BusError>(last_generated(&info))
            }
        });
        let tops = futures::future::try_join_all(reads).await?;
        let newest = tops.iter().copied().max().unwrap_or(0);
        Ok(Bounds { tops, newest })
    }
}

/// The position of the newest entry ever appended, from `XINFO STREAM` (0 for a stream that
/// does not exist yet).
fn last_generated(info: &redis::Value) -> u64 {
    let fields = match info {
        redis::Value::Array(fields) => fields.as_slice(),
        _ => return 0,
    };
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
    /// Connect, check (or record) the number of shards, and start following the stream.
    pub async fn connect(cfg: &RedisResultsConfig) -> Result<Self, BusError> {
        if !(1..=MAX_SHARDS).contains(&cfg.shards) {
            return Err(BusError::Invalid(format!(
                "results stream shards must be 1 to {MAX_SHARDS}, got {}",
                cfg.shards
            )));
        }
        let conn = cfg.redis.connect().await.map_err(store_unavailable)?;
        let (tx, _) = broadcast::channel(cfg.subscriber_buffer.max(1));
        let shared = Arc::new(Shared {
            conn,
            keys: Keys::new(&cfg.redis.prefix, cfg.shards),
            trimmed_ms: AtomicU64::new(0),
            retention: cfg.redis.retention,
            buffer: cfg.subscriber_buffer.max(1),
            gap_grace: cfg.gap_grace,
            wait_replicas: cfg.redis.wait_replicas,
            wait_timeout: cfg.redis.wait_timeout,
            tx,
        });
        shared.check_layout().await?;
        let bounds = shared.bounds().await?;
        let tailer = tokio::spawn(tail(cfg.redis.clone(), shared.clone(), bounds));
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

    /// The keys of the stream's shards.
    pub fn shard_keys(&self) -> &[String] {
        &self.shared.keys.shards
    }
}

impl Drop for RedisResults {
    fn drop(&mut self) {
        self.tailer.abort();
    }
}

/// One blocking read of a shard, on a connection of its own (connected first when it has none,
/// and dropped when the read fails).
async fn read_shard(
    redis: RedisConfig,
    shard: usize,
    key: String,
    conn: Option<Conn>,
    after: u64,
    count: usize,
) -> (usize, Option<Conn>, Result<Vec<(u64, Entry)>, String>) {
    let mut conn = match conn {
        Some(c) => c,
        // XREAD blocks: a timeout longer than the block.
        None => match redis.connect_with_timeout(Duration::from_secs(5)).await {
            Ok(c) => c,
            Err(e) => {
                tokio::time::sleep(Duration::from_millis(500)).await;
                return (shard, None, Err(format!("cannot connect: {e}")));
            }
        },
    };
    let read: Result<Option<StreamReadReply>, _> = redis::cmd("XREAD")
        .arg("COUNT")
        .arg(count)
        .arg("BLOCK")
        .arg(1000)
        .arg("STREAMS")
        .arg(&key)
        .arg(format!("0-{after}"))
        .query_async(&mut conn)
        .await;
    match read {
        Ok(reply) => {
            let entries = reply
                .map(|r| r.keys)
                .unwrap_or_default()
                .iter()
                .flat_map(|k| k.ids.iter().filter_map(decode))
                .collect();
            (shard, Some(conn), Ok(entries))
        }
        Err(e) => {
            tokio::time::sleep(Duration::from_millis(500)).await;
            (shard, None, Err(e.to_string()))
        }
    }
}

/// Read every new entry once, merge the shards, and broadcast each message to this process's
/// subscribers; close a position that stays missing past the grace period.
async fn tail(redis: RedisConfig, shared: Arc<Shared>, start: Bounds) {
    let shards = shared.keys.shards.len();
    let mut merge = Merge::new(start.newest + 1, start.tops.clone());
    let mut cursors = start.tops;
    let mut conns: Vec<Option<Conn>> = vec![None; shards];
    let mut reading = vec![false; shards];
    let mut reads = FuturesUnordered::new();
    // The position waited for, and since when.
    let mut waiting: Option<(u64, Instant)> = None;
    // A read never fills more than half a subscriber's buffer, so one that keeps up never lags.
    let batch = (shared.buffer / 2).clamp(1, 1024);
    loop {
        if shared.tx.receiver_count() == 0 {
            // Nobody follows the stream here: skip ahead instead of reading what nobody wants.
            // Only to an end seen before anyone subscribed: a subscriber takes its starting
            // point after it subscribes, so it never starts before where the reads resume.
            while let Some((shard, conn, _)) = reads.next().await {
                conns[shard] = conn;
                reading[shard] = false;
            }
            if let Ok(b) = shared.bounds().await {
                if shared.tx.receiver_count() == 0 {
                    merge = Merge::new(b.newest + 1, b.tops.clone());
                    cursors = b.tops;
                    waiting = None;
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        for shard in 0..shards {
            if !reading[shard] {
                reading[shard] = true;
                let key = shared.keys.shards[shard].clone();
                reads.push(read_shard(redis.clone(), shard, key, conns[shard].take(), cursors[shard], batch));
            }
        }
        let done = tokio::select! {
            done = reads.next() => done,
            // A missing position is looked at even while no shard has anything new.
            _ = tokio::time::sleep(Duration::from_millis(100)) => None,
        };
        if let Some((shard, conn, read)) = done {
            conns[shard] = conn;
            reading[shard] = false;
            match read {
                Ok(entries) => {
                    if let Some((last, _)) = entries.last() {
                        cursors[shard] = *last;
                    }
                    merge.add(shard, entries, cursors[shard]);
                }
                Err(e) => {
                    tracing::warn!(stream = %shared.keys.shards[shard], error = %e, "results stream: read failed; retrying")
                }
            }
        }
        while let Some(item) = merge.pop() {
            // No subscribers is fine: entries stay in Redis for those who come later.
            let _ = shared.tx.send(item);
        }
        match merge.hole() {
            None => waiting = None,
            Some(at) => {
                let since = match waiting {
                    Some((p, since)) if p == merge.next => since,
                    _ => {
                        let now = Instant::now();
                        waiting = Some((merge.next, now));
                        now
                    }
                };
                if since.elapsed() >= shared.gap_grace {
                    shared.close(at, &merge.behind(at)).await;
                    waiting = None;
                }
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
            live_from_now: from.is_none(),
            waiting: None,
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
    /// A live subscription starts at the stream's end as of its first read.
    live_from_now: bool,
    /// While catching up: the missing position it waits for, and since when.
    waiting: Option<(u64, Instant)>,
}

fn stream_ended(e: BusError) -> Option<Delivered> {
    tracing::warn!(error = %e, "results stream unavailable; the subscription ends");
    None
}

impl RedisSubscription {
    /// Read a page of retained entries from `expect` on into the backlog. `Ok(None)`: read on
    /// (something was read, or `expect` moved past empty positions, or a missing one is
    /// waited for); `Ok(Some(notice))`: positions were trimmed; `Err` on a failed read; and
    /// `catching_up` turns false once nothing more is retained.
    async fn catch_up(&mut self) -> Result<Option<Delivered>, BusError> {
        let (mut merge, trimmed) = self.shared.read_from(self.expect, 512).await?;
        if trimmed >= self.expect {
            // Positions up to the marker are gone (or going): say how many.
            let resume_from = trimmed + 1;
            let skipped = resume_from - self.expect;
            self.expect = resume_from;
            self.waiting = None;
            return Ok(Some(Delivered::FellBehind { skipped, resume_from }));
        }
        let before = self.backlog.len();
        while let Some(item) = merge.pop() {
            self.backlog.push_back(item);
        }
        if self.backlog.len() > before || merge.next > self.expect {
            if self.backlog.len() == before {
                // Only empty positions: step over them.
                self.expect = merge.next;
            }
            self.waiting = None;
            return Ok(None);
        }
        match merge.hole() {
            None => self.catching_up = false,
            Some(at) => {
                // A missing position with later ones there: wait for it, then close it.
                let since = match self.waiting {
                    Some((p, since)) if p == self.expect => since,
                    _ => {
                        let now = Instant::now();
                        self.waiting = Some((self.expect, now));
                        now
                    }
                };
                if since.elapsed() >= self.shared.gap_grace {
                    self.shared.close(at, &merge.behind(at)).await;
                    self.waiting = None;
                } else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        Ok(None)
    }
}

#[async_trait]
impl Subscription for RedisSubscription {
    async fn next(&mut self) -> Option<Delivered> {
        if std::mem::take(&mut self.live_from_now) {
            match self.shared.bounds().await {
                Ok(b) => self.expect = b.newest + 1,
                Err(e) => return stream_ended(e),
            }
        }
        loop {
            if let Some((position, message)) = self.backlog.pop_front() {
                self.expect = position + 1;
                return Some(Delivered::Message { position, message });
            }
            if self.catching_up {
                match self.catch_up().await {
                    Ok(Some(notice)) => return Some(notice),
                    Ok(None) => continue,
                    Err(e) => return stream_ended(e),
                }
            }
            match self.rx.recv().await {
                // Already read from the retained entries.
                Ok((position, _)) if position < self.expect => continue,
                // Empty positions the tailer stepped over, or a tailer that started after
                // this subscriber's last read: fill in from Redis.
                Ok((position, _)) if position > self.expect => self.catching_up = true,
                Ok((position, message)) => {
                    self.expect = position + 1;
                    return Some(Delivered::Message { position, message });
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // A burst outran this subscriber. What it missed is retained: read it from
                    // Redis, unless it is so far behind that it must skip (and be told so).
                    let newest = match self.shared.bounds().await {
                        Ok(b) => b.newest,
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
            let mut conn = cfg.connect_cluster_client(client).await.map_err(store_unavailable)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn message(i: u64) -> Entry {
        Some(Arc::new(ResultMessage::Outcome(OutcomeMessage {
            execution_arn: format!("arn:e{i}"),
            execution_name: format!("e{i}"),
            state_machine_arn: "arn:sm".into(),
            status: expressway_store::ExecutionStatus::Succeeded,
            input: None,
            output: None,
            error: None,
            cause: None,
            start_ms: 0,
            stop_ms: 0,
        })))
    }

    fn drain(merge: &mut Merge) -> Vec<u64> {
        std::iter::from_fn(|| merge.pop().map(|(p, _)| p)).collect()
    }

    #[test]
    fn slots_are_computed_as_redis_cluster_computes_them() {
        // `redis-cli cluster keyslot …`
        assert_eq!(slot("foo"), 12182);
        assert_eq!(slot("123456789"), 0x31c3, "the CRC16/XMODEM check value");
        assert_eq!(slot(""), 0);
    }

    #[test]
    fn shards_take_one_slot_range_each() {
        assert_eq!(shard_keys("xw:", 1), vec!["xw:{results}"]);
        let keys = shard_keys("xw:", 3);
        assert_eq!(keys.len(), 3);
        for (i, key) in keys.iter().enumerate() {
            let tag = key.strip_prefix("xw:{").and_then(|k| k.strip_suffix('}')).expect(key);
            assert!(tag.starts_with(&format!("results:{i}")), "{key}");
            let range = (i * 16384 / 3) as u16..((i + 1) * 16384 / 3) as u16;
            assert!(range.contains(&slot(tag)), "{key} in slot {}", slot(tag));
        }
        assert_eq!(shard_keys("xw:", 8).iter().collect::<std::collections::HashSet<_>>().len(), 8);
    }

    #[test]
    fn contiguous_positions_go_out_at_once_from_any_shard() {
        let mut merge = Merge::new(1, vec![0, 0, 0]);
        merge.add(1, (6..=8).map(|p| (p, message(p))), 8);
        assert_eq!(drain(&mut merge), Vec::<u64>::new(), "1-5 are not there yet");
        merge.add(0, (1..=5).map(|p| (p, message(p))), 5);
        assert_eq!(drain(&mut merge), vec![1, 2, 3, 4, 5, 6, 7, 8], "shard 2 never written: not needed");
        assert_eq!(merge.hole(), None);
    }

    #[test]
    fn a_missing_position_waits_until_every_shard_is_past_it() {
        let mut merge = Merge::new(1, vec![0, 0, 0]);
        merge.add(0, [(1, message(1)), (2, message(2))], 2);
        merge.add(1, [(5, message(5))], 5);
        assert_eq!(drain(&mut merge), vec![1, 2]);
        // 3 and 4 are missing while 5 is there: closed just below 5, on the shards behind it.
        assert_eq!(merge.hole(), Some(4));
        assert_eq!(merge.behind(4), vec![0, 2]);
        merge.add(0, [(4, None)], 4);
        assert_eq!(drain(&mut merge), Vec::<u64>::new(), "shard 2 might still take 3 or 4");
        // The message that raced with the tombstone, written to shard 2 before it: it counts.
        merge.add(2, [(3, message(3)), (4, None)], 4);
        assert_eq!(drain(&mut merge), vec![3, 5], "4 was never written: skipped");
        assert_eq!(merge.next, 6);
    }

    #[test]
    fn a_message_wins_over_a_tombstone_at_its_position() {
        let mut merge = Merge::new(1, vec![0, 0]);
        merge.add(0, [(1, None)], 1);
        assert_eq!(merge.hole(), Some(1), "a tombstone alone does not settle its position");
        merge.add(1, [(1, message(1))], 1);
        assert_eq!(drain(&mut merge), vec![1]);
    }

    #[test]
    fn positions_settled_empty_are_stepped_over_in_one_go() {
        let mut merge = Merge::new(10, vec![45, 50]);
        merge.add(1, [(45, message(45))], 50);
        assert_eq!(drain(&mut merge), vec![45]);
        assert_eq!(merge.next, 46);
        merge.add(0, [], 60);
        assert_eq!(drain(&mut merge), Vec::<u64>::new());
        assert_eq!(merge.next, 51, "everything up to the slowest shard is settled");
    }
}
