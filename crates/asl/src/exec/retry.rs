//! Retry and Catch around the states that can fail with a retryable error (Task, Parallel,
//! Map): backoff with jitter and a cap, then the first Catch whose error names match.

use super::*;

impl Run<'_> {
    /// Task, Parallel and Map: attempts with Retry, then Catch.
    pub(super) async fn with_retry(
        &self,
        st: &State,
        raw: Value,
        in_bound: usize,
        vars: &mut Vars<'_>,
        entered: u64,
        mut ctx: ContextSource<'_>,
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
                    let mut delay = backoff_seconds(r, counts[i]);
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
            return self.catch(st, Cow::Owned(raw.take().unwrap_or(Value::Null)), err, &ctx, vars);
        }
    }

    /// Catch: the output of the first catcher that matches `err` (located already) and the
    /// state it goes on to, or `err` when none does. The input is copied only for a catcher.
    pub(super) fn catch(
        &self,
        st: &State,
        raw: Cow<'_, Value>,
        err: StatesError,
        ctx: &ContextSource<'_>,
        vars: &mut Vars<'_>,
    ) -> Result<Step, StatesError> {
        let Some(c) = st.catch.iter().find(|c| error_matches(&c.errors, &err)) else {
            return Err(err);
        };
        let out = self.caught(st, c, raw.into_owned(), &err, ctx, vars)?;
        Ok((out, Some(c.next), None))
    }

    /// The output of a state whose error `c` caught (its ResultPath or Output on the error
    /// output), its Assign applied.
    pub(super) fn caught(
        &self,
        st: &State,
        c: &Catcher,
        raw: Value,
        err: &StatesError,
        ctx: &ContextSource<'_>,
        vars: &mut Vars<'_>,
    ) -> Result<Value, StatesError> {
        let err_out = serde_json::json!({"Error": err.error.clone().unwrap_or_default(), "Cause": err.cause.clone().unwrap_or_default()});
        match st.ql {
            QueryLanguage::JsonPath => {
                let assigned = self.assign_jp(c.assign.as_ref(), &err_out, ctx, vars)?;
                let out = merge_result(&c.result_path, Cow::Owned(raw), err_out)?;
                set_all(vars, assigned);
                Ok(out)
            }
            QueryLanguage::Jsonata => {
                let b = AtaEnv::new(self, &raw, None, Some(&err_out), ctx, vars);
                let out = match &c.output {
                    Some(t) => eval_jt(t, &b, "Output")?,
                    None => err_out.clone(),
                };
                let assigned = eval_assign_ata(c.assign.as_ref(), &b)?;
                drop(b);
                set_all(vars, assigned);
                Ok(out)
            }
        }
    }
}

/// The backoff before retry number `count` (0: the first) of retrier `r`, before jitter.
pub(super) fn backoff_seconds(r: &Retrier, count: u32) -> f64 {
    let mut delay = r.interval * r.backoff.powi(count as i32);
    if let Some(m) = r.max_delay {
        delay = delay.min(m);
    }
    delay
}

pub(super) fn error_matches(names: &[String], e: &StatesError) -> bool {
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
