//! The state loop: entering states in order, the time limit and stop checks between them,
//! history events, and the payload limit on every state's output. A block whose states never
//! wait runs as plain calls ([`Run::block_now`]) and becomes a future ([`Run::block_from`])
//! only where the run is due to yield.

use super::*;

impl Run<'_> {
    pub(super) fn finish(&self, result: Result<Value, StatesError>) -> Outcome {
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

    /// Number the next event and, when the host records events, record it: an execution
    /// nobody records pays only for the number (ids stay the same either way).
    #[inline(always)]
    pub(super) fn emit(&self, ty: EventType, state: Option<&str>, details: impl FnOnce() -> Value) -> u64 {
        let id = bump(&self.next_id);
        if self.events {
            self.record(id, ty, state, details());
        }
        id
    }

    #[inline(never)]
    fn record(&self, id: u64, ty: EventType, state: Option<&str>, details: Value) {
        self.sink.record(HistoryEvent {
            id,
            timestamp_ms: self.clock.now_millis(),
            event_type: ty,
            state_name: state.map(str::to_string),
            details,
        });
    }

    pub(super) fn check_size(&self, v: &Value, what: &str, execution: bool) -> Result<(), StatesError> {
        self.measure(v, what, execution).map(|_| ())
    }

    /// A bound of `v`'s serialized size (exact when near the limit), or the payload-limit
    /// error when it is too big.
    pub(super) fn measure(&self, v: &Value, what: &str, execution: bool) -> Result<usize, StatesError> {
        // The cheap bound settles it unless it is near the limit (it never prints a float).
        let bound = size_bound(v);
        if bound <= self.limits.max_payload_bytes {
            return Ok(bound);
        }
        let size = json_size_upto(v, self.limits.max_payload_bytes);
        if size > self.limits.max_payload_bytes {
            let cause = if execution {
                format!("The size of {what} exceeds the maximum number of bytes service limit.")
            } else {
                format!("The state/task '{what}' returned a result with a size exceeding the maximum number of bytes service limit.")
            };
            return Err(StatesError::new(errors::DATA_LIMIT_EXCEEDED, cause));
        }
        Ok(size)
    }

    /// Mark the run halted (the first reason stays) and return the error that unwinds it.
    pub(super) fn halt(&self, why: u8) -> StatesError {
        let _ = self.halted.compare_exchange(RUNNING, why, Ordering::Relaxed, Ordering::Relaxed);
        match self.halted.load(Ordering::Relaxed) {
            ABORTED => StatesError::new(errors::ABORTED, "The execution was stopped"),
            _ => StatesError::new(errors::TIMEOUT, "The execution timed out"),
        }
    }

    pub(super) fn is_halted(&self) -> bool {
        self.halted.load(Ordering::Relaxed) != RUNNING
    }

    /// Whether the run must end now: halted already, stopped, or past its time limit.
    pub(super) fn must_halt(&self) -> Option<StatesError> {
        self.must_halt_by(true)
    }

    /// [`Self::must_halt`], reading the clock only when `clock` says so (the flags are
    /// atomics, the clock a system call).
    #[inline]
    fn must_halt_by(&self, clock: bool) -> Option<StatesError> {
        if self.is_halted() {
            return Some(self.halt(RUNNING));
        }
        if self.cancel.is_some_and(|c| c.is_cancelled()) {
            return Some(self.halt(ABORTED));
        }
        if clock && self.limit_ms.is_some() {
            let now = self.clock.now_millis();
            if self.deadline(now).is_some_and(|d| now >= d) {
                return Some(self.halt(TIMED_OUT));
            }
        }
        None
    }

    /// When the time limit ends (`None`: no limit), `now` being a reading of the run's
    /// clock: set by the first reading ([`Run::deadline_ms`]).
    fn deadline(&self, now: i64) -> Option<i64> {
        let limit = self.limit_ms?;
        let set = self.deadline_ms.load(Ordering::Relaxed);
        if set != UNSET {
            return Some(set);
        }
        let d = now.saturating_add(limit);
        Some(match self.deadline_ms.compare_exchange(UNSET, d, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => d,
            Err(first) => first,
        })
    }

    /// Before each state: end the run once it was stopped, and once its time limit has
    /// passed whatever the states do (a loop of Pass states never reaches an await where the
    /// timer could win); yield every few states so one execution never holds its thread.
    /// The clock is read at those yields: a run that waits races the timer from its first
    /// wait on, so only a stretch of states that never wait needs the check, and such a
    /// stretch passes its limit by a few states at most.
    pub(super) async fn transition(&self) -> Result<(), StatesError> {
        if self.tick()? {
            self.clock.pause().await;
        }
        Ok(())
    }

    /// [`Self::transition`] up to its yield: count the state, end the run if it must, and
    /// say whether the yield is due.
    #[inline(always)]
    fn tick(&self) -> Result<bool, StatesError> {
        let at_yield = bump(&self.transitions) % STATES_PER_YIELD == 0;
        // Most states: no yield due, nothing halted and nothing that could stop the run.
        if !at_yield && self.cancel.is_none() && !self.is_halted() {
            return Ok(false);
        }
        match self.must_halt_by(at_yield) {
            Some(e) => Err(e),
            None => Ok(at_yield),
        }
    }

    pub(super) fn now_iso(&self) -> String {
        let ms = self.clock.now_millis();
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default()
    }

    /// Run a block of states; its output, and a bound of the output's serialized size. The
    /// input may be borrowed (a Map item, a Parallel's input, an input run again and again):
    /// a first state that only reads it never copies it.
    pub(super) fn block<'s>(
        &'s self,
        block: &'s Block,
        input: Cow<'s, Value>,
        in_bound: usize,
        parent: Option<&'s Vars<'s>>,
        inherited: Option<Vec<(String, Value)>>,
    ) -> BoxFuture<'s, Result<(Value, usize), StatesError>> {
        let mut vars = match parent {
            Some(p) => Vars::child(p),
            None => Vars::new(),
        };
        for (k, v) in inherited.into_iter().flatten() {
            vars.set(k, v);
        }
        self.block_from(block, At::start(block, input, in_bound), vars).boxed()
    }

    /// The rest of a block, from `at`, as a future.
    pub(super) fn block_from<'s>(
        &'s self,
        block: &'s Block,
        at: At<'s>,
        mut vars: Vars<'s>,
    ) -> impl std::future::Future<Output = Result<(Value, usize), StatesError>> + Send + 's {
        async move {
            let At { mut idx, mut input, mut bound, mut paused } = at;
            loop {
                if std::mem::take(&mut paused) {
                    self.clock.pause().await;
                } else {
                    self.transition().await?;
                }
                let st = &block.states[idx];
                let entered = self.entered(st, &input);
                // One span per state when the host exports traces (decided once per run, so a
                // run nobody traces pays nothing for it).
                let r = if self.traced {
                    let span = tracing::trace_span!(
                        target: TRACE_TARGET,
                        "state",
                        state.name = %st.name,
                        state.r#type = st.type_name,
                        error = tracing::field::Empty,
                    );
                    // Boxed, so the block's future does not hold a second state future.
                    let r = Box::pin(self.state(st, input.into_owned(), bound, &mut vars, entered))
                        .instrument(span.clone())
                        .await;
                    if let Err(e) = &r {
                        span.record("error", e.error.as_deref().unwrap_or_default());
                    }
                    r
                } else if st.waits() {
                    self.state(st, input.into_owned(), bound, &mut vars, entered).await
                } else {
                    self.state_now(st, input, bound, &mut vars, entered)
                };
                let (output, next, out_bound) = r?;
                match self.exited(st, output, next, out_bound) {
                    Progress::Done(v, b) => return Ok((v, b)),
                    Progress::Rest(at) => (idx, input, bound) = (at.idx, at.input, at.bound),
                }
            }
        }
    }

    /// The rest of the execution's top block as a future, raced against a stop and, once it
    /// waits, against the run's time limit; its output.
    pub(super) async fn finish_as_future<'s>(
        &'s self,
        root: &'s Block,
        at: At<'s>,
        vars: Vars<'s>,
        cancel: Option<&Cancel>,
    ) -> Result<Value, StatesError> {
        let body = std::pin::pin!(self.block_from(root, at, vars));
        let stopped = std::pin::pin!(async {
            match cancel {
                Some(c) => c.cancelled().await,
                None => future::pending().await,
            }
        });
        let mut body = std::pin::pin!(async {
            match future::select(body, stopped).await {
                Either::Left((r, _)) => r.map(|(output, _)| output),
                Either::Right(_) => Err(self.halt(ABORTED)),
            }
        });
        // Most executions never wait: they end on the first poll, and only one that waits
        // (a Task, a Wait) gets a timer for the rest of its time.
        match future::poll_fn(|cx| Poll::Ready(body.as_mut().poll(cx))).await {
            Poll::Ready(r) => r,
            Poll::Pending => match self.limit_ms {
                None => body.await,
                Some(_) => {
                    let now = self.clock.now_millis();
                    let deadline = self.deadline(now).unwrap_or(i64::MAX);
                    let left = Duration::from_millis(deadline.saturating_sub(now).max(0) as u64);
                    match future::select(body, self.clock.sleep(left)).await {
                        Either::Left((r, _)) => r,
                        Either::Right(_) => Err(self.halt(TIMED_OUT)),
                    }
                }
            },
        }
    }

    /// Whether [`Self::block_now`] may run `block`: it never waits, and no state needs a span.
    pub(super) fn runs_now(&self, block: &Block) -> bool {
        block.never_waits && !self.traced
    }

    /// Run a block that never waits ([`Self::runs_now`]) at once, without a future: to its
    /// end, or to where the run is due to yield, from where [`Self::block_from`] goes on.
    pub(super) fn block_now<'s>(
        &self,
        block: &Block,
        at: At<'s>,
        vars: &mut Vars<'_>,
    ) -> Result<Progress<'s>, StatesError> {
        let At { mut idx, mut input, mut bound, .. } = at;
        loop {
            if self.tick()? {
                return Ok(Progress::Rest(At { idx, input, bound, paused: true }));
            }
            let st = &block.states[idx];
            let entered = self.entered(st, &input);
            let (output, next, out_bound) = self.state_now(st, input, bound, vars, entered)?;
            match self.exited(st, output, next, out_bound) {
                Progress::Rest(at) => (idx, input, bound) = (at.idx, at.input, at.bound),
                done => return Ok(done),
            }
        }
    }

    /// Run a block at once to its end, never yielding: only a block whose run is short and
    /// bounded ([`Block::most_states`]), an at-once Parallel's branch. A yield due on the way
    /// waits for the state after the Parallel; the time limit and a stop still end it.
    pub(super) fn block_through(
        &self,
        block: &Block,
        input: &Value,
        bound: usize,
        vars: &mut Vars<'_>,
    ) -> Result<(Value, usize), StatesError> {
        let mut at = At::start(block, Cow::Borrowed(input), bound);
        loop {
            match self.block_now(block, at, vars)? {
                Progress::Done(v, b) => return Ok((v, b)),
                Progress::Rest(rest) => at = rest,
            }
        }
    }

    /// The state's entered event; its id.
    #[inline(always)]
    fn entered(&self, st: &State, input: &Value) -> u64 {
        self.emit(st.entered_event, Some(&st.name), || serde_json::json!({ "input": input }))
    }

    /// The state's exited event, then the block's output or the state it goes on to.
    #[inline(always)]
    fn exited<'s>(&self, st: &State, output: Value, next: Option<usize>, bound: usize) -> Progress<'s> {
        if let Some(ty) = st.exited_event {
            self.emit(ty, Some(&st.name), || serde_json::json!({ "output": output }));
        }
        match next {
            Some(idx) => Progress::Rest(At { idx, input: Cow::Owned(output), bound, paused: false }),
            None => Progress::Done(output, bound),
        }
    }

    #[inline]
    pub(super) fn ctx<'s>(&'s self, st: &'s State) -> ContextSource<'s> {
        ContextSource::new(self.exec, &st.name, if self.exec.input.is_some() { self.now_iso() } else { String::new() })
    }

    /// Prefix engine-raised errors with the state and its entered event, as AWS does.
    pub(super) fn located(st: &State, entered: u64, e: StatesError) -> StatesError {
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
    pub(super) async fn state(
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
        self.settle(st, entered, r)
    }

    /// [`Self::state`] for a state that never waits ([`Kind::may_wait`]): most states of most
    /// workflows, which need no future of their own.
    #[inline]
    pub(super) fn state_now(
        &self,
        st: &State,
        input: Cow<'_, Value>,
        in_bound: usize,
        vars: &mut Vars<'_>,
        entered: u64,
    ) -> Result<(Value, Option<usize>, usize), StatesError> {
        let r = match st.ql {
            QueryLanguage::JsonPath => self.now_jp(st, input, in_bound, vars, entered),
            QueryLanguage::Jsonata => self.now_ata(st, input, vars),
        };
        self.settle(st, entered, r)
    }

    /// A state's step, its errors located and its output held to the payload limit.
    #[inline(always)]
    fn settle(
        &self,
        st: &State,
        entered: u64,
        r: Result<Step, StatesError>,
    ) -> Result<(Value, Option<usize>, usize), StatesError> {
        match r {
            Ok((out, next, Some(bound))) if bound <= self.limits.max_payload_bytes => Ok((out, next, bound)),
            r => self.settle_measured(st, entered, r),
        }
    }

    /// [`Self::settle`] for an error, or an output of unknown size or near the limit.
    #[inline(never)]
    fn settle_measured(
        &self,
        st: &State,
        entered: u64,
        r: Result<Step, StatesError>,
    ) -> Result<(Value, Option<usize>, usize), StatesError> {
        let (out, next, known) = r.map_err(|e| Self::located(st, entered, e))?;
        // Sizes are tracked as upper bounds; the exact size is computed only near the limit.
        let mut bound = known.unwrap_or_else(|| size_bound(&out));
        if bound > self.limits.max_payload_bytes {
            self.check_size(&out, &st.name, false)?;
            bound = json_size(&out);
        }
        Ok((out, next, bound))
    }
}

/// Where a block's run stands: the next state, its input and a bound of the input's size.
pub(super) struct At<'s> {
    idx: usize,
    input: Cow<'s, Value>,
    bound: usize,
    /// The run is due to yield before the state (its checks are done).
    paused: bool,
}

impl<'s> At<'s> {
    pub(super) fn start(block: &Block, input: Cow<'s, Value>, bound: usize) -> Self {
        At { idx: block.start, input, bound, paused: false }
    }
}

/// What running a block at once ([`Run::block_now`]) came to.
pub(super) enum Progress<'s> {
    /// The block's output and a bound of its size.
    Done(Value, usize),
    /// The rest, to run as a future ([`Run::block_from`]).
    Rest(At<'s>),
}

/// Add one to a counter of the run; the new count. A run's futures are all polled by the one
/// task that runs the execution (the interpreter spawns nothing), so its counters are never
/// changed from two threads at once: a plain load and store serve, without the cost of a
/// locked read-modify-write at every state and event.
#[inline]
fn bump(counter: &AtomicU64) -> u64 {
    let n = counter.load(Ordering::Relaxed) + 1;
    counter.store(n, Ordering::Relaxed);
    n
}
