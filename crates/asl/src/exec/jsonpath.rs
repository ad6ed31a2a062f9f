//! JSONPath states: InputPath, Parameters, ResultSelector, ResultPath and OutputPath, and
//! the fields (`…Path`, `….$`) that take their value from the input or the Context object.

use super::*;

impl Run<'_> {
    pub(super) async fn state_jp(
        &self,
        st: &State,
        raw: Value,
        in_bound: usize,
        vars: &mut Vars<'_>,
        entered: u64,
    ) -> Result<Step, StatesError> {
        match &st.kind {
            Kind::Wait(spec) => {
                let ctx = self.ctx(st);
                let eff = take_input_path(&st.input_path, raw, &ctx, vars)?;
                let eb = effective_bound(&st.input_path, &eff, in_bound);
                let dur = self.wait_duration_jp(spec, &Env { input: &eff, ctx: &ctx, vars })?;
                self.clock.sleep(dur).await;
                let assigned = self.assign_jp(st.assign.as_ref(), &eff, &ctx, vars)?;
                let out = apply_output_path(&st.output_path, eff, &ctx, vars)?;
                let ob = effective_bound(&st.output_path, &out, eb);
                set_all(vars, assigned);
                Ok((out, st.next, Some(ob)))
            }
            Kind::Task(_) | Kind::Parallel { .. } | Kind::Map(_) => {
                // Boxed: the states that never wait keep a small future.
                Box::pin(self.with_retry(st, raw, in_bound, vars, entered, self.ctx(st))).await
            }
            _ => self.now_jp(st, Cow::Owned(raw), in_bound, vars, entered),
        }
    }

    /// A JSONPath state that never waits ([`Kind::may_wait`]), run without a future. A
    /// borrowed input is copied only by a state that hands it on or writes into it.
    pub(super) fn now_jp(
        &self,
        st: &State,
        raw: Cow<'_, Value>,
        in_bound: usize,
        vars: &mut Vars<'_>,
        entered: u64,
    ) -> Result<Step, StatesError> {
        let ctx = self.ctx(st);
        match &st.kind {
            Kind::Parallel { branches } if st.at_once => {
                self.parallel_now_jp(st, branches, raw, in_bound, &ctx, vars, entered)
            }
            Kind::Pass { result: None } if replaces(&st.result_path) => {
                let (res, rb) = match raw {
                    // The input is dropped once the result is made: the state hands (part
                    // of) it on as it is, or Parameters move what they select from it.
                    Cow::Owned(raw) => {
                        let eff = take_input_path(&st.input_path, raw, &ctx, vars)?;
                        let eb = effective_bound(&st.input_path, &eff, in_bound);
                        match &st.parameters {
                            Some(p) => p.eval_consuming(eff, &ctx, vars, eb)?,
                            None => (eff, eb),
                        }
                    }
                    Cow::Borrowed(raw) => {
                        let eff = apply_input_path(&st.input_path, raw, &ctx, vars)?;
                        let eb = effective_bound(&st.input_path, &eff, in_bound);
                        match &st.parameters {
                            Some(p) => p.eval_bounded(&Env { input: &eff, ctx: &ctx, vars }, eb)?,
                            None => (eff.into_owned(), eb),
                        }
                    }
                };
                let assigned = self.assign_jp(st.assign.as_ref(), &res, &ctx, vars)?;
                let out = apply_output_path(&st.output_path, res, &ctx, vars)?;
                let ob = effective_bound(&st.output_path, &out, rb);
                set_all(vars, assigned);
                Ok((out, st.next, Some(ob)))
            }
            Kind::Pass { result } => {
                let raw = raw.into_owned();
                let env_input = apply_input_path(&st.input_path, &raw, &ctx, vars)?;
                let eb = effective_bound(&st.input_path, &env_input, in_bound);
                let (res, rb) = match (result, &st.parameters) {
                    (Some(r), _) => (r.clone(), size_bound(r)),
                    (None, Some(p)) => p.eval_bounded(&Env { input: &env_input, ctx: &ctx, vars }, eb)?,
                    (None, None) => (env_input.into_owned(), eb),
                };
                let assigned = self.assign_jp(st.assign.as_ref(), &res, &ctx, vars)?;
                let out = merge_result(&st.result_path, Cow::Owned(raw), res)?;
                let mb = merged_bound(&st.result_path, in_bound, rb);
                let out = apply_output_path(&st.output_path, out, &ctx, vars)?;
                let ob = effective_bound(&st.output_path, &out, mb);
                set_all(vars, assigned);
                Ok((out, st.next, Some(ob)))
            }
            Kind::Succeed => {
                let v = take_input_path(&st.input_path, raw.into_owned(), &ctx, vars)?;
                let eb = effective_bound(&st.input_path, &v, in_bound);
                let out = apply_output_path(&st.output_path, v, &ctx, vars)?;
                let ob = effective_bound(&st.output_path, &out, eb);
                Ok((out, None, Some(ob)))
            }
            Kind::Fail { error, cause } => {
                let env = Env { input: &raw, ctx: &ctx, vars };
                let error = eval_dyn_str(error.as_ref(), &env, "ErrorPath")?;
                let cause = eval_dyn_str(cause.as_ref(), &env, "CausePath")?;
                Err(StatesError { error, cause })
            }
            Kind::Choice { choices, default } => {
                let eff = take_input_path(&st.input_path, raw.into_owned(), &ctx, vars)?;
                let (chosen, next) = choose_jp(choices, *default, &Env { input: &eff, ctx: &ctx, vars })?;
                let assign = chosen.and_then(|c| c.assign.as_ref()).or(st.assign.as_ref());
                let assigned = self.assign_jp(assign, &eff, &ctx, vars)?;
                let eb = effective_bound(&st.input_path, &eff, in_bound);
                let out = apply_output_path(&st.output_path, eff, &ctx, vars)?;
                let ob = effective_bound(&st.output_path, &out, eb);
                set_all(vars, assigned);
                Ok((out, Some(next), Some(ob)))
            }
            Kind::Task(_) | Kind::Wait(_) | Kind::Parallel { .. } | Kind::Map(_) => {
                Err(StatesError::runtime(format!("the state '{}' waits and cannot run at once", st.name)))
            }
        }
    }

    /// Evaluate a JSONPath `Assign`; the caller applies the values once the state's output is
    /// known, so every field of the state sees the variables as they were on entry.
    #[inline(always)]
    pub(super) fn assign_jp(
        &self,
        assign: Option<&Assign>,
        input: &Value,
        ctx: &ContextSource<'_>,
        vars: &Vars<'_>,
    ) -> Result<Vec<(String, Value)>, StatesError> {
        match assign {
            Some(Assign::Path(t)) => Self::assign_values(t, input, ctx, vars),
            _ => Ok(Vec::new()),
        }
    }

    #[inline(never)]
    fn assign_values(
        t: &crate::payload::Template,
        input: &Value,
        ctx: &ContextSource<'_>,
        vars: &Vars<'_>,
    ) -> Result<Vec<(String, Value)>, StatesError> {
        match t.eval(&Env { input, ctx, vars })? {
            Value::Object(m) => Ok(m.into_iter().collect()),
            _ => Ok(Vec::new()),
        }
    }

    pub(super) fn wait_duration_jp(&self, spec: &WaitSpec, env: &Env<'_>) -> Result<Duration, StatesError> {
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

    pub(super) fn until(&self, ts: &str) -> Duration {
        let target = parse_timestamp(ts).map(|t| t.timestamp_millis()).unwrap_or(0);
        let now = self.clock.now_millis();
        Duration::from_millis((target - now).max(0) as u64)
    }

    pub(super) async fn attempt_jp(
        &self,
        st: &State,
        raw: Value,
        in_bound: usize,
        vars: &mut Vars<'_>,
        attempt: u32,
        ctx: &ContextSource<'_>,
    ) -> Result<Step, StatesError> {
        let eff = apply_input_path(&st.input_path, &raw, ctx, vars)?;
        // The result, and a bound of its size when the states that made it tracked one.
        let (result, known) = match &st.kind {
            Kind::Map(spec) => {
                let eb = effective_bound(&st.input_path, &eff, in_bound);
                let (v, b) = self.map_jp(st, spec, &eff, eb, ctx, vars).await?;
                (v, Some(b))
            }
            _ => {
                // Without Parameters the effective input is passed on; a Parallel's branches
                // read it in place.
                let (params, pb) = parameters_jp(st, &eff, in_bound, ctx, vars)?;
                match &st.kind {
                    Kind::Task(spec) => {
                        let env = Env { input: &eff, ctx, vars };
                        let timeout = dyn_secs(spec.timeout.as_ref(), &env, "TimeoutSecondsPath")?;
                        let heartbeat = dyn_secs(spec.heartbeat.as_ref(), &env, "HeartbeatSecondsPath")?;
                        (self.task(st, &spec.resource, params.into_owned(), attempt, timeout, heartbeat).await?, None)
                    }
                    Kind::Parallel { branches } => {
                        let (v, b) = self.parallel(branches, params, Some(pb), vars).await?;
                        (v, Some(b))
                    }
                    _ => unreachable!("only Task, Parallel and Map retry"),
                }
            }
        };
        drop(eff);
        let (result, rb) = select_result_jp(st, result, known, ctx, vars)?;
        let assigned = self.assign_jp(st.assign.as_ref(), &result, ctx, vars)?;
        let out = merge_result(&st.result_path, Cow::Owned(raw), result)?;
        let mb = merged_bound(&st.result_path, in_bound, rb);
        let out = apply_output_path(&st.output_path, out, ctx, vars)?;
        let ob = effective_bound(&st.output_path, &out, mb);
        set_all(vars, assigned);
        Ok((out, st.next, Some(ob)))
    }
}

impl Run<'_> {
    /// An at-once Parallel ([`State::at_once`]): its branches one after the other, without
    /// a future; no Retry, so one attempt, then Catch. The input is copied only where the
    /// output is written into it, or kept for a Catch while ResultPath or OutputPath can
    /// still fail.
    #[allow(clippy::too_many_arguments)]
    fn parallel_now_jp(
        &self,
        st: &State,
        branches: &[Block],
        raw: Cow<'_, Value>,
        in_bound: usize,
        ctx: &ContextSource<'_>,
        vars: &mut Vars<'_>,
        entered: u64,
    ) -> Result<Step, StatesError> {
        let attempt = (|| {
            let eff = apply_input_path(&st.input_path, &raw, ctx, vars)?;
            let (params, pb) = parameters_jp(st, &eff, in_bound, ctx, vars)?;
            let mut outs = Vec::with_capacity(branches.len());
            let mut bound = 2 + branches.len().saturating_sub(1);
            for b in branches {
                let (v, vb) = self.block_through(b, &params, pb, &mut Vars::child(vars))?;
                bound = bound.saturating_add(vb);
                outs.push(v);
            }
            drop(params);
            let (result, rb) = select_result_jp(st, Value::Array(outs), Some(bound), ctx, vars)?;
            let assigned = self.assign_jp(st.assign.as_ref(), &result, ctx, vars)?;
            Ok((result, rb, assigned))
        })();
        let (result, rb, assigned) = match attempt {
            Ok(done) => done,
            Err(e) => return self.catch_now(st, raw, e, entered, ctx, vars),
        };
        let may_fail = matches!(&st.result_path, PathOpt::Path(p) if !p.is_root_only())
            || matches!(st.output_path, PathOpt::Path(_));
        let kept = (may_fail && !st.catch.is_empty()).then(|| raw.clone());
        let out = merge_result(&st.result_path, raw, result)
            .and_then(|out| apply_output_path(&st.output_path, out, ctx, vars));
        match (out, kept) {
            (Ok(out), _) => {
                let mb = merged_bound(&st.result_path, in_bound, rb);
                let ob = effective_bound(&st.output_path, &out, mb);
                set_all(vars, assigned);
                Ok((out, st.next, Some(ob)))
            }
            (Err(e), Some(raw)) => self.catch_now(st, raw, e, entered, ctx, vars),
            (Err(e), None) => Err(e),
        }
    }

    /// [`Self::catch`] for a state run at once, its error located first; a halted run's
    /// error is caught by nothing.
    fn catch_now(
        &self,
        st: &State,
        raw: Cow<'_, Value>,
        e: StatesError,
        entered: u64,
        ctx: &ContextSource<'_>,
        vars: &mut Vars<'_>,
    ) -> Result<Step, StatesError> {
        if self.is_halted() {
            return Err(e);
        }
        self.catch(st, raw, Self::located(st, entered, e), ctx, vars)
    }
}

/// The value Parameters make of the effective input, or the effective input itself
/// (borrowed), and a bound of its size.
fn parameters_jp<'v>(
    st: &State,
    eff: &'v Value,
    in_bound: usize,
    ctx: &ContextSource<'_>,
    vars: &Vars<'_>,
) -> Result<(Cow<'v, Value>, usize), StatesError> {
    let eb = effective_bound(&st.input_path, eff, in_bound);
    Ok(match &st.parameters {
        Some(p) => {
            let (v, b) = p.eval_bounded(&Env { input: eff, ctx, vars }, eb)?;
            (Cow::Owned(v), b)
        }
        None => (Cow::Borrowed(eff), eb),
    })
}

/// What ResultSelector makes of a state's result (the result dropped once selected from: its
/// parts move), and a bound of its size (`known`: the result's, when the states that made it
/// tracked one).
fn select_result_jp(
    st: &State,
    result: Value,
    known: Option<usize>,
    ctx: &ContextSource<'_>,
    vars: &Vars<'_>,
) -> Result<(Value, usize), StatesError> {
    Ok(match (&st.result_selector, known) {
        (Some(t), Some(b)) => t.eval_consuming(result, ctx, vars, b)?,
        (Some(t), None) => {
            let selected = t.eval_consuming(result, ctx, vars, 0)?.0;
            let b = size_bound(&selected);
            (selected, b)
        }
        (None, Some(b)) => (result, b),
        (None, None) => {
            let b = size_bound(&result);
            (result, b)
        }
    })
}

/// The first Choice rule that matches (`None`: the Default) and the state it leads to; no
/// match and no Default is `States.NoChoiceMatched`.
pub(super) fn choose_jp<'c>(
    choices: &'c [ChoiceBranch],
    default: Option<usize>,
    env: &Env<'_>,
) -> Result<(Option<&'c ChoiceBranch>, usize), StatesError> {
    for c in choices {
        if let Condition::Path(rule) = &c.cond {
            if rule.eval(env)? {
                return Ok((Some(c), c.next));
            }
        }
    }
    match default {
        Some(d) => Ok((None, d)),
        None => Err(StatesError::new(errors::NO_CHOICE_MATCHED, "No Matches!")),
    }
}

/// A bound of what InputPath or OutputPath `p` selected (`eff`) from a value of bound
/// `in_bound`: a definite path into that value selects part of it (a null one, `{}`); one
/// into the Context object or a variable, or one that gathers matches into a new array, is
/// measured.
#[inline]
pub(super) fn effective_bound(p: &PathOpt, eff: &Value, in_bound: usize) -> usize {
    match p {
        PathOpt::Path(p) if !p.is_definite() || !matches!(p.root(), crate::jsonpath::Root::Input) => size_bound(eff),
        _ => in_bound.max(2),
    }
}

// The path helpers below are called for every state, most often with no path at all: that
// case is inlined where they are called, the rest is not.

#[inline(always)]
pub(super) fn apply_input_path<'v>(
    p: &PathOpt,
    raw: &'v Value,
    ctx: &ContextSource<'_>,
    vars: &Vars<'_>,
) -> Result<Cow<'v, Value>, StatesError> {
    match p {
        PathOpt::Default => Ok(Cow::Borrowed(raw)),
        _ => select_input(p, raw, ctx, vars),
    }
}

#[inline(never)]
fn select_input<'v>(
    p: &PathOpt,
    raw: &'v Value,
    ctx: &ContextSource<'_>,
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

/// The effective input, owned: the input itself, moved, when InputPath selects all of it.
#[inline(always)]
pub(super) fn take_input_path(
    p: &PathOpt,
    raw: Value,
    ctx: &ContextSource<'_>,
    vars: &Vars<'_>,
) -> Result<Value, StatesError> {
    if matches!(p, PathOpt::Default) {
        return Ok(raw);
    }
    match select_input(p, &raw, ctx, vars)? {
        // Only the whole input is ever borrowed (see `apply_input_path`).
        Cow::Borrowed(_) => Ok(raw),
        Cow::Owned(v) => Ok(v),
    }
}

/// Whether a ResultPath makes the result the whole output (the input is then dropped).
#[inline]
fn replaces(p: &PathOpt) -> bool {
    matches!(p, PathOpt::Default) || matches!(p, PathOpt::Path(p) if p.is_root_only())
}

#[inline(always)]
pub(super) fn apply_output_path(
    p: &PathOpt,
    out: Value,
    ctx: &ContextSource<'_>,
    vars: &Vars<'_>,
) -> Result<Value, StatesError> {
    match p {
        PathOpt::Default => Ok(out),
        _ => select_output(p, out, ctx, vars),
    }
}

#[inline(never)]
fn select_output(p: &PathOpt, out: Value, ctx: &ContextSource<'_>, vars: &Vars<'_>) -> Result<Value, StatesError> {
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

/// The state's input with its result put where ResultPath says (the input is copied only
/// when borrowed and written into).
pub(super) fn merge_result(p: &PathOpt, raw: Cow<'_, Value>, result: Value) -> Result<Value, StatesError> {
    match p {
        PathOpt::Default => Ok(result),
        PathOpt::Null => Ok(raw.into_owned()),
        PathOpt::Path(p) if p.is_root_only() => Ok(result),
        PathOpt::Path(p) => {
            let mut raw = raw.into_owned();
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

pub(super) fn eval_dyn_str(d: Option<&Dyn<String>>, env: &Env<'_>, field: &str) -> Result<Option<String>, StatesError> {
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

pub(super) fn dyn_secs(d: Option<&Dyn<u64>>, env: &Env<'_>, field: &str) -> Result<Option<u64>, StatesError> {
    dyn_u64_field(d, env, field, "integer")
}

pub(super) fn dyn_u64_field(
    d: Option<&Dyn<u64>>,
    env: &Env<'_>,
    field: &str,
    what: &str,
) -> Result<Option<u64>, StatesError> {
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

pub(super) fn dyn_pct(d: Option<&Dyn<f64>>, env: &Env<'_>) -> Result<Option<f64>, StatesError> {
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
