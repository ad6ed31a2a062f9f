//! JSONPath as Step Functions understands it (Jayway flavour): reference paths such as
//! `$.a.b[0]`, and query paths with wildcards, deep scan, slices, unions and filters.
//!
//! Paths are compiled once when the definition is loaded; evaluation walks borrowed values
//! and only allocates for indefinite results.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde_json::Value;

/// Where a path starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// `$`: the current document (state input, effective input…).
    Input,
    /// `$$`: the Context object.
    Context,
    /// `$name`: a workflow variable.
    Variable(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Field(String),
    Index(i64),
    Fields(Vec<String>),
    Indexes(Vec<i64>),
    Wildcard,
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Deep(Box<Seg>),
    Filter(Box<Filter>),
    Length,
}

#[derive(Debug, Clone, PartialEq)]
enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Exists(Operand),
    Cmp(Operand, CmpOp, Operand),
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Current(Vec<Seg>),
    Root(Vec<Seg>),
    Literal(Value),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A compiled JSONPath expression.
#[derive(Clone, PartialEq)]
pub struct JsonPath {
    text: Box<str>,
    root: Root,
    segs: Vec<Seg>,
    definite: bool,
}

impl fmt::Debug for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JsonPath({})", self.text)
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Why a path could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSONPath '{path}': {reason}")]
pub struct PathError {
    pub path: String,
    pub reason: String,
}

impl JsonPath {
    /// Compile a path. `allow_vars` admits `$name` roots (variables).
    pub fn parse(text: &str) -> Result<Self, PathError> {
        let err = |reason: &str| PathError { path: text.to_string(), reason: reason.to_string() };
        let mut p = Parser { s: text.as_bytes(), i: 0, text, depth: 0 };
        if !text.starts_with('$') {
            return Err(err("a path must start with '$'"));
        }
        p.i = 1;
        let root = if p.eat(b'$') {
            Root::Context
        } else if p.peek().is_some_and(is_ident_start) {
            let start = p.i;
            while p.peek().is_some_and(is_ident_char) {
                p.i += 1;
            }
            Root::Variable(text[start..p.i].to_string())
        } else {
            Root::Input
        };
        let segs = p.segments(false).map_err(|r| err(&r))?;
        if segs.iter().rev().skip(1).any(|s| matches!(s, Seg::Length)) {
            // A function of the value reached so far: nothing can follow it (as in Jayway).
            return Err(err("length() must end the path"));
        }
        if p.i != p.s.len() {
            return Err(err(&format!("unexpected character at offset {}", p.i)));
        }
        let definite = segs.iter().all(|s| matches!(s, Seg::Field(_) | Seg::Index(_) | Seg::Length));
        Ok(JsonPath { text: text.into(), root, segs, definite })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn root(&self) -> &Root {
        &self.root
    }

    /// A definite path yields at most one value; otherwise results are gathered in an array.
    pub fn is_definite(&self) -> bool {
        self.definite
    }

    /// Whether [`JsonPath::take`] can move what this path selects out of a document: a
    /// definite path of members and items of the input (`length()` computes a value).
    pub fn can_take(&self) -> bool {
        self.root == Root::Input && self.segs.iter().all(|s| matches!(s, Seg::Field(_) | Seg::Index(_)))
    }

    /// Whether the two paths select the same part of a document, or one a part of the other's
    /// (`$.a` and `$.a.b`), as far as [`JsonPath::can_take`] paths tell.
    pub fn overlaps(&self, other: &JsonPath) -> bool {
        // A negative index counts from the end: it may be any item.
        let same = |a: &Seg, b: &Seg| match (a, b) {
            (Seg::Index(x), Seg::Index(y)) => x == y || *x < 0 || *y < 0,
            _ => a == b,
        };
        self.root == other.root && self.segs.iter().zip(&other.segs).all(|(a, b)| same(a, b))
    }

    /// Move what this path selects out of `doc`, leaving `null` in its place: for a document
    /// about to be dropped, whose other parts are still to be read. `None` when it selects
    /// nothing or [`JsonPath::can_take`] is false.
    pub fn take(&self, doc: &mut Value) -> Option<Value> {
        if !self.can_take() {
            return None;
        }
        let mut cur = doc;
        for seg in &self.segs {
            cur = match (seg, cur) {
                (Seg::Field(name), Value::Object(o)) => member_mut(o, name)?,
                (Seg::Index(i), Value::Array(a)) => {
                    let at = if *i < 0 { a.len() as i64 + i } else { *i };
                    a.get_mut(usize::try_from(at).ok()?)?
                }
                _ => return None,
            };
        }
        Some(std::mem::take(cur))
    }

    /// A reference path: only names and indices (what ResultPath and Choice accept).
    pub fn is_reference(&self) -> bool {
        self.segs.iter().all(|s| matches!(s, Seg::Field(_) | Seg::Index(_)))
    }

    pub fn is_root_only(&self) -> bool {
        self.segs.is_empty()
    }

    /// Evaluate against `doc`, the value the root stands for. `None` when a definite path
    /// finds nothing; an indefinite path yields an array (maybe empty), or `None` when it
    /// needs more than [`MAX_STEPS`].
    pub fn eval<'v>(&self, doc: &'v Value) -> Option<Cow<'v, Value>> {
        if self.definite {
            let mut cur = doc;
            for (n, seg) in self.segs.iter().enumerate() {
                match seg {
                    Seg::Field(name) => cur = member(cur.as_object()?, name)?,
                    Seg::Index(i) => cur = index(cur.as_array()?, *i)?,
                    Seg::Length => {
                        let len = match cur {
                            Value::Array(a) => a.len(),
                            Value::String(s) => s.chars().count(),
                            Value::Object(o) => o.len(),
                            _ => return None,
                        };
                        debug_assert_eq!(n + 1, self.segs.len());
                        return Some(Cow::Owned(Value::from(len)));
                    }
                    _ => unreachable!("definite paths have only fields, indexes and length"),
                }
            }
            return Some(Cow::Borrowed(cur));
        }
        STEPS_LEFT.with(|left| left.set(MAX_STEPS));
        let found = select(&self.segs, vec![doc], doc);
        if STEPS_LEFT.with(Cell::get) == 0 {
            // Cut short: what was found is not all there is.
            return None;
        }
        Some(Cow::Owned(Value::Array(found.into_iter().cloned().collect())))
    }

    /// Like `eval`, with a definite miss reported as `None` and indefinite results as they are.
    pub fn eval_owned(&self, doc: &Value) -> Option<Value> {
        self.eval(doc).map(Cow::into_owned)
    }

    /// Assign `value` at this reference path inside `doc`, creating objects as needed
    /// (ResultPath semantics). Fails when the path crosses a value that is not an object.
    pub fn set(&self, doc: &mut Value, value: Value) -> Result<(), String> {
        let mut cur = doc;
        let last = self.segs.len().saturating_sub(1);
        for (at, seg) in self.segs.iter().enumerate() {
            match seg {
                Seg::Field(name) => {
                    if cur.is_null() {
                        *cur = Value::Object(Default::default());
                    }
                    let obj = match cur {
                        Value::Object(o) => o,
                        other => return Err(format!("cannot set field '{name}' on {}", type_name(other))),
                    };
                    // Replaced in place, or added at the end (the only step that hashes the
                    // key of a small object).
                    if at == last {
                        match member_mut(obj, name) {
                            Some(slot) => *slot = value,
                            None => {
                                obj.insert(name.clone(), value);
                            }
                        }
                        return Ok(());
                    }
                    if member(obj, name).is_none() {
                        obj.insert(name.clone(), Value::Null);
                    }
                    cur = member_mut(obj, name).ok_or_else(|| "field vanished".to_string())?;
                }
                Seg::Index(i) => {
                    let arr = match cur {
                        Value::Array(a) => a,
                        other => return Err(format!("cannot index {}", type_name(other))),
                    };
                    let len = arr.len() as i64;
                    let at = if *i < 0 { len + i } else { *i };
                    if at < 0 || at >= len {
                        return Err(format!("index {i} out of bounds"));
                    }
                    cur = &mut arr[at as usize];
                }
                _ => return Err("not a reference path".to_string()),
            }
        }
        *cur = value;
        Ok(())
    }

    /// Jayway's normalised form of a definite path, used in AWS error messages: `$['a']['b'][0]`.
    pub fn normalized(&self) -> String {
        let mut s = String::from("$");
        for seg in &self.segs {
            match seg {
                Seg::Field(f) => {
                    s.push_str("['");
                    s.push_str(f);
                    s.push_str("']");
                }
                Seg::Index(i) => s.push_str(&format!("[{i}]")),
                _ => return self.text.to_string(),
            }
        }
        s
    }
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn index(arr: &[Value], i: i64) -> Option<&Value> {
    let at = if i < 0 { arr.len() as i64 + i } else { i };
    if at < 0 {
        return None;
    }
    arr.get(at as usize)
}

/// Steps (one segment applied to one value, or one node of a filter tested on one value) an
/// indefinite path may take in one evaluation.
/// Filters that scan the document again for every value they test (`$..[?($..[?(…)])]`)
/// grow with the document's size to the power of their nesting; past this, the path finds
/// nothing instead of holding the execution's thread.
pub const MAX_STEPS: u64 = 1_000_000;

thread_local! {
    static STEPS_LEFT: Cell<u64> = const { Cell::new(MAX_STEPS) };
}

/// Takes one step; false once the evaluation's steps are spent.
fn step() -> bool {
    STEPS_LEFT.with(|left| match left.get() {
        0 => false,
        n => {
            left.set(n - 1);
            true
        }
    })
}

fn select<'v>(segs: &[Seg], mut cur: Vec<&'v Value>, root: &'v Value) -> Vec<&'v Value> {
    for seg in segs {
        let mut next = Vec::with_capacity(cur.len());
        for v in cur {
            apply(seg, v, root, &mut next);
        }
        cur = next;
    }
    cur
}

/// Objects of up to this many keys are scanned rather than hashed into.
const MEMBER_SCAN: usize = 8;

/// The member `name` of `o`. Most objects a path walks have a handful of keys, and
/// comparing that many short strings costs less than hashing one key (the map's hasher is
/// SipHash), so small objects are scanned.
pub(crate) fn member<'v>(o: &'v serde_json::Map<String, Value>, name: &str) -> Option<&'v Value> {
    if o.len() <= MEMBER_SCAN {
        o.iter().find_map(|(k, v)| (k == name).then_some(v))
    } else {
        o.get(name)
    }
}

/// [`member`], for changing it.
pub(crate) fn member_mut<'v>(o: &'v mut serde_json::Map<String, Value>, name: &str) -> Option<&'v mut Value> {
    if o.len() <= MEMBER_SCAN {
        o.iter_mut().find_map(|(k, v)| (k == name).then_some(v))
    } else {
        o.get_mut(name)
    }
}

fn apply<'v>(seg: &Seg, v: &'v Value, root: &'v Value, out: &mut Vec<&'v Value>) {
    if !step() {
        return;
    }
    match seg {
        Seg::Field(name) => {
            if let Some(x) = v.as_object().and_then(|o| member(o, name)) {
                out.push(x);
            }
        }
        Seg::Fields(names) => {
            if let Some(o) = v.as_object() {
                out.extend(names.iter().filter_map(|n| member(o, n)));
            }
        }
        Seg::Index(i) => {
            if let Some(x) = v.as_array().and_then(|a| index(a, *i)) {
                out.push(x);
            }
        }
        Seg::Indexes(is) => {
            if let Some(a) = v.as_array() {
                out.extend(is.iter().filter_map(|i| index(a, *i)));
            }
        }
        Seg::Wildcard => match v {
            Value::Array(a) => out.extend(a.iter()),
            Value::Object(o) => out.extend(o.values()),
            _ => {}
        },
        Seg::Slice(start, end, step) => {
            if let Some(a) = v.as_array() {
                let len = a.len() as i64;
                let norm = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
                let s = start.map(norm).unwrap_or(0);
                let e = end.map(norm).unwrap_or(len);
                let step = step.unwrap_or(1).max(1) as usize;
                if s < e {
                    out.extend(a[s as usize..e as usize].iter().step_by(step));
                }
            }
        }
        Seg::Deep(inner) => deep(inner, v, root, out),
        Seg::Filter(f) => match v {
            Value::Array(a) => out.extend(a.iter().filter(|x| filter(f, x, root))),
            Value::Object(_) if filter(f, v, root) => out.push(v),
            _ => {}
        },
        Seg::Length => {
            // `.length()` inside an indefinite path is not supported by Jayway either.
        }
    }
}

fn deep<'v>(inner: &Seg, v: &'v Value, root: &'v Value, out: &mut Vec<&'v Value>) {
    if STEPS_LEFT.with(Cell::get) == 0 {
        return;
    }
    apply(inner, v, root, out);
    match v {
        Value::Array(a) => a.iter().for_each(|x| deep(inner, x, root, out)),
        Value::Object(o) => o.values().for_each(|x| deep(inner, x, root, out)),
        _ => {}
    }
}

fn operand<'v>(op: &'v Operand, cur: &'v Value, root: &'v Value) -> Option<&'v Value> {
    let (segs, start) = match op {
        Operand::Literal(v) => return Some(v),
        Operand::Current(s) => (s, cur),
        Operand::Root(s) => (s, root),
    };
    let found = select(segs, vec![start], root);
    found.into_iter().next()
}

fn filter(f: &Filter, cur: &Value, root: &Value) -> bool {
    // Testing a node of the filter counts too: a long filter tested on every value is work.
    if !step() {
        return false;
    }
    match f {
        Filter::Or(a, b) => filter(a, cur, root) || filter(b, cur, root),
        Filter::And(a, b) => filter(a, cur, root) && filter(b, cur, root),
        Filter::Not(a) => !filter(a, cur, root),
        Filter::Exists(op) => operand(op, cur, root).is_some(),
        Filter::Cmp(a, op, b) => {
            let (Some(x), Some(y)) = (operand(a, cur, root), operand(b, cur, root)) else {
                return false;
            };
            let ord = match (x, y) {
                (Value::Number(m), Value::Number(n)) => m.as_f64().partial_cmp(&n.as_f64()),
                (Value::String(m), Value::String(n)) => Some(m.cmp(n)),
                _ => {
                    return match op {
                        CmpOp::Eq => x == y,
                        CmpOp::Ne => x != y,
                        _ => false,
                    }
                }
            };
            let Some(ord) = ord else { return false };
            use std::cmp::Ordering::*;
            match op {
                CmpOp::Eq => ord == Equal,
                CmpOp::Ne => ord != Equal,
                CmpOp::Lt => ord == Less,
                CmpOp::Le => ord != Greater,
                CmpOp::Gt => ord == Greater,
                CmpOp::Ge => ord != Less,
            }
        }
    }
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Deepest nesting of filter expressions a path may use.
const MAX_NESTING: usize = 64;

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    text: &'a str,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn ws(&mut self) {
        while self.peek().is_some_and(|c| c == b' ') {
            self.i += 1;
        }
    }

    /// Segments until the end, or (inside a filter) until a character that ends an operand.
    fn segments(&mut self, in_filter: bool) -> Result<Vec<Seg>, String> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err("the path is nested too deeply".into());
        }
        let r = self.segments_inner(in_filter);
        self.depth -= 1;
        r
    }

    fn segments_inner(&mut self, in_filter: bool) -> Result<Vec<Seg>, String> {
        let mut segs = Vec::new();
        loop {
            match self.peek() {
                None => break,
                Some(b'.') => {
                    self.i += 1;
                    if self.eat(b'.') {
                        let inner = if self.peek() == Some(b'[') {
                            self.i += 1;
                            self.bracket()?
                        } else {
                            self.dot_member(in_filter)?
                        };
                        segs.push(Seg::Deep(Box::new(inner)));
                    } else {
                        let m = self.dot_member(in_filter)?;
                        segs.push(m);
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    segs.push(self.bracket()?);
                }
                Some(_) if in_filter => break,
                Some(c) => return Err(format!("unexpected character '{}'", c as char)),
            }
        }
        Ok(segs)
    }

    fn dot_member(&mut self, in_filter: bool) -> Result<Seg, String> {
        if self.eat(b'*') {
            return Ok(Seg::Wildcard);
        }
        let start = self.i;
        while let Some(c) = self.peek() {
            let stop = c == b'.' || c == b'[' || (in_filter && (b" )=!<>&|".contains(&c)));
            if stop {
                break;
            }
            self.i += 1;
        }
        let name = &self.text[start..self.i];
        if name.is_empty() {
            return Err("empty field name".into());
        }
        if name == "length()" {
            return Ok(Seg::Length);
        }
        Ok(Seg::Field(name.to_string()))
    }

    fn quoted(&mut self) -> Result<String, String> {
        let q = self.peek().ok_or("unterminated string")?;
        if q != b'\'' && q != b'"' {
            return Err("expected a quoted name".into());
        }
        self.i += 1;
        let mut out = String::new();
        loop {
            let c = self.peek().ok_or("unterminated string")?;
            if c == q {
                self.i += 1;
                return Ok(out);
            }
            // Only the quote itself (and the backslash) can be escaped; other backslashes are literal.
            if c == b'\\' && matches!(self.s.get(self.i + 1), Some(&n) if n == q || n == b'\\') {
                out.push(self.s[self.i + 1] as char);
                self.i += 2;
                continue;
            }
            // copy one UTF-8 character
            let ch = self.text[self.i..].chars().next().ok_or("bad string")?;
            out.push(ch);
            self.i += ch.len_utf8();
        }
    }

    fn int(&mut self) -> Result<Option<i64>, String> {
        self.ws();
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let t = &self.text[start..self.i];
        self.ws();
        if t.is_empty() {
            return Ok(None);
        }
        t.parse().map(Some).map_err(|_| format!("bad number '{t}'"))
    }

    fn bracket(&mut self) -> Result<Seg, String> {
        self.ws();
        let seg = match self.peek() {
            Some(b'*') => {
                self.i += 1;
                Seg::Wildcard
            }
            Some(b'\'') | Some(b'"') => {
                let mut names = vec![self.quoted()?];
                self.ws();
                while self.eat(b',') {
                    self.ws();
                    names.push(self.quoted()?);
                    self.ws();
                }
                if names.len() == 1 {
                    Seg::Field(names.pop().unwrap_or_default())
                } else {
                    Seg::Fields(names)
                }
            }
            Some(b'?') => {
                self.i += 1;
                self.ws();
                if !self.eat(b'(') {
                    return Err("expected '(' after '?'".into());
                }
                let f = self.filter_or()?;
                self.ws();
                if !self.eat(b')') {
                    return Err("expected ')' to close the filter".into());
                }
                Seg::Filter(Box::new(f))
            }
            _ => {
                let first = self.int()?;
                if self.eat(b':') {
                    let end = self.int()?;
                    let step = if self.eat(b':') { self.int()? } else { None };
                    Seg::Slice(first, end, step)
                } else {
                    let first = first.ok_or("expected an index, a name or '*'")?;
                    let mut idx = vec![first];
                    while self.eat(b',') {
                        idx.push(self.int()?.ok_or("expected an index")?);
                    }
                    if idx.len() == 1 {
                        Seg::Index(first)
                    } else {
                        Seg::Indexes(idx)
                    }
                }
            }
        };
        self.ws();
        if !self.eat(b']') {
            return Err("expected ']'".into());
        }
        Ok(seg)
    }

    fn filter_or(&mut self) -> Result<Filter, String> {
        let mut left = self.filter_and()?;
        loop {
            self.ws();
            if self.s[self.i..].starts_with(b"||") {
                self.i += 2;
                let right = self.filter_and()?;
                left = Filter::Or(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn filter_and(&mut self) -> Result<Filter, String> {
        let mut left = self.filter_atom()?;
        loop {
            self.ws();
            if self.s[self.i..].starts_with(b"&&") {
                self.i += 2;
                let right = self.filter_atom()?;
                left = Filter::And(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn filter_atom(&mut self) -> Result<Filter, String> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err("the filter expression is nested too deeply".into());
        }
        let r = self.filter_atom_inner();
        self.depth -= 1;
        r
    }

    fn filter_atom_inner(&mut self) -> Result<Filter, String> {
        self.ws();
        if self.eat(b'!') {
            return Ok(Filter::Not(Box::new(self.filter_atom()?)));
        }
        if self.eat(b'(') {
            let f = self.filter_or()?;
            self.ws();
            if !self.eat(b')') {
                return Err("expected ')'".into());
            }
            return Ok(f);
        }
        let left = self.operand()?;
        self.ws();
        let rest = &self.s[self.i..];
        let op = [
            (&b"=="[..], CmpOp::Eq),
            (b"!=", CmpOp::Ne),
            (b"<=", CmpOp::Le),
            (b">=", CmpOp::Ge),
            (b"<", CmpOp::Lt),
            (b">", CmpOp::Gt),
        ]
        .into_iter()
        .find(|(t, _)| rest.starts_with(t));
        match op {
            Some((t, op)) => {
                self.i += t.len();
                let right = self.operand()?;
                Ok(Filter::Cmp(left, op, right))
            }
            None => Ok(Filter::Exists(left)),
        }
    }

    fn operand(&mut self) -> Result<Operand, String> {
        self.ws();
        match self.peek() {
            Some(b'@') => {
                self.i += 1;
                Ok(Operand::Current(self.segments(true)?))
            }
            Some(b'$') => {
                self.i += 1;
                Ok(Operand::Root(self.segments(true)?))
            }
            Some(b'\'') | Some(b'"') => Ok(Operand::Literal(Value::String(self.quoted()?))),
            _ => {
                let start = self.i;
                while self.peek().is_some_and(|c| !b" )=!<>&|".contains(&c)) {
                    self.i += 1;
                }
                let t = &self.text[start..self.i];
                serde_json::from_str(t).map(Operand::Literal).map_err(|_| format!("bad literal '{t}'"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(p: &str, v: &Value) -> Option<Value> {
        JsonPath::parse(p).expect("parse").eval_owned(v)
    }

    #[test]
    fn definite_paths() {
        let v = json!({"a": {"b": [1, 2, {"c": "x"}]}, "k e": 1});
        assert_eq!(q("$", &v), Some(v.clone()));
        assert_eq!(q("$.a.b[2].c", &v), Some(json!("x")));
        assert_eq!(q("$['a']['b'][-1]['c']", &v), Some(json!("x")));
        assert_eq!(q("$.a.b.length()", &v), Some(json!(3)));
        assert!(JsonPath::parse("$.a.length().b").is_err(), "length() ends a path");
        assert!(JsonPath::parse("$.length().length()").is_err());
        // Characters wider than a byte where the parser expects punctuation.
        for p in ["$['customer',\u{743}|  se$.e", "$[\u{e9}]", "$.a[?(@.b \u{2028}== 1)]", "$[1:\u{e9}]"] {
            let _ = JsonPath::parse(p);
        }
        assert_eq!(q("$.a.x", &v), None);
        assert_eq!(q("$.k e", &v), Some(json!(1)));
    }

    #[test]
    fn indefinite_paths() {
        let v = json!({"items": [{"p": 5, "n": "a"}, {"p": 15, "n": "b"}, {"n": "c"}]});
        assert_eq!(q("$.items[*].n", &v), Some(json!(["a", "b", "c"])));
        assert_eq!(q("$..p", &v), Some(json!([5, 15])));
        assert_eq!(q("$.items[?(@.p > 10)].n", &v), Some(json!(["b"])));
        assert_eq!(q("$.items[?(@.p)].n", &v), Some(json!(["a", "b"])));
        assert_eq!(q("$.items[0:2].n", &v), Some(json!(["a", "b"])));
        assert_eq!(q("$.items[-1:].n", &v), Some(json!(["c"])));
        assert_eq!(q("$.items[0,2].n", &v), Some(json!(["a", "c"])));
        assert_eq!(q("$.items[?(@.n == 'c' || @.p < 6)].n", &v), Some(json!(["a", "c"])));
    }

    #[test]
    fn roots_and_errors() {
        assert_eq!(JsonPath::parse("$$.Execution.Id").map(|p| p.root().clone()), Ok(Root::Context));
        assert_eq!(JsonPath::parse("$x.y").map(|p| p.root().clone()), Ok(Root::Variable("x".into())));
        assert!(JsonPath::parse("a.b").is_err());
        assert!(JsonPath::parse("$.a[").is_err());
        assert!(JsonPath::parse("$.a[?(@.x > )]").is_err());
    }

    #[test]
    fn set_creates_objects() {
        let mut v = json!({"a": 1});
        JsonPath::parse("$.b.c").expect("parse").set(&mut v, json!(2)).expect("set");
        assert_eq!(v, json!({"a": 1, "b": {"c": 2}}));
        let mut s = json!("str");
        assert!(JsonPath::parse("$.x").expect("parse").set(&mut s, json!(1)).is_err());
    }

    #[test]
    fn nested_deep_filters_stop_at_the_step_budget() {
        let doc = json!({"items": (0..2000).map(|i| json!({"a": i})).collect::<Vec<_>>()});
        // Each level scans the whole document for every value the level above tests.
        let p = JsonPath::parse("$..[?(@.b || $..[?(@.b || $..[?(@.a == 1)])])]").expect("parse");
        assert_eq!(p.eval(&doc), None, "cut short after {MAX_STEPS} steps");
        // The budget is per evaluation: the next one starts afresh.
        let all = q("$..a", &doc).expect("an indefinite path yields an array");
        assert_eq!(all.as_array().map(Vec::len), Some(2000));
    }
}
