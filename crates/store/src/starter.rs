//! Turning a request to start an execution into a recorded execution: resolve the ARN (state
//! machine, version or alias) to a revision, check the input, name the execution, and record
//! it with its dedupe key. Shared by the gRPC frontend and the Kafka trigger path, so both
//! accept exactly the same requests.

use std::time::Duration;

use crate::arn::{self, Partition, Qualifier};
use crate::model::*;
use crate::{now_ms, ExecutionStore, Registry, Started, StoreError};

/// What a caller asks for.
#[derive(Debug, Clone, Default)]
pub struct StartRequest {
    pub state_machine_arn: String,
    /// Optional; a fresh UUID when empty.
    pub name: String,
    /// JSON text; `{}` when empty.
    pub input: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("invalid ARN: {0}")]
    InvalidArn(String),
    #[error("invalid name '{0}': 1 to 80 characters, no whitespace, brackets, wildcards or special punctuation")]
    InvalidName(String),
    #[error("invalid execution input: {0}")]
    InvalidInput(String),
    #[error("the execution input is {size} bytes, more than the limit of {limit} bytes")]
    InputTooLarge { size: usize, limit: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Limits and naming for new executions.
#[derive(Debug, Clone)]
pub struct StartPolicy {
    pub partition: Partition,
    pub dedupe_window: Duration,
    pub max_input_bytes: usize,
}

/// The revision an ARN (state machine, version or alias) runs now.
pub async fn resolve(registry: &dyn Registry, state_machine_arn: &str) -> Result<Revision, StartError> {
    let r =
        arn::parse_state_machine(state_machine_arn).ok_or_else(|| StartError::InvalidArn(state_machine_arn.into()))?;
    let rec = registry.get(&r.name).await?;
    Ok(registry.revision(&revision_id_in(&rec, &r.qualifier)?).await?)
}

/// The id of the revision a qualifier (latest, version or alias) of a state machine runs now.
fn revision_id_in(rec: &StateMachineRecord, qualifier: &Qualifier) -> Result<String, StoreError> {
    let version = |n: u32| {
        rec.versions
            .iter()
            .find(|v| v.number == n)
            .map(|v| v.revision_id.clone())
            .ok_or_else(|| StoreError::NotFound { what: format!("version {n} of '{}'", rec.name) })
    };
    match qualifier {
        Qualifier::Latest => Ok(rec.current.revision_id.clone()),
        Qualifier::Version(n) => version(*n),
        Qualifier::Alias(a) => {
            let alias = rec
                .aliases
                .iter()
                .find(|x| x.name == *a)
                .ok_or_else(|| StoreError::NotFound { what: format!("alias '{a}'") })?;
            version(pick_weighted(&alias.routing))
        }
    }
}

/// Finds the revision a start runs, remembering each state machine's record for a short
/// while: starting an execution then costs no registry read. Like AWS, where executions
/// started shortly after `UpdateStateMachine` may still use the previous definition, a change
/// made through another process is seen after at most `ttl`; one made through this process
/// is seen at once, as long as it calls [`Resolver::forget`].
pub struct Resolver {
    registry: std::sync::Arc<dyn Registry>,
    ttl: Duration,
    records: dashmap::DashMap<String, (std::time::Instant, std::sync::Arc<StateMachineRecord>)>,
}

/// State machines remembered at most (the cache starts over beyond that).
const RESOLVER_CAPACITY: usize = 10_000;

impl Resolver {
    /// `ttl` zero reads the registry on every start.
    pub fn new(registry: std::sync::Arc<dyn Registry>, ttl: Duration) -> Self {
        Resolver { registry, ttl, records: dashmap::DashMap::new() }
    }

    /// A state machine changed (or went): read it afresh next time.
    pub fn forget(&self, name: &str) {
        self.records.remove(name);
    }

    async fn record(&self, name: &str) -> Result<std::sync::Arc<StateMachineRecord>, StoreError> {
        if let Some(e) = self.records.get(name) {
            if e.0.elapsed() < self.ttl {
                return Ok(e.1.clone());
            }
        }
        let rec = std::sync::Arc::new(self.registry.get(name).await?);
        if !self.ttl.is_zero() {
            if self.records.len() >= RESOLVER_CAPACITY {
                self.records.clear();
            }
            self.records.insert(name.to_string(), (std::time::Instant::now(), rec.clone()));
        }
        Ok(rec)
    }

    /// The id of the revision an ARN (state machine, version or alias) runs now.
    pub async fn revision_id(&self, state_machine_arn: &str) -> Result<String, StartError> {
        let r = arn::parse_state_machine(state_machine_arn)
            .ok_or_else(|| StartError::InvalidArn(state_machine_arn.into()))?;
        let rec = self.record(&r.name).await?;
        Ok(revision_id_in(&rec, &r.qualifier)?)
    }
}

/// Choose a version by an alias's weights.
pub fn pick_weighted(routing: &[(u32, u32)]) -> u32 {
    let total: u32 = routing.iter().map(|(_, w)| *w).sum();
    if total == 0 {
        return routing.first().map(|(v, _)| *v).unwrap_or(1);
    }
    let mut x = (uuid::Uuid::new_v4().as_u128() % total as u128) as u32;
    for (v, w) in routing {
        if x < *w {
            return *v;
        }
        x -= w;
    }
    routing.last().map(|(v, _)| *v).unwrap_or(1)
}

/// Validate and record a new execution. Returns the record and whether it is new (false: the
/// same name and input were started inside the dedupe window, and this is that execution).
pub async fn prepare(
    resolver: &Resolver,
    executions: &dyn ExecutionStore,
    policy: &StartPolicy,
    req: &StartRequest,
) -> Result<(ExecutionRecord, bool), StartError> {
    let input = if req.input.trim().is_empty() { "{}".to_string() } else { req.input.clone() };
    if input.len() > policy.max_input_bytes {
        return Err(StartError::InputTooLarge { size: input.len(), limit: policy.max_input_bytes });
    }
    // Checked, not kept: the worker parses it when it runs.
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&input) {
        return Err(StartError::InvalidInput(expressway_asl::error::json_error(&e)));
    }
    // The syntax check above does not nest; the run's parse would refuse it later.
    let deepest = expressway_asl::error::MAX_JSON_DEPTH;
    if expressway_asl::error::json_depth(&input) > deepest {
        return Err(StartError::InvalidInput(format!("nested more than {deepest} levels deep")));
    }
    let revision_id = resolver.revision_id(&req.state_machine_arn).await?;
    let sm_name = arn::parse_state_machine(&req.state_machine_arn)
        .map(|r| r.name)
        .ok_or_else(|| StartError::InvalidArn(req.state_machine_arn.clone()))?;
    let name = if req.name.is_empty() { uuid::Uuid::new_v4().to_string() } else { req.name.clone() };
    if !arn::valid_name(&name) {
        return Err(StartError::InvalidName(name));
    }
    let execution_arn = policy.partition.express_execution(&sm_name, &name, &uuid::Uuid::new_v4().simple().to_string());
    let record = ExecutionRecord {
        execution_arn,
        name,
        state_machine_arn: req.state_machine_arn.clone(),
        revision_id,
        input_hash: input_hash(&input),
        input,
        status: ExecutionStatus::Running,
        output: None,
        error: None,
        cause: None,
        start_ms: now_ms(),
        stop_ms: None,
    };
    // A generated name is unique: there is nothing to deduplicate against.
    let window = if req.name.is_empty() { Duration::ZERO } else { policy.dedupe_window };
    Ok(match executions.start(record, window).await? {
        Started::New(r) => (r, true),
        Started::Existing(r) => (r, false),
    })
}
