//! The interpreter: runs a compiled [`StateMachine`] on an input, with Task effects behind
//! [`TaskInvoker`], time behind [`Clock`], and history events going to an [`EventSink`].
//!
//! It is runtime-agnostic: futures only, no tokio. Values move from state to state without
//! copying the whole document; only the parts that templates select are cloned.
//!
//! Layout: this module holds the public face (the traits, [`Interpreter`], [`Limits`],
//! [`Cancel`], [`Outcome`]) and the per-run state; `run` is the state loop, `jsonpath` and
//! `jsonata` evaluate a state's fields in each query language, `task` calls integrations,
//! `retry` applies Retry and Catch, `fanout` runs Parallel branches and Map iterations, and
//! `size` accounts for payload sizes without serializing.

use std::borrow::Cow;
use std::future::Future as _;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::Poll;
use std::time::Duration;

use futures::future::{self, BoxFuture, Either};
use futures::{FutureExt, StreamExt};
use serde_json::{Map, Value};
use tracing::Instrument as _;

use crate::choice::parse_timestamp;
use crate::definition::{
    Assign, Block, Catcher, ChoiceBranch, Condition, Dyn, JTemplate, Kind, MapSpec, PathOpt, QueryLanguage, Retrier,
    State, StateMachine, WaitSpec,
};
use crate::env::{ContextSource, Env, ExecutionInfo, Vars};
use crate::error::{errors, StatesError};
use crate::events::{EventSink, EventType, HistoryEvent};
use crate::jsonata::{Bindings, JsonataError};
use crate::jsonpath::type_name;

/// What a Task state asks its integration to do.
#[derive(Debug)]
pub struct TaskRequest<'a> {
    pub resource: &'a str,
    pub input: Value,
    pub state_name: &'a str,
    pub execution_arn: &'a str,
    /// 0 for the first attempt, then 1, 2… for retries.
    pub attempt: u32,
    pub timeout: Option<Duration>,
    pub heartbeat: Option<Duration>,
    /// How many nested-execution tasks led to this execution (a nested start passes it on).
    pub depth: u32,
}

/// Performs Task states. Errors use AWS's names so Retry/Catch blocks match them.
pub trait TaskInvoker: Send + Sync {
    fn invoke<'a>(&'a self, request: TaskRequest<'a>) -> BoxFuture<'a, Result<Value, StatesError>>;
}

/// The invoker used when no integration is configured: every Task fails clearly.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTasks;

impl TaskInvoker for NoTasks {
    fn invoke<'a>(&'a self, request: TaskRequest<'a>) -> BoxFuture<'a, Result<Value, StatesError>> {
        let err = StatesError::new(
            errors::TASK_FAILED,
            format!("no task integration is configured for resource '{}'", request.resource),
        );
        future::ready(Err(err)).boxed()
    }
}

/// Time, so tests never sleep and the embedding runtime decides how to wait.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> i64;
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()>;
    /// Let other work run: an execution that never waits (a loop of Pass or Choice states)
    /// yields here every few states, so it cannot hold its thread. Pending once, by default.
    fn pause(&self) -> BoxFuture<'static, ()> {
        let mut yielded = false;
        future::poll_fn(move |cx| {
            if yielded {
                Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
        .boxed()
    }
}

/// A clock that never waits and advances only by what is slept (deterministic tests).
#[derive(Debug, Default)]
pub struct ManualClock {
    now: Arc<AtomicU64>,
}

impl ManualClock {
    pub fn new(start_millis: u64) -> Self {
        ManualClock { now: Arc::new(AtomicU64::new(start_millis)) }
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> i64 {
        self.now.load(Ordering::Relaxed) as i64
    }
    /// Time passes when the sleep is first polled (a sleep made but never awaited, as the
    /// losing side of a race, takes no time).
    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        let now = self.now.clone();
        future::lazy(move |_| {
            now.fetch_add(duration.as_millis() as u64, Ordering::Relaxed);
        })
        .boxed()
    }
    fn pause(&self) -> BoxFuture<'static, ()> {
        future::ready(()).boxed()
    }
}

/// Service limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest input or output a state may produce (AWS: 256 KiB).
    pub max_payload_bytes: usize,
    /// Execution time limit (Express: 5 minutes). `None` for no limit.
    pub execution_timeout: Option<Duration>,
    /// Steps one JSONata expression may take (a step is one node of the expression evaluated
    /// once): an evaluation cannot yield, so this bounds how long it holds its thread.
    pub max_evaluation_steps: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_payload_bytes: 256 * 1024,
            execution_timeout: Some(Duration::from_secs(300)),
            max_evaluation_steps: 10_000_000,
        }
    }
}

/// Asks a running execution to stop (StopExecution). The run ends at its next state, its next
/// few thousand JSONata steps, or at once while it waits (a Wait state, a Task in flight: the
/// request is dropped).
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<CancelInner>);

#[derive(Debug, Default)]
struct CancelInner {
    cancelled: AtomicBool,
    waker: futures::task::AtomicWaker,
}

impl Cancel {
    pub fn new() -> Self {
        Cancel::default()
    }

    pub fn cancel(&self) {
        self.0.cancelled.store(true, Ordering::SeqCst);
        self.0.waker.wake();
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.load(Ordering::SeqCst)
    }

    /// Resolves once cancelled (one waiter: the run).
    fn cancelled(&self) -> impl std::future::Future<Output = ()> + '_ {
        future::poll_fn(move |cx| {
            if self.is_cancelled() {
                return Poll::Ready(());
            }
            self.0.waker.register(cx.waker());
            if self.is_cancelled() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Succeeded(Value),
    Failed(StatesError),
    TimedOut(StatesError),
    /// Stopped through its [`Cancel`] (StopExecution recorded the outcome).
    Aborted,
}

/// Runs executions. Holds the integrations; one instance serves any number of executions.
#[derive(Clone)]
pub struct Interpreter {
    invoker: Arc<dyn TaskInvoker>,
    clock: Arc<dyn Clock>,
    limits: Limits,
}

impl Interpreter {
    pub fn new(invoker: Arc<dyn TaskInvoker>, clock: Arc<dyn Clock>, limits: Limits) -> Self {
        Interpreter { invoker, clock, limits }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Run one execution to its end.
    pub fn execute<'a>(
        &'a self,
        machine: &'a StateMachine,
        input: Value,
        info: ExecutionInfo,
        sink: &'a dyn EventSink,
    ) -> impl std::future::Future<Output = Outcome> + Send + 'a {
        self.execute_with(machine, input, info, sink, None)
    }

    /// Run one execution of an input and facts the caller keeps (the same input run again
    /// and again): the input is copied only where a state must hand it on or write into it.
    pub fn execute_borrowed<'a>(
        &'a self,
        machine: &'a StateMachine,
        input: &'a Value,
        info: &'a ExecutionInfo,
        sink: &'a dyn EventSink,
    ) -> impl std::future::Future<Output = Outcome> + Send + 'a {
        self.execute_input(machine, Cow::Borrowed(input), info, sink, None)
    }

    /// Run one execution to its end, or until `cancel` is cancelled.
    pub async fn execute_with(
        &self,
        machine: &StateMachine,
        input: Value,
        info: ExecutionInfo,
        sink: &dyn EventSink,
        cancel: Option<&Cancel>,
    ) -> Outcome {
        self.execute_input(machine, Cow::Owned(input), &info, sink, cancel).await
    }

    async fn execute_input(
        &self,
        machine: &StateMachine,
        input: Cow<'_, Value>,
        info: &ExecutionInfo,
        sink: &dyn EventSink,
        cancel: Option<&Cancel>,
    ) -> Outcome {
        let known_bound = info.input_size_bound.filter(|b| *b <= self.limits.max_payload_bytes);
        // The Context object needs the input and the start time: a copy of the facts gets
        // them where the caller left them out.
        let completed;
        let info = if machine.reads_context && (info.input.is_none() || info.start_time.is_empty()) {
            let mut c = info.clone();
            if c.input.is_none() {
                c.input = Some(input.clone().into_owned());
            }
            if c.start_time.is_empty() {
                c.start_time = chrono::DateTime::from_timestamp_millis(self.clock.now_millis())
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                    .unwrap_or_default();
            }
            completed = c;
            &completed
        } else {
            info
        };
        let limit =
            machine.timeout_seconds().map(Duration::from_secs).into_iter().chain(self.limits.execution_timeout).min();
        let run = Run {
            invoker: &*self.invoker,
            clock: &*self.clock,
            sink,
            events: sink.enabled(),
            next_id: AtomicU64::new(0),
            exec: info,
            limits: &self.limits,
            limit_ms: limit.map(|l| l.as_millis().try_into().unwrap_or(i64::MAX)),
            deadline_ms: AtomicI64::new(UNSET),
            transitions: AtomicU64::new(0),
            halted: AtomicU8::new(RUNNING),
            cancel,
            traced: tracing::enabled!(target: TRACE_TARGET, tracing::Level::TRACE),
        };
        run.emit(EventType::ExecutionStarted, None, || serde_json::json!({ "input": input }));
        // A bound the caller knows (from the text it parsed) spares walking the input.
        let in_bound = match known_bound.map_or_else(|| run.measure(&input, "the execution input", true), Ok) {
            Ok(size) => size,
            Err(e) => return run.finish(Err(e)),
        };
        let root = &machine.root;
        let mut vars = Vars::new();
        let at = At::start(root, input, in_bound);
        // A machine whose states never wait runs at once, without a future, unless it runs
        // long enough to be due a yield.
        let first = if run.runs_now(root) { run.block_now(root, at, &mut vars) } else { Ok(Progress::Rest(at)) };
        let result = match first {
            Ok(Progress::Done(output, _)) => Ok(output),
            Err(e) => Err(e),
            Ok(Progress::Rest(at)) => run.finish_as_future(root, at, vars, cancel).await,
        };
        match run.halted.load(Ordering::Relaxed) {
            TIMED_OUT => {
                let e = StatesError::new(errors::TIMEOUT, "The execution timed out");
                run.emit(EventType::ExecutionTimedOut, None, || err_details(&e));
                Outcome::TimedOut(e)
            }
            ABORTED => {
                run.emit(EventType::ExecutionAborted, None, || Value::Null);
                Outcome::Aborted
            }
            _ => run.finish(result),
        }
    }
}

fn err_details(e: &StatesError) -> Value {
    serde_json::json!({"error": e.error, "cause": e.cause})
}

struct Run<'a> {
    invoker: &'a dyn TaskInvoker,
    clock: &'a dyn Clock,
    sink: &'a dyn EventSink,
    events: bool,
    next_id: AtomicU64,
    exec: &'a ExecutionInfo,
    limits: &'a Limits,
    /// The execution's time limit (`None`: none).
    limit_ms: Option<i64>,
    /// When the time limit ends, on the run's clock: set at the run's first look at the clock
    /// ([`UNSET`] until then), so a run that ends before it never reads the clock. That look
    /// comes at the first yield (64 states in), wait or JSONata step check; the states before
    /// it, which never wait and are few, are not counted.
    deadline_ms: AtomicI64,
    /// States entered so far (every few, the run yields).
    transitions: AtomicU64,
    /// [`RUNNING`], or why the run was halted ([`TIMED_OUT`], [`ABORTED`]): the error that
    /// unwinds a halted run is caught and retried by nothing.
    halted: AtomicU8,
    cancel: Option<&'a Cancel>,
    /// Whether the host exports state and task spans (see [`TRACE_TARGET`]).
    traced: bool,
}

/// The `tracing` target of state and task spans: hosts that export traces enable it (the
/// core itself only describes its work, it never exports anything).
pub const TRACE_TARGET: &str = "expressway::execution";

/// [`Run::deadline_ms`] before the run first reads its clock.
const UNSET: i64 = i64::MIN;

const RUNNING: u8 = 0;
const TIMED_OUT: u8 = 1;
const ABORTED: u8 = 2;

/// Iterations an inline Map runs at once when its MaxConcurrency is unset or 0 (AWS's limit).
const INLINE_MAP_CONCURRENCY: usize = 40;

/// States entered between two yields of a run that never waits.
const STATES_PER_YIELD: u64 = 64;

/// A state's outcome: output, next state (`None`: the block ends), and an upper bound of the
/// output's serialized size when the state knows one cheaply (`None`: measure it).
type Step = (Value, Option<usize>, Option<usize>);

#[inline(always)]
fn set_all(vars: &mut Vars<'_>, assigned: Vec<(String, Value)>) {
    if assigned.capacity() == 0 {
        // Never allocated, so nothing to free: spares a call to drop an empty list at every
        // state that assigns nothing.
        std::mem::forget(assigned);
    } else {
        set_each(vars, assigned);
    }
}

#[inline(never)]
fn set_each(vars: &mut Vars<'_>, assigned: Vec<(String, Value)>) {
    for (k, v) in assigned {
        vars.set(k, v);
    }
}

/// Text of a value in error causes: strings bare, the rest as JSON.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

mod fanout;
mod jsonata;
mod jsonpath;
mod retry;
mod run;
mod size;
mod task;
pub mod test_state;

pub(crate) use jsonata::{eval_jt, AtaEnv};
pub use size::text_size_bound;
pub(crate) use size::{json_size, json_size_upto, json_str_len, size_bound};
// The field evaluators and size helpers are shared by the sibling modules.
use fanout::MapPlan;
use jsonata::*;
use jsonpath::*;
use retry::*;
use run::{At, Progress};
use size::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_execution_can_move_between_threads() {
        fn is_send<T: Send>(_: &T) {}
        let machine = StateMachine::from_json(r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#)
            .expect("a valid definition");
        let interpreter = Interpreter::new(Arc::new(NoTasks), Arc::new(ManualClock::default()), Limits::default());
        let run = interpreter.execute(&machine, Value::Null, ExecutionInfo::default(), &crate::events::NoEvents);
        is_send(&run);
    }
}
