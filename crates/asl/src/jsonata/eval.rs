//! JSONata evaluation: paths and sequences, operators, function application with tail
//! calls, and the guards (step budget, depth limit, stack growth) that keep any expression
//! from crashing or hanging a worker.
//!
//! Values borrow the input and the expression (see [`super::value`]); the evaluator never
//! deep-copies, except the transform operator, which by definition works on a copy.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use serde_json::Value;

use super::functions;
use super::parser::{BinOp, Node, Path, Stage};
use super::value::{deep_eq, err, js_number, precise15, truthy, write_json, Arr, Func, Key, Obj, Scope, Val};
use super::{Bindings, JsonataError};

/// Deepest evaluation nesting before U1001: a non-tail recursion of about 5,000 calls
/// (three levels each), some 20 MB of stack segments at most.
const MAX_DEPTH: usize = 15_000;

/// The binding of a tuple's ancestors (no variable can have this name).
const ANCESTORS: &str = "%";

/// Stack room below which evaluation continues on a new heap segment.
const RED_ZONE: usize = 256 * 1024;

/// The largest array the range operator builds.
const MAX_RANGE: f64 = 1e7;

pub type R<'a> = Result<Val<'a>, JsonataError>;

/// The state of one evaluation.
pub struct Ctx<'a> {
    pub host: &'a dyn Bindings,
    /// `$$`: the input of the whole expression.
    pub root: Val<'a>,
    /// The expression uses `%`: every path runs as a tuple stream whose tuples carry the
    /// values their context was found in, bound as [`ANCESTORS`].
    parents: bool,
    depth: Cell<usize>,
    steps: Cell<u64>,
    /// Scopes that were given a function: a function keeps the scope it was made in, so a
    /// scope holding one can hold itself. [`Ctx::release`] breaks those cycles at the end.
    holders: RefCell<Vec<Weak<Scope<'a>>>>,
}

/// A lambda body's result: a value, or the call it ends with (run by the caller's loop, so
/// tail recursion takes no stack).
enum Tail<'a> {
    Done(Val<'a>),
    Call(Rc<Func<'a>>, Vec<Val<'a>>),
}

fn stack_overflow() -> JsonataError {
    err(
        "U1001",
        "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as tail-recursive.",
    )
}

/// What a call expression calls.
enum Callee<'a> {
    Func(Rc<Func<'a>>, Vec<Val<'a>>),
    Builtin(&'static functions::Entry, Vec<Val<'a>>),
    /// Placeholders made it a partial application: this function value.
    Partial(Val<'a>),
}

/// A binding tuple of a path with `@` or `#`: the context value and the variables bound so far.
#[derive(Clone)]
struct Tuple<'a> {
    ctx: Val<'a>,
    binds: Vec<(&'a str, Val<'a>)>,
}

impl<'a> Ctx<'a> {
    pub fn new(host: &'a dyn Bindings, root: Val<'a>, parents: bool) -> Self {
        Ctx { host, root, parents, depth: Cell::new(0), steps: Cell::new(0), holders: RefCell::default() }
    }

    /// Count `n` steps of work at once (building a large value), checking the budget first.
    pub fn charge(&self, n: u64) -> Result<(), JsonataError> {
        let steps = self.steps.get().saturating_add(n);
        self.steps.set(steps);
        self.host.check(steps)
    }

    fn step(&self) -> Result<(), JsonataError> {
        let steps = self.steps.get() + 1;
        self.steps.set(steps);
        if steps % super::STEPS_PER_CHECK == 0 {
            self.host.check(steps)?;
        }
        Ok(())
    }

    /// Bind `name` in `scope`, noting scopes that come to hold a function.
    fn bind(&self, scope: &Rc<Scope<'a>>, name: &'a str, v: Val<'a>) {
        if matches!(v, Val::F(_)) {
            self.holders.borrow_mut().push(Rc::downgrade(scope));
        }
        scope.set(name, v);
    }

    /// Once the evaluation is over: empty every scope that held a function, so that no
    /// function ↔ scope cycle outlives it (each would leak its values).
    pub fn release(&self) {
        for scope in self.holders.borrow_mut().drain(..) {
            if let Some(s) = scope.upgrade() {
                s.vars.borrow_mut().clear();
            }
        }
    }

    /// Evaluate `node`; a sequence result is collapsed (nothing: undefined, one item: it).
    pub fn eval(&self, node: &'a Node, input: &Val<'a>, scope: &Rc<Scope<'a>>) -> R<'a> {
        self.step()?;
        let d = self.depth.get() + 1;
        if d > MAX_DEPTH {
            return Err(stack_overflow());
        }
        self.depth.set(d);
        // Deep but legal nesting grows the stack on the heap instead of overflowing it; the
        // room left is checked every few levels (each takes far less than the red zone's 1/8).
        let r = if d % 8 == 0 {
            stacker::maybe_grow(RED_ZONE, 1024 * 1024, || self.eval_inner(node, input, scope))
        } else {
            self.eval_inner(node, input, scope)
        };
        self.depth.set(d - 1);
        Ok(r?.collapse())
    }

    fn lookup_var(&self, name: &'a str, input: &Val<'a>, scope: &Rc<Scope<'a>>) -> Val<'a> {
        match name {
            "" => {
                return match input {
                    Val::Arr(a) if a.outer => a.items.first().cloned().unwrap_or(Val::Undef),
                    other => other.clone(),
                }
            }
            "$" => return self.root.clone(),
            _ => {}
        }
        if let Some(v) = scope.get(name) {
            return v;
        }
        if let Some(v) = self.host.get(name) {
            return Val::of(v);
        }
        if let Some(f) = functions::lookup(name) {
            return Val::F(Rc::new(Func::Builtin(f)));
        }
        Val::Undef
    }

    fn eval_inner(&self, node: &'a Node, input: &Val<'a>, scope: &Rc<Scope<'a>>) -> R<'a> {
        Ok(match node {
            Node::Num(n) => Val::Num(*n),
            Node::Str(s) => Val::S(s),
            Node::Bool(b) => Val::Bool(*b),
            Node::Null => Val::Null,
            Node::Regex(r) => Val::F(Rc::new(Func::Regex(r))),
            Node::Name(n) => field(input, n),
            Node::Var(v) => self.lookup_var(v, input, scope),
            Node::Wildcard => {
                let mut out = Vec::new();
                let values = if input.is_object() {
                    input.entries().into_iter().map(|(_, v)| v).collect()
                } else if input.is_array() {
                    input.items()
                } else {
                    Vec::new()
                };
                for v in values {
                    if v.is_array() {
                        flatten_into(&v, &mut out);
                    } else {
                        out.push(v);
                    }
                }
                Val::seq(out)
            }
            Node::Parent => {
                let anc = scope.get(ANCESTORS).map(|a| a.items()).unwrap_or_default();
                anc.last().cloned().ok_or_else(no_parent)?
            }
            Node::Descendants => {
                let mut out = Vec::new();
                self.descendants(input, &mut out)?;
                Val::seq(out)
            }
            Node::Neg(e) => match self.eval(e, input, scope)? {
                Val::Undef => Val::Undef,
                Val::Num(n) => Val::Num(-n),
                other => return Err(err("D1002", format!("Cannot negate a non-numeric value: {}", show(&other)))),
            },
            Node::Path(p) => self.path(p, input, scope)?,
            Node::Filtered(e, preds) => {
                let mut v = self.eval(e, input, scope)?;
                for (i, p) in preds.iter().enumerate() {
                    v = self.filter(p, v, scope)?;
                    if i + 1 < preds.len() {
                        v = v.collapse();
                    }
                }
                v
            }
            Node::KeepArray(e) => match self.eval_inner(e, input, scope)? {
                Val::Arr(a) if a.seq => {
                    let mut a = Rc::unwrap_or_clone(a);
                    a.keep = true;
                    Val::Arr(Rc::new(a))
                }
                other => other,
            },
            Node::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    let v = match it {
                        Node::Range(l, r) => self.range(l, r, input, scope)?,
                        _ => self.eval(it, input, scope)?,
                    };
                    match v {
                        Val::Undef => {}
                        v if matches!(it, Node::Array(_)) => out.push(v),
                        v if v.is_array() => v
                            .for_each(|x| {
                                out.push(x);
                                Ok::<(), ()>(())
                            })
                            .unwrap_or(()),
                        v => out.push(v),
                    }
                }
                Val::Arr(Rc::new(Arr { items: out, cons: true, ..Arr::default() }))
            }
            Node::Object(pairs) => self.object(pairs, input, scope)?,
            Node::GroupBy(base, pairs) => {
                let v = self.eval(base, input, scope)?;
                let items = v.items().into_iter().map(|ctx| Tuple { ctx, binds: Vec::new() }).collect();
                self.group(pairs, items, scope)?
            }
            // Only a path step sorts; see `path`.
            Node::Sort(_) => input.clone(),
            Node::Bin(op, l, r) => {
                let a = self.eval(l, input, scope)?;
                let b = self.eval(r, input, scope)?;
                self.binop(*op, a, b)?
            }
            Node::And(l, r) => Val::Bool(truthy(&self.eval(l, input, scope)?) && truthy(&self.eval(r, input, scope)?)),
            Node::Or(l, r) => Val::Bool(truthy(&self.eval(l, input, scope)?) || truthy(&self.eval(r, input, scope)?)),
            Node::Cond(c, t, e) => {
                if truthy(&self.eval(c, input, scope)?) {
                    self.eval(t, input, scope)?
                } else if let Some(e) = e {
                    self.eval(e, input, scope)?
                } else {
                    Val::Undef
                }
            }
            Node::Range(l, r) => self.range(l, r, input, scope)?,
            Node::Block(items, scoped) => {
                let inner = if *scoped { Scope::new(Some(scope.clone())) } else { scope.clone() };
                let mut last = Val::Undef;
                for it in items {
                    last = self.eval(it, input, &inner)?;
                }
                last
            }
            Node::Bind(name, e) => {
                let v = self.eval(e, input, scope)?;
                self.bind(scope, name, v.clone());
                v
            }
            Node::Lambda(def) => Val::F(Rc::new(Func::Lambda { def, scope: scope.clone(), input: input.clone() })),
            Node::Transform(..) => Val::F(Rc::new(Func::Transform { node, scope: scope.clone() })),
            Node::Call(f, args) => match self.call_parts(f, args, input, scope)? {
                Callee::Func(func, vals) => self.apply(&func, vals, input)?,
                Callee::Builtin(b, vals) => functions::call(self, b, vals, input)?,
                Callee::Partial(v) => v,
            },
            Node::Apply(l, r) => {
                let a = self.eval(l, input, scope)?;
                match &**r {
                    Node::Call(f, args) if !args.iter().any(|x| matches!(x, Node::Placeholder)) => {
                        let fv = self.eval(f, input, scope)?;
                        let Val::F(func) = fv else {
                            return Err(err("T1006", "Attempted to invoke a non-function"));
                        };
                        let mut vals = Vec::with_capacity(args.len() + 1);
                        vals.push(a);
                        for x in args {
                            vals.push(self.eval(x, input, scope)?);
                        }
                        self.apply(&func, vals, input)?
                    }
                    other => match self.eval(other, input, scope)? {
                        Val::F(g) => match a {
                            Val::F(f) => Val::F(Rc::new(Func::Chain(f, g))),
                            a => self.apply(&g, vec![a], input)?,
                        },
                        _ => {
                            return Err(err(
                                "T2006",
                                "The right side of the function application operator ~> must be a function",
                            ))
                        }
                    },
                }
            }
            Node::Placeholder => Val::Undef,
        })
    }

    /// Evaluate a call's function and arguments. A built-in named directly is called without
    /// making a function value for it.
    fn call_parts(
        &self,
        f: &'a Node,
        args: &'a [Node],
        input: &Val<'a>,
        scope: &Rc<Scope<'a>>,
    ) -> Result<Callee<'a>, JsonataError> {
        let fv = match f {
            Node::Var(name) if !name.is_empty() && name != "$" => {
                match scope.get(name).or_else(|| self.host.get(name).map(Val::of)) {
                    Some(v) => v,
                    None => match functions::lookup(name) {
                        Some(b) if !args.iter().any(|a| matches!(a, Node::Placeholder)) => {
                            let mut vals = Vec::with_capacity(args.len().max(functions::PADDED));
                            for a in args {
                                vals.push(self.eval(a, input, scope)?);
                            }
                            return Ok(Callee::Builtin(b, vals));
                        }
                        Some(b) => Val::F(Rc::new(Func::Builtin(b))),
                        None => Val::Undef,
                    },
                }
            }
            _ => self.eval(f, input, scope)?,
        };
        let Val::F(func) = fv else {
            if args.iter().any(|a| matches!(a, Node::Placeholder)) {
                return Err(err("T1008", "Attempted to partially apply a non-function"));
            }
            return Err(err("T1006", "Attempted to invoke a non-function"));
        };
        if args.iter().any(|a| matches!(a, Node::Placeholder)) {
            if let Func::Builtin(entry) = &*func {
                entry.check_partial()?;
            }
            let mut filled = Vec::with_capacity(args.len());
            for a in args {
                filled.push(match a {
                    Node::Placeholder => None,
                    other => Some(self.eval(other, input, scope)?),
                });
            }
            return Ok(Callee::Partial(Val::F(Rc::new(Func::Partial { f: func, args: filled }))));
        }
        let mut vals = Vec::with_capacity(args.len().max(functions::PADDED));
        for a in args {
            vals.push(self.eval(a, input, scope)?);
        }
        Ok(Callee::Func(func, vals))
    }

    /// Evaluate a lambda body, leaving a call in tail position to the caller.
    fn eval_tail(&self, node: &'a Node, input: &Val<'a>, scope: &Rc<Scope<'a>>) -> Result<Tail<'a>, JsonataError> {
        match node {
            Node::Call(f, args) => {
                self.step()?;
                Ok(match self.call_parts(f, args, input, scope)? {
                    Callee::Func(func, vals) => Tail::Call(func, vals),
                    // A built-in does not recurse by itself: called here, its result is final.
                    Callee::Builtin(b, vals) => Tail::Done(functions::call(self, b, vals, input)?),
                    Callee::Partial(v) => Tail::Done(v),
                })
            }
            Node::Cond(c, t, e) => {
                self.step()?;
                if truthy(&self.eval(c, input, scope)?) {
                    self.eval_tail(t, input, scope)
                } else if let Some(e) = e {
                    self.eval_tail(e, input, scope)
                } else {
                    Ok(Tail::Done(Val::Undef))
                }
            }
            Node::Block(items, scoped) if !items.is_empty() => {
                self.step()?;
                let inner = if *scoped { Scope::new(Some(scope.clone())) } else { scope.clone() };
                for it in &items[..items.len() - 1] {
                    self.eval(it, input, &inner)?;
                }
                self.eval_tail(&items[items.len() - 1], input, &inner)
            }
            other => Ok(Tail::Done(self.eval(other, input, scope)?)),
        }
    }

    /// Call a function value with arguments; `input` is the caller's context value.
    pub fn apply(&self, f: &Rc<Func<'a>>, args: Vec<Val<'a>>, input: &Val<'a>) -> R<'a> {
        let d = self.depth.get() + 1;
        if d > MAX_DEPTH {
            return Err(stack_overflow());
        }
        self.depth.set(d);
        // Not collapsed: like the reference, a sequence a tail call returns reaches a
        // higher-order function's caller as it is (`eval` collapses it for expressions).
        let r = stacker::maybe_grow(RED_ZONE, 1024 * 1024, || self.apply_loop(f.clone(), args, input));
        self.depth.set(d - 1);
        r
    }

    fn apply_loop(&self, mut f: Rc<Func<'a>>, mut args: Vec<Val<'a>>, input: &Val<'a>) -> R<'a> {
        loop {
            self.step()?;
            match &*f {
                Func::Lambda { def, scope, input: captured } => {
                    if let Some(sig) = &def.signature {
                        args = sig.validate("lambda", args, input)?;
                    }
                    let inner = Scope::new(Some(scope.clone()));
                    let mut given = args.into_iter();
                    for p in &def.params {
                        self.bind(&inner, p, given.next().unwrap_or(Val::Undef));
                    }
                    match self.eval_tail(&def.body, captured, &inner)? {
                        Tail::Done(v) => return Ok(v),
                        Tail::Call(g, a) => {
                            f = g;
                            args = a;
                        }
                    }
                }
                Func::Builtin(b) => return functions::call(self, b, args, input),
                Func::Partial { f: g, args: fixed } => {
                    let mut supplied = args.into_iter();
                    let full = fixed
                        .iter()
                        .map(|a| a.clone().unwrap_or_else(|| supplied.next().unwrap_or(Val::Undef)))
                        .collect();
                    args = full;
                    f = g.clone();
                }
                Func::Chain(g, h) => {
                    let v = self.apply(g, args, input)?;
                    args = vec![v];
                    f = h.clone();
                }
                Func::Regex(re) => return functions::regex_match(re, args.first()),
                Func::Transform { node, scope } => {
                    return self.transform(node, scope, args.into_iter().next().unwrap_or(Val::Undef))
                }
            }
        }
    }

    /// How many arguments a callback takes (for `$map`, `$filter`, `$sift`…).
    pub fn arity(f: &Func<'_>) -> usize {
        match f {
            Func::Lambda { def, .. } => def.params.len(),
            Func::Builtin(b) => functions::arity(b),
            Func::Partial { args, .. } => args.iter().filter(|a| a.is_none()).count(),
            Func::Chain(g, _) => Ctx::arity(g),
            Func::Regex(_) | Func::Transform { .. } => 1,
        }
    }

    fn descendants(&self, v: &Val<'a>, out: &mut Vec<Val<'a>>) -> Result<(), JsonataError> {
        self.step()?;
        stacker::maybe_grow(RED_ZONE, 1024 * 1024, || self.descendants_of(v, out))
    }

    fn descendants_of(&self, v: &Val<'a>, out: &mut Vec<Val<'a>>) -> Result<(), JsonataError> {
        if v.is_undef() {
            return Ok(());
        }
        if v.is_array() {
            for x in v.items() {
                self.descendants(&x, out)?;
            }
            return Ok(());
        }
        out.push(v.clone());
        if v.is_object() {
            for (_, x) in v.entries() {
                self.descendants(&x, out)?;
            }
        }
        Ok(())
    }

    fn range(&self, l: &'a Node, r: &'a Node, input: &Val<'a>, scope: &Rc<Scope<'a>>) -> R<'a> {
        let a = self.eval(l, input, scope)?;
        let b = self.eval(r, input, scope)?;
        let int = |v: &Val<'_>| matches!(v, Val::Num(n) if n.fract() == 0.0);
        if !a.is_undef() && !int(&a) {
            return Err(err("T2003", "The left side of the range operator (..) must evaluate to an integer"));
        }
        if !b.is_undef() && !int(&b) {
            return Err(err("T2004", "The right side of the range operator (..) must evaluate to an integer"));
        }
        let (Val::Num(x), Val::Num(y)) = (a, b) else {
            return Ok(Val::Undef);
        };
        if x > y {
            return Ok(Val::Undef);
        }
        if y - x >= MAX_RANGE {
            return Err(err(
                "D2014",
                format!("The size of the sequence allocated by the range operator (..) must not exceed 1e7.  Attempted to allocate {}.", js_number(y - x + 1.0)),
            ));
        }
        // Making n items is n steps of work (and memory): charged before it is done.
        let n = (y - x) as u64 + 1;
        self.charge(n)?;
        Ok(Val::seq((0..n).map(|i| Val::Num(x + i as f64)).collect()))
    }

    /// A path: each step maps over the sequence the previous one produced.
    fn path(&self, p: &'a Path, input: &Val<'a>, scope: &Rc<Scope<'a>>) -> R<'a> {
        if p.tuple || self.parents {
            return self.tuple_path(p, input, scope);
        }
        let absolute = matches!(p.steps[0].expr, Node::Var(_));
        let last = p.steps.len() - 1;
        // While the sequence is one value and the steps are plain names (or a leading
        // variable), step without building sequences: what most paths are.
        let mut first = 0;
        let mut seq: Vec<Val<'a>> = if p.keep || p.group.is_some() || (input.is_array() && !absolute) {
            if input.is_array() && !absolute {
                input.items()
            } else {
                vec![input.clone()]
            }
        } else {
            let mut cur = input.clone();
            for (i, step) in p.steps.iter().enumerate() {
                if !step.stages.is_empty() || cur.is_array() {
                    break;
                }
                cur = match &step.expr {
                    Node::Name(n) => {
                        self.step()?;
                        cur.field(n)
                    }
                    Node::Var(_) if i == 0 => self.eval(&step.expr, &cur, scope)?,
                    _ => break,
                };
                first = i + 1;
                if cur.is_undef() {
                    return Ok(Val::Undef);
                }
            }
            if first == p.steps.len() {
                return Ok(cur);
            }
            if first == 0 {
                vec![cur]
            } else {
                let mut seq = Vec::new();
                flatten_step(cur, &mut seq);
                seq
            }
        };
        // The result when the last step produced one array taken as it is.
        let mut whole: Option<Val<'a>> = None;
        for (i, step) in p.steps.iter().enumerate().skip(first) {
            let mut out: Vec<Val<'a>> = Vec::with_capacity(seq.len());
            if i == 0 && matches!(step.expr, Node::Array(_)) {
                // A leading array constructor is evaluated once; its items are the sequence
                // (an empty one is the result as it is).
                let v = self.eval(&step.expr, &Val::seq(seq), scope)?;
                if v.len() == 0 && p.steps.len() > 1 && p.group.is_none() {
                    return Ok(v);
                }
                out = v.items();
            } else if i == 0 && i < last && matches!(&step.expr, Node::Filtered(e, _) if matches!(**e, Node::Array(_)))
            {
                // A leading array constructor with predicates is evaluated once too, and
                // jsonata-js 2.0.6 steps through a single item it leaves the way JavaScript
                // indexes a value: an array's items, a string's characters, nothing for any
                // other value (`[{'a':'x'},{'a':''}][a].a` is undefined).
                let v = self.eval(&step.expr, &Val::seq(seq), scope)?;
                let single = match &v {
                    Val::Arr(a) if a.seq => (a.items.len() == 1).then(|| a.items[0].clone()),
                    other => Some(other.clone()),
                };
                match single {
                    None => flatten_step(v, &mut out),
                    Some(item) if item.is_array() => out = item.items(),
                    Some(item) => {
                        if let Some(text) = item.as_str() {
                            out = text.chars().map(|c| Val::str(c.to_string())).collect();
                        }
                    }
                }
            } else if let Node::Sort(terms) = &step.expr {
                let tuples = seq.into_iter().map(|ctx| Tuple { ctx, binds: Vec::new() }).collect();
                let sorted: Vec<Val<'a>> = self.sort(terms, tuples, scope)?.into_iter().map(|t| t.ctx).collect();
                let mut v = Val::seq(sorted);
                for stage in &step.stages {
                    if let Stage::Filter(pred) = stage {
                        v = self.filter(pred, v, scope)?;
                    }
                }
                flatten_step(v, &mut out);
            } else {
                let mut results = Vec::with_capacity(seq.len());
                for item in &seq {
                    let mut r = self.eval(&step.expr, item, scope)?;
                    for stage in &step.stages {
                        if let Stage::Filter(pred) = stage {
                            r = self.filter(pred, r, scope)?.collapse();
                        }
                    }
                    if !r.is_undef() {
                        results.push(r);
                    }
                }
                if i == last && results.len() == 1 && results[0].is_array() && !results[0].is_seq() {
                    whole = results.pop();
                    break;
                }
                for r in results {
                    flatten_step(r, &mut out);
                }
            }
            seq = out;
            if seq.is_empty() {
                break;
            }
        }
        let mut result = match whole {
            Some(Val::Arr(a)) if p.keep && a.cons => {
                Val::Arr(Rc::new(Arr { items: vec![Val::Arr(a)], seq: true, ..Arr::default() }))
            }
            Some(v) => v,
            None => Val::seq(seq),
        };
        if p.keep {
            if let Val::Arr(a) = result {
                let mut a = Rc::unwrap_or_clone(a);
                a.keep = true;
                result = Val::Arr(Rc::new(a));
            }
        }
        if let Some(pairs) = &p.group {
            let items = result.items().into_iter().map(|ctx| Tuple { ctx, binds: Vec::new() }).collect();
            return self.group(pairs, items, scope);
        }
        Ok(result)
    }

    /// A path with `@` or `#` bindings: a stream of tuples, each carrying its variables.
    fn tuple_path(&self, p: &'a Path, input: &Val<'a>, scope: &Rc<Scope<'a>>) -> R<'a> {
        let absolute = matches!(p.steps[0].expr, Node::Var(_));
        let start: Vec<Val<'a>> = if input.is_array() && !absolute { input.items() } else { vec![input.clone()] };
        let binds = match self.parents {
            true => vec![(ANCESTORS, scope.get(ANCESTORS).unwrap_or_else(|| Val::array(Vec::new())))],
            false => Vec::new(),
        };
        let mut tuples: Vec<Tuple<'a>> = start.into_iter().map(|ctx| Tuple { ctx, binds: binds.clone() }).collect();
        for step in &p.steps {
            let mut next = Vec::new();
            if matches!(step.expr, Node::Parent) {
                // Up one level: the context becomes the last ancestor.
                for t in tuples {
                    let mut anc = ancestors(&t.binds);
                    let Some(up) = anc.pop() else {
                        return Err(no_parent());
                    };
                    let mut binds = t.binds.clone();
                    binds.push((ANCESTORS, Val::array(anc)));
                    next.push(Tuple { ctx: up, binds });
                }
                tuples = self.stages(&step.stages, next, scope)?;
                continue;
            }
            if let Node::Sort(terms) = &step.expr {
                let sorted = self.sort(terms, tuples, scope)?;
                next = self.stages(&step.stages, sorted, scope)?;
            } else {
                for t in &tuples {
                    let tscope = with_binds(scope, &t.binds);
                    let r = self.eval(&step.expr, &t.ctx, &tscope)?;
                    let mut produced = Vec::new();
                    let below = (self.parents && step.focus.is_none()).then(|| {
                        let mut anc = ancestors(&t.binds);
                        anc.push(t.ctx.clone());
                        Val::array(anc)
                    });
                    r.for_each(|v| {
                        let mut binds = Vec::with_capacity(t.binds.len() + 2);
                        binds.extend(t.binds.iter().cloned());
                        if let Some(anc) = &below {
                            binds.push((ANCESTORS, anc.clone()));
                        }
                        let t2 = match &step.focus {
                            Some(name) => {
                                binds.push((name.as_str(), v));
                                Tuple { ctx: t.ctx.clone(), binds }
                            }
                            None => Tuple { ctx: v, binds },
                        };
                        produced.push(t2);
                        Ok::<(), JsonataError>(())
                    })?;
                    next.extend(self.stages(&step.stages, produced, scope)?);
                }
            }
            tuples = next;
        }
        if let Some(pairs) = &p.group {
            return self.group(pairs, tuples, scope);
        }
        let mut out = Val::seq(tuples.into_iter().map(|t| t.ctx).collect());
        if p.keep {
            if let Val::Arr(a) = out {
                let mut a = Rc::unwrap_or_clone(a);
                a.keep = true;
                out = Val::Arr(Rc::new(a));
            }
        }
        Ok(out)
    }

    /// Predicates and `#$i` positions of a step over the tuples one input produced.
    fn stages(
        &self,
        stages: &'a [Stage],
        mut tuples: Vec<Tuple<'a>>,
        scope: &Rc<Scope<'a>>,
    ) -> Result<Vec<Tuple<'a>>, JsonataError> {
        for stage in stages {
            match stage {
                Stage::Index(name) => {
                    for (i, t) in tuples.iter_mut().enumerate() {
                        t.binds.push((name.as_str(), Val::Num(i as f64)));
                    }
                }
                Stage::Filter(pred) => {
                    let n = tuples.len();
                    let mut kept = Vec::new();
                    for (i, t) in tuples.into_iter().enumerate() {
                        let keep = match pred {
                            Node::Num(x) => index_of(*x, n) == Some(i),
                            _ => {
                                let tscope = with_binds(scope, &t.binds);
                                let r = self.eval(pred, &t.ctx, &tscope)?;
                                selects(&r, i, n)
                            }
                        };
                        if keep {
                            kept.push(t);
                        }
                    }
                    tuples = kept;
                }
            }
        }
        Ok(tuples)
    }

    /// A predicate `[pred]` over a value's items: a number selects by position (negative
    /// from the end), anything else is a condition.
    fn filter(&self, pred: &'a Node, v: Val<'a>, scope: &Rc<Scope<'a>>) -> R<'a> {
        if v.is_undef() {
            return Ok(Val::Undef);
        }
        let items = v.items();
        let n = items.len();
        if let Node::Num(x) = pred {
            return Ok(match index_of(*x, n).map(|i| items[i].clone()) {
                Some(item) if item.is_array() => item,
                Some(item) => Val::seq(vec![item]),
                None => Val::Undef,
            });
        }
        let mut out = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let r = self.eval(pred, &item, scope)?;
            if selects(&r, i, n) {
                out.push(item);
            }
        }
        Ok(Val::seq(out))
    }

    /// An object constructor's key: a string, or `None` (the pair is skipped) when undefined.
    fn key(&self, k: &'a Node, ctx: &Val<'a>, scope: &Rc<Scope<'a>>) -> Result<Option<Key<'a>>, JsonataError> {
        match self.eval(k, ctx, scope)? {
            Val::S(s) => Ok(Some(Key::B(s))),
            Val::Str(s) => Ok(Some(Key::R(s))),
            Val::Undef => Ok(None),
            other => {
                Err(err("T1003", format!("Key in object structure must evaluate to a string; got: {}", show(&other))))
            }
        }
    }

    /// `{key: value}` over one value: `group` over a single item, without its bookkeeping
    /// (the common object constructor). Keys first, then values, as `group` evaluates them.
    fn object(&self, pairs: &'a [(Node, Node)], input: &Val<'a>, scope: &Rc<Scope<'a>>) -> R<'a> {
        let mut keys: smallvec::SmallVec<[(Key<'a>, usize); 8]> = smallvec::SmallVec::new();
        for (pi, (k, _)) in pairs.iter().enumerate() {
            let Some(key) = self.key(k, input, scope)? else { continue };
            if keys.iter().any(|(k, _)| *k == key) {
                return Err(err("D1009", format!("Multiple key definitions evaluate to same key: \"{key}\"")));
            }
            keys.push((key, pi));
        }
        let mut out = Obj::with_capacity(keys.len());
        for (key, pi) in keys {
            let v = self.eval(&pairs[pi].1, input, scope)?;
            if !v.is_undef() {
                out.insert(key, v);
            }
        }
        Ok(Val::Obj(Rc::new(out)))
    }

    /// `{key: value}` over the items: items are grouped by key, each value is evaluated over
    /// its group.
    fn group(&self, pairs: &'a [(Node, Node)], items: Vec<Tuple<'a>>, scope: &Rc<Scope<'a>>) -> R<'a> {
        let items = if items.is_empty() { vec![Tuple { ctx: Val::Undef, binds: Vec::new() }] } else { items };
        struct Group<'a> {
            key: Key<'a>,
            pair: usize,
            members: Vec<Val<'a>>,
            binds: Vec<(&'a str, Val<'a>)>,
        }
        let mut groups: Vec<Group<'a>> = Vec::new();
        // Keys are found by a scan while there are few groups (an object constructor's
        // handful), through a hash index past that.
        let mut index: Option<std::collections::HashMap<Key<'a>, usize>> = None;
        for item in &items {
            let tscope = if item.binds.is_empty() { scope.clone() } else { with_binds(scope, &item.binds) };
            for (pi, (k, _)) in pairs.iter().enumerate() {
                let Some(key) = self.key(k, &item.ctx, &tscope)? else { continue };
                let found = match &index {
                    Some(ix) => ix.get(&*key).copied(),
                    None => groups.iter().position(|g| g.key == key),
                };
                match found {
                    Some(g) => {
                        let g = &mut groups[g];
                        if g.pair != pi {
                            return Err(err(
                                "D1009",
                                format!("Multiple key definitions evaluate to same key: \"{key}\""),
                            ));
                        }
                        g.members.push(item.ctx.clone());
                        g.binds.extend(item.binds.iter().cloned());
                    }
                    None => {
                        if let Some(ix) = &mut index {
                            ix.insert(key.clone(), groups.len());
                        } else if groups.len() >= 8 {
                            let mut ix: std::collections::HashMap<Key<'a>, usize> =
                                groups.iter().enumerate().map(|(i, g)| (g.key.clone(), i)).collect();
                            ix.insert(key.clone(), groups.len());
                            index = Some(ix);
                        }
                        groups.push(Group {
                            key,
                            pair: pi,
                            members: vec![item.ctx.clone()],
                            binds: item.binds.clone(),
                        });
                    }
                }
            }
        }
        let mut out = Obj::default();
        for g in groups {
            let ctx = if g.members.len() == 1 {
                g.members.into_iter().next().unwrap_or(Val::Undef)
            } else {
                let mut flat = Vec::with_capacity(g.members.len());
                for m in g.members {
                    if m.is_array() {
                        m.for_each(|x| {
                            flat.push(x);
                            Ok::<(), ()>(())
                        })
                        .unwrap_or(());
                    } else if !m.is_undef() {
                        flat.push(m);
                    }
                }
                Val::seq(flat)
            };
            let gscope = if g.binds.is_empty() { scope.clone() } else { with_binds(scope, &g.binds) };
            let v = self.eval(&pairs[g.pair].1, &ctx, &gscope)?;
            if !v.is_undef() {
                out.insert(g.key, v);
            }
        }
        Ok(Val::Obj(Rc::new(out)))
    }

    /// Order-by: a stable sort on the terms' values (undefined last).
    fn sort(
        &self,
        terms: &'a [(Node, bool)],
        items: Vec<Tuple<'a>>,
        scope: &Rc<Scope<'a>>,
    ) -> Result<Vec<Tuple<'a>>, JsonataError> {
        let mut keyed = Vec::with_capacity(items.len());
        for t in items {
            let tscope = if t.binds.is_empty() { scope.clone() } else { with_binds(scope, &t.binds) };
            let mut keys = Vec::with_capacity(terms.len());
            for (term, _) in terms {
                let k = self.eval(term, &t.ctx, &tscope)?;
                match k {
                    Val::Undef | Val::Num(_) | Val::S(_) | Val::Str(_) => keys.push(k),
                    _ => {
                        return Err(err(
                            "T2008",
                            "The expressions within an order-by clause must evaluate to numeric or string values",
                        ))
                    }
                }
            }
            keyed.push((keys, t));
        }
        let mut error = None;
        keyed.sort_by(|(a, _), (b, _)| {
            use std::cmp::Ordering::*;
            for (i, (_, asc)) in terms.iter().enumerate() {
                let o = match (&a[i], &b[i]) {
                    (Val::Undef, Val::Undef) => Equal,
                    (Val::Undef, _) => return Greater,
                    (_, Val::Undef) => return Less,
                    (Val::Num(x), Val::Num(y)) => x.partial_cmp(y).unwrap_or(Equal),
                    (x, y) => match (x.as_str(), y.as_str()) {
                        (Some(x), Some(y)) => x.cmp(y),
                        _ => {
                            error.get_or_insert_with(|| {
                                err("T2007", "Type mismatch when comparing values in order-by clause")
                            });
                            Equal
                        }
                    },
                };
                let o = if *asc { o } else { o.reverse() };
                if o != Equal {
                    return o;
                }
            }
            Equal
        });
        if let Some(e) = error {
            return Err(e);
        }
        Ok(keyed.into_iter().map(|(_, t)| t).collect())
    }

    /// `| location | update, delete |` applied to `arg`: a copy of it, where every object the
    /// location selects is merged with the update and loses the deleted keys.
    fn transform(&self, node: &'a Node, scope: &Rc<Scope<'a>>, arg: Val<'a>) -> R<'a> {
        let Node::Transform(pattern, update, delete) = node else {
            return Ok(Val::Undef);
        };
        if arg.is_undef() {
            return Ok(Val::Undef);
        }
        if !arg.is_object() && !arg.is_array() {
            return Err(err("T0410", "Argument 1 of function \"transform\" does not match function signature"));
        }
        let targets = self.eval(pattern, &arg, scope)?.items();
        let mut edits: Vec<Edit<'a>> = Vec::new();
        // An update made of literals only (`{'flag': true}`) is the same value for every
        // target: built once and shared.
        let mut fixed: Option<Val<'a>> = None;
        for t in &targets {
            let Some(at) = address(t) else { continue };
            let up = match &fixed {
                Some(v) => v.clone(),
                None => {
                    let v = self.eval(update, t, scope)?;
                    if literal(update) {
                        fixed = Some(v.clone());
                    }
                    v
                }
            };
            if !up.is_undef() && !up.is_object() {
                return Err(err(
                    "T2011",
                    format!(
                        "The insert/update clause of the transform expression must evaluate to an object: {}",
                        show(&up)
                    ),
                ));
            }
            let mut dels = Vec::new();
            if let Some(d) = delete {
                let dv = self.eval(d, t, scope)?;
                let mut bad = false;
                dv.for_each(|k| {
                    match k.as_str() {
                        Some(s) => dels.push(s.to_string()),
                        None => bad = true,
                    }
                    Ok::<(), ()>(())
                })
                .unwrap_or(());
                if bad {
                    return Err(err(
                        "T2012",
                        format!("The delete clause of the transform expression must evaluate to a string or array of strings: {}", show(&dv)),
                    ));
                }
            }
            edits.push(Edit { at, update: (!up.is_undef()).then_some(up), delete: dels });
        }
        if edits.is_empty() {
            return Ok(arg);
        }
        // By address, so each object finds its own edits by a binary search; stable, so an
        // object matched twice gets its updates in match order.
        edits.sort_by_key(|e| e.at);
        Ok(self.rebuild(&arg, &edits)?.unwrap_or(arg))
    }

    /// `v` with the transform's edits applied, or `None` when nothing in it changes (the
    /// result then shares it as it is).
    fn rebuild(&self, v: &Val<'a>, edits: &[Edit<'a>]) -> Result<Option<Val<'a>>, JsonataError> {
        self.step()?;
        stacker::maybe_grow(RED_ZONE, 1024 * 1024, || self.rebuild_at(v, edits))
    }

    fn rebuild_at(&self, v: &Val<'a>, edits: &[Edit<'a>]) -> Result<Option<Val<'a>>, JsonataError> {
        if v.is_array() {
            // Copied only from the first item that changes: an array the edits miss is shared.
            let n = v.len();
            let mut items: Option<Vec<Val<'a>>> = None;
            for i in 0..n {
                let item = v.at(i);
                if !may_hold_edit(&item) {
                    continue;
                }
                if let Some(nx) = self.rebuild(&item, edits)? {
                    let items = items.get_or_insert_with(|| v.items());
                    items[i] = nx;
                }
            }
            let flags = match v {
                Val::Arr(a) => Arr { items: Vec::new(), ..(**a).clone() },
                _ => Arr::default(),
            };
            return Ok(items.map(|items| Val::Arr(Rc::new(Arr { items, ..flags }))));
        }
        let mut changed: Vec<(usize, Val<'a>)> = Vec::new();
        match v {
            Val::J(Value::Object(m)) => {
                for (i, x) in m.values().enumerate() {
                    if !matches!(x, Value::Object(_) | Value::Array(_)) {
                        continue;
                    }
                    if let Some(nx) = self.rebuild(&Val::of(x), edits)? {
                        changed.push((i, nx));
                    }
                }
            }
            Val::Obj(o) => {
                for (i, (_, x)) in o.entries.iter().enumerate() {
                    if !may_hold_edit(x) {
                        continue;
                    }
                    if let Some(nx) = self.rebuild(x, edits)? {
                        changed.push((i, nx));
                    }
                }
            }
            _ => return Ok(None),
        }
        let mine = match address(v) {
            Some(at) => {
                let from = edits.partition_point(|e| e.at < at);
                &edits[from..from + edits[from..].partition_point(|e| e.at == at)]
            }
            None => &[],
        };
        let mine = || mine.iter();
        if changed.is_empty() && mine().next().is_none() {
            return Ok(None);
        }
        let size = |v: &Val<'a>| match v {
            Val::J(Value::Object(m)) => m.len(),
            Val::Obj(o) => o.len(),
            _ => 0,
        };
        let mut entries =
            Vec::with_capacity(size(v) + mine().map(|e| e.update.as_ref().map_or(0, size)).sum::<usize>());
        match v {
            Val::J(Value::Object(m)) => entries.extend(m.iter().map(|(k, x)| (Key::B(k.as_str()), Val::of(x)))),
            Val::Obj(o) => entries.extend(o.entries.iter().cloned()),
            _ => {}
        }
        let mut out = Obj::from_distinct(entries);
        for (i, x) in changed {
            out.entries[i].1 = x;
        }
        for e in mine() {
            match &e.update {
                Some(Val::Obj(up)) => {
                    for (k, x) in &up.entries {
                        out.insert(k.clone(), x.clone());
                    }
                }
                Some(Val::J(Value::Object(up))) => {
                    for (k, x) in up {
                        out.insert(k.as_str(), Val::of(x));
                    }
                }
                _ => {}
            }
            for d in &e.delete {
                out.remove(d);
            }
        }
        Ok(Some(Val::Obj(Rc::new(out))))
    }

    fn binop(&self, op: BinOp, a: Val<'a>, b: Val<'a>) -> R<'a> {
        use BinOp::*;
        match op {
            Add | Sub | Mul | Div | Mod => {
                let x = match &a {
                    Val::Undef => None,
                    Val::Num(n) => Some(*n),
                    _ => {
                        return Err(err(
                            "T2001",
                            format!("The left side of the \"{}\" operator must evaluate to a number", op_text(op)),
                        ))
                    }
                };
                let y = match &b {
                    Val::Undef => None,
                    Val::Num(n) => Some(*n),
                    _ => {
                        return Err(err(
                            "T2002",
                            format!("The right side of the \"{}\" operator must evaluate to a number", op_text(op)),
                        ))
                    }
                };
                for v in [x, y].into_iter().flatten() {
                    if !v.is_finite() {
                        return Err(err("D1001", format!("Number out of range: {}", js_number(v))));
                    }
                }
                let (Some(x), Some(y)) = (x, y) else {
                    return Ok(Val::Undef);
                };
                // Like the reference, a division by zero is Infinity (null in the JSON result).
                Ok(Val::Num(match op {
                    Add => x + y,
                    Sub => x - y,
                    Mul => x * y,
                    Div => x / y,
                    _ => x % y,
                }))
            }
            Eq | Ne => {
                if a.is_undef() || b.is_undef() {
                    return Ok(Val::Bool(false));
                }
                let e = deep_eq(&a, &b);
                Ok(Val::Bool(if op == Eq { e } else { !e }))
            }
            Lt | Le | Gt | Ge => {
                let comparable = |v: &Val<'_>| matches!(v, Val::Undef | Val::Num(_) | Val::S(_) | Val::Str(_));
                if !comparable(&a) || !comparable(&b) {
                    return Err(err(
                        "T2010",
                        format!(
                            "The expressions either side of operator \"{}\" must evaluate to numeric or string values",
                            op_text(op)
                        ),
                    ));
                }
                if a.is_undef() || b.is_undef() {
                    return Ok(Val::Undef);
                }
                let o = match (&a, &b) {
                    (Val::Num(x), Val::Num(y)) => x.partial_cmp(y),
                    _ => match (a.as_str(), b.as_str()) {
                        (Some(x), Some(y)) => Some(x.cmp(y)),
                        _ => {
                            return Err(err(
                                "T2009",
                                format!(
                                    "The values {} and {} either side of operator \"{}\" must be of the same data type",
                                    show(&a),
                                    show(&b),
                                    op_text(op)
                                ),
                            ))
                        }
                    },
                };
                let Some(o) = o else {
                    return Ok(Val::Bool(false));
                };
                use std::cmp::Ordering::*;
                Ok(Val::Bool(match op {
                    Lt => o == Less,
                    Le => o != Greater,
                    Gt => o == Greater,
                    _ => o != Less,
                }))
            }
            Concat => {
                let (x, y) = (text(&a)?, text(&b)?);
                functions::fits("&", x.len().saturating_add(y.len()))?;
                let mut s = String::with_capacity(x.len() + y.len());
                s.push_str(&x);
                s.push_str(&y);
                Ok(Val::str(s))
            }
            In => {
                if a.is_undef() {
                    return Ok(Val::Bool(false));
                }
                // Strict equality: structures are equal only to themselves.
                let strict = |y: &Val<'a>| match (&a, y) {
                    (Val::Num(p), Val::Num(q)) => p == q,
                    (Val::Bool(p), Val::Bool(q)) => p == q,
                    (Val::Null, Val::Null) => true,
                    (Val::J(p), Val::J(q)) => std::ptr::eq(*p, *q),
                    (Val::Arr(p), Val::Arr(q)) => Rc::ptr_eq(p, q),
                    (Val::Obj(p), Val::Obj(q)) => Rc::ptr_eq(p, q),
                    (Val::F(p), Val::F(q)) => Rc::ptr_eq(p, q),
                    _ => matches!((a.as_str(), y.as_str()), (Some(p), Some(q)) if p == q),
                };
                let mut found = false;
                b.for_each(|y| {
                    found |= strict(&y);
                    Ok::<(), ()>(())
                })
                .unwrap_or(());
                Ok(Val::Bool(found))
            }
        }
    }
}

fn op_text(op: BinOp) -> &'static str {
    use BinOp::*;
    match op {
        Add => "+",
        Sub => "-",
        Mul => "*",
        Div => "/",
        Mod => "%",
        Eq => "=",
        Ne => "!=",
        Lt => "<",
        Le => "<=",
        Gt => ">",
        Ge => ">=",
        Concat => "&",
        In => "in",
    }
}

/// One object a transform changes: where it is, what is merged into it, the keys it loses.
struct Edit<'a> {
    at: usize,
    update: Option<Val<'a>>,
    delete: Vec<String>,
}

/// The identity of an object (its address), for the transform to find it again.
fn address(v: &Val<'_>) -> Option<usize> {
    match v {
        Val::J(j @ Value::Object(_)) => Some(*j as *const Value as usize),
        Val::Obj(o) => Some(Rc::as_ptr(o) as *const () as usize),
        _ => None,
    }
}

/// The ancestors a tuple's context was found in, outermost first.
fn ancestors<'a>(binds: &[(&'a str, Val<'a>)]) -> Vec<Val<'a>> {
    binds.iter().rev().find(|(n, _)| *n == ANCESTORS).map(|(_, v)| v.items()).unwrap_or_default()
}

fn no_parent() -> JsonataError {
    err("S0217", "The object representing the 'parent' cannot be derived from this expression")
}

/// A child of `scope` holding a tuple's bindings.
fn with_binds<'a>(scope: &Rc<Scope<'a>>, binds: &[(&'a str, Val<'a>)]) -> Rc<Scope<'a>> {
    // A later binding of a name shadows an earlier one (lookups search from the end).
    Scope::with_vars(Some(scope.clone()), binds.to_vec())
}

/// The item position a numeric index selects among `n` (negative counts from the end).
fn index_of(x: f64, n: usize) -> Option<usize> {
    let mut i = x.floor();
    if i < 0.0 {
        i += n as f64;
    }
    (i >= 0.0 && i < n as f64).then_some(i as usize)
}

/// Whether a predicate's value keeps item `i` of `n`.
fn selects(r: &Val<'_>, i: usize, n: usize) -> bool {
    match r {
        Val::Num(x) => index_of(*x, n) == Some(i),
        v if v.is_array() && v.len() > 0 && v.items().iter().all(|x| matches!(x, Val::Num(_))) => {
            v.items().iter().any(|x| matches!(x, Val::Num(x) if index_of(*x, n) == Some(i)))
        }
        other => truthy(other),
    }
}

/// Field `name` of a value; over an array, of every item (flattening nested arrays).
fn field<'a>(input: &Val<'a>, name: &str) -> Val<'a> {
    if input.is_array() {
        let mut out = Vec::new();
        input
            .for_each(|item| {
                let r = field(&item, name);
                if r.is_array() {
                    r.for_each(|x| {
                        out.push(x);
                        Ok::<(), ()>(())
                    })
                } else {
                    if !r.is_undef() {
                        out.push(r);
                    }
                    Ok(())
                }
            })
            .unwrap_or(());
        return Val::seq(out);
    }
    input.field(name)
}

/// Add a step's result to the next sequence: arrays are flattened one level, except
/// those an array constructor built.
/// Whether a transform's edits can be inside `v`: they are made to objects, so only
/// objects and arrays need to be walked.
/// Whether a node is made of literals only, so its value depends on nothing.
fn literal(n: &Node) -> bool {
    match n {
        Node::Num(_) | Node::Str(_) | Node::Bool(_) | Node::Null => true,
        Node::Array(items) => items.iter().all(literal),
        Node::Object(pairs) => pairs.iter().all(|(k, v)| matches!(k, Node::Str(_)) && literal(v)),
        _ => false,
    }
}

fn may_hold_edit(v: &Val<'_>) -> bool {
    matches!(v, Val::Arr(_) | Val::Obj(_) | Val::J(Value::Object(_) | Value::Array(_)))
}

fn flatten_step<'a>(v: Val<'a>, out: &mut Vec<Val<'a>>) {
    match v {
        Val::Undef => {}
        Val::Arr(a) if !a.cons => out.extend(a.items.iter().cloned()),
        v @ Val::J(Value::Array(_)) => v
            .for_each(|x| {
                out.push(x);
                Ok::<(), ()>(())
            })
            .unwrap_or(()),
        other => out.push(other),
    }
}

/// All the non-array values inside `v`, depth first.
fn flatten_into<'a>(v: &Val<'a>, out: &mut Vec<Val<'a>>) {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, || flatten_at(v, out))
}

fn flatten_at<'a>(v: &Val<'a>, out: &mut Vec<Val<'a>>) {
    if v.is_array() {
        for x in v.items() {
            flatten_into(&x, out);
        }
    } else {
        out.push(v.clone());
    }
}

/// `$string` of a value: strings as they are, numbers to 15 significant digits, the rest
/// as compact JSON.
pub fn stringify(v: &Val<'_>) -> Result<String, JsonataError> {
    Ok(match v {
        Val::Undef | Val::F(_) => String::new(),
        Val::S(s) => (*s).to_string(),
        Val::Str(s) => s.to_string(),
        Val::Num(n) => {
            if !n.is_finite() {
                return Err(err("D3001", "Attempting to invoke string function on Infinity or NaN"));
            }
            js_number(precise15(*n))
        }
        other => {
            check_finite(other)?;
            let mut s = String::new();
            write_json(other, false, &mut s, 0);
            s
        }
    })
}

/// Built structures may hold Infinity or NaN (from a division by zero): writing them as
/// JSON is D1001, as in the reference. Input documents cannot hold them.
pub fn check_finite(v: &Val<'_>) -> Result<(), JsonataError> {
    let mut pending = vec![v.clone()];
    while let Some(v) = pending.pop() {
        match v {
            Val::Num(n) if !n.is_finite() => {
                return Err(err("D1001", format!("Number out of range: {}", js_number(n))));
            }
            Val::Arr(a) => pending.extend(a.items.iter().cloned()),
            Val::Obj(o) => pending.extend(o.entries.iter().map(|(_, x)| x.clone())),
            _ => {}
        }
    }
    Ok(())
}

/// `$string` of a value, borrowed when it is a string already.
fn text<'v>(v: &'v Val<'_>) -> Result<std::borrow::Cow<'v, str>, JsonataError> {
    Ok(match v.as_str() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(stringify(v)?),
    })
}

/// A value as error messages show it.
pub fn show(v: &Val<'_>) -> String {
    match v {
        Val::Undef => "undefined".into(),
        Val::F(_) => "a function".into(),
        Val::S(_) | Val::Str(_) => format!("\"{}\"", v.as_str().unwrap_or_default()),
        other => {
            let mut s = String::new();
            write_json(other, false, &mut s, 0);
            s
        }
    }
}
