//! Where Expressway keeps what must outlive a request: the registry of state machines
//! (immutable revisions, published versions, aliases) and recent executions (status, output,
//! history, dedupe keys).
//!
//! Layout: [`model`] (records), [`arn`] (AWS-format ARNs), the [`Registry`] and
//! [`ExecutionStore`] traits, and [`memory`] (in-memory implementations for the embedded
//! mode and tests), and [`redis`] (the distributed mode's stores).

pub mod arn;
pub mod memory;
pub mod model;
pub mod redis;
pub mod starter;

use std::time::Duration;

use async_trait::async_trait;

pub use model::*;

/// Wall-clock milliseconds since the Unix epoch: what records, leases and history carry.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Errors at the store boundary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("{what} does not exist")]
    NotFound { what: String },
    #[error("{what} already exists")]
    AlreadyExists { what: String },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// At its configured bounds: room comes back as executions finish.
    #[error("store full: {0}")]
    Full(String),
}

impl StoreError {
    /// Whether the same call may succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::Full(_))
    }
}

/// The registry of state machines. Revisions are immutable, so they can be cached forever.
#[async_trait]
pub trait Registry: Send + Sync {
    async fn create(&self, new: NewStateMachine) -> Result<StateMachineRecord, StoreError>;
    async fn update(&self, name: &str, update: StateMachineUpdate) -> Result<StateMachineRecord, StoreError>;
    async fn get(&self, name: &str) -> Result<StateMachineRecord, StoreError>;
    async fn revision(&self, revision_id: &str) -> Result<Revision, StoreError>;
    /// State machines ordered by name, starting after `after`.
    async fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<StateMachineRecord>, StoreError>;
    async fn delete(&self, name: &str) -> Result<(), StoreError>;
    async fn publish_version(
        &self,
        name: &str,
        expect_revision: Option<&str>,
        description: &str,
    ) -> Result<Version, StoreError>;
    async fn version(&self, name: &str, number: u32) -> Result<Version, StoreError>;
    async fn create_alias(&self, state_machine: &str, alias: Alias) -> Result<Alias, StoreError>;
    async fn alias(&self, state_machine: &str, alias: &str) -> Result<Alias, StoreError>;
    /// Change a state machine's tags or aliases; the record as changed.
    async fn change(&self, name: &str, change: MetadataChange) -> Result<StateMachineRecord, StoreError>;
}

/// What `ExecutionStore::start` found.
#[derive(Debug, Clone, PartialEq)]
pub enum Started {
    /// A new execution was recorded.
    New(ExecutionRecord),
    /// The same name and input inside the dedupe window: the earlier execution.
    Existing(ExecutionRecord),
}

/// What `ExecutionStore::claim` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The lease is ours. `first` is true when no other owner had claimed the execution
    /// before: no earlier run of it can have been cut off (an owner is one process, which
    /// never runs an execution twice at once).
    Acquired { first: bool },
    /// Another owner holds a live lease: the execution must not run twice at once.
    Busy,
}

impl Claim {
    pub fn acquired(self) -> bool {
        matches!(self, Claim::Acquired { .. })
    }
}

/// What `ExecutionStore::begin` found.
#[derive(Debug, Clone, PartialEq)]
pub enum Begin {
    /// An outcome is recorded: there is nothing to run (a redelivery). No lease was taken.
    Finished(Box<ExecutionRecord>),
    /// No outcome yet and the lease is ours. `attempt` counts the owners that have taken it
    /// so far, this one included: 1 when no other owner ever ran the execution, more when
    /// earlier runs were cut off (their worker died, or lost its lease).
    Acquired { attempt: u32 },
    /// No outcome yet and another owner holds a live lease.
    Busy,
}

/// Recent executions: dedupe keys, status, outcome and history.
#[async_trait]
pub trait ExecutionStore: Send + Sync {
    /// Record a new execution, or return the one that already holds its name. A zero
    /// `dedupe_window` records it without keeping its name (a generated name, or a record
    /// written again).
    async fn start(&self, record: ExecutionRecord, dedupe_window: Duration) -> Result<Started, StoreError>;
    async fn get(&self, execution_arn: &str) -> Result<ExecutionRecord, StoreError>;
    /// Remove an execution that could not be queued, so a retry of the same start can succeed.
    async fn forget(&self, execution_arn: &str) -> Result<(), StoreError>;
    /// Record the outcome once; returns false when an outcome was already recorded.
    async fn finish(&self, execution_arn: &str, outcome: Finished) -> Result<bool, StoreError>;
    /// Record the outcome and, only if it is the first, the history of the run that produced
    /// it, in one step: a run that crashes or loses the race leaves no history behind. Then
    /// give back `owner`'s lease. Returns whether this outcome was the first.
    async fn finish_with_history(
        &self,
        execution_arn: &str,
        outcome: Finished,
        history: Vec<expressway_asl::HistoryEvent>,
        owner: &str,
    ) -> Result<bool, StoreError>;
    async fn append_history(
        &self,
        execution_arn: &str,
        events: Vec<expressway_asl::HistoryEvent>,
    ) -> Result<(), StoreError>;
    async fn history(&self, execution_arn: &str) -> Result<Vec<expressway_asl::HistoryEvent>, StoreError>;

    /// Before a run: the recorded outcome if there is one, else the lease on running it, in
    /// one step, so an outcome recorded by the previous holder just before it let go is
    /// never missed (the execution would run twice). The attempt number it reports lets a
    /// synchronous execution run at most once and a poison execution (one that takes down
    /// every worker that runs it) stop being retried.
    async fn begin(&self, execution_arn: &str, owner: &str, lease: Duration) -> Result<Begin, StoreError>;
    /// Take (or extend) the lease on running an execution.
    async fn claim(&self, execution_arn: &str, owner: &str, lease: Duration) -> Result<Claim, StoreError>;
    /// Give the lease back (only if `owner` still holds it).
    async fn release(&self, execution_arn: &str, owner: &str) -> Result<(), StoreError>;
    /// A task result recorded by an earlier run of the same execution.
    async fn journal_get(&self, execution_arn: &str, key: &str) -> Result<Option<String>, StoreError>;
    async fn journal_put(&self, execution_arn: &str, key: &str, value: &str) -> Result<(), StoreError>;
}
