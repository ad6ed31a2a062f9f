//! The evaluator's value model: JSONata values without deep copies.
//!
//! An evaluation borrows its input document and its expression, so stepping a path through
//! the input or reading a string literal copies nothing ([`Val::J`], [`Val::S`]). Values the
//! expression builds are reference counted ([`Val::Str`], [`Val::Arr`], [`Val::Obj`]), so
//! binding a variable or passing an argument is a pointer copy. Arrays carry JSONata's
//! sequence flags. The conversion to `serde_json::Value` happens once, on the final result.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::Value;

use super::parser::LambdaDef;
use super::{functions, JsonataError};

/// A JSONata value.
#[derive(Clone, Debug)]
pub enum Val<'a> {
    Undef,
    Null,
    Bool(bool),
    Num(f64),
    /// A string borrowed from the input or the expression.
    S(&'a str),
    Str(Rc<str>),
    /// An object or array of the input (scalars of the input become the variants above).
    J(&'a Value),
    Arr(Rc<Arr<'a>>),
    Obj(Rc<Obj<'a>>),
    F(Rc<Func<'a>>),
}

/// A built array or sequence.
#[derive(Clone, Debug, Default)]
pub struct Arr<'a> {
    pub items: Vec<Val<'a>>,
    /// A sequence: the result of a path or a function over several values, collapsed to its
    /// single item or to nothing when it has fewer than two.
    pub seq: bool,
    /// A sequence that stays an array even with one item (`[]` in a path).
    pub keep: bool,
    /// Built by an array constructor: a path step does not flatten it.
    pub cons: bool,
    /// The sequence around a top-level array input, so that `$` is the whole array.
    pub outer: bool,
}

/// A built object: keys in insertion order, with an index once it grows.
#[derive(Clone, Debug, Default)]
pub struct Obj<'a> {
    pub entries: Vec<(Key<'a>, Val<'a>)>,
    index: Option<HashMap<Key<'a>, usize>>,
}

/// An object key: borrowed from the input or the expression when it can be (most keys are),
/// shared otherwise, so building an object allocates no key.
#[derive(Clone, Debug)]
pub enum Key<'a> {
    B(&'a str),
    R(Rc<str>),
}

impl std::ops::Deref for Key<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Key::B(s) => s,
            Key::R(s) => s,
        }
    }
}

impl std::borrow::Borrow<str> for Key<'_> {
    fn borrow(&self) -> &str {
        self
    }
}

impl PartialEq for Key<'_> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Key<'_> {}

impl std::hash::Hash for Key<'_> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        (**self).hash(h)
    }
}

impl std::fmt::Display for Key<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

impl<'a> From<&'a str> for Key<'a> {
    fn from(s: &'a str) -> Self {
        Key::B(s)
    }
}

impl From<Rc<str>> for Key<'_> {
    fn from(s: Rc<str>) -> Self {
        Key::R(s)
    }
}

impl From<String> for Key<'_> {
    fn from(s: String) -> Self {
        Key::R(s.into())
    }
}

const INDEX_FROM: usize = 12;

impl<'a> Obj<'a> {
    pub fn get(&self, key: &str) -> Option<&Val<'a>> {
        match &self.index {
            Some(ix) => ix.get(key).map(|&i| &self.entries[i].1),
            None => self.entries.iter().find(|(k, _)| &**k == key).map(|(_, v)| v),
        }
    }

    fn position(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(ix) => ix.get(key).copied(),
            None => self.entries.iter().position(|(k, _)| &**k == key),
        }
    }

    /// An empty object with room for `n` keys.
    pub fn with_capacity(n: usize) -> Obj<'a> {
        Obj { entries: Vec::with_capacity(n), index: None }
    }

    /// An object of `entries` whose keys are distinct (an existing object's): taken as they
    /// are unless a key is integer-like and must be placed as JavaScript places it.
    pub fn from_distinct(entries: Vec<(Key<'a>, Val<'a>)>) -> Obj<'a> {
        if entries.iter().any(|(k, _)| index_key(k).is_some()) {
            let mut o = Obj::default();
            for (k, v) in entries {
                o.insert(k, v);
            }
            return o;
        }
        let index = (entries.len() >= INDEX_FROM)
            .then(|| entries.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect());
        Obj { entries, index }
    }

    /// Set `key` (replacing its value in place when present). Keys keep JavaScript's
    /// order: array-index keys first, ascending, then the others as they came.
    pub fn insert(&mut self, key: impl Into<Key<'a>>, v: Val<'a>) {
        let key = key.into();
        if let Some(i) = self.position(&key) {
            self.entries[i].1 = v;
            return;
        }
        if let Some(n) = index_key(&key) {
            let at =
                self.entries.iter().position(|(k, _)| index_key(k).is_none_or(|m| m > n)).unwrap_or(self.entries.len());
            if at < self.entries.len() {
                self.entries.insert(at, (key, v));
                if self.index.is_some() {
                    self.index = Some(self.entries.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect());
                }
                return;
            }
        }
        if let Some(ix) = &mut self.index {
            ix.insert(key.clone(), self.entries.len());
        }
        self.entries.push((key, v));
        if self.index.is_none() && self.entries.len() >= INDEX_FROM {
            self.index = Some(self.entries.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect());
        }
    }

    pub fn remove(&mut self, key: &str) {
        if let Some(i) = self.position(key) {
            self.entries.remove(i);
            if self.index.is_some() {
                self.index = Some(self.entries.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect());
            }
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

/// The value of a key JavaScript treats as an array index (`0`, `17`; not `017` or `-1`).
fn index_key(k: &str) -> Option<u32> {
    let b = k.as_bytes();
    if b.is_empty() || !b[0].is_ascii_digit() || (b[0] == b'0' && b.len() > 1) || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    k.parse::<u32>().ok().filter(|n| *n < u32::MAX)
}

/// A function value.
#[derive(Debug)]
pub enum Func<'a> {
    Lambda {
        def: &'a LambdaDef,
        scope: Rc<Scope<'a>>,
        input: Val<'a>,
    },
    Builtin(&'static functions::Entry),
    /// A partial application: `None` arguments are the `?` placeholders.
    Partial {
        f: Rc<Func<'a>>,
        args: Vec<Option<Val<'a>>>,
    },
    /// `f ~> g` on two functions: `g(f(x))`.
    Chain(Rc<Func<'a>>, Rc<Func<'a>>),
    Regex(&'a regex::Regex),
    /// A transform `| location | update, delete |`, applied to its argument.
    Transform {
        node: &'a super::parser::Node,
        scope: Rc<Scope<'a>>,
    },
}

/// A lexical scope of variable bindings.
#[derive(Debug)]
pub struct Scope<'a> {
    pub vars: RefCell<Vec<(&'a str, Val<'a>)>>,
    pub parent: Option<Rc<Scope<'a>>>,
}

#[cfg(test)]
thread_local! {
    /// Scopes alive on this thread (a leak check for tests).
    pub static LIVE_SCOPES: std::cell::Cell<isize> = const { std::cell::Cell::new(0) };
}

#[cfg(test)]
impl Drop for Scope<'_> {
    fn drop(&mut self) {
        LIVE_SCOPES.with(|n| n.set(n.get() - 1));
    }
}

impl<'a> Scope<'a> {
    pub fn new(parent: Option<Rc<Scope<'a>>>) -> Rc<Scope<'a>> {
        Scope::with_vars(parent, Vec::new())
    }

    pub fn with_vars(parent: Option<Rc<Scope<'a>>>, vars: Vec<(&'a str, Val<'a>)>) -> Rc<Scope<'a>> {
        #[cfg(test)]
        LIVE_SCOPES.with(|n| n.set(n.get() + 1));
        Rc::new(Scope { vars: RefCell::new(vars), parent })
    }

    pub fn get(&self, name: &str) -> Option<Val<'a>> {
        let mut s = self;
        loop {
            if let Some((_, v)) = s.vars.borrow().iter().rev().find(|(n, _)| *n == name) {
                return Some(v.clone());
            }
            s = s.parent.as_deref()?;
        }
    }

    pub fn set(&self, name: &'a str, v: Val<'a>) {
        let mut vars = self.vars.borrow_mut();
        match vars.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = v,
            None => vars.push((name, v)),
        }
    }
}

pub fn err(code: &'static str, message: impl Into<String>) -> JsonataError {
    JsonataError { code, message: message.into() }
}

impl<'a> Val<'a> {
    /// A value of the input document.
    pub fn of(v: &'a Value) -> Val<'a> {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => Val::Num(n.as_f64().unwrap_or(0.0)),
            Value::String(s) => Val::S(s),
            _ => Val::J(v),
        }
    }

    /// An object's key as a string value.
    pub fn key(k: Key<'a>) -> Val<'a> {
        match k {
            Key::B(s) => Val::S(s),
            Key::R(s) => Val::Str(s),
        }
    }

    pub fn str(s: impl Into<Rc<str>>) -> Val<'a> {
        Val::Str(s.into())
    }

    pub fn array(items: Vec<Val<'a>>) -> Val<'a> {
        Val::Arr(Rc::new(Arr { items, ..Arr::default() }))
    }

    pub fn seq(items: Vec<Val<'a>>) -> Val<'a> {
        Val::Arr(Rc::new(Arr { items, seq: true, ..Arr::default() }))
    }

    pub fn is_undef(&self) -> bool {
        matches!(self, Val::Undef)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::S(s) => Some(s),
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_num(&self) -> Option<f64> {
        match self {
            Val::Num(n) => Some(*n),
            _ => None,
        }
    }

    pub fn is_array(&self) -> bool {
        matches!(self, Val::Arr(_) | Val::J(Value::Array(_)))
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Val::Obj(_) | Val::J(Value::Object(_)))
    }

    pub fn is_seq(&self) -> bool {
        matches!(self, Val::Arr(a) if a.seq)
    }

    /// Array length (for arrays only).
    pub fn len(&self) -> usize {
        match self {
            Val::Arr(a) => a.items.len(),
            Val::J(Value::Array(a)) => a.len(),
            _ => 0,
        }
    }

    /// Item `i` of an array.
    pub fn at(&self, i: usize) -> Val<'a> {
        match self {
            Val::Arr(a) => a.items.get(i).cloned().unwrap_or(Val::Undef),
            Val::J(Value::Array(a)) => a.get(i).map(Val::of).unwrap_or(Val::Undef),
            _ => Val::Undef,
        }
    }

    /// The items of an array, or the value itself as one item (none when undefined).
    pub fn items(&self) -> Vec<Val<'a>> {
        match self {
            Val::Undef => Vec::new(),
            Val::Arr(a) => a.items.clone(),
            Val::J(Value::Array(a)) => a.iter().map(Val::of).collect(),
            other => vec![other.clone()],
        }
    }

    /// Calls `f` with each item of an array (or with the value as one item).
    pub fn for_each<E>(&self, mut f: impl FnMut(Val<'a>) -> Result<(), E>) -> Result<(), E> {
        match self {
            Val::Undef => Ok(()),
            Val::Arr(a) => a.items.iter().try_for_each(|v| f(v.clone())),
            Val::J(Value::Array(a)) => a.iter().try_for_each(|v| f(Val::of(v))),
            other => f(other.clone()),
        }
    }

    /// Field `key` of an object.
    pub fn field(&self, key: &str) -> Val<'a> {
        match self {
            // A scan of a small object is cheaper than hashing the key.
            Val::J(Value::Object(o)) if o.len() <= 8 => {
                o.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| Val::of(v)).unwrap_or(Val::Undef)
            }
            Val::J(Value::Object(o)) => o.get(key).map(Val::of).unwrap_or(Val::Undef),
            Val::Obj(o) => o.get(key).cloned().unwrap_or(Val::Undef),
            _ => Val::Undef,
        }
    }

    /// Key/value pairs of an object.
    pub fn entries(&self) -> Vec<(Key<'a>, Val<'a>)> {
        match self {
            Val::J(Value::Object(o)) => o.iter().map(|(k, v)| (Key::B(k.as_str()), Val::of(v))).collect(),
            Val::Obj(o) => o.entries.clone(),
            _ => Vec::new(),
        }
    }

    /// The sequence with JSONata's collapsing: nothing is undefined, one item is that item
    /// (unless the sequence keeps singletons).
    pub fn collapse(self) -> Val<'a> {
        match self {
            Val::Arr(a) if a.seq => match a.items.len() {
                0 => Val::Undef,
                1 if !a.keep => a.items[0].clone(),
                _ => Val::Arr(a),
            },
            other => other,
        }
    }

    /// JSONata's type name (as `$type` gives it).
    pub fn type_name(&self) -> Option<&'static str> {
        Some(match self {
            Val::Undef => return None,
            Val::Null => "null",
            Val::Bool(_) => "boolean",
            Val::Num(_) => "number",
            Val::S(_) | Val::Str(_) => "string",
            Val::J(Value::Array(_)) | Val::Arr(_) => "array",
            Val::J(_) | Val::Obj(_) => "object",
            Val::F(_) => "function",
        })
    }

    /// The final JSON value; functions inside structures are dropped (as JSON.stringify
    /// drops them) and an undefined or function result is `None`. A result nested deeper
    /// than [`MAX_NESTING`] is an error: whoever writes or drops it would recurse as deep.
    pub fn to_json(&self) -> Result<Option<Value>, JsonataError> {
        self.json_at(0)
    }

    fn json_at(&self, depth: usize) -> Result<Option<Value>, JsonataError> {
        if depth > MAX_NESTING {
            return Err(err("U1001", format!("The result is nested more than {MAX_NESTING} levels deep")));
        }
        Ok(Some(match self {
            Val::Undef | Val::F(_) => return Ok(None),
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Num(n) => num_json(*n),
            Val::S(s) => Value::String((*s).to_string()),
            Val::Str(s) => Value::String(s.to_string()),
            Val::J(v) => (*v).clone(),
            Val::Arr(a) => {
                let mut out = Vec::with_capacity(a.items.len());
                for x in &a.items {
                    out.extend(x.json_at(depth + 1)?);
                }
                Value::Array(out)
            }
            Val::Obj(o) => {
                let mut out = serde_json::Map::with_capacity(o.entries.len());
                for (k, v) in &o.entries {
                    if let Some(j) = v.json_at(depth + 1)? {
                        out.insert(String::from(&**k), j);
                    }
                }
                Value::Object(out)
            }
        }))
    }
}

/// The deepest nesting of arrays and objects in a result.
pub const MAX_NESTING: usize = 1000;

// Values built by a loop can nest without bound (a tail-recursive function wrapping its
// accumulator): dropping them level by level would recurse as deep, so containers hand
// their uniquely owned children to one loop.
impl Drop for Arr<'_> {
    fn drop(&mut self) {
        if self.items.iter().any(is_container) {
            drop_flat(std::mem::take(&mut self.items));
        }
    }
}

impl Drop for Obj<'_> {
    fn drop(&mut self) {
        if self.entries.iter().any(|(_, v)| is_container(v)) {
            drop_flat(self.entries.drain(..).map(|(_, v)| v).filter(is_container).collect());
        }
    }
}

fn is_container(v: &Val<'_>) -> bool {
    matches!(v, Val::Arr(_) | Val::Obj(_))
}

fn drop_flat(mut pending: Vec<Val<'_>>) {
    while let Some(v) = pending.pop() {
        match v {
            Val::Arr(a) => {
                if let Ok(mut a) = Rc::try_unwrap(a) {
                    pending.append(&mut a.items);
                }
            }
            Val::Obj(o) => {
                if let Ok(mut o) = Rc::try_unwrap(o) {
                    pending.extend(o.entries.drain(..).map(|(_, v)| v));
                }
            }
            _ => {}
        }
    }
}

/// A number as JSON: integral values within 2^53 as integers.
pub fn num_json(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.007_199_254_740_992e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map(Value::Number).unwrap_or(Value::Null)
    }
}

/// A finite number result, or D1001.
pub fn num<'a>(x: f64) -> Result<Val<'a>, JsonataError> {
    if x.is_finite() {
        Ok(Val::Num(x))
    } else {
        Err(err("D1001", format!("Number out of range: {}", js_number(x))))
    }
}

/// JSONata truthiness.
pub fn truthy(v: &Val<'_>) -> bool {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, || truthy_at(v))
}

fn truthy_at(v: &Val<'_>) -> bool {
    match v {
        Val::Undef | Val::Null | Val::F(_) => false,
        Val::Bool(b) => *b,
        Val::Num(n) => *n != 0.0,
        Val::S(s) => !s.is_empty(),
        Val::Str(s) => !s.is_empty(),
        Val::J(Value::Array(a)) => a.iter().any(|x| truthy(&Val::of(x))),
        Val::J(Value::Object(o)) => !o.is_empty(),
        Val::J(_) => false,
        Val::Arr(a) => a.items.iter().any(truthy),
        Val::Obj(o) => o.len() > 0,
    }
}

/// Deep equality (numbers by value, objects regardless of key order).
pub fn deep_eq<'a>(a: &Val<'a>, b: &Val<'a>) -> bool {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, || deep_eq_at(a, b))
}

fn deep_eq_at<'a>(a: &Val<'a>, b: &Val<'a>) -> bool {
    match (a, b) {
        (Val::Undef, _) | (_, Val::Undef) => false,
        (Val::Null, Val::Null) => true,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Num(x), Val::Num(y)) => x == y,
        (Val::F(x), Val::F(y)) => Rc::ptr_eq(x, y),
        _ => {
            if let (Some(x), Some(y)) = (a.as_str(), b.as_str()) {
                return x == y;
            }
            if a.is_array() && b.is_array() {
                let n = a.len();
                return n == b.len() && (0..n).all(|i| deep_eq(&a.at(i), &b.at(i)));
            }
            if a.is_object() && b.is_object() {
                let (x, y) = (a.entries(), b.entries());
                return x.len() == y.len() && x.iter().all(|(k, v)| deep_eq(v, &b.field(k)));
            }
            false
        }
    }
}

/// A number as JavaScript's `String(x)` writes it.
pub fn js_number(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if x == 0.0 {
        return "0".into();
    }
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        return (x as i64).to_string();
    }
    let mut buf = ryu::Buffer::new();
    let text = buf.format_finite(x.abs());
    // Without an exponent, ryu writes what JavaScript writes (its positional range is
    // inside JavaScript's).
    if !text.contains('e') {
        let text = text.strip_suffix(".0").unwrap_or(text);
        return if x < 0.0 { format!("-{text}") } else { text.to_string() };
    }
    // Shortest round-trip digits and the decimal exponent of the first digit.
    let (mantissa, exp) = match text.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (text, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let mut digits: String = format!("{int_part}{frac_part}");
    let mut point = int_part.len() as i32 + exp;
    let lead = digits.len() - digits.trim_start_matches('0').len();
    digits.drain(..lead);
    point -= lead as i32;
    let trimmed = digits.trim_end_matches('0').len();
    digits.truncate(trimmed.max(1));
    let sign = if x < 0.0 { "-" } else { "" };
    let n = digits.len() as i32;
    let body = if (-5..=0).contains(&point) {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if point > 0 && point <= 21 {
        if n <= point {
            format!("{digits}{}", "0".repeat((point - n) as usize))
        } else {
            format!("{}.{}", &digits[..point as usize], &digits[point as usize..])
        }
    } else {
        let e = point - 1;
        let m = if n > 1 { format!("{}.{}", &digits[..1], &digits[1..]) } else { digits.clone() };
        format!("{m}e{}{e}", if e >= 0 { "+" } else { "" })
    };
    format!("{sign}{body}")
}

/// A number rounded to 15 significant digits, as `$string` and `&` show numbers.
pub fn precise15(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 || (x.fract() == 0.0 && x.abs() < 1e15) {
        return x;
    }
    // A number whose shortest form has at most 15 significant digits is its own rounding.
    let mut buf = ryu::Buffer::new();
    let text = buf.format_finite(x);
    let mantissa = text.split(['e', 'E']).next().unwrap_or(text);
    let digits = mantissa.bytes().filter(u8::is_ascii_digit).skip_while(|d| *d == b'0').count();
    if digits <= 15 {
        return x;
    }
    format!("{x:.14e}").parse().unwrap_or(x)
}

/// JSON text of a value, as `$string` writes structures (numbers to 15 digits, functions as
/// empty strings); `indent` pretty-prints with two spaces.
pub fn write_json(v: &Val<'_>, indent: bool, out: &mut String, level: usize) {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, || write_json_at(v, indent, out, level))
}

fn write_json_at(v: &Val<'_>, indent: bool, out: &mut String, level: usize) {
    let nl = |out: &mut String, level: usize| {
        if indent {
            out.push('\n');
            out.push_str(&"  ".repeat(level));
        }
    };
    match v {
        Val::Undef => out.push_str("null"),
        Val::Null => out.push_str("null"),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Num(n) => {
            if n.is_finite() {
                out.push_str(&js_number(precise15(*n)))
            } else {
                out.push_str("null")
            }
        }
        Val::F(_) => out.push_str("\"\""),
        Val::S(_) | Val::Str(_) | Val::J(Value::String(_)) => {
            let s = v.as_str().unwrap_or_default();
            out.push_str(&serde_json::to_string(s).unwrap_or_default());
        }
        Val::J(Value::Number(n)) => write_json(&Val::Num(n.as_f64().unwrap_or(0.0)), indent, out, level),
        Val::J(Value::Null | Value::Bool(_)) => write_json(
            &Val::of(match v {
                Val::J(j) => j,
                _ => &Value::Null,
            }),
            indent,
            out,
            level,
        ),
        Val::J(Value::Array(_)) | Val::Arr(_) => {
            let n = v.len();
            out.push('[');
            if n > 0 {
                for i in 0..n {
                    if i > 0 {
                        out.push(',');
                    }
                    nl(out, level + 1);
                    let item = v.at(i);
                    // JSON.stringify writes null for an undefined item.
                    write_json(&item, indent, out, level + 1);
                }
                nl(out, level);
            }
            out.push(']');
        }
        Val::J(Value::Object(_)) | Val::Obj(_) => {
            let entries = v.entries();
            out.push('{');
            let mut first = true;
            for (k, x) in entries.iter().filter(|(_, x)| !x.is_undef()) {
                if !first {
                    out.push(',');
                }
                first = false;
                nl(out, level + 1);
                out.push_str(&serde_json::to_string(&**k).unwrap_or_default());
                out.push(':');
                if indent {
                    out.push(' ');
                }
                write_json(x, indent, out, level + 1);
            }
            if !first {
                nl(out, level);
            }
            out.push('}');
        }
    }
}
