//! The JSONata function library, plus the functions AWS Step Functions adds
//! (`$partition`, `$range`, `$hash`, `$random` with a seed, `$uuid`, `$parse`).
//!
//! Every built-in is one [`Builtin`] entry in its family's `FUNCTIONS` table (one file per
//! family of the specification, and `aws` for AWS's additions); [`lookup`] finds it by
//! name. The helpers here check and convert arguments the same way for every function.

use std::rc::Rc;

use base64::Engine as _;
use serde_json::{Map, Value};

use super::eval::{deep_eq, describe, err, from_seq, num, truthy, Ctx, Func, Val, R};
use super::JsonataError;

mod array;
mod aws;
mod boolean;
mod datetime;
mod higher_order;
mod numeric;
mod object;
mod string;

/// A built-in function.
#[derive(Debug)]
pub struct Builtin {
    pub name: &'static str,
    /// Called with fewer arguments than this, the function takes the context value as its
    /// first argument (`"x".$uppercase()`, `$uppercase()` in a path step); 0: never.
    pub context_below: usize,
    pub call: fn(&Ctx<'_>, &'static str, &[Val], &Val) -> R,
}

const FAMILIES: &[&[Builtin]] = &[
    string::FUNCTIONS,
    numeric::FUNCTIONS,
    boolean::FUNCTIONS,
    array::FUNCTIONS,
    object::FUNCTIONS,
    higher_order::FUNCTIONS,
    datetime::FUNCTIONS,
    aws::FUNCTIONS,
];

/// The built-in called `name` (without the `$`).
pub fn lookup(name: &str) -> Option<&'static Builtin> {
    static BY_NAME: std::sync::OnceLock<std::collections::HashMap<&'static str, &'static Builtin>> =
        std::sync::OnceLock::new();
    BY_NAME.get_or_init(|| FAMILIES.iter().flat_map(|f| f.iter()).map(|b| (b.name, b)).collect()).get(name).copied()
}

/// Call `f` with `args`; `input` is the context value.
pub fn call(ctx: &Ctx<'_>, f: &'static Builtin, mut args: Vec<Val>, input: &Val) -> R {
    if args.len() < f.context_below && !input.is_undef() {
        args.insert(0, input.clone());
    }
    (f.call)(ctx, f.name, &args, input)
}

/// `$string` of a value: strings as they are, the rest as compact JSON (15 significant digits).
pub fn stringify(v: &Val) -> Result<String, JsonataError> {
    Ok(match v {
        Val::Undef => String::new(),
        Val::F(_) => String::new(),
        Val::J(Value::String(s)) => s.clone(),
        Val::J(Value::Number(n)) => number_text(n.as_f64().unwrap_or(0.0), n)?,
        Val::J(other) => round_numbers(other).to_string(),
    })
}

fn number_text(x: f64, n: &serde_json::Number) -> Result<String, JsonataError> {
    if !x.is_finite() {
        return Err(err("D3001", "Attempting to invoke string function on Infinity or NaN"));
    }
    if n.is_i64() || n.is_u64() {
        return Ok(n.to_string());
    }
    let p: f64 = format!("{x:.14e}").parse().unwrap_or(x);
    Ok(num(p)?.to_string())
}

fn round_numbers(v: &Value) -> Value {
    match v {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => {
            let x = n.as_f64().unwrap_or(0.0);
            let p: f64 = format!("{x:.14e}").parse().unwrap_or(x);
            num(p).unwrap_or(Value::Null)
        }
        Value::Array(a) => Value::Array(a.iter().map(round_numbers).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), round_numbers(v))).collect()),
        other => other.clone(),
    }
}

fn arg(args: &[Val], i: usize) -> &Val {
    args.get(i).unwrap_or(&Val::Undef)
}

/// The longest string a function builds, in characters: far past any payload a state can
/// carry (256 KiB), short of what would exhaust a worker's memory.
pub(crate) const MAX_STRING_CHARS: u64 = 16 * 1024 * 1024;

/// Refuses a string of `len` bytes before it is built when it would pass the limit (bytes
/// count at least as many as characters, so the check is on the safe side).
pub(crate) fn fits(what: &str, len: usize) -> Result<(), JsonataError> {
    if len as u64 > MAX_STRING_CHARS {
        return Err(too_long(what, len as u64));
    }
    Ok(())
}

fn too_long(name: &str, chars: u64) -> JsonataError {
    err("D1001", format!("\"{name}\" would build a string of {chars} characters, more than {MAX_STRING_CHARS}"))
}

fn bad(name: &str, i: usize, v: &Val) -> JsonataError {
    err(
        "T0410",
        format!("Argument {} of function \"{name}\" does not match function signature (got {})", i + 1, describe(v)),
    )
}

fn s_arg<'a>(name: &str, args: &'a [Val], i: usize) -> Result<Option<&'a str>, JsonataError> {
    match arg(args, i) {
        Val::Undef => Ok(None),
        Val::J(Value::String(s)) => Ok(Some(s)),
        other => Err(bad(name, i, other)),
    }
}

fn n_arg(name: &str, args: &[Val], i: usize) -> Result<Option<f64>, JsonataError> {
    match arg(args, i) {
        Val::Undef => Ok(None),
        Val::J(Value::Number(n)) => Ok(n.as_f64()),
        other => Err(bad(name, i, other)),
    }
}

fn arr(v: &Val) -> Vec<Value> {
    match v {
        Val::Undef | Val::F(_) => Vec::new(),
        Val::J(Value::Array(a)) => a.clone(),
        Val::J(other) => vec![other.clone()],
    }
}

fn f_arg(name: &str, args: &[Val], i: usize) -> Result<Rc<Func>, JsonataError> {
    match arg(args, i) {
        Val::F(f) => Ok(f.clone()),
        other => Err(bad(name, i, other)),
    }
}

fn s(v: String) -> R {
    Ok(Val::J(Value::String(v)))
}

fn n(x: f64) -> R {
    Ok(Val::J(num(x)?))
}

fn b(x: bool) -> R {
    Ok(Val::J(Value::Bool(x)))
}

/// The object `$match` returns for one regex match.
fn match_object(c: &regex::Captures<'_>) -> Value {
    let m = c.get(0);
    let groups: Vec<Value> =
        (1..c.len()).map(|i| Value::String(c.get(i).map(|g| g.as_str().to_string()).unwrap_or_default())).collect();
    serde_json::json!({
        "match": m.map(|m| m.as_str()).unwrap_or(""),
        "index": m.map(|m| m.start()).unwrap_or(0),
        "groups": groups,
    })
}

/// A regex used as a function: the first match object, or undefined.
pub fn regex_match_object(re: &regex::Regex, arg: Option<&Val>) -> R {
    match arg {
        Some(Val::J(Value::String(x))) => Ok(re.captures(x).map(|c| Val::J(match_object(&c))).unwrap_or(Val::Undef)),
        _ => Ok(Val::Undef),
    }
}

/// `$1`-style group references in a `$replace` replacement string.
fn expand(repl: &str, c: &regex::Captures<'_>) -> String {
    let mut out = String::new();
    let mut chars = repl.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch == '$' {
            match chars.peek() {
                Some('$') => {
                    chars.next();
                    out.push('$');
                }
                Some(d) if d.is_ascii_digit() => {
                    let mut idx = 0usize;
                    while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                        idx = idx * 10 + d as usize;
                        chars.next();
                    }
                    out.push_str(c.get(idx).map(|g| g.as_str()).unwrap_or(""));
                }
                _ => out.push('$'),
            }
        } else {
            out.push(ch);
        }
    }
    out
}
