//! Parallel and Map: branches and iterations run concurrently (inline Map at most 40 at a
//! time unless MaxConcurrency says otherwise), ItemBatcher batches, and failure tolerance.

use std::collections::VecDeque;

use super::*;

impl Run<'_> {
    pub(super) async fn parallel(
        &self,
        branches: &[Block],
        input: Cow<'_, Value>,
        bound: Option<usize>,
        vars: &Vars<'_>,
    ) -> Result<(Value, usize), StatesError> {
        let n = branches.len();
        let bound = bound.unwrap_or_else(|| size_bound(&input));
        // Every branch reads the one input; a branch copies it only if its first state must.
        let outs = if branches.iter().all(|b| self.runs_now(b)) {
            // Branches that never wait run one after the other, as their futures would on
            // their first poll; one running long goes on as a future from where it yields.
            let mut outs = Vec::with_capacity(n);
            let mut rest = Vec::new();
            for b in branches {
                let mut bvars = Vars::child(vars);
                match self.block_now(b, At::start(b, Cow::Borrowed(&*input), bound), &mut bvars)? {
                    Progress::Done(v, vb) => outs.push(Some((v, vb))),
                    Progress::Rest(at) => {
                        rest.push(self.block_from(b, at, bvars).boxed());
                        outs.push(None);
                    }
                }
            }
            let mut rest = future::try_join_all(rest).await?.into_iter();
            outs.into_iter()
                .map(|o| o.or_else(|| rest.next()).ok_or_else(|| StatesError::runtime("a Parallel branch was lost")))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            let futs = branches.iter().map(|b| self.block(b, Cow::Borrowed(&*input), bound, Some(vars), None));
            future::try_join_all(futs).await?
        };
        let bound = 2 + n.saturating_sub(1) + outs.iter().map(|(_, b)| b).sum::<usize>();
        Ok((Value::Array(outs.into_iter().map(|(v, _)| v).collect()), bound))
    }

    pub(super) async fn map_jp(
        &self,
        st: &State,
        spec: &MapSpec,
        eff: &Value,
        eff_bound: usize,
        ctx: &ContextSource<'_>,
        vars: &Vars<'_>,
    ) -> Result<(Value, usize), StatesError> {
        let p = self.map_plan_jp(st, spec, eff, Some(eff_bound), ctx, vars)?;
        self.run_iterations(st, &spec.processor, p, vars).await
    }

    /// A JSONPath Map's iteration inputs (after ItemsPath, ItemSelector and ItemBatcher) and
    /// its limits; `eff_bound`, when known, bounds the effective input's size.
    pub(super) fn map_plan_jp<'v>(
        &self,
        st: &State,
        spec: &MapSpec,
        eff: &'v Value,
        eff_bound: Option<usize>,
        ctx: &ContextSource<'_>,
        vars: &Vars<'_>,
    ) -> Result<MapPlan<'v>, StatesError> {
        let env = Env { input: eff, ctx, vars };
        // Items in the input are borrowed from it; those in the Context object or a variable
        // are copied.
        let items: Cow<'v, Value> = match &spec.items_path {
            Some(p) => {
                let found = match p.root() {
                    crate::jsonpath::Root::Input => p.eval(eff),
                    _ => env.path(p).map(|v| Cow::Owned(v.into_owned())),
                };
                found.ok_or_else(|| {
                    StatesError::runtime(format!("Invalid path '{p}' : No results for path: {}", p.normalized()))
                })?
            }
            None => Cow::Borrowed(eff),
        };
        if !items.is_array() {
            return Err(StatesError::runtime(format!("Map state input must be an array but was: {}", items)));
        }
        let max_conc =
            dyn_u64_field(spec.max_concurrency.as_ref(), &env, "MaxConcurrencyPath", "integer")?.unwrap_or(0);
        let tolerated_count =
            dyn_u64_field(spec.tolerated_count.as_ref(), &env, "ToleratedFailureCountPath", "integer")?;
        let tolerated_pct = dyn_pct(spec.tolerated_pct.as_ref(), &env)?;
        // Each iteration's input: the item itself (borrowed where the input holds it), or
        // what ItemSelector makes of it.
        let mut inputs = elements(items);
        if let Some(t) = &spec.item_selector {
            for (i, item) in inputs.iter_mut().enumerate() {
                let mut ictx = self.ctx(st);
                ictx.map_item = Some((i, std::mem::take(item).into_owned()));
                *item = Cow::Owned(t.eval(&Env { input: eff, ctx: &ictx, vars })?);
            }
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
        // Items taken as they are from the input are parts of it, each no bigger than it.
        // Where even the whole input counted for every item stays under the payload limit,
        // that bound serves and no item is walked to measure it.
        let from_input = spec.items_path.as_ref().is_none_or(|p| matches!(p.root(), crate::jsonpath::Root::Input))
            && spec.item_selector.is_none()
            && spec.batcher.is_none();
        let item_bound =
            eff_bound.filter(|b| from_input && inputs.len().saturating_mul(*b) <= self.limits.max_payload_bytes);
        Ok(MapPlan { inputs, max_conc, tolerated_count, tolerated_pct, item_bound })
    }

    pub(super) async fn run_iterations(
        &self,
        st: &State,
        processor: &Block,
        plan: MapPlan<'_>,
        vars: &Vars<'_>,
    ) -> Result<(Value, usize), StatesError> {
        let MapPlan { inputs, max_conc, tolerated_count, tolerated_pct, item_bound } = plan;
        let total = inputs.len();
        self.emit(EventType::MapStateStarted, Some(&st.name), || serde_json::json!({ "length": total }));
        // No MaxConcurrency (or 0) runs as many at once as AWS's inline Map does: 40.
        let conc = if max_conc == 0 { INLINE_MAP_CONCURRENCY } else { max_conc as usize };
        let tolerant = tolerated_count.is_some() || tolerated_pct.is_some();
        let name: &str = &st.name;
        // At most `conc` iterations run at once; their results are taken in item order. An
        // iteration whose states never wait runs when it starts, as its future would on its
        // first poll, and its result waits in `started`; the others (and one running long
        // enough to yield) run as futures in `running`, in the same order.
        let now = self.runs_now(processor);
        let mut started: VecDeque<(usize, Option<BlockResult>)> = VecDeque::new();
        let mut running = futures::stream::FuturesOrdered::new();
        let mut fresh = Vec::new();
        let mut next = inputs.into_iter().enumerate();
        let mut outs = Vec::with_capacity(total);
        let mut bound = 2 + total.saturating_sub(1);
        let mut failed = 0u64;
        loop {
            // Every iteration of a refill is started before any of them runs.
            while started.len() + fresh.len() < conc {
                let Some((i, v)) = next.next() else { break };
                self.emit(EventType::MapIterationStarted, Some(name), || serde_json::json!({ "index": i }));
                fresh.push((i, v));
            }
            for (i, v) in fresh.drain(..) {
                let b = item_bound.unwrap_or_else(|| size_bound(&v));
                if !now {
                    running.push_back(self.block(processor, v, b, Some(vars), None));
                    started.push_back((i, None));
                    continue;
                }
                let mut ivars = Vars::child(vars);
                match self.block_now(processor, At::start(processor, v, b), &mut ivars) {
                    Ok(Progress::Done(v, vb)) => started.push_back((i, Some(Ok((v, vb))))),
                    Err(e) => started.push_back((i, Some(Err(e)))),
                    Ok(Progress::Rest(at)) => {
                        running.push_back(self.block_from(processor, at, ivars).boxed());
                        started.push_back((i, None));
                    }
                }
            }
            let Some((i, r)) = started.pop_front() else { break };
            let r = match r {
                Some(r) => r,
                None => running.next().await.unwrap_or_else(|| Err(StatesError::runtime("a Map iteration was lost"))),
            };
            match r {
                Ok((v, b)) => {
                    self.emit(EventType::MapIterationSucceeded, Some(name), || serde_json::json!({ "index": i }));
                    outs.push(v);
                    bound = bound.saturating_add(b);
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
                    let caught = serde_json::json!({"Error": e.error, "Cause": e.cause});
                    bound = bound.saturating_add(size_bound(&caught));
                    outs.push(caught);
                }
            }
        }
        self.emit(EventType::MapStateSucceeded, Some(name), || Value::Null);
        Ok((Value::Array(outs), bound))
    }

    pub(super) async fn map_ata(
        &self,
        st: &State,
        spec: &MapSpec,
        b: &AtaEnv<'_>,
        vars: &Vars<'_>,
    ) -> Result<(Value, usize), StatesError> {
        let p = self.map_plan_ata(st, spec, b, vars)?;
        self.run_iterations(st, &spec.processor, p, vars).await
    }

    /// A JSONata Map's iteration inputs (after Items, ItemSelector and ItemBatcher) and its
    /// limits.
    pub(super) fn map_plan_ata<'b>(
        &self,
        st: &State,
        spec: &MapSpec,
        b: &AtaEnv<'b>,
        vars: &Vars<'_>,
    ) -> Result<MapPlan<'b>, StatesError> {
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
                Cow::Owned(v)
            }
            None => {
                if !b.input.is_array() {
                    return Err(StatesError::query(format!("Map state input must be an array but was: {}", b.input)));
                }
                Cow::Borrowed(b.input)
            }
        };
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
        let mut inputs = elements(items);
        if let Some(t) = &spec.item_selector_ata {
            for (i, item) in inputs.iter_mut().enumerate() {
                let mut ictx = self.ctx(st);
                ictx.map_item = Some((i, std::mem::take(item).into_owned()));
                let ib = AtaEnv::new(self, b.input, None, None, &ictx, vars);
                *item = Cow::Owned(eval_jt(t, &ib, "ItemSelector")?);
            }
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
        Ok(MapPlan { inputs, max_conc, tolerated_count, tolerated_pct, item_bound: None })
    }
}

/// A block's output and a bound of its size, or its error.
type BlockResult = Result<(Value, usize), StatesError>;

/// The elements of an array (a Map's items), borrowed from it when it is borrowed.
fn elements(items: Cow<'_, Value>) -> Vec<Cow<'_, Value>> {
    match items {
        Cow::Borrowed(Value::Array(a)) => a.iter().map(Cow::Borrowed).collect(),
        Cow::Owned(Value::Array(a)) => a.into_iter().map(Cow::Owned).collect(),
        _ => Vec::new(),
    }
}

/// What a Map state runs: one input per iteration, and its concurrency and failure limits.
pub(super) struct MapPlan<'v> {
    pub(super) inputs: Vec<Cow<'v, Value>>,
    pub(super) max_conc: u64,
    pub(super) tolerated_count: Option<u64>,
    pub(super) tolerated_pct: Option<f64>,
    /// A bound of every input's size, when one is known without measuring them.
    pub(super) item_bound: Option<usize>,
}

/// Group iteration inputs into ItemBatcher batches, bounded by item count and by size.
pub(super) fn batch<'v>(
    inputs: Vec<Cow<'v, Value>>,
    max_items: Option<u64>,
    max_bytes: Option<u64>,
    batch_input: Option<Value>,
) -> Vec<Cow<'v, Value>> {
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
            chunk.extend(it.next().map(Cow::into_owned));
        }
        let mut m = Map::new();
        if let Some(bi) = &batch_input {
            m.insert("BatchInput".into(), bi.clone());
        }
        m.insert("Items".into(), Value::Array(chunk));
        out.push(Cow::Owned(Value::Object(m)));
    }
    out
}
