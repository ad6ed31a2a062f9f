//! In-memory stores for the embedded mode and tests. Bounded: finished executions are kept
//! for a retention period and up to a maximum count.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::now_ms;

use async_trait::async_trait;
use dashmap::DashMap;
use expressway_asl::HistoryEvent;

use crate::arn::Partition;
use crate::model::*;
use crate::{Begin, Claim, ExecutionStore, Registry, Started, StoreError};

fn new_revision_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn not_found(what: impl Into<String>) -> StoreError {
    StoreError::NotFound { what: what.into() }
}

/// The registry held in memory.
#[derive(Debug, Default)]
pub struct MemoryRegistry {
    partition: Partition,
    machines: Mutex<BTreeMap<String, StateMachineRecord>>,
    /// Every revision ever made: running executions may still need a replaced one.
    revisions: DashMap<String, Revision>,
    /// Revisions of deleted state machines, freed once executions queued before the delete
    /// have had time to load them (when, revision ids).
    retired: Mutex<VecDeque<(i64, Vec<String>)>>,
}

/// How long a deleted state machine's revisions stay loadable: longer than an Express
/// execution (5 minutes) plus a generous wait in the queue.
pub const DELETED_REVISIONS_KEPT: Duration = Duration::from_secs(15 * 60);

impl MemoryRegistry {
    pub fn new(partition: Partition) -> Self {
        MemoryRegistry { partition, ..Default::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, StateMachineRecord>> {
        self.machines.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Free the revisions of machines deleted long enough ago.
    fn purge(&self, now: i64) {
        let mut retired = self.retired.lock().unwrap_or_else(|p| p.into_inner());
        while retired.front().is_some_and(|(due, _)| *due <= now) {
            if let Some((_, ids)) = retired.pop_front() {
                for id in ids {
                    self.revisions.remove(&id);
                }
            }
        }
    }

    /// Revisions held now (a check for tests).
    pub fn revision_count(&self) -> usize {
        self.revisions.len()
    }

    /// Free what deletions retired up to `now` (for tests; the registry does it as it goes).
    pub fn purge_until(&self, now_ms: i64) {
        self.purge(now_ms)
    }
}

#[async_trait]
impl Registry for MemoryRegistry {
    async fn create(&self, new: NewStateMachine) -> Result<StateMachineRecord, StoreError> {
        self.purge(now_ms());
        let mut m = self.lock();
        if let Some(existing) = m.get(&new.name) {
            // AWS: creating the same machine again with identical settings is idempotent.
            if existing.same_settings(&new) {
                return Ok(existing.clone());
            }
            return Err(StoreError::AlreadyExists { what: format!("state machine '{}'", new.name) });
        }
        let revision = Revision {
            revision_id: new_revision_id(),
            state_machine_arn: new.arn.clone(),
            definition: new.definition,
            kind: new.kind,
            logging: new.logging,
            tracing: new.tracing,
        };
        self.revisions.insert(revision.revision_id.clone(), revision.clone());
        let rec = StateMachineRecord {
            name: new.name.clone(),
            arn: new.arn,
            current: revision,
            tags: new.tags,
            created_ms: new.now_ms,
            updated_ms: new.now_ms,
            versions: Vec::new(),
            aliases: Vec::new(),
            last_version: 0,
        };
        m.insert(new.name, rec.clone());
        Ok(rec)
    }

    async fn update(&self, name: &str, u: StateMachineUpdate) -> Result<StateMachineRecord, StoreError> {
        let mut m = self.lock();
        let rec = m.get_mut(name).ok_or_else(|| not_found(format!("state machine '{name}'")))?;
        let mut next = rec.current.clone();
        if let Some(d) = u.definition {
            next.definition = d;
        }
        if let Some(l) = u.logging {
            next.logging = l;
        }
        if let Some(t) = u.tracing {
            next.tracing = t;
        }
        if next != rec.current {
            next.revision_id = new_revision_id();
            self.revisions.insert(next.revision_id.clone(), next.clone());
            rec.current = next;
            rec.updated_ms = u.now_ms;
        }
        Ok(rec.clone())
    }

    async fn get(&self, name: &str) -> Result<StateMachineRecord, StoreError> {
        self.lock().get(name).cloned().ok_or_else(|| not_found(format!("state machine '{name}'")))
    }

    async fn revision(&self, revision_id: &str) -> Result<Revision, StoreError> {
        self.revisions.get(revision_id).map(|r| r.clone()).ok_or_else(|| not_found(format!("revision '{revision_id}'")))
    }

    async fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<StateMachineRecord>, StoreError> {
        let m = self.lock();
        let iter: Box<dyn Iterator<Item = &StateMachineRecord>> = match after {
            Some(a) => {
                Box::new(m.range::<str, _>((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded)).map(|(_, v)| v))
            }
            None => Box::new(m.values()),
        };
        Ok(iter.take(limit).cloned().collect())
    }

    async fn delete(&self, name: &str) -> Result<(), StoreError> {
        let now = now_ms();
        self.purge(now);
        let rec = self.lock().remove(name).ok_or_else(|| not_found(format!("state machine '{name}'")))?;
        let ids: Vec<String> =
            self.revisions.iter().filter(|r| r.state_machine_arn == rec.arn).map(|r| r.key().clone()).collect();
        let due = now + DELETED_REVISIONS_KEPT.as_millis() as i64;
        self.retired.lock().unwrap_or_else(|p| p.into_inner()).push_back((due, ids));
        Ok(())
    }

    async fn publish_version(
        &self,
        name: &str,
        expect_revision: Option<&str>,
        description: &str,
    ) -> Result<Version, StoreError> {
        let mut m = self.lock();
        let rec = m.get_mut(name).ok_or_else(|| not_found(format!("state machine '{name}'")))?;
        rec.publish_version(&self.partition, expect_revision, description, now_ms())
    }

    async fn version(&self, name: &str, number: u32) -> Result<Version, StoreError> {
        let m = self.lock();
        let rec = m.get(name).ok_or_else(|| not_found(format!("state machine '{name}'")))?;
        rec.versions
            .iter()
            .find(|v| v.number == number)
            .cloned()
            .ok_or_else(|| not_found(format!("version {number} of '{name}'")))
    }

    async fn create_alias(&self, state_machine: &str, alias: Alias) -> Result<Alias, StoreError> {
        let mut m = self.lock();
        let rec = m.get_mut(state_machine).ok_or_else(|| not_found(format!("state machine '{state_machine}'")))?;
        rec.add_alias(alias)
    }

    async fn alias(&self, state_machine: &str, alias: &str) -> Result<Alias, StoreError> {
        let m = self.lock();
        let rec = m.get(state_machine).ok_or_else(|| not_found(format!("state machine '{state_machine}'")))?;
        rec.aliases.iter().find(|a| a.name == alias).cloned().ok_or_else(|| not_found(format!("alias '{alias}'")))
    }

    async fn change(&self, name: &str, change: MetadataChange) -> Result<StateMachineRecord, StoreError> {
        let mut m = self.lock();
        let rec = m.get_mut(name).ok_or_else(|| not_found(format!("state machine '{name}'")))?;
        // Applied to a copy, so that a refused change leaves the record as it was.
        let mut changed = rec.clone();
        changed.apply(&change)?;
        *rec = changed.clone();
        Ok(changed)
    }
}

struct Entry {
    record: ExecutionRecord,
    history: Vec<HistoryEvent>,
    claim: Option<(String, std::time::Instant)>,
    /// Who claimed the execution first.
    first_owner: Option<String>,
    /// Leases taken by an owner other than the first (runs that followed a cut-off one).
    takeovers: u32,
    journal: std::collections::HashMap<String, String>,
    /// What this entry counts against the byte budget.
    bytes: usize,
}

/// About what an execution record holds in memory (text, plus the map's and record's own
/// overhead).
fn record_bytes(r: &ExecutionRecord) -> usize {
    let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    256 + r.execution_arn.len() * 2
        + r.name.len() * 2
        + r.state_machine_arn.len() * 2
        + r.revision_id.len()
        + r.input.len()
        + r.input_hash.len() * 2
        + opt(&r.output)
        + opt(&r.error)
        + opt(&r.cause)
}

impl Entry {
    fn claim(&mut self, owner: &str, lease: Duration) -> Claim {
        let now = std::time::Instant::now();
        match &self.claim {
            Some((holder, until)) if holder != owner && *until > now => Claim::Busy,
            _ => {
                self.claim = Some((owner.to_string(), now + lease));
                let first = self.first_owner.get_or_insert_with(|| owner.to_string()) == owner;
                Claim::Acquired { first }
            }
        }
    }
}

/// A deduplication key: (state machine ARN, execution name).
type NameKey = (String, String);

/// Recent executions held in memory, bounded in count and in bytes. Finished executions go
/// first, oldest first, in constant time per start (a queue in finishing order, not a sweep);
/// when only running ones are left, a start is refused ([`StoreError::Full`]).
pub struct MemoryExecutions {
    entries: DashMap<String, Entry>,
    /// (state machine ARN, name) → (input hash, execution ARN, start time).
    names: DashMap<NameKey, (String, String, i64)>,
    retention: Duration,
    max_entries: usize,
    max_bytes: usize,
    bytes: AtomicUsize,
    /// Finished executions in the order they finished (stop time, ARN).
    finished: Mutex<VecDeque<(i64, String)>>,
    /// Names kept for deduplication, in the order they were taken (when, key, start time):
    /// each is kept for the retention period from when it was taken, as Redis expires it.
    name_order: Mutex<VecDeque<(i64, NameKey, i64)>>,
}

impl MemoryExecutions {
    /// Record the first outcome (with its run's history); `retry_is_first`: the very outcome
    /// already there counts as recorded by this call (a retry of it).
    fn record_outcome(
        &self,
        execution_arn: &str,
        outcome: Finished,
        history: Vec<HistoryEvent>,
        owner: &str,
        retry_is_first: bool,
    ) -> Result<bool, StoreError> {
        let mut e =
            self.entries.get_mut(execution_arn).ok_or_else(|| not_found(format!("execution '{execution_arn}'")))?;
        if e.claim.as_ref().is_some_and(|(h, _)| h == owner) {
            e.claim = None;
        }
        if e.record.status != ExecutionStatus::Running {
            // Recording the very outcome already there is a retry of this one.
            let r = &e.record;
            let same = r.status == outcome.status
                && r.output == outcome.output
                && r.error == outcome.error
                && r.cause == outcome.cause
                && r.stop_ms == Some(outcome.stop_ms);
            return Ok(same && retry_is_first);
        }
        e.record.status = outcome.status;
        e.record.output = outcome.output;
        e.record.error = outcome.error;
        e.record.cause = outcome.cause;
        e.record.stop_ms = Some(outcome.stop_ms);
        e.history.extend(history);
        let bytes = record_bytes(&e.record)
            + e.history.iter().map(HistoryEvent::approx_bytes).sum::<usize>()
            + e.journal_bytes();
        let before = std::mem::replace(&mut e.bytes, bytes);
        drop(e);
        self.resize(before, bytes);
        self.finished.lock().unwrap_or_else(|p| p.into_inner()).push_back((outcome.stop_ms, execution_arn.to_string()));
        Ok(true)
    }

    fn resize(&self, before: usize, after: usize) {
        if after >= before {
            self.bytes.fetch_add(after - before, Ordering::Relaxed);
        } else {
            self.bytes.fetch_sub(before - after, Ordering::Relaxed);
        }
    }

    fn remove(&self, execution_arn: &str) {
        if let Some((_, e)) = self.entries.remove(execution_arn) {
            self.bytes.fetch_sub(e.bytes, Ordering::Relaxed);
        }
    }

    /// Bytes the entries are counted at now.
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Bound the store in bytes too (default: 1 GiB).
    pub fn with_max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes.max(1);
        self
    }

    /// Drop what retention has passed, then finished executions oldest first until `incoming`
    /// more bytes and one more entry fit; refuse when only running executions are left.
    fn make_room(&self, incoming: usize) -> Result<(), StoreError> {
        let cutoff = now_ms() - self.retention.as_millis() as i64;
        {
            let mut order = self.name_order.lock().unwrap_or_else(|p| p.into_inner());
            while order.front().is_some_and(|(taken, _, _)| *taken < cutoff) {
                if let Some((_, key, started)) = order.pop_front() {
                    self.names.remove_if(&key, |_, (_, _, s)| *s == started);
                }
            }
        }
        let mut finished = self.finished.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let full = self.entries.len() >= self.max_entries
                || self.bytes.load(Ordering::Relaxed).saturating_add(incoming) > self.max_bytes;
            let expired = finished.front().is_some_and(|(stopped, _)| *stopped < cutoff);
            if !full && !expired {
                return Ok(());
            }
            match finished.pop_front() {
                Some((stopped, arn)) => {
                    let current = self.entries.get(&arn).is_some_and(|e| e.record.stop_ms == Some(stopped));
                    if current {
                        self.remove(&arn);
                    }
                }
                None if full => {
                    return Err(StoreError::Full(format!(
                        "the in-memory store holds {} running executions ({} bytes; limits {} executions, {} bytes)",
                        self.entries.len(),
                        self.bytes.load(Ordering::Relaxed),
                        self.max_entries,
                        self.max_bytes
                    )))
                }
                None => return Ok(()),
            }
        }
    }

    /// Keep finished executions for `retention`, and at most `max_entries` records.
    pub fn new(retention: Duration, max_entries: usize) -> Self {
        MemoryExecutions {
            entries: DashMap::new(),
            names: DashMap::new(),
            retention,
            max_entries: max_entries.max(1),
            max_bytes: 1 << 30,
            bytes: AtomicUsize::new(0),
            finished: Mutex::new(VecDeque::new()),
            name_order: Mutex::new(VecDeque::new()),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Entry {
    fn journal_bytes(&self) -> usize {
        self.journal.iter().map(|(k, v)| 32 + k.len() + v.len()).sum()
    }
}

#[async_trait]
impl ExecutionStore for MemoryExecutions {
    async fn start(&self, record: ExecutionRecord, dedupe_window: Duration) -> Result<Started, StoreError> {
        let bytes = record_bytes(&record);
        self.make_room(bytes)?;
        let key = (record.state_machine_arn.clone(), record.name.clone());
        let window = dedupe_window.as_millis() as i64;
        // No window, no name to keep: nothing can be deduplicated against it.
        let names = if dedupe_window.is_zero() { None } else { Some(self.names.entry(key)) };
        match names {
            None => {}
            Some(dashmap::Entry::Occupied(mut o)) => {
                let (hash, arn, started) = o.get().clone();
                if record.start_ms - started <= window {
                    if hash == record.input_hash {
                        if let Some(e) = self.entries.get(&arn) {
                            return Ok(Started::Existing(e.record.clone()));
                        }
                    } else {
                        return Err(StoreError::AlreadyExists { what: format!("execution '{}'", record.name) });
                    }
                }
                o.insert((record.input_hash.clone(), record.execution_arn.clone(), record.start_ms));
                self.name_order.lock().unwrap_or_else(|p| p.into_inner()).push_back((
                    now_ms(),
                    o.key().clone(),
                    record.start_ms,
                ));
            }
            Some(dashmap::Entry::Vacant(v)) => {
                let key = v.key().clone();
                v.insert((record.input_hash.clone(), record.execution_arn.clone(), record.start_ms));
                self.name_order.lock().unwrap_or_else(|p| p.into_inner()).push_back((now_ms(), key, record.start_ms));
            }
        }
        self.entries.insert(
            record.execution_arn.clone(),
            Entry {
                record: record.clone(),
                history: Vec::new(),
                claim: None,
                first_owner: None,
                takeovers: 0,
                journal: Default::default(),
                bytes,
            },
        );
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        Ok(Started::New(record))
    }

    async fn get(&self, execution_arn: &str) -> Result<ExecutionRecord, StoreError> {
        self.entries
            .get(execution_arn)
            .map(|e| e.record.clone())
            .ok_or_else(|| not_found(format!("execution '{execution_arn}'")))
    }

    async fn forget(&self, execution_arn: &str) -> Result<(), StoreError> {
        if let Some((_, e)) = self.entries.remove(execution_arn) {
            self.bytes.fetch_sub(e.bytes, Ordering::Relaxed);
            let key = (e.record.state_machine_arn.clone(), e.record.name.clone());
            self.names.remove_if(&key, |_, (_, arn, _)| arn == execution_arn);
        }
        Ok(())
    }

    async fn finish(&self, execution_arn: &str, outcome: Finished) -> Result<bool, StoreError> {
        self.record_outcome(execution_arn, outcome, Vec::new(), "", false)
    }

    async fn finish_with_history(
        &self,
        execution_arn: &str,
        outcome: Finished,
        history: Vec<HistoryEvent>,
        owner: &str,
    ) -> Result<bool, StoreError> {
        self.record_outcome(execution_arn, outcome, history, owner, true)
    }

    async fn append_history(&self, execution_arn: &str, events: Vec<HistoryEvent>) -> Result<(), StoreError> {
        let mut e =
            self.entries.get_mut(execution_arn).ok_or_else(|| not_found(format!("execution '{execution_arn}'")))?;
        let added: usize = events.iter().map(HistoryEvent::approx_bytes).sum();
        e.history.extend(events);
        e.bytes += added;
        self.bytes.fetch_add(added, Ordering::Relaxed);
        Ok(())
    }

    async fn history(&self, execution_arn: &str) -> Result<Vec<HistoryEvent>, StoreError> {
        self.entries
            .get(execution_arn)
            .map(|e| e.history.clone())
            .ok_or_else(|| not_found(format!("execution '{execution_arn}'")))
    }

    async fn begin(&self, execution_arn: &str, owner: &str, lease: Duration) -> Result<Begin, StoreError> {
        let mut e =
            self.entries.get_mut(execution_arn).ok_or_else(|| not_found(format!("execution '{execution_arn}'")))?;
        if e.record.status != ExecutionStatus::Running {
            return Ok(Begin::Finished(Box::new(e.record.clone())));
        }
        let ours_already = e.claim.as_ref().is_some_and(|(h, _)| h == owner);
        Ok(match e.claim(owner, lease) {
            Claim::Acquired { first: true } => Begin::Acquired { attempt: 1 },
            Claim::Acquired { first: false } => {
                if !ours_already {
                    e.takeovers += 1;
                }
                Begin::Acquired { attempt: e.takeovers.max(1) + 1 }
            }
            Claim::Busy => Begin::Busy,
        })
    }

    async fn claim(&self, execution_arn: &str, owner: &str, lease: Duration) -> Result<Claim, StoreError> {
        let mut e =
            self.entries.get_mut(execution_arn).ok_or_else(|| not_found(format!("execution '{execution_arn}'")))?;
        Ok(e.claim(owner, lease))
    }

    async fn release(&self, execution_arn: &str, owner: &str) -> Result<(), StoreError> {
        if let Some(mut e) = self.entries.get_mut(execution_arn) {
            if e.claim.as_ref().is_some_and(|(h, _)| h == owner) {
                e.claim = None;
            }
        }
        Ok(())
    }

    async fn journal_get(&self, execution_arn: &str, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.entries.get(execution_arn).and_then(|e| e.journal.get(key).cloned()))
    }

    async fn journal_put(&self, execution_arn: &str, key: &str, value: &str) -> Result<(), StoreError> {
        let mut e =
            self.entries.get_mut(execution_arn).ok_or_else(|| not_found(format!("execution '{execution_arn}'")))?;
        let added = 32 + key.len() + value.len();
        e.journal.insert(key.to_string(), value.to_string());
        e.bytes += added;
        self.bytes.fetch_add(added, Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(name: &str, input: &str, start_ms: i64) -> ExecutionRecord {
        ExecutionRecord {
            execution_arn: format!("arn:{name}:{start_ms}"),
            name: name.into(),
            state_machine_arn: "sm".into(),
            revision_id: "r".into(),
            input: input.into(),
            input_hash: input_hash(input),
            status: ExecutionStatus::Running,
            output: None,
            error: None,
            cause: None,
            start_ms,
            stop_ms: None,
        }
    }

    #[tokio::test]
    async fn dedupe_by_name_and_input_within_the_window() {
        let s = MemoryExecutions::new(Duration::from_secs(3600), 100);
        let w = Duration::from_secs(60);
        let t = now_ms();
        assert!(matches!(s.start(rec("a", "{}", t), w).await, Ok(Started::New(_))));
        match s.start(rec("a", "{}", t + 1000), w).await {
            Ok(Started::Existing(r)) => assert_eq!(r.execution_arn, format!("arn:a:{t}")),
            other => panic!("expected the existing execution, got {other:?}"),
        }
        assert!(matches!(s.start(rec("a", "{\"x\":1}", t + 2000), w).await, Err(StoreError::AlreadyExists { .. })));
        assert!(matches!(s.start(rec("a", "{\"x\":1}", t + 100_000), w).await, Ok(Started::New(_))));
    }

    fn done(stop_ms: i64) -> Finished {
        Finished { status: ExecutionStatus::Succeeded, output: Some("1".into()), error: None, cause: None, stop_ms }
    }

    #[tokio::test]
    async fn at_capacity_the_oldest_finished_go_first_and_running_ones_never() {
        let s = MemoryExecutions::new(Duration::from_secs(3600), 100);
        let now = now_ms();
        for i in 0..100 {
            let r = rec(&format!("e{i}"), "{}", now);
            let arn = r.execution_arn.clone();
            s.start(r, Duration::ZERO).await.expect("start");
            if i < 50 {
                assert_eq!(s.finish(&arn, done(now + i)).await, Ok(true));
            }
        }
        // Fifty more starts make room by dropping the fifty finished, oldest first.
        for i in 100..150 {
            s.start(rec(&format!("e{i}"), "{}", now), Duration::ZERO).await.expect("room");
            assert_eq!(s.len(), 100);
            let oldest_left = (i - 99..50).next().map(|j| format!("arn:e{j}:{now}"));
            if let Some(a) = oldest_left {
                assert!(s.get(&a).await.is_ok(), "{a} went before older ones");
            }
        }
        // Only running executions now: a start is refused, retryably, instead of evicting them.
        let e = s.start(rec("e150", "{}", now), Duration::ZERO).await.expect_err("full");
        assert!(matches!(e, StoreError::Full(_)) && e.is_retryable(), "{e:?}");
        assert!(s.get(&format!("arn:e50:{now}")).await.is_ok(), "running executions stay");
        // One finishes: room for one more.
        assert_eq!(s.finish(&format!("arn:e50:{now}"), done(now + 100)).await, Ok(true));
        s.start(rec("e150", "{}", now), Duration::ZERO).await.expect("room again");
    }

    #[tokio::test]
    async fn the_byte_budget_bounds_the_store() {
        let s = MemoryExecutions::new(Duration::from_secs(3600), 1_000_000).with_max_bytes(200_000);
        let now = now_ms();
        let big = format!("{{\"s\":\"{}\"}}", "x".repeat(20_000));
        let mut refused = 0;
        for i in 0..100 {
            let r = rec(&format!("b{i}"), &big, now);
            let arn = r.execution_arn.clone();
            match s.start(r, Duration::ZERO).await {
                Ok(_) => {
                    if i % 2 == 0 {
                        s.finish(&arn, done(now + i)).await.expect("finish");
                    }
                }
                Err(StoreError::Full(_)) => refused += 1,
                Err(e) => panic!("{e:?}"),
            }
            assert!(s.bytes() <= 200_000 + 25_000, "over budget: {}", s.bytes());
        }
        assert!(refused > 0, "running executions filled the budget at some point");
        assert!(s.len() < 15, "{} entries of 20 KB in 200 KB", s.len());
    }

    #[tokio::test]
    async fn outcome_is_recorded_once() {
        let s = MemoryExecutions::new(Duration::from_secs(3600), 100);
        s.start(rec("a", "{}", 1), Duration::ZERO).await.expect("start");
        let f = Finished {
            status: ExecutionStatus::Succeeded,
            output: Some("1".into()),
            error: None,
            cause: None,
            stop_ms: 2,
        };
        assert_eq!(s.finish("arn:a:1", f.clone()).await, Ok(true));
        assert_eq!(s.finish("arn:a:1", f).await, Ok(false));
        assert_eq!(s.get("arn:a:1").await.map(|r| r.status), Ok(ExecutionStatus::Succeeded));
    }

    #[tokio::test]
    async fn a_deleted_machines_revisions_are_freed_after_the_grace_period() {
        let p = Partition::default();
        let r = MemoryRegistry::new(p.clone());
        let new = |name: &str, def: &str| NewStateMachine {
            name: name.into(),
            arn: p.state_machine(name),
            definition: def.into(),
            kind: MachineKind::Express,
            logging: Logging::default(),
            tracing: false,
            tags: Default::default(),
            now_ms: 1,
        };
        let gone = r.create(new("gone", "d1")).await.expect("create");
        let kept = r.create(new("kept", "d1")).await.expect("create");
        assert_eq!(r.revision_count(), 2);
        r.delete("gone").await.expect("delete");
        // Still loadable by executions queued before the delete.
        assert!(r.revision(&gone.current.revision_id).await.is_ok());
        r.purge_until(now_ms() + DELETED_REVISIONS_KEPT.as_millis() as i64 + 1);
        assert!(r.revision(&gone.current.revision_id).await.is_err(), "freed");
        assert!(r.revision(&kept.current.revision_id).await.is_ok(), "another machine's stays");
        assert_eq!(r.revision_count(), 1);
    }

    #[tokio::test]
    async fn registry_revisions_versions_and_aliases() {
        let p = Partition::default();
        let r = MemoryRegistry::new(p.clone());
        let new = NewStateMachine {
            name: "m".into(),
            arn: p.state_machine("m"),
            definition: "d1".into(),
            kind: MachineKind::Express,
            logging: Logging::default(),
            tracing: false,
            tags: Default::default(),
            now_ms: 1,
        };
        let created = r.create(new.clone()).await.expect("create");
        assert_eq!(r.create(new.clone()).await.map(|x| x.current.revision_id), Ok(created.current.revision_id.clone()));
        let v1 = r.publish_version("m", None, "first").await.expect("publish");
        let updated = r
            .update("m", StateMachineUpdate { definition: Some("d2".into()), ..Default::default() })
            .await
            .expect("update");
        assert_ne!(updated.current.revision_id, created.current.revision_id);
        assert_eq!(r.revision(&created.current.revision_id).await.map(|x| x.definition), Ok("d1".to_string()));
        assert!(matches!(
            r.publish_version("m", Some(&created.current.revision_id), "").await,
            Err(StoreError::Conflict(_))
        ));
        let alias = Alias {
            name: "prod".into(),
            arn: p.alias("m", "prod"),
            description: String::new(),
            routing: vec![(v1.number, 100)],
            created_ms: 1,
            updated_ms: 1,
        };
        r.create_alias("m", alias).await.expect("alias");
        assert_eq!(r.alias("m", "prod").await.map(|a| a.routing), Ok(vec![(1, 100)]));
        let bad = Alias {
            name: "x".into(),
            arn: String::new(),
            description: String::new(),
            routing: vec![(9, 100)],
            created_ms: 1,
            updated_ms: 1,
        };
        assert!(matches!(r.create_alias("m", bad).await, Err(StoreError::NotFound { .. })));
        r.delete("m").await.expect("delete");
        assert!(matches!(r.get("m").await, Err(StoreError::NotFound { .. })));
    }
}
