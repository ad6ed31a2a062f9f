//! The functions AWS Step Functions adds: `$partition`, `$range`, `$hash`, `$uuid`, `$parse`
//! (and the seeded `$random`, with the numeric functions).

use super::*;

pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin { name: "partition", context_below: 0, call: partition },
    Builtin { name: "range", context_below: 0, call: range },
    Builtin { name: "hash", context_below: 0, call: hash },
    Builtin { name: "uuid", context_below: 0, call: uuid },
    Builtin { name: "parse", context_below: 0, call: parse },
];

fn partition(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    let items = match arg(a, 0) {
        Val::J(Value::Array(x)) => x.clone(),
        other => return Err(bad(name, 0, other)),
    };
    let size = match n_arg(name, a, 1)? {
        Some(x) if x >= 1.0 && x.fract() == 0.0 => x as usize,
        _ => return Err(err("States.QueryEvaluationError", "The chunk size of $partition must be a positive integer")),
    };
    Ok(Val::J(Value::Array(items.chunks(size).map(|c| Value::Array(c.to_vec())).collect())))
}

fn range(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    let (Some(start), Some(end), Some(step)) = (n_arg(name, a, 0)?, n_arg(name, a, 1)?, n_arg(name, a, 2)?) else {
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

fn hash(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
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

fn uuid(_ctx: &Ctx<'_>, _name: &'static str, _a: &[Val], _input: &Val) -> R {
    s(uuid::Uuid::new_v4().to_string())
}

fn parse(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    match s_arg(name, a, 0)? {
        Some(x) => {
            serde_json::from_str::<Value>(x).map(Val::J).map_err(|e| err("D3140", format!("Unable to parse JSON: {e}")))
        }
        None => Ok(Val::Undef),
    }
}
