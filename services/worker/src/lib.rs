//! Stateless workers: take start commands from the bus, run each execution with the ASL
//! interpreter, record its outcome once, publish outcomes and history events, and reply to
//! synchronous callers.
//!
//! Layout: [`Worker`] (one execution at a time, `execute`) and [`Worker::run`] (the pool loop
//! with bounded concurrency and graceful drain); [`TokioClock`] is the wall clock used in
//! production; [`logging`] decides which history events a logging configuration keeps.

pub mod logging;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dashmap::DashMap;
use expressway_asl::exec::Cancel;
use expressway_asl::{
    Clock, EventSink, ExecutionInfo, HistoryEvent, Interpreter, Limits, MachineType, Outcome, StateMachine, TaskInvoker,
};
use expressway_bus::retry::Backoff;
use expressway_bus::{
    EventMessage, ExecutionSource, OutcomeMessage, Receipt, ReplyRouter, ResultMessage, ResultsHub, StartCommand,
};
use expressway_store::{
    now_ms, Begin, ExecutionRecord, ExecutionStatus, ExecutionStore, Finished, LogLevel, Logging, MachineKind,
    Registry, StoreError,
};
use tokio::sync::{watch, Semaphore};

/// Wall-clock time and tokio timers.
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now_millis(&self) -> i64 {
        now_ms()
    }
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Errors at the worker boundary.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("store error for execution {execution_arn}: {source}")]
    Store { execution_arn: String, source: StoreError },
}

impl WorkerError {
    pub fn is_retryable(&self) -> bool {
        match self {
            WorkerError::Store { source, .. } => source.is_retryable(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Executions run at once by this worker.
    pub concurrency: usize,
    pub limits: Limits,
    /// Who holds claims taken by this worker (unique per process).
    pub owner_id: String,
    /// How long a claim lives without renewal; a crashed worker's executions wait this long.
    pub lease: Duration,
    /// Runs of one asynchronous execution before it counts as poison: when this many were cut
    /// off (each worker running it died or lost its lease), the next owner records it FAILED
    /// with [`CRASHED`] and puts its record on the dead-letter topic instead of running it.
    pub max_attempts: u32,
    /// How long a shutdown waits for the executions in flight; those still running then are
    /// cut off and left unacknowledged, so the next owner of their partition runs them.
    pub drain_timeout: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            concurrency: 256,
            limits: Limits::default(),
            owner_id: format!("worker-{}", uuid_like()),
            lease: Duration::from_secs(15),
            max_attempts: 3,
            drain_timeout: Duration::from_secs(30),
        }
    }
}

fn uuid_like() -> String {
    format!("{:x}-{:x}", std::process::id(), now_ms())
}

/// The error of a synchronous execution whose run was cut off by a worker failure.
pub const INTERRUPTED: &str = "Expressway.ExecutionInterrupted";

/// The error of an execution during which the engine itself failed (a defect, caught).
pub const CRASHED: &str = "Expressway.ExecutionCrashed";

/// What handling one delivery came to.
pub struct Handled {
    pub outcome: OutcomeMessage,
    /// When the outcome (and every event before it) is durable on the results stream.
    pub receipt: Receipt,
    /// Set for a poison execution: why its record belongs on the dead-letter topic.
    pub dead_letter: Option<String>,
}

impl Handled {
    fn new((outcome, receipt): (OutcomeMessage, Receipt)) -> Self {
        Handled { outcome, receipt, dead_letter: None }
    }
}

/// Marks an execution as running in this process for as long as it lives.
struct RunningGuard<'a> {
    running: &'a DashMap<String, Cancel>,
    arn: String,
    cancel: Cancel,
}

impl<'a> RunningGuard<'a> {
    /// `None` while another delivery of the same execution is being handled here.
    fn try_new(running: &'a DashMap<String, Cancel>, arn: &str) -> Option<Self> {
        match running.entry(arn.to_string()) {
            dashmap::Entry::Occupied(_) => None,
            dashmap::Entry::Vacant(v) => {
                let cancel = Cancel::new();
                v.insert(cancel.clone());
                Some(RunningGuard { running, arn: arn.to_string(), cancel })
            }
        }
    }
}

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        self.running.remove(&self.arn);
    }
}

/// Everything a worker needs; cheap to share.
pub struct Worker {
    registry: Arc<dyn Registry>,
    executions: Arc<dyn ExecutionStore>,
    hub: Arc<dyn ResultsHub>,
    replies: Arc<dyn ReplyRouter>,
    interpreter: Interpreter,
    config: WorkerConfig,
    /// Compiled definitions and their logging settings by revision id (revisions never change).
    cache: DashMap<String, (Arc<StateMachine>, Logging)>,
    /// Executions running in this process, with what stops each: a redelivery to the same
    /// process (a partition revoked and assigned back) waits for the run in progress instead
    /// of starting another.
    running: DashMap<String, Cancel>,
}

/// Collects the events a logging configuration keeps and streams them live.
struct Recorder<'a> {
    logging: &'a Logging,
    hub: &'a dyn ResultsHub,
    execution_arn: &'a str,
    state_machine_arn: &'a str,
    kept: Mutex<Vec<HistoryEvent>>,
}

impl EventSink for Recorder<'_> {
    fn enabled(&self) -> bool {
        self.logging.level != LogLevel::Off
    }

    fn record(&self, mut event: HistoryEvent) {
        if !logging::keeps(self.logging.level, event.event_type) {
            return;
        }
        if !self.logging.include_execution_data {
            logging::strip_data(&mut event);
        }
        // Bounded like AWS's execution history: past the limit events still count (ids
        // stay in order) but are neither kept nor streamed.
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        if kept.len() >= MAX_HISTORY_EVENTS {
            return;
        }
        // Its receipt is covered by the outcome's, published after it.
        let _ = self.hub.publish(ResultMessage::Event(EventMessage {
            execution_arn: self.execution_arn.to_string(),
            state_machine_arn: self.state_machine_arn.to_string(),
            event: event.clone(),
        }));
        kept.push(event);
    }
}

/// Records task results per execution, state, attempt and input, so that an execution re-run
/// after a crash skips the tasks that already completed.
pub struct JournalingInvoker {
    inner: Arc<dyn TaskInvoker>,
    store: Arc<dyn ExecutionStore>,
}

impl JournalingInvoker {
    pub fn new(inner: Arc<dyn TaskInvoker>, store: Arc<dyn ExecutionStore>) -> Self {
        JournalingInvoker { inner, store }
    }

    fn key(req: &expressway_asl::TaskRequest<'_>) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(req.input.to_string().as_bytes());
        let short = expressway_store::hex(&digest[..12]);
        format!("{}:{}:{short}", req.state_name, req.attempt)
    }
}

impl TaskInvoker for JournalingInvoker {
    fn invoke<'a>(
        &'a self,
        req: expressway_asl::TaskRequest<'a>,
    ) -> futures::future::BoxFuture<'a, Result<serde_json::Value, expressway_asl::StatesError>> {
        Box::pin(async move {
            let key = Self::key(&req);
            let arn = req.execution_arn.to_string();
            match self.store.journal_get(&arn, &key).await {
                Ok(Some(done)) => {
                    if let Ok(v) = serde_json::from_str(&done) {
                        tracing::debug!(execution_arn = %arn, task = %key, "task result replayed from the journal");
                        return Ok(v);
                    }
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(execution_arn = %arn, error = %e, "journal unavailable; running the task"),
            }
            let result = self.inner.invoke(req).await;
            if let Ok(v) = &result {
                if let Err(e) = self.store.journal_put(&arn, &key, &v.to_string()).await {
                    tracing::warn!(execution_arn = %arn, error = %e, "task result not journaled");
                }
            }
            result
        })
    }
}

/// Starts executions from trigger records with the same rules as the gRPC frontend.
pub struct StoreStarter {
    pub resolver: expressway_store::starter::Resolver,
    pub executions: Arc<dyn ExecutionStore>,
    pub policy: expressway_store::starter::StartPolicy,
}

#[async_trait::async_trait]
impl expressway_bus::kafka::TriggerStarter for StoreStarter {
    async fn start(
        &self,
        state_machine_arn: &str,
        name: &str,
        input: &str,
    ) -> Result<StartCommand, expressway_bus::kafka::TriggerError> {
        use expressway_bus::kafka::TriggerError;
        use expressway_store::starter::{prepare, StartError, StartRequest};
        let req = StartRequest { state_machine_arn: state_machine_arn.into(), name: name.into(), input: input.into() };
        match prepare(&self.resolver, &*self.executions, &self.policy, &req).await {
            Ok((r, _)) => Ok(StartCommand {
                execution_arn: r.execution_arn,
                execution_name: r.name,
                state_machine_arn: r.state_machine_arn,
                revision_id: r.revision_id,
                input: r.input,
                start_ms: r.start_ms,
                reply_to: None,
                trace_header: None,
                depth: 0,
            }),
            Err(StartError::Store(e)) if e.is_retryable() => Err(TriggerError::Unavailable(e.to_string())),
            Err(e) => Err(TriggerError::Rejected(e.to_string())),
        }
    }
}

/// Counts task calls as AWS does per integration (TaskScheduled, TaskSucceeded, TaskFailed,
/// TaskTime), around the calls that really go out (a journaled result is no call).
struct Metered(Arc<dyn TaskInvoker>);

impl TaskInvoker for Metered {
    fn invoke<'a>(
        &'a self,
        request: expressway_asl::TaskRequest<'a>,
    ) -> futures::future::BoxFuture<'a, Result<serde_json::Value, expressway_asl::StatesError>> {
        let resource = request.resource.to_string();
        expressway_telemetry::metrics::task_scheduled(&resource);
        let started = std::time::Instant::now();
        let call = self.0.invoke(request);
        Box::pin(async move {
            let r = call.await;
            expressway_telemetry::metrics::task_ended(&resource, r.is_ok(), started.elapsed().as_secs_f64() * 1000.0);
            r
        })
    }
}

impl Worker {
    pub fn new(
        registry: Arc<dyn Registry>,
        executions: Arc<dyn ExecutionStore>,
        hub: Arc<dyn ResultsHub>,
        replies: Arc<dyn ReplyRouter>,
        tasks: Arc<dyn TaskInvoker>,
        config: WorkerConfig,
    ) -> Self {
        let tasks: Arc<dyn TaskInvoker> =
            Arc::new(JournalingInvoker::new(Arc::new(Metered(tasks)), executions.clone()));
        let interpreter = Interpreter::new(tasks, Arc::new(TokioClock), config.limits.clone());
        Worker {
            registry,
            executions,
            hub,
            replies,
            interpreter,
            config,
            cache: DashMap::new(),
            running: DashMap::new(),
        }
    }

    /// End the run of a stopped execution if it runs here (StopExecution recorded ABORTED).
    pub fn stop(&self, execution_arn: &str) -> bool {
        match self.running.get(execution_arn) {
            Some(c) => {
                c.cancel();
                true
            }
            None => false,
        }
    }

    /// Stop the runs that `stops` names, for as long as the worker lives.
    pub fn follow_stops(self: &Arc<Self>, stops: &dyn expressway_bus::Stops) -> tokio::task::JoinHandle<()> {
        let mut rx = stops.listen();
        let worker = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(arn) => match worker.upgrade() {
                        Some(w) => {
                            if w.stop(&arn) {
                                tracing::info!(execution_arn = %arn, "stopped execution: its run ends");
                            }
                        }
                        None => return,
                    },
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "stop signals missed; those runs go on to their end");
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        })
    }

    async fn machine(&self, revision_id: &str) -> Result<(Arc<StateMachine>, Logging), String> {
        if let Some(m) = self.cache.get(revision_id) {
            return Ok(m.clone());
        }
        let rev = self.registry.revision(revision_id).await.map_err(|e| e.to_string())?;
        let ty = match rev.kind {
            MachineKind::Express => MachineType::Express,
            MachineKind::Standard => MachineType::Standard,
        };
        let m = Arc::new(StateMachine::from_json_with(&rev.definition, ty).map_err(|e| e.to_string())?);
        // Bounded: revisions of deleted or updated machines stop being used, and compiling one
        // again costs one load.
        if self.cache.len() >= MAX_CACHED_MACHINES {
            self.cache.clear();
        }
        self.cache.insert(revision_id.to_string(), (m.clone(), rev.logging.clone()));
        Ok((m, rev.logging))
    }

    /// Run one start command to its recorded outcome. A command whose outcome is already
    /// recorded (a redelivery) is not run again; its outcome is re-emitted.
    pub async fn execute(&self, cmd: &StartCommand) -> Result<Handled, WorkerError> {
        let store_err = |source| WorkerError::Store { execution_arn: cmd.execution_arn.clone(), source };
        // A second delivery to this process waits for the first to be handled.
        let running = loop {
            match RunningGuard::try_new(&self.running, &cmd.execution_arn) {
                Some(g) => break g,
                None => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        let _in_flight =
            expressway_telemetry::metrics::while_alive(expressway_telemetry::metrics::EXECUTIONS_IN_FLIGHT);
        // Take the lease; while another worker holds a live one, wait for it to finish or expire.
        let mut recreated = false;
        let attempt = loop {
            match self.executions.begin(&cmd.execution_arn, &self.config.owner_id, self.config.lease).await {
                Ok(Begin::Acquired { attempt }) => break attempt,
                Ok(Begin::Finished(record)) => {
                    let outcome = OutcomeMessage::from_record(*record, now_ms());
                    let receipt = self.deliver(cmd, &outcome).await;
                    return Ok(Handled::new((outcome, receipt)));
                }
                Ok(Begin::Busy) => tokio::time::sleep((self.config.lease / 10).max(Duration::from_millis(50))).await,
                Err(StoreError::NotFound { .. }) if !recreated => {
                    // The record expired while the command waited on the bus (a backlog older
                    // than the retention period): the command holds all it takes to run.
                    tracing::warn!(execution_arn = %cmd.execution_arn, "execution record missing; recorded again from the start command");
                    self.executions.start(record_of(cmd), Duration::ZERO).await.map_err(store_err)?;
                    recreated = true;
                }
                Err(e) => return Err(store_err(e)),
            }
        };
        if attempt > 1 && cmd.reply_to.is_some() {
            // Synchronous Express runs at most once: an earlier run was cut off (its worker
            // died), so the caller is told so instead of a second run behind its back.
            return self.interrupted(cmd).await.map(Handled::new);
        }
        if attempt > self.config.max_attempts {
            return self.poisoned(cmd, attempt - 1).await;
        }
        let loaded = self.machine(&cmd.revision_id).await;
        let logging = loaded.as_ref().map(|(_, l)| l.clone()).unwrap_or_default();
        let recorder = Recorder {
            logging: &logging,
            hub: &*self.hub,
            execution_arn: &cmd.execution_arn,
            state_machine_arn: &cmd.state_machine_arn,
            kept: Mutex::new(Vec::new()),
        };
        let run = async {
            match loaded.map(|(m, _)| m) {
                Err(why) => Outcome::Failed(expressway_asl::StatesError::runtime(format!(
                    "the state machine revision {} cannot be loaded: {why}",
                    cmd.revision_id
                ))),
                Ok(machine) => match serde_json::from_str(&cmd.input) {
                    Err(e) => {
                        Outcome::Failed(expressway_asl::StatesError::runtime(format!("invalid execution input: {e}")))
                    }
                    Ok(input) => {
                        let info = ExecutionInfo {
                            execution_arn: cmd.execution_arn.clone(),
                            execution_name: cmd.execution_name.clone(),
                            state_machine_arn: cmd.state_machine_arn.clone(),
                            state_machine_name: expressway_store::arn::parse_state_machine(&cmd.state_machine_arn)
                                .map(|r| r.name)
                                .unwrap_or_default(),
                            role_arn: String::new(),
                            start_time: chrono_iso(cmd.start_ms),
                            input: None,
                            depth: cmd.depth,
                            input_size_bound: Some(expressway_asl::exec::text_size_bound(&cmd.input)),
                        };
                        // A last line of defence: a defect that panics while running one
                        // execution fails that execution, not the worker and every other
                        // execution it runs (nor, redelivered, the next worker).
                        let run = std::panic::AssertUnwindSafe(self.interpreter.execute_with(
                            &machine,
                            input,
                            info,
                            &recorder,
                            Some(&running.cancel),
                        ));
                        match futures::FutureExt::catch_unwind(run).await {
                            Ok(outcome) => outcome,
                            Err(panic) => {
                                let why = panic
                                    .downcast_ref::<&str>()
                                    .map(|s| s.to_string())
                                    .or_else(|| panic.downcast_ref::<String>().cloned())
                                    .unwrap_or_else(|| "unknown".into());
                                tracing::error!(execution_arn = %cmd.execution_arn, panic = %why, "the engine panicked while running an execution; it is failed");
                                Outcome::Failed(expressway_asl::StatesError::new(
                                    CRASHED,
                                    format!("the engine failed while running this execution: {why}"),
                                ))
                            }
                        }
                    }
                },
            }
        };
        // One span per execution, a child of the trace its start came with (the caller's gRPC
        // call, or a trigger record's header); the interpreter's state spans nest in it.
        let span = tracing::info_span!(
            target: expressway_telemetry::EXECUTION_TARGET,
            "execution",
            execution_arn = %cmd.execution_arn,
            state_machine_arn = %cmd.state_machine_arn,
            status = tracing::field::Empty,
        );
        if let Some(parent) = &cmd.trace_header {
            expressway_telemetry::propagation::set_parent(&span, parent);
        }
        let outcome = tracing::Instrument::instrument(self.renewing_lease(&cmd.execution_arn, run), span.clone()).await;
        let stop_ms = now_ms();
        let (status, output, error, cause) = match outcome {
            Outcome::Succeeded(v) => (ExecutionStatus::Succeeded, Some(v.to_string()), None, None),
            Outcome::Failed(e) => (ExecutionStatus::Failed, None, e.error, e.cause),
            Outcome::TimedOut(e) => (ExecutionStatus::TimedOut, None, e.error, e.cause),
            Outcome::Aborted => (ExecutionStatus::Aborted, None, None, None),
        };
        span.record("status", status.as_str());
        expressway_telemetry::metrics::execution_ended(
            &cmd.state_machine_arn,
            status.as_str(),
            stop_ms.saturating_sub(cmd.start_ms) as f64,
        );
        let history = recorder.kept.into_inner().unwrap_or_else(|p| p.into_inner());
        let finished = Finished { status, output: output.clone(), error: error.clone(), cause: cause.clone(), stop_ms };
        // The run is done and its result is only here: wait out a store outage rather than
        // lose it (and run the execution again).
        let first = until_stored(&cmd.execution_arn, || {
            self.executions.finish_with_history(
                &cmd.execution_arn,
                finished.clone(),
                history.clone(),
                &self.config.owner_id,
            )
        })
        .await
        .map_err(store_err)?;
        let outcome = if first {
            OutcomeMessage {
                execution_arn: cmd.execution_arn.clone(),
                execution_name: cmd.execution_name.clone(),
                state_machine_arn: cmd.state_machine_arn.clone(),
                status,
                input: Some(cmd.input.clone()),
                output,
                error,
                cause,
                start_ms: cmd.start_ms,
                stop_ms,
            }
        } else {
            // Stopped meanwhile: the recorded outcome stands.
            let r = self.executions.get(&cmd.execution_arn).await.map_err(store_err)?;
            OutcomeMessage::from_record(r, stop_ms)
        };
        let receipt = if first { self.hub.publish(ResultMessage::Outcome(outcome.clone())) } else { Receipt::done() };
        if let Some(to) = &cmd.reply_to {
            if let Err(e) = self.replies.reply(to, outcome.clone()).await {
                tracing::warn!(execution_arn = %cmd.execution_arn, error = %e, "reply to a synchronous caller failed");
            }
        }
        Ok(Handled::new((outcome, receipt)))
    }

    /// Drive `run` to its end, renewing the lease every third of its length meanwhile (short
    /// runs, the common case, never touch the timer's tick).
    async fn renewing_lease<T>(&self, execution_arn: &str, run: impl Future<Output = T>) -> T {
        let every = (self.config.lease / 3).max(Duration::from_millis(10));
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tokio::pin!(run);
        loop {
            tokio::select! {
                out = &mut run => return out,
                _ = tick.tick() => {
                    if let Err(e) = self.executions.claim(execution_arn, &self.config.owner_id, self.config.lease).await {
                        tracing::warn!(execution_arn = %execution_arn, error = %e, "lease renewal failed");
                    }
                }
            }
        }
    }

    /// End a synchronous execution whose earlier run was interrupted, without running it again.
    async fn interrupted(&self, cmd: &StartCommand) -> Result<(OutcomeMessage, Receipt), WorkerError> {
        let store_err = |source| WorkerError::Store { execution_arn: cmd.execution_arn.clone(), source };
        let finished = Finished {
            status: ExecutionStatus::Failed,
            output: None,
            error: Some(INTERRUPTED.to_string()),
            cause: Some(
                "the worker running this synchronous execution stopped before it finished; synchronous \
                 Express executions run at most once and are not restarted"
                    .to_string(),
            ),
            stop_ms: now_ms(),
        };
        self.executions.finish(&cmd.execution_arn, finished).await.map_err(store_err)?;
        let r = self.executions.get(&cmd.execution_arn).await.map_err(store_err)?;
        let _ = self.executions.release(&cmd.execution_arn, &self.config.owner_id).await;
        let outcome = OutcomeMessage::from_record(r, now_ms());
        let receipt = self.deliver(cmd, &outcome).await;
        Ok((outcome, receipt))
    }

    /// End an execution whose runs were all cut off without running it again: whatever it
    /// does takes down (or stalls) the worker that runs it, and redelivered it would take the
    /// next one, and so the whole pool, one by one.
    async fn poisoned(&self, cmd: &StartCommand, cut_off: u32) -> Result<Handled, WorkerError> {
        let store_err = |source| WorkerError::Store { execution_arn: cmd.execution_arn.clone(), source };
        let why = format!(
            "{cut_off} runs of this execution were cut off before they finished (each worker running it \
             stopped: a crash, an out-of-memory kill or a lost lease); it is not run again \
             (worker.max_attempts = {}) and its start record is on the dead-letter topic",
            self.config.max_attempts
        );
        tracing::error!(execution_arn = %cmd.execution_arn, cut_off, "poison execution: failed without running it again");
        let finished = Finished {
            status: ExecutionStatus::Failed,
            output: None,
            error: Some(CRASHED.to_string()),
            cause: Some(why.clone()),
            stop_ms: now_ms(),
        };
        until_stored(&cmd.execution_arn, || {
            self.executions.finish_with_history(&cmd.execution_arn, finished.clone(), Vec::new(), &self.config.owner_id)
        })
        .await
        .map_err(store_err)?;
        let r = self.executions.get(&cmd.execution_arn).await.map_err(store_err)?;
        let outcome = OutcomeMessage::from_record(r, now_ms());
        let receipt = self.deliver(cmd, &outcome).await;
        Ok(Handled { outcome, receipt, dead_letter: Some(why) })
    }

    async fn deliver(&self, cmd: &StartCommand, outcome: &OutcomeMessage) -> Receipt {
        let receipt = self.hub.publish(ResultMessage::Outcome(outcome.clone()));
        if let Some(to) = &cmd.reply_to {
            let _ = self.replies.reply(to, outcome.clone()).await;
        }
        receipt
    }

    /// Consume `source` until `shutdown` turns true, running up to `concurrency` executions at
    /// once; then stop taking work and wait for the executions in flight. A delivery is
    /// acknowledged once its outcome is recorded and its results are durable; executions
    /// waiting only for the latter are bounded too (by [`UNSETTLED_PER_SLOT`] times
    /// `concurrency`), so a results stream that stops taking messages stops this loop.
    pub async fn run<S: ExecutionSource>(self: Arc<Self>, mut source: S, mut shutdown: watch::Receiver<bool>) -> S {
        let concurrency = self.config.concurrency.max(1);
        let running = Arc::new(Semaphore::new(concurrency));
        let unsettled = Arc::new(Semaphore::new(concurrency * UNSETTLED_PER_SLOT));
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            let (settle, permit) = tokio::select! {
                p = async { (unsettled.clone().acquire_owned().await, running.clone().acquire_owned().await) } => match p {
                    (Ok(s), Ok(p)) => (s, p),
                    _ => break,
                },
                _ = shutdown.wait_for(|s| *s) => break,
            };
            let delivery = tokio::select! {
                d = source.next() => match d { Some(d) => d, None => break },
                _ = shutdown.wait_for(|s| *s) => break,
            };
            let worker = self.clone();
            let mut shutdown = shutdown.clone();
            tasks.spawn(async move {
                let mut backoff = Backoff::default();
                let handled = loop {
                    match worker.execute(&delivery.command).await {
                        Ok(handled) => break Some((handled.receipt, handled.dead_letter)),
                        Err(e) if e.is_retryable() => {
                            let delay = backoff.next_delay();
                            tracing::warn!(execution_arn = %delivery.command.execution_arn, error = %e, retry_in_ms = delay.as_millis() as u64, "execution outcome not recorded yet; retrying");
                            tokio::select! {
                                _ = tokio::time::sleep(delay) => {}
                                // Left unacknowledged: whoever owns the partition next redelivers it.
                                _ = shutdown.wait_for(|s| *s) => break None,
                            }
                        }
                        Err(e) => {
                            // Nothing will change by trying again; holding it back would stop
                            // every later offset of its partition from being committed.
                            tracing::error!(execution_arn = %delivery.command.execution_arn, error = %e, "execution cannot be run; it is dropped");
                            break Some((Receipt::done(), None));
                        }
                    }
                };
                drop(permit);
                if let Some((receipt, dead_letter)) = handled {
                    match receipt.durable().await {
                        Ok(()) => match dead_letter {
                            Some(why) => delivery.ack.dead_letter(why).await,
                            None => delivery.ack.ack(),
                        },
                        // The results stream closed first (shutdown): the next owner of the
                        // partition redelivers it, and re-emits the recorded outcome.
                        Err(_) => tracing::warn!(execution_arn = %delivery.command.execution_arn, "results not durable before shutdown; left for redelivery"),
                    }
                }
                drop(settle);
            });
            while tasks.try_join_next().is_some() {}
        }
        tracing::info!(
            in_flight = tasks.len(),
            drain_timeout_ms = self.config.drain_timeout.as_millis() as u64,
            "worker draining"
        );
        let drained =
            tokio::time::timeout(self.config.drain_timeout, async { while tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            let cut: Vec<String> = self.running.iter().map(|e| e.key().clone()).collect();
            tracing::warn!(
                cut_off = tasks.len(),
                executions = ?cut.iter().take(20).collect::<Vec<_>>(),
                "drain deadline passed: the executions still running are left unacknowledged for the next owner"
            );
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
            // Their leases go now, so that the next owner need not wait for them to expire.
            for arn in &cut {
                let _ = self.executions.release(arn, &self.config.owner_id).await;
            }
        }
        source
    }

    /// Executions running in this process now.
    pub fn running(&self) -> Vec<String> {
        self.running.iter().map(|e| e.key().clone()).collect()
    }
}

/// History events kept per execution (AWS's limit for a Standard execution's history).
pub const MAX_HISTORY_EVENTS: usize = 25_000;

/// Compiled definitions a worker keeps (see [`Worker::machine`]).
const MAX_CACHED_MACHINES: usize = 1024;

/// Executions whose results are not yet durable, per execution slot (see [`Worker::run`]).
pub const UNSETTLED_PER_SLOT: usize = 8;

/// Retry a store step while the store is unavailable.
async fn until_stored<T, F, Fut>(execution_arn: &str, mut step: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let mut backoff = Backoff::default();
    loop {
        match step().await {
            Err(e) if e.is_retryable() => {
                let delay = backoff.next_delay();
                tracing::warn!(execution_arn = %execution_arn, error = %e, retry_in_ms = delay.as_millis() as u64, "outcome not recorded yet; retrying");
                tokio::time::sleep(delay).await;
            }
            other => return other,
        }
    }
}

/// The execution record a start command describes (the frontend wrote the same one).
fn record_of(cmd: &StartCommand) -> ExecutionRecord {
    ExecutionRecord {
        execution_arn: cmd.execution_arn.clone(),
        name: cmd.execution_name.clone(),
        state_machine_arn: cmd.state_machine_arn.clone(),
        revision_id: cmd.revision_id.clone(),
        input_hash: expressway_store::input_hash(&cmd.input),
        input: cmd.input.clone(),
        status: ExecutionStatus::Running,
        output: None,
        error: None,
        cause: None,
        start_ms: cmd.start_ms,
        stop_ms: None,
    }
}

fn chrono_iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso_dates() {
        assert_eq!(super::chrono_iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(super::chrono_iso(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
