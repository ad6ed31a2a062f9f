//! The functions AWS Step Functions adds: `$partition`, `$range`, `$hash`, `$uuid`, `$parse`
//! (and the seeded `$random`, with the numeric functions). They check their own arguments.

use super::*;

pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin { name: "partition", sig: "", call: partition },
    Builtin { name: "range", sig: "", call: range },
    Builtin { name: "hash", sig: "", call: hash },
    Builtin { name: "uuid", sig: "", call: uuid },
    Builtin { name: "parse", sig: "", call: parse },
];

fn partition<'a>(_ctx: &Ctx<'a>, name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let v = arg(a, 0);
    if !v.is_array() {
        return Err(bad(name, 0));
    }
    let size = match n_arg(a, 1) {
        Some(x) if x >= 1.0 && x.fract() == 0.0 => x as usize,
        _ => return Err(err("States.QueryEvaluationError", "The chunk size of $partition must be a positive integer")),
    };
    Ok(Val::array(v.items().chunks(size).map(|c| Val::array(c.to_vec())).collect()))
}

fn range<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let (Some(start), Some(end), Some(step)) = (n_arg(a, 0), n_arg(a, 1), n_arg(a, 2)) else {
        return Err(err("T0410", "$range expects start, end and step"));
    };
    if [start, end, step].iter().any(|x| x.fract() != 0.0) || step == 0.0 {
        return Err(err("T0410", "$range expects integer start, end and a non-zero integer step"));
    }
    let mut out = Vec::new();
    let mut x = start;
    while (step > 0.0 && x <= end) || (step < 0.0 && x >= end) {
        out.push(Val::Num(x));
        if out.len() > 1000 {
            return Err(err("T0410", "$range would produce more than 1000 items"));
        }
        x += step;
    }
    Ok(Val::array(out))
}

fn hash<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let data = match arg(a, 0) {
        Val::Undef => return Ok(Val::Undef),
        other => stringify(other)?,
    };
    let alg = s_arg(a, 1).unwrap_or("SHA-256");
    match crate::intrinsic::hash(alg, data.as_bytes()) {
        Some(h) => s(h),
        None => Err(err("T0410", format!("unsupported hash algorithm '{alg}'"))),
    }
}

fn uuid<'a>(_ctx: &Ctx<'a>, _name: &'static str, _a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    s(uuid::Uuid::new_v4().to_string())
}

fn parse<'a>(_ctx: &Ctx<'a>, name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    match arg(a, 0) {
        Val::Undef => Ok(Val::Undef),
        v => match v.as_str() {
            Some(x) => {
                let parsed: serde_json::Value =
                    serde_json::from_str(x).map_err(|e| err("D3140", format!("Unable to parse JSON: {e}")))?;
                Ok(from_json(parsed))
            }
            None => Err(bad(name, 0)),
        },
    }
}

/// A parsed document as built values (it outlives nothing the evaluation borrows).
fn from_json<'a>(v: serde_json::Value) -> Val<'a> {
    use serde_json::Value as J;
    match v {
        J::Null => Val::Null,
        J::Bool(b) => Val::Bool(b),
        J::Number(x) => Val::Num(x.as_f64().unwrap_or(0.0)),
        J::String(x) => Val::str(x),
        J::Array(items) => Val::array(items.into_iter().map(from_json).collect()),
        J::Object(m) => {
            let mut o = Obj::default();
            for (k, x) in m {
                o.insert(k, from_json(x));
            }
            Val::Obj(Rc::new(o))
        }
    }
}
