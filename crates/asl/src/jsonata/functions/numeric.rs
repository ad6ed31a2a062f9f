//! Numeric and aggregation functions: `$number`, `$abs`, `$floor`, `$ceil`, `$round`, `$power`,
//! `$sqrt`, `$random`, `$formatNumber`, `$formatBase`, `$formatInteger`, `$parseInteger`,
//! `$sum`, `$max`, `$min`, `$average`. Pictures are [`crate::jsonata::picture`]'s.

use super::*;
use crate::jsonata::picture::number as picture;

pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin { name: "formatBase", context_below: 0, call: format_base },
    Builtin { name: "formatNumber", context_below: 0, call: format_number },
    Builtin { name: "formatInteger", context_below: 0, call: format_integer },
    Builtin { name: "parseInteger", context_below: 0, call: parse_integer },
    Builtin { name: "number", context_below: 1, call: number },
    Builtin { name: "abs", context_below: 1, call: abs },
    Builtin { name: "floor", context_below: 1, call: floor },
    Builtin { name: "ceil", context_below: 1, call: ceil },
    Builtin { name: "round", context_below: 1, call: round },
    Builtin { name: "power", context_below: 0, call: power },
    Builtin { name: "sqrt", context_below: 1, call: sqrt },
    Builtin { name: "random", context_below: 0, call: random },
    Builtin { name: "sum", context_below: 0, call: sum },
    Builtin { name: "max", context_below: 0, call: sum },
    Builtin { name: "min", context_below: 0, call: sum },
    Builtin { name: "average", context_below: 0, call: sum },
];

fn format_base(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
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

fn format_number(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    let Some(x) = n_arg(name, a, 0)? else {
        return Ok(Val::Undef);
    };
    let pic = s_arg(name, a, 1)?.ok_or_else(|| bad(name, 1, arg(a, 1)))?;
    let mut format = picture::DecimalFormat::default();
    match arg(a, 2) {
        Val::Undef => {}
        Val::J(Value::Object(o)) => {
            for (k, v) in o {
                if let Value::String(v) = v {
                    format.set(k, v);
                }
            }
        }
        other => return Err(bad(name, 2, other)),
    }
    s(picture::format_number(x, pic, &format)?)
}

fn format_integer(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    let Some(x) = n_arg(name, a, 0)? else {
        return Ok(Val::Undef);
    };
    let pic = s_arg(name, a, 1)?.ok_or_else(|| bad(name, 1, arg(a, 1)))?;
    s(picture::format_integer(x, pic)?)
}

/// Text that holds no integer is NaN in jsonata-js; here it is undefined.
fn parse_integer(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    let Some(text) = s_arg(name, a, 0)? else {
        return Ok(Val::Undef);
    };
    let pic = s_arg(name, a, 1)?.ok_or_else(|| bad(name, 1, arg(a, 1)))?;
    match picture::parse_integer(text, pic)? {
        Some(v) if v.is_finite() => n(v),
        _ => Ok(Val::Undef),
    }
}

fn number(_ctx: &Ctx<'_>, _name: &'static str, a: &[Val], _input: &Val) -> R {
    match arg(a, 0) {
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
    }
}

fn abs(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    Ok(match n_arg(name, a, 0)? {
        Some(x) => Val::J(num(x.abs())?),
        None => Val::Undef,
    })
}

fn floor(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    Ok(match n_arg(name, a, 0)? {
        Some(x) => Val::J(num(x.floor())?),
        None => Val::Undef,
    })
}

fn ceil(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    Ok(match n_arg(name, a, 0)? {
        Some(x) => Val::J(num(x.ceil())?),
        None => Val::Undef,
    })
}

fn round(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
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

fn power(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
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

fn sqrt(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    let Some(x) = n_arg(name, a, 0)? else {
        return Ok(Val::Undef);
    };
    if x < 0.0 {
        return Err(err("D3060", "The sqrt function cannot be applied to a negative number"));
    }
    n(x.sqrt())
}

fn random(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    use rand::{Rng, SeedableRng};
    let v: f64 = match arg(a, 0) {
        Val::Undef => rand::random(),
        Val::J(Value::Number(seed)) => {
            let seed = seed.as_f64().unwrap_or(0.0) as i64 as u64;
            rand_chacha::ChaCha12Rng::seed_from_u64(seed).gen()
        }
        other => return Err(bad(name, 0, other)),
    };
    n(v)
}

fn sum(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
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
