//! The interpreter: runs a compiled [`StateMachine`] on an input, with Task effects behind
//! [`TaskInvoker`], time behind [`Clock`], and history events going to an [`EventSink`].
//!
//! It is runtime-agnostic: futures only, no tokio. Values move from state to state without
//! copying the whole document; only the parts that templates select are cloned.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::future::{self, BoxFuture, Either};
use futures::{FutureExt, StreamExt};
use serde_json::{Map, Value};

use crate::choice::parse_timestamp;
use crate::definition::{
    Assign, Block, ChoiceBranch, Condition, Dyn, JTemplate, Kind, MapSpec, PathOpt, QueryLanguage, State, StateMachine,
    WaitSpec,
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
                std::task::Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
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
                return std::task::Poll::Ready(());
            }
            self.0.waker.register(cx.waker());
            if self.is_cancelled() {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
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
    pub async fn execute(
        &self,
        machine: &StateMachine,
        input: Value,
        info: ExecutionInfo,
        sink: &dyn EventSink,
    ) -> Outcome {
        self.execute_with(machine, input, info, sink, None).await
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
        let mut info = info;
        if machine.reads_context && info.input.is_none() {
            info.input = Some(input.clone());
        }
        if machine.reads_context && info.start_time.is_empty() {
            info.start_time = chrono::DateTime::from_timestamp_millis(self.clock.now_millis())
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                .unwrap_or_default();
        }
        let limit =
            machine.timeout_seconds().map(Duration::from_secs).into_iter().chain(self.limits.execution_timeout).min();
        let run = Run {
            invoker: &*self.invoker,
            clock: &*self.clock,
            sink,
            events: sink.enabled(),
            next_id: AtomicU64::new(0),
            exec: Arc::new(info),
            limits: &self.limits,
            deadline_ms: limit.map(|l| self.clock.now_millis().saturating_add(l.as_millis() as i64)),
            transitions: AtomicU64::new(0),
            halted: AtomicU8::new(RUNNING),
            cancel,
        };
        run.emit(EventType::ExecutionStarted, None, || serde_json::json!({ "input": input }));
        if let Err(e) = run.check_size(&input, "the execution input", true) {
            return run.finish(Err(e));
        }
        let in_bound = json_size(&input);
        let body = run.block(&machine.root, input, in_bound, None, None);
        let stopped = async {
            match cancel {
                Some(c) => c.cancelled().await,
                None => future::pending().await,
            }
        };
        let body = async {
            match future::select(body, Box::pin(stopped)).await {
                Either::Left((r, _)) => r,
                Either::Right(_) => Err(run.halt(ABORTED)),
            }
        };
        let result = match limit {
            None => body.await,
            Some(limit) => match future::select(Box::pin(body), self.clock.sleep(limit)).await {
                Either::Left((r, _)) => r,
                Either::Right(_) => Err(run.halt(TIMED_OUT)),
            },
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
    exec: Arc<ExecutionInfo>,
    limits: &'a Limits,
    /// When the execution's time limit ends, on its clock.
    deadline_ms: Option<i64>,
    /// States entered so far (every few, the run yields).
    transitions: AtomicU64,
    /// [`RUNNING`], or why the run was halted ([`TIMED_OUT`], [`ABORTED`]): the error that
    /// unwinds a halted run is caught and retried by nothing.
    halted: AtomicU8,
    cancel: Option<&'a Cancel>,
}

const RUNNING: u8 = 0;
const TIMED_OUT: u8 = 1;
const ABORTED: u8 = 2;

/// Iterations an inline Map runs at once when its MaxConcurrency is unset or 0 (AWS's limit).
const INLINE_MAP_CONCURRENCY: usize = 40;

/// States entered between two yields of a run that never waits.
const STATES_PER_YIELD: u64 = 64;

/// A state's outcome: its output and where to go next (`None`: the block ends).
/// A state's outcome: output, next state (`None`: the block ends), and an upper bound of the
/// output's serialized size when the state knows one cheaply (`None`: measure it).
type Step = (Value, Option<usize>, Option<usize>);

/// Size of `v` serialized as compact JSON, computed without serializing. Stops counting
/// once `limit` is passed (the caller only needs to know that it is too big).
pub(crate) fn json_size_upto(v: &Value, limit: usize) -> usize {
    fn str_len(s: &str) -> usize {
        let mut n = s.len() + 2;
        for &b in s.as_bytes() {
            if b < 0x20 || b == b'"' || b == b'\\' {
                n += if matches!(b, b'\n' | b'\r' | b'\t' | b'"' | b'\\' | 0x08 | 0x0c) { 1 } else { 5 };
            }
        }
        n
    }
    fn walk(v: &Value, acc: &mut usize, limit: usize) {
        if *acc > limit {
            return;
        }
        match v {
            Value::Null => *acc += 4,
            Value::Bool(b) => *acc += if *b { 4 } else { 5 },
            Value::Number(n) => {
                *acc += if let Some(i) = n.as_i64() {
                    let mut digits = if i < 0 { 2 } else { 1 };
                    let mut x = i.unsigned_abs();
                    while x >= 10 {
                        x /= 10;
                        digits += 1;
                    }
                    digits
                } else if let Some(u) = n.as_u64() {
                    u.to_string().len()
                } else {
                    ryu::Buffer::new().format(n.as_f64().unwrap_or(0.0)).len()
                }
            }
            Value::String(s) => *acc += str_len(s),
            Value::Array(a) => {
                *acc += 2 + a.len().saturating_sub(1);
                for x in a {
                    walk(x, acc, limit);
                }
            }
            Value::Object(o) => {
                *acc += 2 + o.len().saturating_sub(1);
                for (k, x) in o {
                    *acc += str_len(k) + 1;
                    walk(x, acc, limit);
                }
            }
        }
    }
    let mut acc = 0;
    walk(v, &mut acc, limit);
    acc
}

/// A cheap upper bound of `v`'s serialized size: exact but for non-integer numbers, which
/// count as the longest a float can print (24 bytes).
pub(crate) fn size_bound(v: &Value) -> usize {
    fn walk(v: &Value) -> usize {
        match v {
            Value::Number(n) if !n.is_i64() && !n.is_u64() => 24,
            Value::Array(a) => 2 + a.len().saturating_sub(1) + a.iter().map(walk).sum::<usize>(),
            Value::Object(o) => {
                2 + o.len().saturating_sub(1) + o.iter().map(|(k, x)| json_str_len(k) + 1 + walk(x)).sum::<usize>()
            }
            Value::String(s) => json_str_len(s),
            other => json_size_upto(other, usize::MAX),
        }
    }
    walk(v)
}

fn json_str_len(s: &str) -> usize {
    let mut n = s.len() + 2;
    for &b in s.as_bytes() {
        if b < 0x20 || b == b'"' || b == b'\\' {
            n += if matches!(b, b'\n' | b'\r' | b'\t' | b'"' | b'\\' | 0x08 | 0x0c) { 1 } else { 5 };
        }
    }
    n
}

/// Bound of a state's output when ResultPath puts a result of bound `rb` into an input of
/// bound `in_bound`.
fn merged_bound(p: &PathOpt, in_bound: usize, rb: usize) -> usize {
    match p {
        PathOpt::Default => rb,
        PathOpt::Null => in_bound,
        PathOpt::Path(p) if p.is_root_only() => rb,
        PathOpt::Path(_) => in_bound + rb,
    }
}

pub(crate) fn json_size(v: &Value) -> usize {
    json_size_upto(v, usize::MAX)
}

impl<'a> Run<'a> {
    fn finish(&self, result: Result<Value, StatesError>) -> Outcome {
        match result {
            Ok(v) => {
                self.emit(EventType::ExecutionSucceeded, None, || serde_json::json!({ "output": v }));
                Outcome::Succeeded(v)
            }
            Err(e) => {
                self.emit(EventType::ExecutionFailed, None, || err_details(&e));
                Outcome::Failed(e)
            }
        }
    }

    fn emit(&self, ty: EventType, state: Option<&str>, details: impl FnOnce() -> Value) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        if self.events {
            self.sink.record(HistoryEvent {
                id,
                timestamp_ms: self.clock.now_millis(),
                event_type: ty,
                state_name: state.map(str::to_string),
                details: details(),
            });
        }
        id
    }

    fn check_size(&self, v: &Value, what: &str, execution: bool) -> Result<(), StatesError> {
        if json_size_upto(v, self.limits.max_payload_bytes) > self.limits.max_payload_bytes {
            let cause = if execution {
                format!("The size of {what} exceeds the maximum number of bytes service limit.")
            } else {
                format!("The state/task '{what}' returned a result with a size exceeding the maximum number of bytes service limit.")
            };
            return Err(StatesError::new(errors::DATA_LIMIT_EXCEEDED, cause));
        }
        Ok(())
    }

    /// Mark the run halted (the first reason stays) and return the error that unwinds it.
    fn halt(&self, why: u8) -> StatesError {
        let _ = self.halted.compare_exchange(RUNNING, why, Ordering::Relaxed, Ordering::Relaxed);
        match self.halted.load(Ordering::Relaxed) {
            ABORTED => StatesError::new(errors::ABORTED, "The execution was stopped"),
            _ => StatesError::new(errors::TIMEOUT, "The execution timed out"),
        }
    }

    fn is_halted(&self) -> bool {
        self.halted.load(Ordering::Relaxed) != RUNNING
    }

    /// Whether the run must end now: halted already, stopped, or past its time limit.
    fn must_halt(&self) -> Option<StatesError> {
        if self.is_halted() {
            return Some(self.halt(RUNNING));
        }
        if self.cancel.is_some_and(|c| c.is_cancelled()) {
            return Some(self.halt(ABORTED));
        }
        if self.deadline_ms.is_some_and(|d| self.clock.now_millis() >= d) {
            return Some(self.halt(TIMED_OUT));
        }
        None
    }

    /// Before each state: end the run once its time limit has passed or it was stopped,
    /// whatever the states do (a loop of Pass states never reaches an await where the timer
    /// could win), and yield every few states so one execution never holds its thread.
    async fn transition(&self) -> Result<(), StatesError> {
        if let Some(e) = self.must_halt() {
            return Err(e);
        }
        if self.transitions.fetch_add(1, Ordering::Relaxed) % STATES_PER_YIELD == STATES_PER_YIELD - 1 {
            self.clock.pause().await;
        }
        Ok(())
    }

    fn now_iso(&self) -> String {
        let ms = self.clock.now_millis();
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default()
    }

    fn block<'s>(
        &'s self,
        block: &'s Block,
        input: Value,
        in_bound: usize,
        parent: Option<&'s Vars<'s>>,
        inherited: Option<Vec<(String, Value)>>,
    ) -> BoxFuture<'s, Result<Value, StatesError>> {
        async move {
            let mut vars = match parent {
                Some(p) => Vars::child(p),
                None => Vars::new(),
            };
            for (k, v) in inherited.into_iter().flatten() {
                vars.set(k, v);
            }
            let mut idx = block.start;
            let mut input = input;
            let mut bound = in_bound;
            loop {
                self.transition().await?;
                let st = &block.states[idx];
                let entered = self.emit(
                    EventType::entered(st.type_name),
                    Some(&st.name),
                    || serde_json::json!({ "input": input }),
                );
                let (output, next, out_bound) = self.state(st, input, bound, &mut vars, entered).await?;
                if let Some(ty) = EventType::exited(st.type_name) {
                    self.emit(ty, Some(&st.name), || serde_json::json!({ "output": output }));
                }
                match next {
                    Some(n) => {
                        idx = n;
                        input = output;
                        bound = out_bound;
                    }
                    None => return Ok(output),
                }
            }
        }
        .boxed()
    }

    fn ctx(&self, st: &State) -> ContextSource {
        ContextSource::new(
            self.exec.clone(),
            st.name.clone(),
            if self.exec.input.is_some() { self.now_iso() } else { String::new() },
        )
    }

    /// Prefix engine-raised errors with the state and its entered event, as AWS does.
    fn located(st: &State, entered: u64, e: StatesError) -> StatesError {
        const PREFIX: &str = "An error occurred while executing the state";
        if e.cause.as_deref().is_some_and(|c| c.starts_with(PREFIX)) {
            return e;
        }
        match e.error.as_deref() {
            Some(errors::RUNTIME | errors::QUERY_EVALUATION_ERROR) => StatesError {
                error: e.error,
                cause: Some(format!(
                    "An error occurred while executing the state '{}' (entered at the event id #{entered}). {}",
                    st.name,
                    e.cause.unwrap_or_default()
                )),
            },
            _ => e,
        }
    }

    /// Run one state; returns its output, the next state and a bound of the output's size.
    async fn state(
        &self,
        st: &State,
        input: Value,
        in_bound: usize,
        vars: &mut Vars<'_>,
        entered: u64,
    ) -> Result<(Value, Option<usize>, usize), StatesError> {
        let r = match st.ql {
            QueryLanguage::JsonPath => self.state_jp(st, input, in_bound, vars, entered).await,
            QueryLanguage::Jsonata => self.state_ata(st, input, in_bound, vars, entered).await,
        };
        let (out, next, known) = r.map_err(|e| Self::located(st, entered, e))?;
        // Sizes are tracked as upper bounds; the exact size is computed only near the limit.
        let mut bound = known.unwrap_or_else(|| size_bound(&out));
        if bound > self.limits.max_payload_bytes {
            self.check_size(&out, &st.name, false)?;
            bound = json_size(&out);
        }
        Ok((out, next, bound))
    }

    // ----------------------------------------------------------------- JSONPath states

    async fn state_jp(
        &self,
        st: &State,
        raw: Value,
        in_bound: usize,
        vars: &mut Vars<'_>,
        entered: u64,
    ) -> Result<Step, StatesError> {
        let ctx = self.ctx(st);
        match &st.kind {
            Kind::Pass { result } => {
                let env_input = apply_input_path(&st.input_path, &raw, &ctx, vars)?;
                let res = match (result, &st.parameters) {
                    (Some(r), _) => r.clone(),
                    (None, Some(p)) => p.eval(&Env { input: &env_input, ctx: &ctx, vars })?,
                    (None, None) => env_input.into_owned(),
                };
                // A result made from the input alone is no bigger than the input.
                let rb = if result.is_none() && st.parameters.is_none() { in_bound } else { size_bound(&res) };
                let assigned = self.assign_jp(st.assign.as_ref(), &res, &ctx, vars)?;
                let out = merge_result(&st.result_path, raw, res)?;
                let out = apply_output_path(&st.output_path, out, &ctx, vars)?;
                set_all(vars, assigned);
                Ok((out, st.next, Some(merged_bound(&st.result_path, in_bound, rb))))
            }
            Kind::Succeed => {
                let v = apply_input_path(&st.input_path, &raw, &ctx, vars)?.into_owned();
                let out = apply_output_path(&st.output_path, v, &ctx, vars)?;
                Ok((out, None, Some(in_bound)))
            }
            Kind::Fail { error, cause } => {
                let env = Env { input: &raw, ctx: &ctx, vars };
                let error = eval_dyn_str(error.as_ref(), &env, "ErrorPath")?;
                let cause = eval_dyn_str(cause.as_ref(), &env, "CausePath")?;
                Err(StatesError { error, cause })
            }
            Kind::Choice { choices, default } => {
                let eff = apply_input_path(&st.input_path, &raw, &ctx, vars)?;
                let env = Env { input: &eff, ctx: &ctx, vars };
                let mut chosen: Option<&ChoiceBranch> = None;
                for c in choices {
                    if let Condition::Path(rule) = &c.cond {
                        if rule.eval(&env)? {
                            chosen = Some(c);
                            break;
                        }
                    }
                }
                let next = match (chosen, default) {
                    (Some(c), _) => c.next,
                    (None, Some(d)) => *d,
                    (None, None) => return Err(StatesError::new(errors::NO_CHOICE_MATCHED, "No Matches!")),
                };
                let assign = chosen.and_then(|c| c.assign.as_ref()).or(st.assign.as_ref());
                let assigned = self.assign_jp(assign, &eff, &ctx, vars)?;
                let eff = eff.into_owned();
                let out = apply_output_path(&st.output_path, eff, &ctx, vars)?;
                set_all(vars, assigned);
                Ok((out, Some(next), Some(in_bound)))
            }
            Kind::Wait(spec) => {
                let eff = apply_input_path(&st.input_path, &raw, &ctx, vars)?;
                let dur = self.wait_duration_jp(spec, &Env { input: &eff, ctx: &ctx, vars })?;
                self.clock.sleep(dur).await;
                let assigned = self.assign_jp(st.assign.as_ref(), &eff, &ctx, vars)?;
                let eff = eff.into_owned();
                let out = apply_output_path(&st.output_path, eff, &ctx, vars)?;
                set_all(vars, assigned);
                Ok((out, st.next, Some(in_bound)))
            }
            Kind::Task(_) | Kind::Parallel { .. } | Kind::Map(_) => {
                self.with_retry(st, raw, in_bound, vars, entered, ctx).await
            }
        }
    }

    /// Evaluate a JSONPath `Assign`; the caller applies the values once the state's output is
    /// known, so every field of the state sees the variables as they were on entry.
    fn assign_jp(
        &self,
        assign: Option<&Assign>,
        input: &Value,
        ctx: &ContextSource,
        vars: &Vars<'_>,
    ) -> Result<Vec<(String, Value)>, StatesError> {
        let Some(Assign::Path(t)) = assign else {
            return Ok(Vec::new());
        };
        match t.eval(&Env { input, ctx, vars })? {
            Value::Object(m) => Ok(m.into_iter().collect()),
            _ => Ok(Vec::new()),
        }
    }

    fn wait_duration_jp(&self, spec: &WaitSpec, env: &Env<'_>) -> Result<Duration, StatesError> {
        match spec {
            WaitSpec::Seconds(Dyn::Lit(n)) => Ok(Duration::from_secs(*n)),
            WaitSpec::Seconds(Dyn::Path(p)) => {
                let v = env.path(p).ok_or_else(|| {
                    StatesError::runtime(format!("The SecondsPath parameter does not reference an input value: {p}"))
                })?;
                match v.as_ref() {
                    Value::Number(n) if n.as_i64().is_some() => {
                        let s = n.as_i64().unwrap_or(0);
                        if s < 0 {
                            return Err(StatesError::runtime(format!(
                                "The SecondsPath parameter references a negative value: {p} == {s}"
                            )));
                        }
                        Ok(Duration::from_secs(s as u64))
                    }
                    other => Err(StatesError::runtime(format!(
                        "The SecondsPath parameter cannot be parsed as a long value: {p} == {}",
                        plain(other)
                    ))),
                }
            }
            WaitSpec::Timestamp(Dyn::Lit(s)) => Ok(self.until(s)),
            WaitSpec::Timestamp(Dyn::Path(p)) => {
                let v = env.path(p).ok_or_else(|| {
                    StatesError::runtime(format!("The TimestampPath parameter does not reference an input value: {p}"))
                })?;
                match v.as_str() {
                    Some(s) if parse_timestamp(s).is_some() => Ok(self.until(s)),
                    _ => Err(StatesError::runtime(format!(
                        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {p} == {}",
                        plain(&v)
                    ))),
                }
            }
            _ => Ok(Duration::ZERO),
        }
    }

    fn until(&self, ts: &str) -> Duration {
        let target = parse_timestamp(ts).map(|t| t.timestamp_millis()).unwrap_or(0);
        let now = self.clock.now_millis();
        Duration::from_millis((target - now).max(0) as u64)
    }

    /// Task, Parallel and Map: attempts with Retry, then Catch.
    async fn with_retry(
        &self,
        st: &State,
        raw: Value,
        in_bound: usize,
        vars: &mut Vars<'_>,
        entered: u64,
        mut ctx: ContextSource,
    ) -> Result<Step, StatesError> {
        let mut counts = vec![0u32; st.retry.len()];
        let keep_raw = !st.catch.is_empty() || !st.retry.is_empty();
        let mut raw = Some(raw);
        loop {
            let input = if keep_raw { raw.clone() } else { raw.take() }.unwrap_or(Value::Null);
            let attempt: u32 = counts.iter().sum();
            let r = match st.ql {
                QueryLanguage::JsonPath => self.attempt_jp(st, input, in_bound, vars, attempt, &ctx).await,
                QueryLanguage::Jsonata => self.attempt_ata(st, input, vars, attempt, &ctx).await,
            };
            let err = match r {
                Ok(step) => return Ok(step),
                // The execution's time limit, or its stop, is not an error a state can handle.
                Err(e) if self.is_halted() => return Err(e),
                Err(e) => Self::located(st, entered, e),
            };
            // Retry: the first retrier that matches decides.
            if let Some(i) = st.retry.iter().position(|r| error_matches(&r.errors, &err)) {
                let r = &st.retry[i];
                if counts[i] < r.max_attempts {
                    let mut delay = r.interval * r.backoff.powi(counts[i] as i32);
                    if let Some(m) = r.max_delay {
                        delay = delay.min(m);
                    }
                    if r.jitter {
                        delay *= rand::random::<f64>();
                    }
                    counts[i] += 1;
                    ctx = self.ctx(st);
                    ctx.retry_count = counts.iter().sum();
                    self.clock.sleep(Duration::from_secs_f64(delay.max(0.0))).await;
                    continue;
                }
            }
            let Some(c) = st.catch.iter().find(|c| error_matches(&c.errors, &err)) else {
                return Err(err);
            };
            let raw = raw.take().unwrap_or(Value::Null);
            let err_out = serde_json::json!({"Error": err.error.clone().unwrap_or_default(), "Cause": err.cause.clone().unwrap_or_default()});
            return match st.ql {
                QueryLanguage::JsonPath => {
                    let assigned = self.assign_jp(c.assign.as_ref(), &err_out, &ctx, vars)?;
                    let out = merge_result(&c.result_path, raw, err_out)?;
                    set_all(vars, assigned);
                    Ok((out, Some(c.next), None))
                }
                QueryLanguage::Jsonata => {
                    let b = AtaEnv::new(self, &raw, None, Some(&err_out), &ctx, vars);
                    let out = match &c.output {
                        Some(t) => eval_jt(t, &b, "Output")?,
                        None => err_out.clone(),
                    };
                    let assigned = eval_assign_ata(c.assign.as_ref(), &b)?;
                    drop(b);
                    for (k, v) in assigned {
                        vars.set(k, v);
                    }
                    Ok((out, Some(c.next), None))
                }
            };
        }
    }

    async fn attempt_jp(
        &self,
        st: &State,
        raw: Value,
        in_bound: usize,
        vars: &mut Vars<'_>,
        attempt: u32,
        ctx: &ContextSource,
    ) -> Result<Step, StatesError> {
        let eff = apply_input_path(&st.input_path, &raw, ctx, vars)?;
        let result = match &st.kind {
            Kind::Map(spec) => self.map_jp(st, spec, &eff, ctx, vars).await?,
            _ => {
                let params = match &st.parameters {
                    Some(p) => p.eval(&Env { input: &eff, ctx, vars })?,
                    None => eff.clone().into_owned(),
                };
                match &st.kind {
                    Kind::Task(spec) => {
                        let env = Env { input: &eff, ctx, vars };
                        let timeout = dyn_secs(spec.timeout.as_ref(), &env, "TimeoutSecondsPath")?;
                        let heartbeat = dyn_secs(spec.heartbeat.as_ref(), &env, "HeartbeatSecondsPath")?;
                        self.task(st, &spec.resource, params, attempt, timeout, heartbeat).await?
                    }
                    Kind::Parallel { branches } => self.parallel(branches, params, vars).await?,
                    _ => unreachable!("only Task, Parallel and Map retry"),
                }
            }
        };
        drop(eff);
        let result = match &st.result_selector {
            Some(t) => t.eval(&Env { input: &result, ctx, vars })?,
            None => result,
        };
        let rb = size_bound(&result);
        let assigned = self.assign_jp(st.assign.as_ref(), &result, ctx, vars)?;
        let out = merge_result(&st.result_path, raw, result)?;
        let out = apply_output_path(&st.output_path, out, ctx, vars)?;
        set_all(vars, assigned);
        Ok((out, st.next, Some(merged_bound(&st.result_path, in_bound, rb))))
    }

    async fn task(
        &self,
        st: &State,
        resource: &str,
        input: Value,
        attempt: u32,
        timeout: Option<u64>,
        heartbeat: Option<u64>,
    ) -> Result<Value, StatesError> {
        self.emit(
            EventType::TaskScheduled,
            Some(&st.name),
            || serde_json::json!({"resource": resource, "parameters": input}),
        );
        self.emit(EventType::TaskStarted, Some(&st.name), || Value::Null);
        let req = TaskRequest {
            resource,
            input,
            state_name: &st.name,
            execution_arn: &self.exec.execution_arn,
            attempt,
            timeout: timeout.map(Duration::from_secs),
            heartbeat: heartbeat.map(Duration::from_secs),
            depth: self.exec.depth,
        };
        let call = self.invoker.invoke(req);
        let r = match timeout {
            None => call.await,
            Some(t) => match future::select(call, self.clock.sleep(Duration::from_secs(t))).await {
                Either::Left((r, _)) => r,
                Either::Right(_) => {
                    let e = StatesError::new(errors::TIMEOUT, "Task timed out.");
                    self.emit(EventType::TaskTimedOut, Some(&st.name), || err_details(&e));
                    return Err(e);
                }
            },
        };
        match &r {
            Ok(v) => self.emit(EventType::TaskSucceeded, Some(&st.name), || serde_json::json!({ "output": v })),
            Err(e) => self.emit(EventType::TaskFailed, Some(&st.name), || err_details(e)),
        };
        r
    }

    async fn parallel(&self, branches: &[Block], input: Value, vars: &Vars<'_>) -> Result<Value, StatesError> {
        let vars: &Vars<'_> = vars;
        let mut futs = Vec::with_capacity(branches.len());
        let n = branches.len();
        let bound = size_bound(&input);
        let mut input = Some(input);
        for (i, b) in branches.iter().enumerate() {
            let inp =
                if i + 1 == n { input.take().unwrap_or(Value::Null) } else { input.clone().unwrap_or(Value::Null) };
            futs.push(self.block(b, inp, bound, Some(vars), None));
        }
        let outs = future::try_join_all(futs).await?;
        Ok(Value::Array(outs))
    }

    async fn map_jp(
        &self,
        st: &State,
        spec: &MapSpec,
        eff: &Value,
        ctx: &ContextSource,
        vars: &Vars<'_>,
    ) -> Result<Value, StatesError> {
        let env = Env { input: eff, ctx, vars };
        let items: Cow<'_, Value> = match &spec.items_path {
            Some(p) => env.path(p).ok_or_else(|| {
                StatesError::runtime(format!("Invalid path '{p}' : No results for path: {}", p.normalized()))
            })?,
            None => Cow::Borrowed(eff),
        };
        let Some(items) = items.as_array() else {
            return Err(StatesError::runtime(format!("Map state input must be an array but was: {}", items)));
        };
        let max_conc =
            dyn_u64_field(spec.max_concurrency.as_ref(), &env, "MaxConcurrencyPath", "integer")?.unwrap_or(0);
        let tolerated_count =
            dyn_u64_field(spec.tolerated_count.as_ref(), &env, "ToleratedFailureCountPath", "integer")?;
        let tolerated_pct = dyn_pct(spec.tolerated_pct.as_ref(), &env)?;
        // Build each iteration's input.
        let mut inputs = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let v = match &spec.item_selector {
                Some(t) => {
                    let mut ictx = self.ctx(st);
                    ictx.map_item = Some((i, item.clone()));
                    t.eval(&Env { input: eff, ctx: &ictx, vars })?
                }
                None => item.clone(),
            };
            inputs.push(v);
        }
        let inputs = match &spec.batcher {
            Some(b) => {
                let max_items = dyn_u64_field(b.max_items.as_ref(), &env, "MaxItemsPerBatchPath", "integer")?;
                let max_bytes = dyn_u64_field(b.max_bytes.as_ref(), &env, "MaxInputBytesPerBatchPath", "integer")?;
                let batch_input = match &b.batch_input {
                    Some(t) => Some(t.eval(&env)?),
                    None => None,
                };
                batch(inputs, max_items, max_bytes, batch_input)
            }
            None => inputs,
        };
        self.run_iterations(st, &spec.processor, inputs, max_conc, tolerated_count, tolerated_pct, vars).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_iterations(
        &self,
        st: &State,
        processor: &Block,
        inputs: Vec<Value>,
        max_conc: u64,
        tolerated_count: Option<u64>,
        tolerated_pct: Option<f64>,
        vars: &Vars<'_>,
    ) -> Result<Value, StatesError> {
        let total = inputs.len();
        self.emit(EventType::MapStateStarted, Some(&st.name), || serde_json::json!({ "length": total }));
        // No MaxConcurrency (or 0) runs as many at once as AWS's inline Map does: 40.
        let conc = if max_conc == 0 { INLINE_MAP_CONCURRENCY } else { max_conc as usize };
        let tolerant = tolerated_count.is_some() || tolerated_pct.is_some();
        let name: &str = &st.name;
        let mut stream = futures::stream::iter(inputs.into_iter().enumerate().map(|(i, v)| {
            self.emit(EventType::MapIterationStarted, Some(name), || serde_json::json!({ "index": i }));
            let bound = size_bound(&v);
            self.block(processor, v, bound, Some(vars), None).map(move |r| (i, r))
        }))
        .buffered(conc);
        let mut outs = Vec::with_capacity(total);
        let mut failed = 0u64;
        while let Some((i, r)) = stream.next().await {
            match r {
                Ok(v) => {
                    self.emit(EventType::MapIterationSucceeded, Some(name), || serde_json::json!({ "index": i }));
                    outs.push(v);
                }
                Err(e) => {
                    self.emit(EventType::MapIterationFailed, Some(name), || serde_json::json!({ "index": i }));
                    if !tolerant || self.is_halted() {
                        self.emit(EventType::MapStateFailed, Some(name), || Value::Null);
                        return Err(e);
                    }
                    failed += 1;
                    let over_count = tolerated_count.is_none_or(|c| failed > c);
                    let over_pct = tolerated_pct.is_none_or(|p| (failed as f64) * 100.0 / (total as f64) > p);
                    if over_count && over_pct {
                        self.emit(EventType::MapStateFailed, Some(name), || Value::Null);
                        return Err(StatesError::new(
                            errors::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                            "The specified tolerated failure threshold was exceeded",
                        ));
                    }
                    outs.push(serde_json::json!({"Error": e.error, "Cause": e.cause}));
                }
            }
        }
        self.emit(EventType::MapStateSucceeded, Some(name), || Value::Null);
        Ok(Value::Array(outs))
    }

    // ----------------------------------------------------------------- JSONata states

    async fn state_ata(
        &self,
        st: &State,
        raw: Value,
        in_bound: usize,
        vars: &mut Vars<'_>,
        entered: u64,
    ) -> Result<Step, StatesError> {
        let ctx = self.ctx(st);
        match &st.kind {
            Kind::Pass { .. } | Kind::Succeed | Kind::Wait(_) => {
                let b = AtaEnv::new(self, &raw, None, None, &ctx, vars);
                if let Kind::Wait(spec) = &st.kind {
                    let d = self.wait_duration_ata(spec, &b)?;
                    self.clock.sleep(d).await;
                }
                let out = match &st.output {
                    Some(t) => Some(eval_jt(t, &b, "Output")?),
                    None => None,
                };
                let assigned = eval_assign_ata(st.assign.as_ref(), &b)?;
                drop(b);
                for (k, v) in assigned {
                    vars.set(k, v);
                }
                let next = if matches!(st.kind, Kind::Succeed) { None } else { st.next };
                Ok((out.unwrap_or(raw), next, None))
            }
            Kind::Fail { error, cause } => {
                let b = AtaEnv::new(self, &raw, None, None, &ctx, vars);
                let f = |d: Option<&Dyn<String>>, field: &str| -> Result<Option<String>, StatesError> {
                    Ok(match d {
                        None => None,
                        Some(Dyn::Lit(s)) => Some(s.clone()),
                        Some(Dyn::Ata(t)) => match eval_jt(t, &b, field)? {
                            Value::String(s) => Some(s),
                            other => Some(other.to_string()),
                        },
                        Some(_) => None,
                    })
                };
                Err(StatesError { error: f(error.as_ref(), "Error")?, cause: f(cause.as_ref(), "Cause")? })
            }
            Kind::Choice { choices, default } => {
                let b = AtaEnv::new(self, &raw, None, None, &ctx, vars);
                let mut chosen = None;
                for c in choices {
                    if let Condition::Ata(t) = &c.cond {
                        match eval_jt(t, &b, "Condition")? {
                            Value::Bool(true) => {
                                chosen = Some(c);
                                break;
                            }
                            Value::Bool(false) => {}
                            other => {
                                return Err(StatesError::query(format!(
                                    "The Condition field evaluated to a non-boolean value: {other}"
                                )))
                            }
                        }
                    }
                }
                let next = match (chosen, default) {
                    (Some(c), _) => c.next,
                    (None, Some(d)) => *d,
                    (None, None) => return Err(StatesError::new(errors::NO_CHOICE_MATCHED, "No Matches!")),
                };
                let output = chosen.and_then(|c| c.output.as_ref()).or(st.output.as_ref());
                let out = match output {
                    Some(t) => Some(eval_jt(t, &b, "Output")?),
                    None => None,
                };
                let assign = chosen.and_then(|c| c.assign.as_ref()).or(st.assign.as_ref());
                let assigned = eval_assign_ata(assign, &b)?;
                drop(b);
                for (k, v) in assigned {
                    vars.set(k, v);
                }
                Ok((out.unwrap_or(raw), Some(next), None))
            }
            Kind::Task(_) | Kind::Parallel { .. } | Kind::Map(_) => {
                self.with_retry(st, raw, in_bound, vars, entered, ctx).await
            }
        }
    }

    fn wait_duration_ata(&self, spec: &WaitSpec, b: &AtaEnv<'_>) -> Result<Duration, StatesError> {
        match spec {
            WaitSpec::Seconds(Dyn::Lit(n)) => Ok(Duration::from_secs(*n)),
            WaitSpec::Seconds(Dyn::Ata(t)) => match eval_jt(t, b, "Seconds")? {
                Value::Number(n) if n.as_u64().is_some() => Ok(Duration::from_secs(n.as_u64().unwrap_or(0))),
                other => Err(StatesError::query(format!(
                    "The Seconds field must evaluate to a non-negative integer, but was: {other}"
                ))),
            },
            WaitSpec::Timestamp(Dyn::Lit(s)) => Ok(self.until(s)),
            WaitSpec::Timestamp(Dyn::Ata(t)) => match eval_jt(t, b, "Timestamp")? {
                Value::String(s) if parse_timestamp(&s).is_some() => Ok(self.until(&s)),
                other => Err(StatesError::query(format!(
                    "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {}",
                    plain(&other)
                ))),
            },
            _ => Ok(Duration::ZERO),
        }
    }

    async fn attempt_ata(
        &self,
        st: &State,
        raw: Value,
        vars: &mut Vars<'_>,
        attempt: u32,
        ctx: &ContextSource,
    ) -> Result<Step, StatesError> {
        let result = {
            let b = AtaEnv::new(self, &raw, None, None, ctx, vars);
            match &st.kind {
                Kind::Map(spec) => self.map_ata(st, spec, &b, vars).await?,
                _ => {
                    let args = match &st.arguments {
                        Some(t) => eval_jt(t, &b, "Arguments")?,
                        None => raw.clone(),
                    };
                    match &st.kind {
                        Kind::Task(spec) => {
                            let timeout = ata_secs(spec.timeout.as_ref(), &b, "TimeoutSeconds")?;
                            let heartbeat = ata_secs(spec.heartbeat.as_ref(), &b, "HeartbeatSeconds")?;
                            self.task(st, &spec.resource, args, attempt, timeout, heartbeat).await?
                        }
                        Kind::Parallel { branches } => self.parallel(branches, args, vars).await?,
                        _ => unreachable!("only Task, Parallel and Map retry"),
                    }
                }
            }
        };
        let b = AtaEnv::new(self, &raw, Some(&result), None, ctx, vars);
        let out = match &st.output {
            Some(t) => Some(eval_jt(t, &b, "Output")?),
            None => None,
        };
        let assigned = eval_assign_ata(st.assign.as_ref(), &b)?;
        drop(b);
        for (k, v) in assigned {
            vars.set(k, v);
        }
        Ok((out.unwrap_or(result), st.next, None))
    }

    async fn map_ata(&self, st: &State, spec: &MapSpec, b: &AtaEnv<'_>, vars: &Vars<'_>) -> Result<Value, StatesError> {
        let items = match &spec.items {
            Some(t) => {
                let v = eval_jt(t, b, "Items")?;
                if !v.is_array() {
                    let src = match t {
                        JTemplate::Expr(e) => e.source().to_string(),
                        _ => v.to_string(),
                    };
                    return Err(StatesError::query(format!(
                        "The JSONata expression '{src}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '{}' for value: {v}",
                        type_name(&v)
                    )));
                }
                v
            }
            None => {
                if !b.input.is_array() {
                    return Err(StatesError::query(format!("Map state input must be an array but was: {}", b.input)));
                }
                b.input.clone()
            }
        };
        let Value::Array(items) = items else { unreachable!("checked above") };
        let num = |d: Option<&Dyn<u64>>, field: &str| -> Result<Option<u64>, StatesError> {
            match d {
                None => Ok(None),
                Some(Dyn::Lit(n)) => Ok(Some(*n)),
                Some(Dyn::Ata(t)) => match eval_jt(t, b, field)? {
                    Value::Number(n) if n.as_u64().is_some() => Ok(n.as_u64()),
                    other => Err(StatesError::query(format!(
                        "The {field} field must evaluate to a non-negative integer, but was: {other}"
                    ))),
                },
                Some(_) => Ok(None),
            }
        };
        let max_conc = num(spec.max_concurrency.as_ref(), "MaxConcurrency")?.unwrap_or(0);
        let tolerated_count = num(spec.tolerated_count.as_ref(), "ToleratedFailureCount")?;
        let tolerated_pct = match &spec.tolerated_pct {
            None => None,
            Some(Dyn::Lit(x)) => Some(*x),
            Some(Dyn::Ata(t)) => match eval_jt(t, b, "ToleratedFailurePercentage")?.as_f64() {
                Some(x) if (0.0..=100.0).contains(&x) => Some(x),
                _ => return Err(StatesError::query("ToleratedFailurePercentage must be between 0 and 100.")),
            },
            Some(_) => None,
        };
        let mut inputs = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let v = match &spec.item_selector_ata {
                Some(t) => {
                    let mut ictx = self.ctx(st);
                    ictx.map_item = Some((i, item));
                    let ib = AtaEnv::new(self, b.input, None, None, &ictx, vars);
                    eval_jt(t, &ib, "ItemSelector")?
                }
                None => item,
            };
            inputs.push(v);
        }
        let inputs = match &spec.batcher {
            Some(bt) => {
                let max_items = num(bt.max_items.as_ref(), "MaxItemsPerBatch")?;
                let max_bytes = num(bt.max_bytes.as_ref(), "MaxInputBytesPerBatch")?;
                let batch_input = match &bt.batch_input_ata {
                    Some(t) => Some(eval_jt(t, b, "BatchInput")?),
                    None => None,
                };
                batch(inputs, max_items, max_bytes, batch_input)
            }
            None => inputs,
        };
        self.run_iterations(st, &spec.processor, inputs, max_conc, tolerated_count, tolerated_pct, vars).await
    }
}

fn set_all(vars: &mut Vars<'_>, assigned: Vec<(String, Value)>) {
    for (k, v) in assigned {
        vars.set(k, v);
    }
}

/// Group iteration inputs into ItemBatcher batches, bounded by item count and by size.
fn batch(inputs: Vec<Value>, max_items: Option<u64>, max_bytes: Option<u64>, batch_input: Option<Value>) -> Vec<Value> {
    let size = max_items.filter(|n| *n > 0).map(|n| n as usize).unwrap_or(inputs.len().max(1));
    let max_bytes = max_bytes.filter(|n| *n > 0).map(|n| n as usize).unwrap_or(usize::MAX);
    let mut out = Vec::new();
    let mut it = inputs.into_iter().peekable();
    while it.peek().is_some() {
        let mut chunk: Vec<Value> = Vec::new();
        let mut bytes = 0usize;
        while chunk.len() < size {
            let Some(next) = it.peek() else { break };
            let n = json_size(next);
            if !chunk.is_empty() && bytes + n > max_bytes {
                break;
            }
            bytes += n;
            chunk.extend(it.next());
        }
        let mut m = Map::new();
        if let Some(bi) = &batch_input {
            m.insert("BatchInput".into(), bi.clone());
        }
        m.insert("Items".into(), Value::Array(chunk));
        out.push(Value::Object(m));
    }
    out
}

/// Text of a value in error causes: strings bare, the rest as JSON.
fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn error_matches(names: &[String], e: &StatesError) -> bool {
    let name = e.name();
    names.iter().any(|n| {
        n == name
            || (n == errors::ALL && name != errors::RUNTIME && name != errors::DATA_LIMIT_EXCEEDED)
            || (n == errors::TASK_FAILED
                && name != errors::TIMEOUT
                && name != errors::RUNTIME
                && name != errors::DATA_LIMIT_EXCEEDED
                && !name.is_empty())
    })
}

fn apply_input_path<'v>(
    p: &PathOpt,
    raw: &'v Value,
    ctx: &ContextSource,
    vars: &Vars<'_>,
) -> Result<Cow<'v, Value>, StatesError> {
    match p {
        PathOpt::Default => Ok(Cow::Borrowed(raw)),
        PathOpt::Null => Ok(Cow::Owned(Value::Object(Map::new()))),
        PathOpt::Path(p) if p.is_root_only() && matches!(p.root(), crate::jsonpath::Root::Input) => {
            Ok(Cow::Borrowed(raw))
        }
        PathOpt::Path(p) => {
            let env = Env { input: raw, ctx, vars };
            match env.path(p) {
                Some(v) => Ok(Cow::Owned(v.into_owned())),
                None => Err(StatesError::runtime(format!(
                    "Invalid input path '{p}' : No results for path: {}",
                    p.normalized()
                ))),
            }
        }
    }
}

fn apply_output_path(p: &PathOpt, out: Value, ctx: &ContextSource, vars: &Vars<'_>) -> Result<Value, StatesError> {
    match p {
        PathOpt::Default => Ok(out),
        PathOpt::Null => Ok(Value::Object(Map::new())),
        PathOpt::Path(p) if p.is_root_only() && matches!(p.root(), crate::jsonpath::Root::Input) => Ok(out),
        PathOpt::Path(p) => {
            let env = Env { input: &out, ctx, vars };
            match env.path(p) {
                Some(v) => Ok(v.into_owned()),
                None => Err(StatesError::runtime(format!(
                    "Invalid output path '{p}' : No results for path: {}",
                    p.normalized()
                ))),
            }
        }
    }
}

fn merge_result(p: &PathOpt, raw: Value, result: Value) -> Result<Value, StatesError> {
    match p {
        PathOpt::Default => Ok(result),
        PathOpt::Null => Ok(raw),
        PathOpt::Path(p) if p.is_root_only() => Ok(result),
        PathOpt::Path(p) => {
            let mut raw = raw;
            p.set(&mut raw, result).map_err(|why| {
                StatesError::new(
                    errors::RESULT_PATH_MATCH_FAILURE,
                    format!("Unable to apply ResultPath '{p}' to the state input: {why}"),
                )
            })?;
            Ok(raw)
        }
    }
}

fn eval_dyn_str(d: Option<&Dyn<String>>, env: &Env<'_>, field: &str) -> Result<Option<String>, StatesError> {
    let v = match d {
        None => return Ok(None),
        Some(Dyn::Lit(s)) => return Ok(Some(s.clone())),
        Some(Dyn::Path(p)) => env.path(p).map(Cow::into_owned).ok_or_else(|| {
            StatesError::runtime(format!("The {field} parameter does not reference an input value: {p}"))
        })?,
        Some(Dyn::Call(c)) => c.eval(env)?,
        Some(Dyn::Ata(_)) => return Ok(None),
    };
    Ok(Some(match v {
        Value::String(s) => s,
        other => other.to_string(),
    }))
}

fn dyn_secs(d: Option<&Dyn<u64>>, env: &Env<'_>, field: &str) -> Result<Option<u64>, StatesError> {
    dyn_u64_field(d, env, field, "integer")
}

fn dyn_u64_field(d: Option<&Dyn<u64>>, env: &Env<'_>, field: &str, what: &str) -> Result<Option<u64>, StatesError> {
    match d {
        None => Ok(None),
        Some(Dyn::Lit(n)) => Ok(Some(*n)),
        Some(Dyn::Path(p)) => {
            let v = env.path(p).ok_or_else(|| {
                StatesError::runtime(format!("The {field} field refers to a path that does not exist: {p}"))
            })?;
            let parsed = match v.as_ref() {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse::<u64>().ok(),
                _ => None,
            };
            match parsed {
                Some(n) => Ok(Some(n)),
                None => Err(StatesError::runtime(format!(
                    "The {field} field refers to value \"{}\" which is not a valid {what}: {p}",
                    plain(&v)
                ))),
            }
        }
        Some(_) => Ok(None),
    }
}

fn dyn_pct(d: Option<&Dyn<f64>>, env: &Env<'_>) -> Result<Option<f64>, StatesError> {
    match d {
        None => Ok(None),
        Some(Dyn::Lit(x)) => Ok(Some(*x)),
        Some(Dyn::Path(p)) => {
            let v = env.path(p).ok_or_else(|| {
                StatesError::runtime(format!(
                    "The ToleratedFailurePercentagePath field refers to a path that does not exist: {p}"
                ))
            })?;
            let parsed = match v.as_ref() {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            };
            match parsed {
                Some(x) if (0.0..=100.0).contains(&x) => Ok(Some(x)),
                Some(_) => Err(StatesError::runtime("ToleratedFailurePercentage must be between 0 and 100.")),
                None => Err(StatesError::runtime(format!(
                    "The ToleratedFailurePercentagePath field refers to value \"{}\" which is not a valid float: {p}",
                    plain(&v)
                ))),
            }
        }
        Some(_) => Ok(None),
    }
}

fn ata_secs(d: Option<&Dyn<u64>>, b: &AtaEnv<'_>, field: &str) -> Result<Option<u64>, StatesError> {
    match d {
        None => Ok(None),
        Some(Dyn::Lit(n)) => Ok(Some(*n)),
        Some(Dyn::Ata(t)) => match eval_jt(t, b, field)? {
            Value::Number(n) if n.as_u64().is_some_and(|x| x > 0) => Ok(n.as_u64()),
            other => Err(StatesError::query(format!("The {field} field must be a positive integer, but was: {other}"))),
        },
        Some(_) => Ok(None),
    }
}

/// What an evaluation asks the run it belongs to between steps.
trait Watch: Sync {
    fn check_evaluation(&self, steps: u64) -> Result<(), JsonataError>;
}

impl Watch for Run<'_> {
    fn check_evaluation(&self, steps: u64) -> Result<(), JsonataError> {
        if steps > self.limits.max_evaluation_steps {
            return Err(JsonataError {
                code: "U1002",
                message: format!(
                    "Expression evaluation took more than {} steps: check for a loop that does not end",
                    self.limits.max_evaluation_steps
                ),
            });
        }
        match self.must_halt() {
            Some(e) => Err(JsonataError { code: "U1003", message: e.cause.unwrap_or_default() }),
            None => Ok(()),
        }
    }
}

/// What JSONata expressions of a state see: `$states` and the variables.
pub(crate) struct AtaEnv<'a> {
    watch: &'a dyn Watch,
    input: &'a Value,
    result: Option<&'a Value>,
    error_output: Option<&'a Value>,
    ctx: &'a ContextSource,
    vars: &'a Vars<'a>,
    states: OnceLock<Value>,
}

impl<'a> AtaEnv<'a> {
    fn new(
        watch: &'a dyn Watch,
        input: &'a Value,
        result: Option<&'a Value>,
        error_output: Option<&'a Value>,
        ctx: &'a ContextSource,
        vars: &'a Vars<'a>,
    ) -> Self {
        AtaEnv { watch, input, result, error_output, ctx, vars, states: OnceLock::new() }
    }
}

impl Bindings for AtaEnv<'_> {
    fn check(&self, steps: u64) -> Result<(), JsonataError> {
        self.watch.check_evaluation(steps)
    }

    fn get(&self, name: &str) -> Option<&Value> {
        if name == "states" {
            return Some(self.states.get_or_init(|| {
                let mut m = Map::new();
                m.insert("input".into(), self.input.clone());
                if let Some(r) = self.result {
                    m.insert("result".into(), r.clone());
                }
                if let Some(e) = self.error_output {
                    m.insert("errorOutput".into(), e.clone());
                }
                m.insert("context".into(), self.ctx.value().clone());
                Value::Object(m)
            }));
        }
        self.vars.get(name)
    }
}

pub(crate) fn eval_jt(t: &JTemplate, b: &dyn Bindings, field: &str) -> Result<Value, StatesError> {
    match t {
        JTemplate::Const(v) => Ok(v.clone()),
        JTemplate::Expr(e) => match e.evaluate(b) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(StatesError::query(format!(
                "The JSONata expression '{}' specified for the field '{field}' returned nothing (undefined).",
                e.source()
            ))),
            Err(err) => Err(StatesError::query(format!(
                "The JSONata expression '{}' specified for the field '{field}' threw an error during evaluation. {}",
                e.source(),
                err
            ))),
        },
        JTemplate::Object(fields) => {
            let mut m = Map::with_capacity(fields.len());
            for (k, t) in fields {
                m.insert(k.clone(), eval_jt(t, b, &format!("{field}/{k}"))?);
            }
            Ok(Value::Object(m))
        }
        JTemplate::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, t) in items.iter().enumerate() {
                out.push(eval_jt(t, b, &format!("{field}/{i}"))?);
            }
            Ok(Value::Array(out))
        }
    }
}

fn eval_assign_ata(a: Option<&Assign>, b: &dyn Bindings) -> Result<Vec<(String, Value)>, StatesError> {
    let Some(Assign::Ata(fields)) = a else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(fields.len());
    for (k, t) in fields {
        out.push((k.clone(), eval_jt(t, b, &format!("Assign/{k}"))?));
    }
    Ok(out)
}

#[allow(dead_code)]
fn _assert_send(i: &Interpreter, m: &StateMachine) {
    fn is_send<T: Send>(_: T) {}
    is_send(i.execute(m, Value::Null, ExecutionInfo::default(), &crate::events::NoEvents));
}
