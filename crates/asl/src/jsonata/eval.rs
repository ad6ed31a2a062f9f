//! JSONata evaluation over `serde_json` values, with first-class functions and lexical scopes.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::functions;
use super::parser::{BinOp, LambdaDef, Node};
use super::{Bindings, JsonataError};

/// Deepest evaluation recursion (function calls, nesting) before giving up.
const MAX_DEPTH: usize = 300;

/// A JSONata value: undefined, JSON, or a function.
#[derive(Debug, Clone)]
pub enum Val {
    Undef,
    J(Value),
    F(Rc<Func>),
}

#[derive(Debug)]
pub enum Func {
    Lambda { def: Arc<LambdaDef>, scope: Rc<Scope>, input: Val },
    Builtin(&'static functions::Builtin),
    Partial { f: Rc<Func>, args: Vec<Option<Val>> },
    Regex(Arc<regex::Regex>),
}

impl Val {
    pub fn json(self) -> Option<Value> {
        match self {
            Val::J(v) => Some(v),
            _ => None,
        }
    }
    pub fn is_undef(&self) -> bool {
        matches!(self, Val::Undef)
    }
}

#[derive(Debug)]
pub struct Scope {
    vars: RefCell<HashMap<String, Val>>,
    parent: Option<Rc<Scope>>,
}

#[cfg(test)]
thread_local! {
    /// Scopes alive on this thread (a leak check for tests).
    pub static LIVE_SCOPES: Cell<isize> = const { Cell::new(0) };
}

#[cfg(test)]
impl Drop for Scope {
    fn drop(&mut self) {
        LIVE_SCOPES.with(|n| n.set(n.get() - 1));
    }
}

impl Scope {
    pub fn new() -> Rc<Scope> {
        #[cfg(test)]
        LIVE_SCOPES.with(|n| n.set(n.get() + 1));
        Rc::new(Scope { vars: RefCell::default(), parent: None })
    }

    pub fn child(parent: &Rc<Scope>) -> Rc<Scope> {
        #[cfg(test)]
        LIVE_SCOPES.with(|n| n.set(n.get() + 1));
        Rc::new(Scope { vars: RefCell::default(), parent: Some(parent.clone()) })
    }
    fn get(&self, name: &str) -> Option<Val> {
        if let Some(v) = self.vars.borrow().get(name) {
            return Some(v.clone());
        }
        self.parent.as_ref().and_then(|p| p.get(name))
    }
    fn set(&self, name: &str, v: Val) {
        self.vars.borrow_mut().insert(name.to_string(), v);
    }
}

pub struct Ctx<'h> {
    pub host: &'h dyn Bindings,
    pub root: Val,
    depth: Cell<usize>,
    steps: Cell<u64>,
    /// Scopes that were given a function: a function keeps the scope it was made in, so a
    /// scope holding one can hold itself. [`Ctx::release`] breaks those cycles at the end.
    holders: RefCell<Vec<std::rc::Weak<Scope>>>,
}

pub type R = Result<Val, JsonataError>;

pub fn err(code: &'static str, message: impl Into<String>) -> JsonataError {
    JsonataError { code, message: message.into() }
}

pub fn num(x: f64) -> Result<Value, JsonataError> {
    if !x.is_finite() {
        return Err(err("D1001", "Number out of range"));
    }
    if x.fract() == 0.0 && x.abs() < 9.007_199_254_740_992e15 {
        Ok(Value::from(x as i64))
    } else {
        Ok(serde_json::Number::from_f64(x).map(Value::Number).unwrap_or(Value::Null))
    }
}

/// JSONata truthiness.
pub fn truthy(v: &Val) -> bool {
    match v {
        Val::Undef | Val::F(_) => false,
        Val::J(j) => truthy_json(j),
    }
}

fn truthy_json(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => a.iter().any(truthy_json),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Deep equality with numbers by value.
pub fn deep_eq(a: &Value, b: &Value) -> bool {
    crate::intrinsic::json_eq(a, b)
}

/// Turn a sequence into JSONata's result: nothing, one value, or an array.
pub fn from_seq(mut seq: Vec<Value>, keep: bool) -> Val {
    match seq.len() {
        0 => Val::Undef,
        1 if !keep => Val::J(seq.pop().unwrap_or(Value::Null)),
        _ => Val::J(Value::Array(seq)),
    }
}

fn to_seq(v: Val) -> Vec<Val> {
    match v {
        Val::Undef => Vec::new(),
        Val::J(Value::Array(a)) => a.into_iter().map(Val::J).collect(),
        other => vec![other],
    }
}

impl<'h> Ctx<'h> {
    pub fn new(host: &'h dyn Bindings, root: Val) -> Self {
        Ctx { host, root, depth: Cell::new(0), steps: Cell::new(0), holders: RefCell::default() }
    }

    /// Count `n` steps of work at once (building a large value), checking the budget first.
    fn charge(&self, n: u64) -> Result<(), JsonataError> {
        let steps = self.steps.get().saturating_add(n);
        self.steps.set(steps);
        self.host.check(steps)
    }

    /// Bind `name` in `scope`, noting scopes that come to hold a function.
    fn bind(&self, scope: &Rc<Scope>, name: &str, v: Val) {
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

    pub fn eval(&self, node: &Node, input: &Val, scope: &Rc<Scope>) -> R {
        let steps = self.steps.get() + 1;
        self.steps.set(steps);
        if steps % super::STEPS_PER_CHECK == 0 {
            self.host.check(steps)?;
        }
        let d = self.depth.get() + 1;
        if d > MAX_DEPTH {
            return Err(err("U1001", "Stack overflow error: the expression recursed too deeply"));
        }
        self.depth.set(d);
        // Deep but legal nesting grows the stack on the heap instead of overflowing it.
        let r = stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.eval_inner(node, input, scope));
        self.depth.set(d - 1);
        r
    }

    fn lookup_var(&self, name: &str, input: &Val, scope: &Rc<Scope>) -> Val {
        match name {
            "" => return input.clone(),
            "$" => return self.root.clone(),
            _ => {}
        }
        if let Some(v) = scope.get(name) {
            return v;
        }
        if let Some(v) = self.host.get(name) {
            return Val::J(v.clone());
        }
        if let Some(f) = functions::lookup(name) {
            return Val::F(Rc::new(Func::Builtin(f)));
        }
        Val::Undef
    }

    fn eval_inner(&self, node: &Node, input: &Val, scope: &Rc<Scope>) -> R {
        Ok(match node {
            Node::Num(n) => Val::J(num(*n)?),
            Node::Str(s) => Val::J(Value::String(s.clone())),
            Node::Bool(b) => Val::J(Value::Bool(*b)),
            Node::Null => Val::J(Value::Null),
            Node::Regex(r, _) => Val::F(Rc::new(Func::Regex(r.clone()))),
            Node::Name(n) => lookup(input, n),
            Node::Var(v) => self.lookup_var(v, input, scope),
            Node::Wildcard => match input {
                Val::J(Value::Object(o)) => {
                    let mut out = Vec::new();
                    for v in o.values() {
                        match v {
                            Value::Array(a) => out.extend(a.iter().cloned()),
                            other => out.push(other.clone()),
                        }
                    }
                    from_seq(out, false)
                }
                Val::J(Value::Array(a)) => {
                    let mut out = Vec::new();
                    for item in a {
                        if let Val::J(v) = self.eval(node, &Val::J(item.clone()), scope)? {
                            match v {
                                Value::Array(x) => out.extend(x),
                                o => out.push(o),
                            }
                        }
                    }
                    from_seq(out, false)
                }
                _ => Val::Undef,
            },
            Node::Descendants => {
                let mut out = Vec::new();
                if let Val::J(v) = input {
                    descendants(v, &mut out);
                }
                from_seq(out, false)
            }
            Node::Neg(e) => match self.eval(e, input, scope)? {
                Val::Undef => Val::Undef,
                Val::J(Value::Number(n)) => Val::J(num(-n.as_f64().unwrap_or(0.0))?),
                _ => return Err(err("D1002", "Cannot negate a non-numeric value")),
            },
            Node::Path(steps, keep) => self.path(steps, *keep, input, scope)?,
            Node::Filter(base, pred) => {
                let v = self.eval(base, input, scope)?;
                self.filter(v, pred, scope)?
            }
            Node::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    let v = self.eval(it, input, scope)?;
                    match v {
                        Val::J(v) if matches!(it, Node::Array(_)) => out.push(v),
                        Val::J(Value::Array(a)) => out.extend(a),
                        Val::J(v) => out.push(v),
                        Val::Undef | Val::F(_) => {}
                    }
                }
                Val::J(Value::Array(out))
            }
            Node::Object(pairs) => self.object(pairs, vec![input.clone()], scope)?,
            Node::GroupBy(base, pairs) => {
                let v = self.eval(base, input, scope)?;
                self.object(pairs, to_seq(v), scope)?
            }
            Node::Sort(base, terms) => {
                let v = self.eval(base, input, scope)?;
                self.sort(v, terms, scope)?
            }
            Node::Bin(op, l, r) => {
                let a = self.eval(l, input, scope)?;
                let b = self.eval(r, input, scope)?;
                binop(*op, a, b)?
            }
            Node::And(l, r) => {
                let a = truthy(&self.eval(l, input, scope)?);
                Val::J(Value::Bool(a && truthy(&self.eval(r, input, scope)?)))
            }
            Node::Or(l, r) => {
                let a = truthy(&self.eval(l, input, scope)?);
                Val::J(Value::Bool(a || truthy(&self.eval(r, input, scope)?)))
            }
            Node::Cond(c, t, e) => {
                if truthy(&self.eval(c, input, scope)?) {
                    self.eval(t, input, scope)?
                } else if let Some(e) = e {
                    self.eval(e, input, scope)?
                } else {
                    Val::Undef
                }
            }
            Node::Elvis(l, r) => {
                let a = self.eval(l, input, scope)?;
                if truthy(&a) {
                    a
                } else {
                    self.eval(r, input, scope)?
                }
            }
            Node::Coalesce(l, r) => {
                let a = self.eval(l, input, scope)?;
                if a.is_undef() {
                    self.eval(r, input, scope)?
                } else {
                    a
                }
            }
            Node::Range(l, r) => {
                let a = self.eval(l, input, scope)?;
                let b = self.eval(r, input, scope)?;
                let (Val::J(a), Val::J(b)) = (a, b) else {
                    return Ok(Val::J(Value::Array(Vec::new())));
                };
                let (Some(x), Some(y)) = (int_of(&a), int_of(&b)) else {
                    return Err(err(
                        "T2003",
                        "The left and right sides of the range operator (..) must evaluate to integers",
                    ));
                };
                // In i128: bounds near i64's ends must not overflow the size.
                if y >= x && (y as i128 - x as i128) >= 10_000_000 {
                    return Err(err(
                        "D2014",
                        "The size of the sequence allocated by the range operator (..) must not exceed 1e7",
                    ));
                }
                // Making n items is n steps of work (and memory): charged before it is done.
                if y >= x {
                    self.charge((y - x + 1) as u64)?;
                }
                Val::J(Value::Array((x..=y).map(Value::from).collect()))
            }
            Node::Block(items) => {
                let inner = Scope::child(scope);
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
            Node::Lambda(def) => {
                Val::F(Rc::new(Func::Lambda { def: def.clone(), scope: scope.clone(), input: input.clone() }))
            }
            Node::Call(f, args) => {
                let fv = self.eval(f, input, scope)?;
                let Val::F(func) = fv else {
                    return Err(err("T1006", "Attempted to invoke a non-function"));
                };
                if args.iter().any(|a| matches!(a, Node::Placeholder)) {
                    let mut filled = Vec::with_capacity(args.len());
                    for a in args {
                        filled.push(match a {
                            Node::Placeholder => None,
                            other => Some(self.eval(other, input, scope)?),
                        });
                    }
                    return Ok(Val::F(Rc::new(Func::Partial { f: func, args: filled })));
                }
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(self.eval(a, input, scope)?);
                }
                self.apply(&func, vals, input)?
            }
            Node::Apply(l, r) => {
                let a = self.eval(l, input, scope)?;
                match &**r {
                    Node::Call(f, args) => {
                        let Val::F(func) = self.eval(f, input, scope)? else {
                            return Err(err(
                                "T2006",
                                "The right side of the function application operator ~> must be a function",
                            ));
                        };
                        let mut vals = vec![a];
                        for x in args {
                            vals.push(self.eval(x, input, scope)?);
                        }
                        self.apply(&func, vals, input)?
                    }
                    other => match self.eval(other, input, scope)? {
                        Val::F(func) => self.apply(&func, vec![a], input)?,
                        _ => {
                            return Err(err(
                                "T2006",
                                "The right side of the function application operator ~> must be a function",
                            ))
                        }
                    },
                }
            }
            Node::Placeholder => return Err(err("S0201", "unexpected placeholder")),
        })
    }

    /// Evaluate path steps, mapping each step over the sequence the previous one produced.
    fn path(&self, steps: &[Node], keep: bool, input: &Val, scope: &Rc<Scope>) -> R {
        let mut seq: Vec<Val> = match (steps.first(), input) {
            (Some(Node::Var(_)), _) => vec![input.clone()],
            (_, Val::J(Value::Array(a))) => a.iter().cloned().map(Val::J).collect(),
            (_, other) => vec![other.clone()],
        };
        // Whether `seq` is a JSONata sequence (singletons unwrap) or one array taken from the data.
        let mut is_seq = true;
        for (i, step) in steps.iter().enumerate() {
            let mut results: Vec<Val> = Vec::new();
            if i == 0 && matches!(step, Node::Var(_)) {
                results.push(self.eval(step, input, scope)?);
            } else {
                for item in &seq {
                    results.push(self.eval(step, item, scope)?);
                }
            }
            results.retain(|v| !v.is_undef());
            if results.len() == 1 && matches!(results[0], Val::J(Value::Array(_))) && !matches!(step, Node::Array(_)) {
                let Some(Val::J(Value::Array(a))) = results.pop() else { unreachable!("checked above") };
                seq = a.into_iter().map(Val::J).collect();
                is_seq = false;
                continue;
            }
            let mut next = Vec::with_capacity(results.len());
            for r in results {
                match r {
                    Val::J(Value::Array(a)) if !matches!(step, Node::Array(_)) => {
                        next.extend(a.into_iter().map(Val::J))
                    }
                    other => next.push(other),
                }
            }
            seq = next;
            is_seq = true;
        }
        if !is_seq {
            return Ok(Val::J(Value::Array(seq.into_iter().filter_map(Val::json).collect())));
        }
        if seq.len() == 1 {
            let v = seq.pop().unwrap_or(Val::Undef);
            return Ok(match v {
                Val::J(j) if keep => Val::J(Value::Array(vec![j])),
                other => other,
            });
        }
        let vals: Vec<Value> = seq.into_iter().filter_map(Val::json).collect();
        Ok(from_seq(vals, keep))
    }

    fn filter(&self, v: Val, pred: &Node, scope: &Rc<Scope>) -> R {
        let items = to_seq(v);
        let n = items.len() as i64;
        // A literal number is an index, evaluated once.
        if let Node::Num(x) = pred {
            let mut i = x.floor() as i64;
            if i < 0 {
                i += n;
            }
            return Ok(items.into_iter().nth(i.max(0) as usize).filter(|_| i >= 0).unwrap_or(Val::Undef));
        }
        let mut out = Vec::new();
        for (idx, item) in items.into_iter().enumerate() {
            let r = self.eval(pred, &item, scope)?;
            let keep = match &r {
                Val::J(Value::Number(x)) => {
                    let mut i = x.as_f64().unwrap_or(0.0).floor() as i64;
                    if i < 0 {
                        i += n;
                    }
                    i == idx as i64
                }
                Val::J(Value::Array(a)) if !a.is_empty() && a.iter().all(Value::is_number) => a.iter().any(|x| {
                    let mut i = x.as_f64().unwrap_or(0.0).floor() as i64;
                    if i < 0 {
                        i += n;
                    }
                    i == idx as i64
                }),
                other => truthy(other),
            };
            if keep {
                out.extend(item.json());
            }
        }
        Ok(from_seq(out, false))
    }

    fn object(&self, pairs: &[(Node, Node)], items: Vec<Val>, scope: &Rc<Scope>) -> R {
        // Group the items by key, then evaluate each value over its group.
        let mut groups: Vec<(String, usize, Vec<Val>)> = Vec::new();
        let items = if items.is_empty() { vec![Val::Undef] } else { items };
        for item in &items {
            for (pi, (k, _)) in pairs.iter().enumerate() {
                let key = match self.eval(k, item, scope)? {
                    Val::J(Value::String(s)) => s,
                    Val::Undef => continue,
                    other => {
                        return Err(err(
                            "T1003",
                            format!("Key in object structure must evaluate to a string; got: {}", describe(&other)),
                        ))
                    }
                };
                match groups.iter_mut().find(|(g, _, _)| *g == key) {
                    Some((_, gpi, members)) => {
                        if *gpi != pi {
                            return Err(err(
                                "D1009",
                                format!("Multiple key definitions evaluate to same key: \"{key}\""),
                            ));
                        }
                        members.push(item.clone());
                    }
                    None => groups.push((key, pi, vec![item.clone()])),
                }
            }
        }
        let mut out = Map::new();
        for (key, pi, members) in groups {
            let ctx = if members.len() == 1 {
                members.into_iter().next().unwrap_or(Val::Undef)
            } else {
                Val::J(Value::Array(members.into_iter().filter_map(Val::json).collect()))
            };
            if let Val::J(v) = self.eval(&pairs[pi].1, &ctx, scope)? {
                out.insert(key, v);
            }
        }
        Ok(Val::J(Value::Object(out)))
    }

    fn sort(&self, v: Val, terms: &[(Node, bool)], scope: &Rc<Scope>) -> R {
        let items: Vec<Value> = to_seq(v).into_iter().filter_map(Val::json).collect();
        let mut keyed = Vec::with_capacity(items.len());
        for it in items {
            let mut keys = Vec::with_capacity(terms.len());
            for (t, _) in terms {
                keys.push(self.eval(t, &Val::J(it.clone()), scope)?.json());
            }
            keyed.push((keys, it));
        }
        let mut error = None;
        keyed.sort_by(|(a, _), (b, _)| {
            for (i, (_, asc)) in terms.iter().enumerate() {
                let o = match (&a[i], &b[i]) {
                    (None, None) => std::cmp::Ordering::Equal,
                    (None, _) => std::cmp::Ordering::Greater,
                    (_, None) => std::cmp::Ordering::Less,
                    (Some(Value::Number(x)), Some(Value::Number(y))) => {
                        x.as_f64().partial_cmp(&y.as_f64()).unwrap_or(std::cmp::Ordering::Equal)
                    }
                    (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
                    _ => {
                        error = Some(err(
                            "T2008",
                            "The expressions within an order-by clause must evaluate to numeric or string values",
                        ));
                        std::cmp::Ordering::Equal
                    }
                };
                let o = if *asc { o } else { o.reverse() };
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
        if let Some(e) = error {
            return Err(e);
        }
        Ok(from_seq(keyed.into_iter().map(|(_, v)| v).collect(), false))
    }

    /// Call a function value with arguments.
    pub fn apply(&self, f: &Rc<Func>, args: Vec<Val>, input: &Val) -> R {
        let d = self.depth.get() + 1;
        if d > MAX_DEPTH {
            return Err(err("U1001", "Stack overflow error: the expression recursed too deeply"));
        }
        self.depth.set(d);
        let r = match &**f {
            Func::Lambda { def, scope, input: captured } => {
                let inner = Scope::child(scope);
                for (i, p) in def.params.iter().enumerate() {
                    self.bind(&inner, p, args.get(i).cloned().unwrap_or(Val::Undef));
                }
                self.eval(&def.body, captured, &inner)
            }
            Func::Builtin(f) => functions::call(self, f, args, input),
            Func::Partial { f, args: fixed } => {
                let mut supplied = args.into_iter();
                let full: Vec<Val> =
                    fixed.iter().map(|a| a.clone().unwrap_or_else(|| supplied.next().unwrap_or(Val::Undef))).collect();
                self.apply(f, full, input)
            }
            Func::Regex(re) => functions::regex_match_object(re, args.first()),
        };
        self.depth.set(d - 1);
        r
    }

    /// How many parameters a function declares (for $map/$filter callbacks).
    pub fn arity(f: &Func) -> usize {
        match f {
            Func::Lambda { def, .. } => def.params.len(),
            Func::Builtin(_) => 1,
            Func::Partial { args, .. } => args.iter().filter(|a| a.is_none()).count(),
            Func::Regex(_) => 1,
        }
    }
}

fn descendants(v: &Value, out: &mut Vec<Value>) {
    if !v.is_array() {
        out.push(v.clone());
    }
    match v {
        Value::Array(a) => a.iter().for_each(|x| descendants(x, out)),
        Value::Object(o) => o.values().for_each(|x| descendants(x, out)),
        _ => {}
    }
}

fn lookup(input: &Val, name: &str) -> Val {
    match input {
        Val::J(Value::Object(o)) => o.get(name).cloned().map(Val::J).unwrap_or(Val::Undef),
        Val::J(Value::Array(a)) => {
            let mut out = Vec::new();
            for item in a {
                if let Val::J(v) = lookup(&Val::J(item.clone()), name) {
                    match v {
                        Value::Array(x) => out.extend(x),
                        o => out.push(o),
                    }
                }
            }
            from_seq(out, false)
        }
        _ => Val::Undef,
    }
}

fn int_of(v: &Value) -> Option<i64> {
    let x = v.as_f64()?;
    (x.fract() == 0.0).then_some(x as i64)
}

pub fn describe(v: &Val) -> String {
    match v {
        Val::Undef => "undefined".into(),
        Val::F(_) => "a function".into(),
        Val::J(j) => j.to_string(),
    }
}

fn binop(op: BinOp, a: Val, b: Val) -> R {
    use BinOp::*;
    match op {
        Add | Sub | Mul | Div | Mod => {
            let x = match &a {
                Val::Undef => None,
                Val::J(Value::Number(n)) => n.as_f64(),
                other => {
                    return Err(err(
                        "T2001",
                        format!("The left side of the arithmetic expression is not a number: {}", describe(other)),
                    ))
                }
            };
            let y = match &b {
                Val::Undef => None,
                Val::J(Value::Number(n)) => n.as_f64(),
                other => {
                    return Err(err(
                        "T2002",
                        format!("The right side of the arithmetic expression is not a number: {}", describe(other)),
                    ))
                }
            };
            let (Some(x), Some(y)) = (x, y) else {
                return Ok(Val::Undef);
            };
            let r = match op {
                Add => x + y,
                Sub => x - y,
                Mul => x * y,
                Div => x / y,
                _ => x % y,
            };
            Ok(Val::J(num(r)?))
        }
        Eq | Ne => {
            let (Val::J(x), Val::J(y)) = (&a, &b) else {
                return Ok(Val::J(Value::Bool(false)));
            };
            let e = deep_eq(x, y);
            Ok(Val::J(Value::Bool(if op == Eq { e } else { !e })))
        }
        Lt | Le | Gt | Ge => {
            let (Val::J(x), Val::J(y)) = (&a, &b) else {
                let bad = |v: &Val| matches!(v, Val::J(j) if !j.is_number() && !j.is_string());
                if bad(&a) || bad(&b) {
                    return Err(err(
                        "T2010",
                        "The expressions either side of operator must evaluate to numeric or string values",
                    ));
                }
                return Ok(Val::Undef);
            };
            let ord = match (x, y) {
                (Value::Number(m), Value::Number(n)) => m.as_f64().partial_cmp(&n.as_f64()),
                (Value::String(m), Value::String(n)) => Some(m.cmp(n)),
                (Value::Number(_), Value::String(_)) | (Value::String(_), Value::Number(_)) => {
                    return Err(err("T2009", "The values either side of the operator must be of the same data type"))
                }
                _ => {
                    return Err(err(
                        "T2010",
                        "The expressions either side of operator must evaluate to numeric or string values",
                    ))
                }
            };
            let Some(o) = ord else {
                return Ok(Val::J(Value::Bool(false)));
            };
            use std::cmp::Ordering::*;
            Ok(Val::J(Value::Bool(match op {
                Lt => o == Less,
                Le => o != Greater,
                Gt => o == Greater,
                _ => o != Less,
            })))
        }
        Concat => {
            let s = |v: &Val| -> Result<String, JsonataError> {
                Ok(match v {
                    Val::Undef => String::new(),
                    other => functions::stringify(other)?,
                })
            };
            let (x, y) = (s(&a)?, s(&b)?);
            functions::fits("&", x.len().saturating_add(y.len()))?;
            Ok(Val::J(Value::String(x + &y)))
        }
        In => {
            let Val::J(x) = &a else {
                return Ok(Val::J(Value::Bool(false)));
            };
            let found = match &b {
                Val::J(Value::Array(arr)) => arr.iter().any(|y| deep_eq(x, y)),
                Val::J(y) => deep_eq(x, y),
                _ => false,
            };
            Ok(Val::J(Value::Bool(found)))
        }
    }
}
