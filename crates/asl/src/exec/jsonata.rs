//! JSONata states: `Arguments`, `Output`, `Assign` and the other fields as JSONata templates,
//! with `$states` and the variables bound, and the run's time limit and stop checked while
//! an expression evaluates.

use super::*;

impl Run<'_> {
    pub(super) async fn state_ata(
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
                let b = AtaEnv::new(self, &raw, None, None, &ctx, vars);
                let d = self.wait_duration_ata(spec, &b)?;
                self.clock.sleep(d).await;
                let (out, assigned) = output_and_assign_ata(st.output.as_ref(), st.assign.as_ref(), &b)?;
                drop(b);
                set_all(vars, assigned);
                Ok((out.unwrap_or(raw), st.next, None))
            }
            Kind::Task(_) | Kind::Parallel { .. } | Kind::Map(_) => {
                // Boxed: the states that never wait keep a small future.
                Box::pin(self.with_retry(st, raw, in_bound, vars, entered, self.ctx(st))).await
            }
            _ => self.now_ata(st, Cow::Owned(raw), vars),
        }
    }

    /// A JSONata state that never waits ([`Kind::may_wait`]), run without a future.
    pub(super) fn now_ata(&self, st: &State, raw: Cow<'_, Value>, vars: &mut Vars<'_>) -> Result<Step, StatesError> {
        let ctx = self.ctx(st);
        match &st.kind {
            Kind::Pass { .. } | Kind::Succeed => {
                let b = AtaEnv::new(self, &raw, None, None, &ctx, vars);
                let (out, assigned) = output_and_assign_ata(st.output.as_ref(), st.assign.as_ref(), &b)?;
                drop(b);
                set_all(vars, assigned);
                let next = if matches!(st.kind, Kind::Succeed) { None } else { st.next };
                Ok((out.unwrap_or_else(|| raw.into_owned()), next, None))
            }
            Kind::Fail { error, cause } => {
                let b = AtaEnv::new(self, &raw, None, None, &ctx, vars);
                Err(fail_error_ata(error.as_ref(), cause.as_ref(), &b)?)
            }
            Kind::Choice { choices, default } => {
                let b = AtaEnv::new(self, &raw, None, None, &ctx, vars);
                let (chosen, next) = choose_ata(choices, *default, &b)?;
                let output = chosen.and_then(|c| c.output.as_ref()).or(st.output.as_ref());
                let assign = chosen.and_then(|c| c.assign.as_ref()).or(st.assign.as_ref());
                let (out, assigned) = output_and_assign_ata(output, assign, &b)?;
                drop(b);
                set_all(vars, assigned);
                Ok((out.unwrap_or_else(|| raw.into_owned()), Some(next), None))
            }
            Kind::Task(_) | Kind::Wait(_) | Kind::Parallel { .. } | Kind::Map(_) => {
                Err(StatesError::runtime(format!("the state '{}' waits and cannot run at once", st.name)))
            }
        }
    }

    pub(super) fn wait_duration_ata(&self, spec: &WaitSpec, b: &AtaEnv<'_>) -> Result<Duration, StatesError> {
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

    pub(super) async fn attempt_ata(
        &self,
        st: &State,
        raw: Value,
        vars: &mut Vars<'_>,
        attempt: u32,
        ctx: &ContextSource<'_>,
    ) -> Result<Step, StatesError> {
        let result = {
            let b = AtaEnv::new(self, &raw, None, None, ctx, vars);
            match &st.kind {
                Kind::Map(spec) => self.map_ata(st, spec, &b, vars).await?.0,
                _ => {
                    let args = match &st.arguments {
                        Some(t) => Cow::Owned(eval_jt(t, &b, "Arguments")?),
                        None => Cow::Borrowed(&raw),
                    };
                    match &st.kind {
                        Kind::Task(spec) => {
                            let timeout = ata_secs(spec.timeout.as_ref(), &b, "TimeoutSeconds")?;
                            let heartbeat = ata_secs(spec.heartbeat.as_ref(), &b, "HeartbeatSeconds")?;
                            self.task(st, &spec.resource, args.into_owned(), attempt, timeout, heartbeat).await?
                        }
                        Kind::Parallel { branches } => self.parallel(branches, args, None, vars).await?.0,
                        _ => unreachable!("only Task, Parallel and Map retry"),
                    }
                }
            }
        };
        let b = AtaEnv::new(self, &raw, Some(&result), None, ctx, vars);
        let (out, assigned) = output_and_assign_ata(st.output.as_ref(), st.assign.as_ref(), &b)?;
        drop(b);
        set_all(vars, assigned);
        Ok((out.unwrap_or(result), st.next, None))
    }
}

/// Variables a state assigns, in the order it assigns them.
pub(super) type Assigned = Vec<(String, Value)>;

/// A JSONata state's `Output` (`None`: its input or result goes on) and its `Assign`, both
/// evaluated against the same bindings, so assignments see the variables as they were.
pub(super) fn output_and_assign_ata(
    output: Option<&JTemplate>,
    assign: Option<&Assign>,
    b: &AtaEnv<'_>,
) -> Result<(Option<Value>, Assigned), StatesError> {
    let out = output.map(|t| eval_jt(t, b, "Output")).transpose()?;
    Ok((out, eval_assign_ata(assign, b)?))
}

/// The error a JSONata Fail state raises, from its Error and Cause.
pub(super) fn fail_error_ata(
    error: Option<&Dyn<String>>,
    cause: Option<&Dyn<String>>,
    b: &AtaEnv<'_>,
) -> Result<StatesError, StatesError> {
    let f = |d: Option<&Dyn<String>>, field: &str| -> Result<Option<String>, StatesError> {
        Ok(match d {
            None => None,
            Some(Dyn::Lit(s)) => Some(s.clone()),
            Some(Dyn::Ata(t)) => match eval_jt(t, b, field)? {
                Value::String(s) => Some(s),
                other => Some(other.to_string()),
            },
            Some(_) => None,
        })
    };
    Ok(StatesError { error: f(error, "Error")?, cause: f(cause, "Cause")? })
}

/// The first Choice rule whose Condition is true (`None`: the Default) and the state it
/// leads to; no match and no Default is `States.NoChoiceMatched`.
pub(super) fn choose_ata<'c>(
    choices: &'c [ChoiceBranch],
    default: Option<usize>,
    b: &AtaEnv<'_>,
) -> Result<(Option<&'c ChoiceBranch>, usize), StatesError> {
    for c in choices {
        if let Condition::Ata(t) = &c.cond {
            match eval_jt(t, b, "Condition")? {
                Value::Bool(true) => return Ok((Some(c), c.next)),
                Value::Bool(false) => {}
                other => {
                    return Err(StatesError::query(format!(
                        "The Condition field evaluated to a non-boolean value: {other}"
                    )))
                }
            }
        }
    }
    match default {
        Some(d) => Ok((None, d)),
        None => Err(StatesError::new(errors::NO_CHOICE_MATCHED, "No Matches!")),
    }
}

pub(super) fn ata_secs(d: Option<&Dyn<u64>>, b: &AtaEnv<'_>, field: &str) -> Result<Option<u64>, StatesError> {
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
pub(super) trait Watch: Sync {
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
    pub(super) watch: &'a dyn Watch,
    pub(super) input: &'a Value,
    pub(super) result: Option<&'a Value>,
    pub(super) error_output: Option<&'a Value>,
    pub(super) ctx: &'a ContextSource<'a>,
    pub(super) vars: &'a Vars<'a>,
    pub(super) states: OnceLock<Value>,
}

impl<'a> AtaEnv<'a> {
    pub(super) fn new(
        watch: &'a dyn Watch,
        input: &'a Value,
        result: Option<&'a Value>,
        error_output: Option<&'a Value>,
        ctx: &'a ContextSource<'a>,
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

pub(super) fn eval_assign_ata(a: Option<&Assign>, b: &dyn Bindings) -> Result<Assigned, StatesError> {
    let Some(Assign::Ata(fields)) = a else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(fields.len());
    for (k, t) in fields {
        out.push((k.clone(), eval_jt(t, b, &format!("Assign/{k}"))?));
    }
    Ok(out)
}
