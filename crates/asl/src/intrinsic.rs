//! The 18 intrinsic functions (`States.Format(...)`, `States.Hash(...)`…): parsing of the call
//! syntax at load time and evaluation against a data environment.

use std::borrow::Cow;

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::env::Env;
use crate::error::{errors, StatesError};
use crate::jsonpath::{type_name, JsonPath};

/// The intrinsic functions AWS defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Format,
    StringToJson,
    JsonToString,
    Array,
    ArrayPartition,
    ArrayContains,
    ArrayRange,
    ArrayGetItem,
    ArrayLength,
    ArrayUnique,
    Base64Encode,
    Base64Decode,
    Hash,
    JsonMerge,
    MathRandom,
    MathAdd,
    StringSplit,
    Uuid,
}

impl Func {
    fn from_name(name: &str) -> Option<Func> {
        use Func::*;
        Some(match name {
            "States.Format" => Format,
            "States.StringToJson" => StringToJson,
            "States.JsonToString" => JsonToString,
            "States.Array" => Array,
            "States.ArrayPartition" => ArrayPartition,
            "States.ArrayContains" => ArrayContains,
            "States.ArrayRange" => ArrayRange,
            "States.ArrayGetItem" => ArrayGetItem,
            "States.ArrayLength" => ArrayLength,
            "States.ArrayUnique" => ArrayUnique,
            "States.Base64Encode" => Base64Encode,
            "States.Base64Decode" => Base64Decode,
            "States.Hash" => Hash,
            "States.JsonMerge" => JsonMerge,
            "States.MathRandom" => MathRandom,
            "States.MathAdd" => MathAdd,
            "States.StringSplit" => StringSplit,
            "States.UUID" => Uuid,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        use Func::*;
        match self {
            Format => "States.Format",
            StringToJson => "States.StringToJson",
            JsonToString => "States.JsonToString",
            Array => "States.Array",
            ArrayPartition => "States.ArrayPartition",
            ArrayContains => "States.ArrayContains",
            ArrayRange => "States.ArrayRange",
            ArrayGetItem => "States.ArrayGetItem",
            ArrayLength => "States.ArrayLength",
            ArrayUnique => "States.ArrayUnique",
            Base64Encode => "States.Base64Encode",
            Base64Decode => "States.Base64Decode",
            Hash => "States.Hash",
            JsonMerge => "States.JsonMerge",
            MathRandom => "States.MathRandom",
            MathAdd => "States.MathAdd",
            StringSplit => "States.StringSplit",
            Uuid => "States.UUID",
        }
    }

    /// Allowed argument counts (inclusive).
    fn arity(self) -> (usize, usize) {
        use Func::*;
        match self {
            Format => (1, usize::MAX),
            Array => (0, usize::MAX),
            StringToJson | JsonToString | ArrayLength | ArrayUnique | Base64Encode | Base64Decode => (1, 1),
            ArrayPartition | ArrayContains | ArrayGetItem | Hash | MathAdd | StringSplit => (2, 2),
            ArrayRange | JsonMerge => (3, 3),
            MathRandom => (2, 3),
            Uuid => (0, 0),
        }
    }
}

/// One argument of an intrinsic call.
#[derive(Debug, Clone)]
pub enum Arg {
    Literal(Value),
    Path(JsonPath),
    Call(Box<Call>),
}

/// A parsed intrinsic function call.
#[derive(Debug, Clone)]
pub struct Call {
    pub func: Func,
    pub args: Vec<Arg>,
    /// A States.Format template written as a literal, split once where it is parsed.
    format: Option<Box<[String]>>,
}

/// Whether a string looks like an intrinsic call (so that a parse failure is an error, not a path).
pub fn looks_like_call(s: &str) -> bool {
    s.trim_start().starts_with("States.")
}

impl Call {
    pub fn parse(text: &str) -> Result<Call, String> {
        let mut p = P { s: text, i: 0, depth: 0 };
        p.ws();
        let call = p.call()?;
        p.ws();
        if p.i != text.len() {
            return Err(format!("unexpected text after the call at offset {}", p.i));
        }
        Ok(call)
    }

    /// Every path the call reads (for validation and static analysis).
    pub fn paths(&self) -> Vec<&JsonPath> {
        let mut out = Vec::new();
        for a in &self.args {
            match a {
                Arg::Path(p) => out.push(p),
                Arg::Call(c) => out.extend(c.paths()),
                Arg::Literal(_) => {}
            }
        }
        out
    }

    pub fn eval(&self, env: &Env<'_>) -> Result<Value, StatesError> {
        if let Some(texts) = self.format.as_deref().filter(|t| t.len() == self.args.len()) {
            return self.format_in_place(texts, env);
        }
        let mut args: Vec<Cow<'_, Value>> = Vec::with_capacity(self.args.len());
        for a in &self.args {
            args.push(a.eval(env)?);
        }
        match &self.format {
            Some(texts) => format(texts, &args[1..]),
            None => apply(self.func, &args),
        }
    }

    /// States.Format of a split template with as many arguments as placeholders: each
    /// argument is written out as it is evaluated, with no list of them. An argument that
    /// cannot be written fails the call only once every argument after it has evaluated, so
    /// an argument's own error comes first, as when all are evaluated beforehand.
    #[inline(never)]
    fn format_in_place(&self, texts: &[String], env: &Env<'_>) -> Result<Value, StatesError> {
        let mut out = String::with_capacity(texts.iter().map(String::len).sum::<usize>() + 16);
        for (i, (text, arg)) in texts.iter().zip(&self.args[1..]).enumerate() {
            out.push_str(text);
            let v = arg.eval(env)?;
            if let Err(e) = write_formatted(&mut out, &v) {
                for rest in &self.args[i + 2..] {
                    rest.eval(env)?;
                }
                return Err(e);
            }
        }
        out.push_str(texts.last().map_or("", String::as_str));
        Ok(Value::String(out))
    }
}

impl Arg {
    #[inline(always)]
    fn eval<'v>(&'v self, env: &Env<'v>) -> Result<Cow<'v, Value>, StatesError> {
        Ok(match self {
            Arg::Literal(v) => Cow::Borrowed(v),
            Arg::Path(p) => match env.path(p) {
                Some(v) => v,
                None => {
                    return Err(StatesError::runtime(format!(
                        "The JsonPath argument for the field '{}' could not be found in the input '{}'",
                        p,
                        env.input_string()
                    )))
                }
            },
            Arg::Call(c) => Cow::Owned(c.eval(env)?),
        })
    }
}

/// Write a States.Format argument: strings bare, numbers, booleans and null as JSON.
fn write_formatted(out: &mut String, v: &Value) -> Result<(), StatesError> {
    match v {
        Value::String(s) => out.push_str(s),
        Value::Object(_) | Value::Array(_) => {
            return Err(fail(Func::Format, "arguments must be strings, numbers, booleans or null"))
        }
        other => out.push_str(&other.to_string()),
    }
    Ok(())
}

/// A States.Format template's text around its placeholders (one more than there are
/// placeholders), escapes resolved: an escape keeps the character after it (a trailing one
/// vanishes), and a `{` not starting `{}` is text.
fn split_format(tpl: &str) -> Vec<String> {
    let mut texts = Vec::new();
    let mut out = String::with_capacity(tpl.len());
    let mut rest = tpl;
    while let Some(at) = rest.find(['\\', '{']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(escaped) = tail.strip_prefix('\\') {
            let n = escaped.chars().next().map_or(0, char::len_utf8);
            out.push_str(&escaped[..n]);
            rest = &escaped[n..];
        } else if let Some(after) = tail.strip_prefix("{}") {
            texts.push(std::mem::take(&mut out));
            rest = after;
        } else {
            out.push('{');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    texts.push(out);
    texts
}

/// States.Format of a split template ([`split_format`]) and its arguments.
fn format(texts: &[String], args: &[Cow<'_, Value>]) -> Result<Value, StatesError> {
    let f = Func::Format;
    let mismatch = || fail(f, "the number of arguments does not match the number of placeholders");
    let (last, leading) = texts.split_last().ok_or_else(mismatch)?;
    let mut out = String::with_capacity(texts.iter().map(String::len).sum::<usize>() + 16);
    let mut args = args.iter();
    for text in leading {
        out.push_str(text);
        write_formatted(&mut out, args.next().ok_or_else(mismatch)?)?;
    }
    out.push_str(last);
    if args.next().is_some() {
        return Err(mismatch());
    }
    Ok(Value::String(out))
}

fn fail(f: Func, msg: impl std::fmt::Display) -> StatesError {
    StatesError::new(errors::RUNTIME, format!("The Intrinsic function {} failed: {msg}", f.name()))
}

fn as_int(f: Func, v: &Value, what: &str) -> Result<i64, StatesError> {
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                return Ok(i);
            }
            match n.as_f64() {
                Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(x as i64),
                _ => Err(fail(f, format!("{what} must be an integer, got {n}"))),
            }
        }
        other => Err(fail(f, format!("{what} must be an integer, got {}", type_name(other)))),
    }
}

/// A number rounded as Java's Math.round does (half up), which MathAdd applies to its operands.
fn as_rounded(f: Func, v: &Value, what: &str) -> Result<i64, StatesError> {
    match v {
        Value::Number(n) if n.is_i64() => Ok(n.as_i64().unwrap_or(0)),
        Value::Number(n) => match n.as_f64() {
            Some(x) if x.is_finite() && x.abs() < 9.0e15 => Ok((x + 0.5).floor() as i64),
            _ => Err(fail(f, format!("{what} is out of range: {n}"))),
        },
        other => Err(fail(f, format!("{what} must be a number, got {}", type_name(other)))),
    }
}

fn as_str<'a>(f: Func, v: &'a Value, what: &str) -> Result<&'a str, StatesError> {
    v.as_str().ok_or_else(|| fail(f, format!("{what} must be a string, got {}", type_name(v))))
}

fn as_arr<'a>(f: Func, v: &'a Value, what: &str) -> Result<&'a Vec<Value>, StatesError> {
    v.as_array().ok_or_else(|| fail(f, format!("{what} must be an array, got {}", type_name(v))))
}

/// `f` applied to its evaluated arguments.
#[inline(never)]
fn apply(f: Func, a: &[Cow<'_, Value>]) -> Result<Value, StatesError> {
    use Func::*;
    Ok(match f {
        Format => {
            let tpl = as_str(f, &a[0], "the template")?;
            return format(&split_format(tpl), &a[1..]);
        }
        StringToJson => {
            let s = as_str(f, &a[0], "the argument")?;
            if s.trim().is_empty() {
                return Ok(Value::Null);
            }
            serde_json::from_str(s).map_err(|e| fail(f, format!("invalid JSON: {e}")))?
        }
        JsonToString => Value::String(a[0].to_string()),
        Array => Value::Array(a.iter().map(|v| v.clone().into_owned()).collect()),
        ArrayPartition => {
            let arr = as_arr(f, &a[0], "the first argument")?;
            let size = as_int(f, &a[1], "the chunk size")?;
            if size <= 0 {
                return Err(fail(f, "the chunk size must be greater than 0"));
            }
            Value::Array(arr.chunks(size as usize).map(|c| Value::Array(c.to_vec())).collect())
        }
        ArrayContains => {
            let arr = as_arr(f, &a[0], "the first argument")?;
            Value::Bool(arr.iter().any(|x| json_eq(x, &a[1])))
        }
        ArrayRange => {
            let start = as_int(f, &a[0], "the start")?;
            let end = as_int(f, &a[1], "the end")?;
            let step = as_int(f, &a[2], "the step")?;
            if step == 0 {
                return Err(fail(f, "the step must not be 0"));
            }
            let mut out = Vec::new();
            let mut x = start;
            while (step > 0 && x <= end) || (step < 0 && x >= end) {
                out.push(Value::from(x));
                if out.len() > 1000 {
                    return Err(fail(f, "the range has more than 1000 items"));
                }
                x += step;
            }
            Value::Array(out)
        }
        ArrayGetItem => {
            let arr = as_arr(f, &a[0], "the first argument")?;
            let i = as_int(f, &a[1], "the index")?;
            if i < 0 || i as usize >= arr.len() {
                return Err(fail(f, format!("index {i} is out of bounds for an array of {}", arr.len())));
            }
            arr[i as usize].clone()
        }
        ArrayLength => Value::from(as_arr(f, &a[0], "the argument")?.len()),
        ArrayUnique => {
            let arr = as_arr(f, &a[0], "the argument")?;
            let mut out: Vec<Value> = Vec::with_capacity(arr.len());
            // Linear: values are bucketed by a hash that agrees with `json_eq`, and compared
            // only within a bucket.
            let mut seen: std::collections::HashMap<u64, Vec<usize>> = std::collections::HashMap::new();
            for v in arr {
                let bucket = seen.entry(eq_hash(v)).or_default();
                if !bucket.iter().any(|&i| json_eq(&out[i], v)) {
                    bucket.push(out.len());
                    out.push(v.clone());
                }
            }
            Value::Array(out)
        }
        Base64Encode => {
            let s = as_str(f, &a[0], "the argument")?;
            if s.len() > 10_000 {
                return Err(fail(f, "the input exceeds 10000 characters"));
            }
            Value::String(base64::engine::general_purpose::STANDARD.encode(s))
        }
        Base64Decode => {
            let s = as_str(f, &a[0], "the argument")?;
            if s.len() > 10_000 {
                return Err(fail(f, "the input exceeds 10000 characters"));
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|e| fail(f, format!("invalid base64: {e}")))?;
            Value::String(String::from_utf8_lossy(&bytes).into_owned())
        }
        Hash => {
            let data = match &*a[0] {
                Value::String(s) => Cow::Borrowed(s.as_str()),
                Value::Null => return Err(fail(f, "the data must not be null")),
                other => Cow::Owned(other.to_string()),
            };
            if data.chars().count() > 10_000 {
                return Err(fail(f, "the input exceeds 10000 characters"));
            }
            let alg = as_str(f, &a[1], "the algorithm")?;
            Value::String(hash(alg, data.as_bytes()).ok_or_else(|| {
                fail(f, format!("unsupported algorithm '{alg}' (MD5, SHA-1, SHA-256, SHA-384, SHA-512)"))
            })?)
        }
        JsonMerge => {
            let (Some(l), Some(r)) = (a[0].as_object(), a[1].as_object()) else {
                return Err(fail(f, "both arguments must be objects"));
            };
            match &*a[2] {
                Value::Bool(false) => {}
                Value::Bool(true) => return Err(fail(f, "deep merging is not supported")),
                _ => return Err(fail(f, "the third argument must be a boolean")),
            }
            let mut out: Map<String, Value> = l.clone();
            for (k, v) in r {
                out.insert(k.clone(), v.clone());
            }
            Value::Object(out)
        }
        MathRandom => {
            use rand::{Rng, SeedableRng};
            let start = as_int(f, &a[0], "the start")?;
            let end = as_int(f, &a[1], "the end")?;
            if start >= end {
                return Err(fail(f, "the start must be less than the end"));
            }
            let v = match a.get(2) {
                Some(seed) => {
                    let seed = as_int(f, seed, "the seed")?;
                    rand_chacha::ChaCha12Rng::seed_from_u64(seed as u64).gen_range(start..end)
                }
                None => rand::thread_rng().gen_range(start..end),
            };
            Value::from(v)
        }
        MathAdd => {
            let x = as_rounded(f, &a[0], "the first argument")?;
            let y = as_rounded(f, &a[1], "the second argument")?;
            Value::from(x.checked_add(y).ok_or_else(|| fail(f, "integer overflow"))?)
        }
        StringSplit => {
            let s = as_str(f, &a[0], "the first argument")?;
            let d = as_str(f, &a[1], "the delimiter")?;
            let parts: Vec<Value> = if d.is_empty() {
                vec![Value::String(s.to_string())]
            } else {
                s.split(|c| d.contains(c)).filter(|p| !p.is_empty()).map(|p| Value::String(p.to_string())).collect()
            };
            Value::Array(parts)
        }
        Uuid => Value::String(uuid::Uuid::new_v4().to_string()),
    })
}

/// JSON equality with numbers compared by value (1 == 1.0).
/// A hash under which values equal by [`json_eq`] collide: numbers by their value, objects
/// whatever their key order.
fn eq_hash(v: &Value) -> u64 {
    use std::hash::{Hash, Hasher};
    fn feed(v: &Value, h: &mut std::collections::hash_map::DefaultHasher) {
        match v {
            Value::Null => 0u8.hash(h),
            Value::Bool(b) => (1u8, *b).hash(h),
            Value::Number(n) => {
                let x = n.as_f64().unwrap_or(0.0);
                (2u8, if x == 0.0 { 0 } else { x.to_bits() }).hash(h)
            }
            Value::String(s) => (3u8, s).hash(h),
            Value::Array(a) => {
                (4u8, a.len()).hash(h);
                for x in a {
                    feed(x, h);
                }
            }
            Value::Object(o) => {
                // Order-independent: the entries' own hashes, summed.
                let mut sum = 0u64;
                for (k, x) in o {
                    let mut e = std::collections::hash_map::DefaultHasher::new();
                    k.hash(&mut e);
                    feed(x, &mut e);
                    sum = sum.wrapping_add(e.finish());
                }
                (5u8, o.len(), sum).hash(h)
            }
        }
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    feed(v, &mut h);
    h.finish()
}

pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

pub(crate) fn hash(alg: &str, data: &[u8]) -> Option<String> {
    use sha2::Digest;
    fn hex(bytes: &[u8]) -> String {
        let mut s = String::with_capacity(bytes.len() * 2);
        for b in bytes {
            s.push(char::from_digit((b >> 4) as u32, 16).unwrap_or('0'));
            s.push(char::from_digit((b & 15) as u32, 16).unwrap_or('0'));
        }
        s
    }
    Some(match alg {
        "MD5" => hex(&md5::Md5::digest(data)),
        "SHA-1" => hex(&sha1::Sha1::digest(data)),
        "SHA-256" => hex(&sha2::Sha256::digest(data)),
        "SHA-384" => hex(&sha2::Sha384::digest(data)),
        "SHA-512" => hex(&sha2::Sha512::digest(data)),
        _ => return None,
    })
}

/// Deepest nesting of calls inside calls that a definition may use.
const MAX_NESTING: usize = 64;

struct P<'a> {
    s: &'a str,
    i: usize,
    depth: usize,
}

impl P<'_> {
    fn peek(&self) -> Option<char> {
        self.s[self.i..].chars().next()
    }

    fn ws(&mut self) {
        while let Some(c) = self.peek().filter(|c| c.is_whitespace()) {
            // By the character's width: Unicode whitespace is more than one byte.
            self.i += c.len_utf8();
        }
    }

    fn call(&mut self) -> Result<Call, String> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(format!("intrinsic calls are nested more than {MAX_NESTING} deep"));
        }
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '.') {
            self.i += 1;
        }
        let name = &self.s[start..self.i];
        let func = Func::from_name(name).ok_or_else(|| format!("unknown intrinsic function '{name}'"))?;
        if self.peek() != Some('(') {
            return Err(format!("expected '(' after {name}"));
        }
        self.i += 1;
        let mut args = Vec::new();
        self.ws();
        if self.peek() == Some(')') {
            self.i += 1;
        } else {
            loop {
                self.ws();
                args.push(self.arg()?);
                self.ws();
                match self.peek() {
                    Some(',') => self.i += 1,
                    Some(')') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(format!("expected ',' or ')' in the arguments of {name}")),
                }
            }
        }
        let (lo, hi) = func.arity();
        if args.len() < lo || args.len() > hi {
            return Err(format!("{name} does not take {} argument(s)", args.len()));
        }
        self.depth -= 1;
        let format = match (func, args.first()) {
            (Func::Format, Some(Arg::Literal(Value::String(t)))) => Some(split_format(t).into_boxed_slice()),
            _ => None,
        };
        Ok(Call { func, args, format })
    }

    fn arg(&mut self) -> Result<Arg, String> {
        match self.peek() {
            Some('\'') => {
                self.i += 1;
                let mut out = String::new();
                loop {
                    let c = self.peek().ok_or("unterminated string literal")?;
                    self.i += c.len_utf8();
                    match c {
                        '\'' => break,
                        '\\' => {
                            let e = self.peek().ok_or("unterminated string literal")?;
                            self.i += e.len_utf8();
                            match e {
                                '\'' | '\\' => out.push(e),
                                // Format placeholders keep their escape so Format can tell them apart.
                                '{' | '}' => {
                                    out.push('\\');
                                    out.push(e);
                                }
                                other => return Err(format!("invalid escape sequence '\\{other}'")),
                            }
                        }
                        c => out.push(c),
                    }
                }
                Ok(Arg::Literal(Value::String(out)))
            }
            Some('$') => {
                let start = self.i;
                let mut depth = 0i32;
                let mut quote: Option<char> = None;
                while let Some(c) = self.peek() {
                    if let Some(q) = quote {
                        if c == q {
                            quote = None;
                        }
                    } else {
                        match c {
                            '[' | '(' => depth += 1,
                            ']' => depth -= 1,
                            ')' if depth == 0 => break,
                            ')' => depth -= 1,
                            ',' if depth == 0 => break,
                            '\'' | '"' => quote = Some(c),
                            _ => {}
                        }
                    }
                    self.i += c.len_utf8();
                }
                let text = self.s[start..self.i].trim_end();
                JsonPath::parse(text).map(Arg::Path).map_err(|e| e.to_string())
            }
            Some('S') => Ok(Arg::Call(Box::new(self.call()?))),
            _ => {
                let start = self.i;
                while let Some(c) = self.peek().filter(|c| *c != ',' && *c != ')') {
                    self.i += c.len_utf8();
                }
                let t = self.s[start..self.i].trim();
                match serde_json::from_str::<Value>(t) {
                    Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => Ok(Arg::Literal(v)),
                    _ => Err(format!("invalid argument '{t}'")),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(expr: &str, input: Value) -> Result<Value, StatesError> {
        let call = Call::parse(expr).map_err(StatesError::runtime)?;
        let env = Env::for_tests(&input);
        call.eval(&env)
    }

    #[test]
    fn characters_wider_than_a_byte_outside_quotes_are_errors_not_panics() {
        // Unicode whitespace between arguments is whitespace; a bare non-ASCII word is not an
        // argument.
        assert_eq!(run("States.Array(1,\u{3000}2)", json!({})), Ok(json!([1, 2])));
        assert!(run("States.Array(é)", json!({})).is_err());
        assert!(run("States.Format('{}',\u{2028}é)", json!({})).is_err());
    }

    #[test]
    fn format_and_escapes() {
        assert_eq!(run("States.Format('Hello, {}!', $.n)", json!({"n": "world"})).ok(), Some(json!("Hello, world!")));
        assert_eq!(run("States.Format('a\\{\\}b {}', 1.5)", json!({})).ok(), Some(json!("a{}b 1.5")));
        assert_eq!(run("States.Format('it\\'s {}', true)", json!({})).ok(), Some(json!("it's true")));
        assert!(run("States.Format('{} {}', 1)", json!({})).is_err());
        assert!(run("States.Format('{}', 1, 2)", json!({})).is_err());
        assert!(run("States.Format('{}', $.o)", json!({"o": {}})).is_err());
        // An argument's own error comes before one that cannot be written out, wherever it is.
        let cause = |r: Result<Value, StatesError>| r.err().and_then(|e| e.cause).unwrap_or_default();
        let o = json!({"o": {}, "n": 1});
        assert!(cause(run("States.Format('{} {}', $.o, $.missing)", o.clone())).contains("could not be found"));
        assert!(cause(run("States.Format('{} {}', $.o, States.MathAdd('x', 1))", o.clone())).contains("MathAdd"));
        assert!(cause(run("States.Format('{} {}', $.o, $.n)", o.clone())).contains("must be strings"));
        assert!(cause(run("States.Format('{}', $.o, $.missing)", o)).contains("could not be found"));
        // A brace that opens no placeholder is text; text around placeholders is kept whole,
        // wide characters included.
        let i = json!({"s": "ü", "n": null, "k": -3});
        assert_eq!(
            run("States.Format('{x} {{}} é{}ß{}{}', $.s, $.n, $.k, 'q')", i).ok(),
            Some(json!("{x} {ü} énullß-3q"))
        );
        assert_eq!(run("States.Format('\\{ü\\}{}', 'z')", json!({})), Ok(json!("{ü}z")));
        assert!(Call::parse("States.Format('bad \\\" escape')").is_err());
    }

    #[test]
    fn arrays() {
        let i = json!({"a": [1, 2, 2, 3, 4], "b": 2});
        assert_eq!(run("States.ArrayPartition($.a, 2)", i.clone()).ok(), Some(json!([[1, 2], [2, 3], [4]])));
        assert_eq!(run("States.ArrayContains($.a, $.b)", i.clone()).ok(), Some(json!(true)));
        assert_eq!(run("States.ArrayRange(1, 9, 2)", i.clone()).ok(), Some(json!([1, 3, 5, 7, 9])));
        assert_eq!(run("States.ArrayGetItem($.a, 4)", i.clone()).ok(), Some(json!(4)));
        assert_eq!(run("States.ArrayLength($.a)", i.clone()).ok(), Some(json!(5)));
        assert_eq!(run("States.ArrayUnique($.a)", i.clone()).ok(), Some(json!([1, 2, 3, 4])));
        // Equal as JSON: numbers by value, objects whatever their key order; first one kept.
        let mixed = json!({"m": [{"a": 1, "b": [2]}, 1, {"b": [2.0], "a": 1.0}, 1.0, "1", -0.0, 0, null, null]});
        assert_eq!(run("States.ArrayUnique($.m)", mixed).ok(), Some(json!([{"a": 1, "b": [2]}, 1, "1", -0.0, null])));
        assert_eq!(run("States.Array('x', $.b, States.ArrayLength($.a))", i).ok(), Some(json!(["x", 2, 5])));
    }

    #[test]
    fn strings_hashes_math() {
        assert_eq!(run("States.StringSplit('a.b+c', '.+')", json!({})).ok(), Some(json!(["a", "b", "c"])));
        assert_eq!(run("States.Base64Encode('hi')", json!({})).ok(), Some(json!("aGk=")));
        assert_eq!(run("States.Base64Decode('aGk=')", json!({})).ok(), Some(json!("hi")));
        assert_eq!(
            run("States.Hash('abc', 'SHA-256')", json!({})).ok(),
            Some(json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
        );
        assert_eq!(run("States.MathAdd(-3, 5)", json!({})).ok(), Some(json!(2)));
        let r = run("States.MathRandom(1, 10)", json!({})).ok().and_then(|v| v.as_i64());
        assert!(r.is_some_and(|x| (1..10).contains(&x)));
        let u = run("States.UUID()", json!({})).ok();
        assert!(u.as_ref().and_then(Value::as_str).is_some_and(|s| s.len() == 36 && &s[14..15] == "4"));
        assert_eq!(
            run("States.JsonMerge($.a, $.b, false)", json!({"a": {"x": 1, "y": 1}, "b": {"y": 2}})).ok(),
            Some(json!({"x": 1, "y": 2}))
        );
        assert_eq!(run("States.StringToJson('{\"a\":1}')", json!({})).ok(), Some(json!({"a": 1})));
        assert_eq!(run("States.JsonToString($.a)", json!({"a": {"b": [1]}})).ok(), Some(json!("{\"b\":[1]}")));
    }
}
