//! The JSONata function library, plus the functions AWS Step Functions adds
//! (`$partition`, `$range`, `$hash`, `$random` with a seed, `$uuid`, `$parse`).

use std::rc::Rc;

use base64::Engine as _;
use serde_json::{Map, Value};

use super::eval::{deep_eq, describe, err, from_seq, num, truthy, Ctx, Func, Val, R};
use super::JsonataError;

const NAMES: &[&str] = &[
    "string",
    "length",
    "substring",
    "substringBefore",
    "substringAfter",
    "uppercase",
    "lowercase",
    "trim",
    "pad",
    "contains",
    "split",
    "join",
    "match",
    "replace",
    "base64encode",
    "base64decode",
    "encodeUrlComponent",
    "encodeUrl",
    "decodeUrlComponent",
    "decodeUrl",
    "formatBase",
    "number",
    "abs",
    "floor",
    "ceil",
    "round",
    "power",
    "sqrt",
    "random",
    "sum",
    "max",
    "min",
    "average",
    "boolean",
    "not",
    "exists",
    "count",
    "append",
    "sort",
    "reverse",
    "shuffle",
    "distinct",
    "zip",
    "keys",
    "lookup",
    "spread",
    "merge",
    "sift",
    "each",
    "error",
    "assert",
    "type",
    "map",
    "filter",
    "single",
    "reduce",
    "now",
    "millis",
    "fromMillis",
    "toMillis",
    "partition",
    "range",
    "hash",
    "uuid",
    "parse",
    "formatNumber",
];

pub fn exists(name: &str) -> bool {
    NAMES.contains(&name)
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
const MAX_STRING_CHARS: u64 = 16 * 1024 * 1024;

fn too_long(name: &str, chars: u64) -> JsonataError {
    err(
        "D1001",
        format!("function \"{name}\" would build a string of {chars} characters, more than {MAX_STRING_CHARS}"),
    )
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

/// Functions whose first argument defaults to the context value.
fn takes_context(name: &str) -> bool {
    matches!(
        name,
        "string"
            | "length"
            | "substring"
            | "substringBefore"
            | "substringAfter"
            | "uppercase"
            | "lowercase"
            | "trim"
            | "pad"
            | "contains"
            | "split"
            | "match"
            | "replace"
            | "base64encode"
            | "base64decode"
            | "number"
            | "abs"
            | "floor"
            | "ceil"
            | "round"
            | "sqrt"
            | "boolean"
            | "not"
            | "keys"
            | "spread"
    )
}

fn min_args(name: &str) -> usize {
    match name {
        "now" | "millis" | "random" | "uuid" | "error" => 0,
        "substring" | "substringBefore" | "substringAfter" | "pad" | "contains" | "split" | "match" | "power"
        | "append" | "lookup" | "sift" | "each" | "map" | "filter" | "partition" | "hash" | "formatNumber"
        | "formatBase" | "zip" => 2,
        "replace" | "range" => 2,
        "reduce" => 2,
        _ => 1,
    }
}

pub fn call(ctx: &Ctx<'_>, name: &str, mut args: Vec<Val>, input: &Val) -> R {
    if takes_context(name) && args.len() < min_args(name) && !input.is_undef() {
        args.insert(0, input.clone());
    }
    let a = &args;
    match name {
        "string" => {
            if arg(a, 0).is_undef() {
                return Ok(Val::Undef);
            }
            s(stringify(arg(a, 0))?)
        }
        "length" => match s_arg(name, a, 0)? {
            Some(x) => n(x.chars().count() as f64),
            None => Ok(Val::Undef),
        },
        "substring" => {
            let Some(x) = s_arg(name, a, 0)? else {
                return Ok(Val::Undef);
            };
            let chars: Vec<char> = x.chars().collect();
            let len = chars.len() as i64;
            let mut start = n_arg(name, a, 1)?.unwrap_or(0.0) as i64;
            if start < 0 {
                start = (len + start).max(0);
            }
            let count = n_arg(name, a, 2)?.map(|c| c as i64).unwrap_or(len);
            if count <= 0 || start >= len {
                return s(String::new());
            }
            let end = start.saturating_add(count).min(len);
            s(chars[start as usize..end as usize].iter().collect())
        }
        "substringBefore" | "substringAfter" => {
            let Some(x) = s_arg(name, a, 0)? else {
                return Ok(Val::Undef);
            };
            let Some(chars) = s_arg(name, a, 1)? else {
                return s(x.to_string());
            };
            match x.find(chars) {
                Some(i) if name == "substringBefore" => s(x[..i].to_string()),
                Some(i) => s(x[i + chars.len()..].to_string()),
                None => s(x.to_string()),
            }
        }
        "uppercase" => Ok(s_arg(name, a, 0)?.map(|x| Val::J(Value::String(x.to_uppercase()))).unwrap_or(Val::Undef)),
        "lowercase" => Ok(s_arg(name, a, 0)?.map(|x| Val::J(Value::String(x.to_lowercase()))).unwrap_or(Val::Undef)),
        "trim" => Ok(s_arg(name, a, 0)?
            .map(|x| Val::J(Value::String(x.split_whitespace().collect::<Vec<_>>().join(" "))))
            .unwrap_or(Val::Undef)),
        "pad" => {
            let Some(x) = s_arg(name, a, 0)? else {
                return Ok(Val::Undef);
            };
            let width = n_arg(name, a, 1)?.unwrap_or(0.0) as i64;
            let pad = s_arg(name, a, 2)?.unwrap_or(" ");
            let pad = if pad.is_empty() { " " } else { pad };
            let len = x.chars().count() as i64;
            let missing = (width.unsigned_abs().min(i64::MAX as u64) as i64) - len;
            if missing <= 0 {
                return s(x.to_string());
            }
            if missing as u64 > MAX_STRING_CHARS {
                return Err(too_long(name, missing as u64));
            }
            let filler: String = pad.chars().cycle().take(missing as usize).collect();
            s(if width > 0 { format!("{x}{filler}") } else { format!("{filler}{x}") })
        }
        "contains" => {
            let Some(x) = s_arg(name, a, 0)? else {
                return Ok(Val::Undef);
            };
            match arg(a, 1) {
                Val::J(Value::String(p)) => b(x.contains(p.as_str())),
                Val::F(f) => match &**f {
                    Func::Regex(re) => b(re.is_match(x)),
                    _ => Err(bad(name, 1, arg(a, 1))),
                },
                other => Err(bad(name, 1, other)),
            }
        }
        "split" => {
            let Some(x) = s_arg(name, a, 0)? else {
                return Ok(Val::Undef);
            };
            let limit = n_arg(name, a, 2)?.map(|l| l as usize);
            let parts: Vec<Value> = match arg(a, 1) {
                Val::J(Value::String(sep)) if sep.is_empty() => {
                    x.chars().map(|c| Value::String(c.to_string())).collect()
                }
                Val::J(Value::String(sep)) => x.split(sep.as_str()).map(|p| Value::String(p.to_string())).collect(),
                Val::F(f) => match &**f {
                    Func::Regex(re) => re.split(x).map(|p| Value::String(p.to_string())).collect(),
                    _ => return Err(bad(name, 1, arg(a, 1))),
                },
                other => return Err(bad(name, 1, other)),
            };
            let parts = match limit {
                Some(l) => parts.into_iter().take(l).collect(),
                None => parts,
            };
            Ok(Val::J(Value::Array(parts)))
        }
        "join" => {
            let items = arr(arg(a, 0));
            if arg(a, 0).is_undef() {
                return Ok(Val::Undef);
            }
            let sep = s_arg(name, a, 1)?.unwrap_or("");
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                match it {
                    Value::String(x) => out.push(x),
                    other => return Err(bad(name, 0, &Val::J(other))),
                }
            }
            s(out.join(sep))
        }
        "match" => {
            let Some(x) = s_arg(name, a, 0)? else {
                return Ok(Val::Undef);
            };
            let re = match arg(a, 1) {
                Val::F(f) => match &**f {
                    Func::Regex(re) => re.clone(),
                    _ => return Err(bad(name, 1, arg(a, 1))),
                },
                other => return Err(bad(name, 1, other)),
            };
            let limit = n_arg(name, a, 2)?.map(|l| l as usize).unwrap_or(usize::MAX);
            let out: Vec<Value> = re.captures_iter(x).take(limit).map(|c| match_object(&c)).collect();
            Ok(from_seq(out, false))
        }
        "replace" => {
            let Some(x) = s_arg(name, a, 0)? else {
                return Ok(Val::Undef);
            };
            let limit = n_arg(name, a, 3)?.map(|l| l as usize).unwrap_or(usize::MAX);
            match (arg(a, 1), arg(a, 2)) {
                (Val::J(Value::String(p)), Val::J(Value::String(r))) => {
                    if p.is_empty() {
                        return Err(err("D3010", "Second argument of replace function cannot be an empty string"));
                    }
                    s(x.replacen(p.as_str(), r, limit))
                }
                (Val::F(f), repl) => {
                    let Func::Regex(re) = &**f else {
                        return Err(bad(name, 1, arg(a, 1)));
                    };
                    let mut out = String::new();
                    let mut last = 0;
                    for (count, c) in re.captures_iter(x).enumerate() {
                        if count >= limit {
                            break;
                        }
                        let m = c.get(0).map(|m| (m.start(), m.end())).unwrap_or((0, 0));
                        out.push_str(&x[last..m.0]);
                        match repl {
                            Val::J(Value::String(r)) => out.push_str(&expand(r, &c)),
                            Val::F(rf) => match ctx.apply(rf, vec![Val::J(match_object(&c))], input)? {
                                Val::J(Value::String(t)) => out.push_str(&t),
                                _ => {
                                    return Err(err(
                                        "D3012",
                                        "Attempted to replace a matched string with a non-string value",
                                    ))
                                }
                            },
                            other => return Err(bad(name, 2, other)),
                        }
                        last = m.1;
                    }
                    out.push_str(&x[last..]);
                    s(out)
                }
                (p, _) => Err(bad(name, 1, p)),
            }
        }
        "base64encode" => Ok(s_arg(name, a, 0)?
            .map(|x| Val::J(Value::String(base64::engine::general_purpose::STANDARD.encode(x))))
            .unwrap_or(Val::Undef)),
        "base64decode" => match s_arg(name, a, 0)? {
            Some(x) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(x)
                    .map_err(|e| err("D3137", format!("invalid base64: {e}")))?;
                s(String::from_utf8_lossy(&bytes).into_owned())
            }
            None => Ok(Val::Undef),
        },
        "encodeUrlComponent" | "encodeUrl" => match s_arg(name, a, 0)? {
            Some(x) => {
                let keep: &str = if name == "encodeUrl" { "-_.!~*'();/?:@&=+$,#" } else { "-_.!~*'()" };
                let mut out = String::new();
                for byte in x.bytes() {
                    if byte.is_ascii_alphanumeric() || keep.as_bytes().contains(&byte) {
                        out.push(byte as char);
                    } else {
                        out.push_str(&format!("%{byte:02X}"));
                    }
                }
                s(out)
            }
            None => Ok(Val::Undef),
        },
        "decodeUrlComponent" | "decodeUrl" => match s_arg(name, a, 0)? {
            Some(x) => {
                let bytes = x.as_bytes();
                let mut out = Vec::with_capacity(bytes.len());
                let mut i = 0;
                while i < bytes.len() {
                    if bytes[i] == b'%' && i + 2 < bytes.len() {
                        let h =
                            std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                        match h {
                            Some(v) => {
                                out.push(v);
                                i += 3;
                                continue;
                            }
                            None => return Err(err("D3140", "Malformed URL")),
                        }
                    }
                    out.push(bytes[i]);
                    i += 1;
                }
                s(String::from_utf8(out).map_err(|_| err("D3140", "Malformed URL"))?)
            }
            None => Ok(Val::Undef),
        },
        "formatBase" => {
            let Some(x) = n_arg(name, a, 0)? else {
                return Ok(Val::Undef);
            };
            let radix = n_arg(name, a, 1)?.unwrap_or(10.0) as u32;
            if !(2..=36).contains(&radix) {
                return Err(err("D3100", "The radix of the formatBase function must be between 2 and 36"));
            }
            let mut v = x.round() as i64;
            let neg = v < 0;
            v = v.abs();
            let mut digits = Vec::new();
            loop {
                digits.push(std::char::from_digit((v % radix as i64) as u32, radix).unwrap_or('0'));
                v /= radix as i64;
                if v == 0 {
                    break;
                }
            }
            if neg {
                digits.push('-');
            }
            s(digits.into_iter().rev().collect())
        }
        "formatNumber" => {
            let Some(x) = n_arg(name, a, 0)? else {
                return Ok(Val::Undef);
            };
            let pic = s_arg(name, a, 1)?.unwrap_or("0");
            s(format_number(x, pic))
        }
        "number" => match arg(a, 0) {
            Val::Undef => Ok(Val::Undef),
            Val::J(Value::Number(_)) => Ok(arg(a, 0).clone()),
            Val::J(Value::Bool(x)) => n(if *x { 1.0 } else { 0.0 }),
            Val::J(Value::String(x)) => {
                let t = x.trim();
                let parsed = if let Some(h) = t.strip_prefix("0x") {
                    i64::from_str_radix(h, 16).ok().map(|v| v as f64)
                } else if let Some(bn) = t.strip_prefix("0b") {
                    i64::from_str_radix(bn, 2).ok().map(|v| v as f64)
                } else if let Some(o) = t.strip_prefix("0o") {
                    i64::from_str_radix(o, 8).ok().map(|v| v as f64)
                } else {
                    serde_json::from_str::<Value>(t).ok().and_then(|v| v.as_f64())
                };
                match parsed {
                    Some(v) => n(v),
                    None => Err(err("D3030", format!("Unable to cast value to a number: \"{x}\""))),
                }
            }
            other => Err(err("D3030", format!("Unable to cast value to a number: {}", describe(other)))),
        },
        "abs" => Ok(match n_arg(name, a, 0)? {
            Some(x) => Val::J(num(x.abs())?),
            None => Val::Undef,
        }),
        "floor" => Ok(match n_arg(name, a, 0)? {
            Some(x) => Val::J(num(x.floor())?),
            None => Val::Undef,
        }),
        "ceil" => Ok(match n_arg(name, a, 0)? {
            Some(x) => Val::J(num(x.ceil())?),
            None => Val::Undef,
        }),
        "round" => {
            let Some(x) = n_arg(name, a, 0)? else {
                return Ok(Val::Undef);
            };
            let p = n_arg(name, a, 1)?.unwrap_or(0.0) as i32;
            let scale = 10f64.powi(p);
            let v = x * scale;
            // Round half to even, as JSONata does.
            let r = v.round();
            let r = if (v - v.trunc()).abs() == 0.5 && r % 2.0 != 0.0 { r - v.signum() } else { r };
            n(r / scale)
        }
        "power" => {
            let (Some(x), Some(y)) = (n_arg(name, a, 0)?, n_arg(name, a, 1)?) else {
                return Ok(Val::Undef);
            };
            let r = x.powf(y);
            if !r.is_finite() {
                return Err(err(
                    "D3061",
                    "The power function has resulted in a value that cannot be represented as a JSON number",
                ));
            }
            n(r)
        }
        "sqrt" => {
            let Some(x) = n_arg(name, a, 0)? else {
                return Ok(Val::Undef);
            };
            if x < 0.0 {
                return Err(err("D3060", "The sqrt function cannot be applied to a negative number"));
            }
            n(x.sqrt())
        }
        "random" => {
            use rand::{Rng, SeedableRng};
            let v: f64 = match arg(a, 0) {
                Val::Undef => rand::random(),
                Val::J(Value::Number(seed)) => {
                    let seed = seed.as_f64().unwrap_or(0.0) as i64 as u64;
                    rand::rngs::StdRng::seed_from_u64(seed).gen()
                }
                other => return Err(bad(name, 0, other)),
            };
            n(v)
        }
        "sum" | "max" | "min" | "average" => {
            if arg(a, 0).is_undef() {
                return Ok(Val::Undef);
            }
            let items = arr(arg(a, 0));
            let mut xs = Vec::with_capacity(items.len());
            for it in &items {
                match it.as_f64() {
                    Some(x) if it.is_number() => xs.push(x),
                    _ => return Err(bad(name, 0, &Val::J(it.clone()))),
                }
            }
            match name {
                "sum" => n(xs.iter().sum()),
                _ if xs.is_empty() => Ok(Val::Undef),
                "max" => n(xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max)),
                "min" => n(xs.iter().cloned().fold(f64::INFINITY, f64::min)),
                _ => n(xs.iter().sum::<f64>() / xs.len() as f64),
            }
        }
        "boolean" => match arg(a, 0) {
            Val::Undef => Ok(Val::Undef),
            v => b(truthy(v)),
        },
        "not" => match arg(a, 0) {
            Val::Undef => Ok(Val::Undef),
            v => b(!truthy(v)),
        },
        "exists" => b(!arg(a, 0).is_undef()),
        "count" => n(match arg(a, 0) {
            Val::Undef => 0.0,
            v => arr(v).len() as f64,
        }),
        "append" => match (arg(a, 0), arg(a, 1)) {
            (Val::Undef, y) => Ok(y.clone()),
            (x, Val::Undef) => Ok(x.clone()),
            (x, y) => {
                let mut out = arr(x);
                out.extend(arr(y));
                Ok(Val::J(Value::Array(out)))
            }
        },
        "sort" => {
            if arg(a, 0).is_undef() {
                return Ok(Val::Undef);
            }
            let mut items = arr(arg(a, 0));
            match arg(a, 1) {
                Val::F(f) => {
                    // Insertion-stable merge sort driven by the user's comparator ($a > $b means swap).
                    let mut error = None;
                    let mut sorted: Vec<Value> = Vec::with_capacity(items.len());
                    for it in items {
                        let mut pos = sorted.len();
                        while pos > 0 {
                            let r = ctx.apply(f, vec![Val::J(sorted[pos - 1].clone()), Val::J(it.clone())], input);
                            match r {
                                Ok(v) if truthy(&v) => pos -= 1,
                                Ok(_) => break,
                                Err(e) => {
                                    error = Some(e);
                                    break;
                                }
                            }
                        }
                        sorted.insert(pos, it);
                    }
                    if let Some(e) = error {
                        return Err(e);
                    }
                    Ok(Val::J(Value::Array(sorted)))
                }
                _ => {
                    if items.iter().all(Value::is_number) {
                        items.sort_by(|x, y| x.as_f64().partial_cmp(&y.as_f64()).unwrap_or(std::cmp::Ordering::Equal));
                    } else if items.iter().all(Value::is_string) {
                        items.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
                    } else {
                        return Err(err("D3070", "The single argument form of the sort function can only be applied to an array of strings or an array of numbers"));
                    }
                    Ok(Val::J(Value::Array(items)))
                }
            }
        }
        "reverse" => {
            if arg(a, 0).is_undef() {
                return Ok(Val::Undef);
            }
            let mut items = arr(arg(a, 0));
            items.reverse();
            Ok(Val::J(Value::Array(items)))
        }
        "shuffle" => {
            use rand::seq::SliceRandom;
            if arg(a, 0).is_undef() {
                return Ok(Val::Undef);
            }
            let mut items = arr(arg(a, 0));
            items.shuffle(&mut rand::thread_rng());
            Ok(Val::J(Value::Array(items)))
        }
        "distinct" => match arg(a, 0) {
            Val::J(Value::Array(items)) => {
                let mut out: Vec<Value> = Vec::new();
                for it in items {
                    if !out.iter().any(|x| deep_eq(x, it)) {
                        out.push(it.clone());
                    }
                }
                Ok(Val::J(Value::Array(out)))
            }
            other => Ok(other.clone()),
        },
        "zip" => {
            let arrays: Vec<Vec<Value>> = a.iter().map(arr).collect();
            let len = arrays.iter().map(Vec::len).min().unwrap_or(0);
            Ok(Val::J(Value::Array(
                (0..len).map(|i| Value::Array(arrays.iter().map(|x| x[i].clone()).collect())).collect(),
            )))
        }
        "keys" => {
            let mut out: Vec<Value> = Vec::new();
            for it in arr(arg(a, 0)) {
                if let Value::Object(o) = it {
                    for k in o.keys() {
                        if !out.iter().any(|x| x.as_str() == Some(k)) {
                            out.push(Value::String(k.clone()));
                        }
                    }
                }
            }
            Ok(from_seq(out, false))
        }
        "lookup" => {
            let Some(key) = s_arg(name, a, 1)? else {
                return Ok(Val::Undef);
            };
            let mut out = Vec::new();
            for it in arr(arg(a, 0)) {
                if let Some(v) = it.as_object().and_then(|o| o.get(key)) {
                    match v {
                        Value::Array(x) => out.extend(x.iter().cloned()),
                        other => out.push(other.clone()),
                    }
                }
            }
            Ok(from_seq(out, false))
        }
        "spread" => {
            if arg(a, 0).is_undef() {
                return Ok(Val::Undef);
            }
            let mut out = Vec::new();
            for it in arr(arg(a, 0)) {
                match it {
                    Value::Object(o) => {
                        for (k, v) in o {
                            let mut m = Map::new();
                            m.insert(k, v);
                            out.push(Value::Object(m));
                        }
                    }
                    other => out.push(other),
                }
            }
            Ok(from_seq(out, false))
        }
        "merge" => {
            if arg(a, 0).is_undef() {
                return Ok(Val::Undef);
            }
            let mut m = Map::new();
            for it in arr(arg(a, 0)) {
                match it {
                    Value::Object(o) => m.extend(o),
                    other => return Err(bad(name, 0, &Val::J(other))),
                }
            }
            Ok(Val::J(Value::Object(m)))
        }
        "sift" | "each" => {
            let Val::J(Value::Object(o)) = arg(a, 0) else {
                return Ok(Val::Undef);
            };
            let f = f_arg(name, a, 1)?;
            let arity = Ctx::arity(&f);
            let mut kept = Map::new();
            let mut each = Vec::new();
            for (k, v) in o {
                let mut cargs = vec![Val::J(v.clone()), Val::J(Value::String(k.clone()))];
                if arity > 2 {
                    cargs.push(arg(a, 0).clone());
                }
                cargs.truncate(arity.max(1));
                let r = ctx.apply(&f, cargs, input)?;
                if name == "sift" {
                    if truthy(&r) {
                        kept.insert(k.clone(), v.clone());
                    }
                } else if let Val::J(x) = r {
                    each.push(x);
                }
            }
            if name == "sift" {
                Ok(if kept.is_empty() { Val::Undef } else { Val::J(Value::Object(kept)) })
            } else {
                Ok(from_seq(each, false))
            }
        }
        "error" => Err(err("D3137", s_arg(name, a, 0)?.unwrap_or("$error() function evaluated").to_string())),
        "assert" => {
            if truthy(arg(a, 0)) {
                Ok(Val::Undef)
            } else {
                Err(err("D3141", s_arg(name, a, 1)?.unwrap_or("$assert() statement failed").to_string()))
            }
        }
        "type" => Ok(match arg(a, 0) {
            Val::Undef => Val::Undef,
            Val::F(_) => Val::J(Value::String("function".into())),
            Val::J(v) => Val::J(Value::String(
                match v {
                    Value::Null => "null",
                    Value::Bool(_) => "boolean",
                    Value::Number(_) => "number",
                    Value::String(_) => "string",
                    Value::Array(_) => "array",
                    Value::Object(_) => "object",
                }
                .into(),
            )),
        }),
        "map" | "filter" | "single" => {
            if arg(a, 0).is_undef() {
                return Ok(Val::Undef);
            }
            let items = arr(arg(a, 0));
            let f = match arg(a, 1) {
                Val::Undef if name == "single" => None,
                _ => Some(f_arg(name, a, 1)?),
            };
            let mut out = Vec::new();
            let whole = Val::J(Value::Array(items.clone()));
            for (i, it) in items.iter().enumerate() {
                let r = match &f {
                    Some(f) => {
                        let arity = Ctx::arity(f);
                        let mut cargs = vec![Val::J(it.clone()), Val::J(Value::from(i)), whole.clone()];
                        cargs.truncate(arity.max(1));
                        ctx.apply(f, cargs, input)?
                    }
                    None => Val::J(Value::Bool(true)),
                };
                match name {
                    "map" => out.extend(r.json()),
                    _ => {
                        if truthy(&r) {
                            out.push(it.clone());
                        }
                    }
                }
            }
            if name == "single" {
                return match out.len() {
                    1 => Ok(Val::J(out.pop().unwrap_or(Value::Null))),
                    0 => Err(err(
                        "D3139",
                        "The $single() function expected exactly 1 matching result.  Instead it matched 0.",
                    )),
                    k => Err(err(
                        "D3138",
                        format!("The $single() function expected exactly 1 matching result.  Instead it matched {k}."),
                    )),
                };
            }
            Ok(from_seq(out, false))
        }
        "reduce" => {
            if arg(a, 0).is_undef() {
                return Ok(Val::Undef);
            }
            let items = arr(arg(a, 0));
            let f = f_arg(name, a, 1)?;
            let mut it = items.into_iter();
            let mut acc = match arg(a, 2) {
                Val::Undef => match it.next() {
                    Some(v) => Val::J(v),
                    None => return Ok(Val::Undef),
                },
                init => init.clone(),
            };
            for v in it {
                acc = ctx.apply(&f, vec![acc, Val::J(v)], input)?;
            }
            Ok(acc)
        }
        "now" => s(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        "millis" => n(chrono::Utc::now().timestamp_millis() as f64),
        "fromMillis" => match n_arg(name, a, 0)? {
            Some(ms) => s(chrono::DateTime::from_timestamp_millis(ms as i64)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                .unwrap_or_default()),
            None => Ok(Val::Undef),
        },
        "toMillis" => match s_arg(name, a, 0)? {
            Some(t) => match chrono::DateTime::parse_from_rfc3339(t) {
                Ok(d) => n(d.timestamp_millis() as f64),
                Err(_) => Err(err("D3110", format!("Failed to parse date/time: {t}"))),
            },
            None => Ok(Val::Undef),
        },
        // --- AWS Step Functions additions.
        "partition" => {
            let items = match arg(a, 0) {
                Val::J(Value::Array(x)) => x.clone(),
                other => return Err(bad(name, 0, other)),
            };
            let size = match n_arg(name, a, 1)? {
                Some(x) if x >= 1.0 && x.fract() == 0.0 => x as usize,
                _ => {
                    return Err(err(
                        "States.QueryEvaluationError",
                        "The chunk size of $partition must be a positive integer",
                    ))
                }
            };
            Ok(Val::J(Value::Array(items.chunks(size).map(|c| Value::Array(c.to_vec())).collect())))
        }
        "range" => {
            let (Some(start), Some(end), Some(step)) = (n_arg(name, a, 0)?, n_arg(name, a, 1)?, n_arg(name, a, 2)?)
            else {
                return Err(err("T0410", "$range expects start, end and step"));
            };
            if [start, end, step].iter().any(|x| x.fract() != 0.0) || step == 0.0 {
                return Err(err("T0410", "$range expects integer start, end and a non-zero integer step"));
            }
            let (start, end, step) = (start as i64, end as i64, step as i64);
            let mut out = Vec::new();
            let mut x = start;
            while (step > 0 && x <= end) || (step < 0 && x >= end) {
                out.push(Value::from(x));
                if out.len() > 1000 {
                    return Err(err("T0410", "$range would produce more than 1000 items"));
                }
                x += step;
            }
            Ok(Val::J(Value::Array(out)))
        }
        "hash" => {
            let data = match arg(a, 0) {
                Val::J(Value::String(x)) => x.clone(),
                Val::Undef => return Ok(Val::Undef),
                other => stringify(other)?,
            };
            let alg = s_arg(name, a, 1)?.unwrap_or("SHA-256");
            match crate::intrinsic::hash(alg, data.as_bytes()) {
                Some(h) => s(h),
                None => Err(err("T0410", format!("unsupported hash algorithm '{alg}'"))),
            }
        }
        "uuid" => s(uuid::Uuid::new_v4().to_string()),
        "parse" => match s_arg(name, a, 0)? {
            Some(x) => serde_json::from_str::<Value>(x)
                .map(Val::J)
                .map_err(|e| err("D3140", format!("Unable to parse JSON: {e}"))),
            None => Ok(Val::Undef),
        },
        _ => Err(err("T1006", "Attempted to invoke a non-function")),
    }
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

/// A small subset of XPath picture strings: grouping separators, minimum digits, decimals.
fn format_number(x: f64, pic: &str) -> String {
    let (int_pic, frac_pic) = pic.split_once('.').unwrap_or((pic, ""));
    let decimals = frac_pic.chars().filter(|c| *c == '0' || *c == '#').count();
    let min_decimals = frac_pic.chars().filter(|c| *c == '0').count();
    let mut text = format!("{:.*}", decimals, x.abs());
    if decimals > min_decimals {
        while text.contains('.') && text.ends_with('0') && text.split('.').nth(1).map_or(0, str::len) > min_decimals {
            text.pop();
        }
        if text.ends_with('.') {
            text.pop();
        }
    }
    let (ip, fp) = match text.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (text.clone(), None),
    };
    let min_int = int_pic.chars().filter(|c| *c == '0').count();
    let mut ip = format!("{ip:0>min_int$}");
    if let Some(g) = int_pic.rfind(',') {
        let group = int_pic.len() - g - 1;
        if group > 0 {
            let digits: Vec<char> = ip.chars().collect();
            let mut grouped = String::new();
            for (i, d) in digits.iter().enumerate() {
                if i > 0 && (digits.len() - i) % group == 0 {
                    grouped.push(',');
                }
                grouped.push(*d);
            }
            ip = grouped;
        }
    }
    let sign = if x < 0.0 { "-" } else { "" };
    match fp {
        Some(f) => format!("{sign}{ip}.{f}"),
        None => format!("{sign}{ip}"),
    }
}
