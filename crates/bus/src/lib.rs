//! How work and results move between Expressway's parts: the execution bus (frontends publish
//! start commands, workers consume them), the results stream (outcomes and history events to
//! subscribers, with positions to resume from), and reply routing for synchronous calls.
//!
//! Layout: the traits and message types here; [`memory`] has the in-process implementations
//! used by the embedded mode, [`kafka`] the execution bus on Kafka, [`redis`] the retained
//! results stream and routed replies on Redis (the distributed mode).

pub mod kafka;
pub mod memory;
pub mod redis;
pub mod retry;

use std::sync::Arc;

use async_trait::async_trait;
use expressway_store::ExecutionStatus;
use serde::{Deserialize, Serialize};

/// A request to run one execution: what frontends publish and workers consume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartCommand {
    pub execution_arn: String,
    pub execution_name: String,
    /// The ARN the caller named (state machine, version or alias).
    pub state_machine_arn: String,
    pub revision_id: String,
    /// The execution input as JSON text.
    pub input: String,
    pub start_ms: i64,
    /// Where the outcome of a synchronous call must be sent; `None` for asynchronous starts.
    pub reply_to: Option<String>,
    pub trace_header: Option<String>,
    /// How many nested-execution tasks led to this execution (0: a caller started it).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub depth: u32,
}

impl StartCommand {
    /// About what this command holds in memory; the embedded queue's byte budget counts it.
    pub fn approx_bytes(&self) -> usize {
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        128 + self.execution_arn.len()
            + self.execution_name.len()
            + self.state_machine_arn.len()
            + self.revision_id.len()
            + self.input.len()
            + opt(&self.reply_to)
            + opt(&self.trace_header)
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Errors at the bus boundary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BusError {
    #[error("the execution queue is full")]
    Full,
    #[error("the bus is closed")]
    Closed,
    #[error("bus unavailable: {0}")]
    Unavailable(String),
    /// The broker refused this client (credentials, certificates): retrying will not help.
    #[error("the broker refused the connection: {0}")]
    Refused(String),
    /// The settings do not fit what the backing service holds: retrying will not help.
    #[error("invalid setting: {0}")]
    Invalid(String),
}

impl BusError {
    pub fn is_retryable(&self) -> bool {
        !matches!(self, BusError::Closed | BusError::Refused(_) | BusError::Invalid(_))
    }
}

/// Where start commands go.
#[async_trait]
pub trait ExecutionBus: Send + Sync {
    /// Queue an execution; returns once it is accepted durably (or fails, never drops it).
    async fn publish(&self, command: StartCommand) -> Result<(), BusError>;
}

/// Acknowledges a delivery once its outcome is durable (a Kafka offset commit, say), or sets
/// it aside on the dead-letter topic first when it must never be delivered again.
pub struct Ack {
    done: Option<Box<dyn FnOnce() + Send>>,
    dead_letter: Option<DeadLetter>,
}

/// Puts a delivery's record on the dead-letter topic with the reason; resolves once it is there.
pub type DeadLetter = Box<dyn FnOnce(String) -> futures::future::BoxFuture<'static, ()> + Send>;

impl Ack {
    pub fn new(f: impl FnOnce() + Send + 'static) -> Self {
        Ack { done: Some(Box::new(f)), dead_letter: None }
    }
    pub fn none() -> Self {
        Ack { done: None, dead_letter: None }
    }
    /// Where [`Ack::dead_letter`] puts the record (a source without a dead-letter topic has none).
    pub fn with_dead_letter(mut self, dead_letter: DeadLetter) -> Self {
        self.dead_letter = Some(dead_letter);
        self
    }
    pub fn ack(mut self) {
        if let Some(f) = self.done.take() {
            f();
        }
    }
    /// Put the record on the dead-letter topic, with `why`, then acknowledge it.
    pub async fn dead_letter(mut self, why: String) {
        if let Some(f) = self.dead_letter.take() {
            f(why).await;
        }
        self.ack();
    }
}

/// A start command handed to a worker.
pub struct Delivery {
    pub command: StartCommand,
    pub ack: Ack,
}

/// Where workers take start commands from.
#[async_trait]
pub trait ExecutionSource: Send {
    /// The next delivery; `None` once the source is closed and drained.
    async fn next(&mut self) -> Option<Delivery>;
}

/// How an execution ended, as published on the results stream and in replies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeMessage {
    pub execution_arn: String,
    pub execution_name: String,
    pub state_machine_arn: String,
    pub status: ExecutionStatus,
    pub input: Option<String>,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub start_ms: i64,
    pub stop_ms: i64,
}

impl OutcomeMessage {
    /// The outcome a finished execution record holds (`stop_ms` when the record has none).
    pub fn from_record(r: expressway_store::ExecutionRecord, stop_ms: i64) -> Self {
        OutcomeMessage {
            execution_arn: r.execution_arn,
            execution_name: r.name,
            state_machine_arn: r.state_machine_arn,
            status: r.status,
            input: Some(r.input),
            output: r.output,
            error: r.error,
            cause: r.cause,
            start_ms: r.start_ms,
            stop_ms: r.stop_ms.unwrap_or(stop_ms),
        }
    }
}

/// One history event of an execution.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventMessage {
    pub execution_arn: String,
    pub state_machine_arn: String,
    pub event: expressway_asl::HistoryEvent,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ResultMessage {
    Outcome(OutcomeMessage),
    Event(EventMessage),
}

impl ResultMessage {
    pub fn execution_arn(&self) -> &str {
        match self {
            ResultMessage::Outcome(o) => &o.execution_arn,
            ResultMessage::Event(e) => &e.execution_arn,
        }
    }
    pub fn state_machine_arn(&self) -> &str {
        match self {
            ResultMessage::Outcome(o) => &o.state_machine_arn,
            ResultMessage::Event(e) => &e.state_machine_arn,
        }
    }
    /// About what this message holds in memory; retention byte budgets count it.
    pub fn approx_bytes(&self) -> usize {
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        match self {
            ResultMessage::Outcome(o) => {
                128 + o.execution_arn.len()
                    + o.execution_name.len()
                    + o.state_machine_arn.len()
                    + opt(&o.input)
                    + opt(&o.output)
                    + opt(&o.error)
                    + opt(&o.cause)
            }
            ResultMessage::Event(e) => 64 + e.execution_arn.len() + e.state_machine_arn.len() + e.event.approx_bytes(),
        }
    }
}

/// What a subscription yields.
#[derive(Debug, Clone)]
pub enum Delivered {
    Message {
        position: u64,
        message: Arc<ResultMessage>,
    },
    /// `skipped` messages were not delivered (the subscriber was too slow, or they are no longer
    /// retained). The stream goes on after them; a new subscription from `resume_from` replays
    /// those of them that are still retained.
    FellBehind {
        skipped: u64,
        resume_from: u64,
    },
}

/// A live view of the results stream.
#[async_trait]
pub trait Subscription: Send {
    /// `None` when the stream has ended.
    async fn next(&mut self) -> Option<Delivered>;
}

/// Says when a published message is durable: on the results stream, or with the broker that
/// carries it there. A worker acknowledges its delivery only then, so a crash never loses a
/// message that an acknowledged execution published. Dropping a receipt does not unpublish.
pub struct Receipt(Option<tokio::sync::watch::Receiver<bool>>);

impl Receipt {
    /// Durable already (an in-process stream).
    pub fn done() -> Self {
        Receipt(None)
    }

    /// Durable once `true` is sent; a sender dropped before that means the message was not kept.
    pub fn pending(rx: tokio::sync::watch::Receiver<bool>) -> Self {
        Receipt(Some(rx))
    }

    /// Wait until the message is durable.
    pub async fn durable(self) -> Result<(), BusError> {
        match self.0 {
            None => Ok(()),
            Some(mut rx) => rx.wait_for(|d| *d).await.map(|_| ()).map_err(|_| BusError::Closed),
        }
    }
}

/// A message as results streams carry it (one line of JSON), or `None` (logged) when it
/// cannot be written: then nothing will ever carry it, and a receipt that never resolved would
/// hold its worker's offset commits for good, so publishers answer [`Receipt::done`].
pub(crate) fn encode_result(message: &ResultMessage) -> Option<Vec<u8>> {
    match serde_json::to_vec(message) {
        Ok(line) => Some(line),
        Err(e) => {
            tracing::error!(execution_arn = %message.execution_arn(), error = %e, "a result could not be encoded and is lost");
            None
        }
    }
}

/// The results stream.
pub trait ResultsHub: Send + Sync {
    /// Publish in order with the earlier messages of the same execution. Its receipt
    /// resolving means those earlier messages are durable too.
    fn publish(&self, message: ResultMessage) -> Receipt;
    /// Subscribe live, or from `from` (a position returned earlier) as far back as retained.
    fn subscribe(&self, from: Option<u64>) -> Box<dyn Subscription>;
}

/// Tells the worker running an execution that StopExecution stopped it, so the run ends
/// (and its in-flight task calls with it) instead of going on behind an ABORTED outcome.
#[async_trait]
pub trait Stops: Send + Sync {
    async fn send(&self, execution_arn: &str) -> Result<(), BusError>;
    /// The execution ARNs stopped from now on, by any process.
    fn listen(&self) -> tokio::sync::broadcast::Receiver<String>;
}

/// Routes the outcome of a synchronous execution back to the caller that waits for it.
#[async_trait]
pub trait ReplyRouter: Send + Sync {
    /// The address to put in `StartCommand::reply_to` for this process.
    fn address(&self) -> String;
    /// Register interest before publishing the command; the receiver gets the outcome.
    fn expect(&self, execution_arn: &str) -> tokio::sync::oneshot::Receiver<OutcomeMessage>;
    /// Forget a caller that went away.
    fn cancel(&self, execution_arn: &str);
    /// Deliver an outcome to `reply_to` (called by workers).
    async fn reply(&self, reply_to: &str, outcome: OutcomeMessage) -> Result<(), BusError>;
    /// Whether outcomes reach `expect`ed receivers; when false, callers follow the store.
    fn routes_replies(&self) -> bool {
        true
    }
}

/// Synchronous callers waiting in this process, by execution ARN: the receiving half of every
/// [`ReplyRouter`].
#[derive(Default)]
pub struct Waiting(dashmap::DashMap<String, tokio::sync::oneshot::Sender<OutcomeMessage>>);

impl Waiting {
    pub fn expect(&self, execution_arn: &str) -> tokio::sync::oneshot::Receiver<OutcomeMessage> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.0.insert(execution_arn.to_string(), tx);
        rx
    }

    pub fn cancel(&self, execution_arn: &str) {
        self.0.remove(execution_arn);
    }

    /// Hand an outcome to its caller, if one still waits here.
    pub fn deliver(&self, outcome: OutcomeMessage) {
        if let Some((_, tx)) = self.0.remove(&outcome.execution_arn) {
            // The caller may have gone away meanwhile; nothing else to do then.
            let _ = tx.send(outcome);
        }
    }

    /// Callers still waiting (a leak check for tests).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// For deployments without reply routing: synchronous callers follow the execution store.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoReplies;

#[async_trait]
impl ReplyRouter for NoReplies {
    fn address(&self) -> String {
        String::new()
    }
    fn expect(&self, _execution_arn: &str) -> tokio::sync::oneshot::Receiver<OutcomeMessage> {
        tokio::sync::oneshot::channel().1
    }
    fn cancel(&self, _execution_arn: &str) {}
    async fn reply(&self, _reply_to: &str, _outcome: OutcomeMessage) -> Result<(), BusError> {
        Ok(())
    }
    fn routes_replies(&self) -> bool {
        false
    }
}
