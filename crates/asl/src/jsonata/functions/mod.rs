//! The JSONata function library, plus the functions AWS Step Functions adds
//! (`$partition`, `$range`, `$hash`, `$random` with a seed, `$uuid`, `$parse`).
//!
//! Every built-in is one [`Builtin`] entry in its family's `FUNCTIONS` table (one file per
//! family of the specification, and `aws` for AWS's additions) with the reference's
//! signature; [`call`] checks and coerces the arguments against it (context value for a
//! missing first argument, single values as arrays) before the function runs, so the
//! functions themselves only see arguments of the declared types (or undefined).

use std::rc::Rc;
use std::sync::OnceLock;

use base64::Engine as _;

use super::eval::{show, stringify, Ctx, R};
use super::signature::Signature;
use super::value::{deep_eq, err, num, truthy, Func, Obj, Val};
use super::JsonataError;

mod array;
mod aws;
mod boolean;
mod datetime;
mod higher_order;
mod numeric;
mod object;
mod string;

/// A built-in's implementation: the evaluation, its name, the checked arguments and the
/// context value.
pub type Call = for<'a> fn(&Ctx<'a>, &'static str, &[Val<'a>], &Val<'a>) -> R<'a>;

/// A built-in function.
#[derive(Debug)]
pub struct Builtin {
    pub name: &'static str,
    /// The reference's signature; empty: the function checks its arguments itself.
    pub sig: &'static str,
    pub call: Call,
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

/// A built-in with its parsed signature.
#[derive(Debug)]
pub struct Entry {
    builtin: &'static Builtin,
    sig: Option<Signature>,
}

/// Built-ins whose jsonata-js 2.0.6 implementation declares a parameter with a default
/// value, and that parameter's place (from 1): jsonata-js partially applies a built-in by
/// reading its JavaScript parameter list back as a JSONata function definition, where
/// `prettify = false` is not a variable name, so `$string(?)` is an S0208 error.
const DEFAULTED_PARAMETER: &[(&str, usize)] = &[("string", 2)];

impl Entry {
    /// Refuse a partial application of this built-in where jsonata-js 2.0.6 cannot make one.
    pub fn check_partial(&self) -> Result<(), JsonataError> {
        match DEFAULTED_PARAMETER.iter().find(|(name, _)| *name == self.builtin.name) {
            Some((_, place)) => Err(err(
                "S0208",
                format!("Parameter {place} of function definition must be a variable name (start with $)"),
            )),
            None => Ok(()),
        }
    }
}

type Table = std::collections::HashMap<&'static str, Entry>;

fn table() -> &'static Table {
    static BY_NAME: OnceLock<Table> = OnceLock::new();
    BY_NAME.get_or_init(|| {
        FAMILIES
            .iter()
            .flat_map(|f| f.iter())
            .map(|b| {
                // The signatures are fixed text, covered by the tests.
                let sig = (!b.sig.is_empty()).then(|| Signature::parse(b.sig).ok()).flatten();
                (b.name, Entry { builtin: b, sig })
            })
            .collect()
    })
}

/// The built-in called `name` (without the `$`).
pub fn lookup(name: &str) -> Option<&'static Entry> {
    table().get(name)
}

/// How many arguments a built-in declares.
pub fn arity(e: &Entry) -> usize {
    e.sig.as_ref().map(Signature::arity).unwrap_or(1)
}

/// Call `e` with `args`; `input` is the context value.
pub fn call<'a>(ctx: &Ctx<'a>, e: &'static Entry, args: Vec<Val<'a>>, input: &Val<'a>) -> R<'a> {
    let f = e.builtin;
    match &e.sig {
        Some(sig) => {
            let mut args = sig.validate(f.name, args, input)?;
            args.resize(args.len().max(PADDED), Val::Undef);
            (f.call)(ctx, f.name, &args, input)
        }
        None => {
            let mut args = args;
            args.resize(args.len().max(PADDED), Val::Undef);
            (f.call)(ctx, f.name, &args, input)
        }
    }
}

/// Arguments are padded with undefined up to [`PADDED`], so reading one is indexing.
fn arg<'v, 'a>(args: &'v [Val<'a>], i: usize) -> &'v Val<'a> {
    &args[i.min(args.len().saturating_sub(1))]
}

/// More than any built-in reads.
pub const PADDED: usize = 4;

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

fn bad(name: &str, i: usize) -> JsonataError {
    err("T0410", format!("Argument {} of function \"{name}\" does not match function signature", i + 1))
}

/// A string argument (the signature has checked the type).
fn s_arg<'v>(args: &'v [Val<'_>], i: usize) -> Option<&'v str> {
    arg(args, i).as_str()
}

fn n_arg(args: &[Val<'_>], i: usize) -> Option<f64> {
    arg(args, i).as_num()
}

fn f_arg<'a>(name: &str, args: &[Val<'a>], i: usize) -> Result<Rc<Func<'a>>, JsonataError> {
    match arg(args, i) {
        Val::F(f) => Ok(f.clone()),
        _ => Err(bad(name, i)),
    }
}

fn s<'a>(v: impl Into<Rc<str>>) -> R<'a> {
    Ok(Val::Str(v.into()))
}

fn n<'a>(x: f64) -> R<'a> {
    num(x)
}

/// Call a callback with as many of `(value, index/key, whole)` as it declares.
fn callback<'a>(ctx: &Ctx<'a>, f: &Rc<Func<'a>>, all: [Val<'a>; 3], input: &Val<'a>) -> R<'a> {
    let k = Ctx::arity(f).min(3);
    let args: Vec<Val<'a>> = all.into_iter().take(k.max(1)).collect();
    ctx.apply(f, args, input)
}

/// The object `$match` returns for one regex match.
fn match_object<'a>(text: &str, c: &regex::Captures<'_>) -> Val<'a> {
    let m = c.get(0);
    let groups: Vec<Val<'a>> =
        (1..c.len()).map(|i| Val::str(c.get(i).map(|g| g.as_str()).unwrap_or_default())).collect();
    let mut o = Obj::default();
    o.insert("match", Val::str(m.map(|m| m.as_str()).unwrap_or("")));
    let index = m.map(|m| text[..m.start()].encode_utf16().count()).unwrap_or(0);
    o.insert("index", Val::Num(index as f64));
    o.insert("groups", Val::array(groups));
    Val::Obj(Rc::new(o))
}

/// A regex used as a function: its first match object, or undefined.
pub fn regex_match<'a>(re: &regex::Regex, arg: Option<&Val<'a>>) -> R<'a> {
    match arg.and_then(Val::as_str) {
        Some(x) => Ok(re.captures(x).map(|c| match_object(x, &c)).unwrap_or(Val::Undef)),
        None => Ok(Val::Undef),
    }
}

/// The regex of a `(sf)` argument that is a function, or T0410.
fn regex_of<'v>(name: &str, v: &'v Val<'_>, i: usize) -> Result<&'v regex::Regex, JsonataError> {
    match v {
        Val::F(f) => match &**f {
            Func::Regex(re) => Ok(re),
            _ => Err(bad(name, i)),
        },
        _ => Err(bad(name, i)),
    }
}
