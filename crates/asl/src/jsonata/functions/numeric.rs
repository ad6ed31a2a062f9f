//! Numeric and aggregation functions: `$number`, `$abs`, `$floor`, `$ceil`, `$round`, `$power`,
//! `$sqrt`, `$random`, `$formatNumber`, `$formatBase`, `$sum`, `$max`, `$min`, `$average`.

use super::*;
use crate::jsonata::picture::number as picture;

pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin { name: "formatBase", sig: "<n-n?:s>", call: format_base },
    Builtin { name: "formatNumber", sig: "<n-so?:s>", call: format_number },
    Builtin { name: "formatInteger", sig: "<n-s:s>", call: format_integer },
    Builtin { name: "parseInteger", sig: "<s-s:n>", call: parse_integer },
    Builtin { name: "number", sig: "<(nsb)-:n>", call: number },
    Builtin { name: "abs", sig: "<n-:n>", call: abs },
    Builtin { name: "floor", sig: "<n-:n>", call: floor },
    Builtin { name: "ceil", sig: "<n-:n>", call: ceil },
    Builtin { name: "round", sig: "<n-n?:n>", call: round },
    Builtin { name: "power", sig: "<n-n:n>", call: power },
    Builtin { name: "sqrt", sig: "<n-:n>", call: sqrt },
    // AWS adds an optional seed.
    Builtin { name: "random", sig: "<n?:n>", call: random },
    Builtin { name: "sum", sig: "<a<n>:n>", call: sum },
    Builtin { name: "max", sig: "<a<n>:n>", call: sum },
    Builtin { name: "min", sig: "<a<n>:n>", call: sum },
    Builtin { name: "average", sig: "<a<n>:n>", call: sum },
];

/// Round half to even at `places` decimals, as JSONata's `$round` does.
pub(super) fn round_half_even(x: f64, places: f64) -> f64 {
    let shift = |v: f64, by: f64| shift10(v, by as i32);
    let v = if places == 0.0 { x } else { shift(x, places) };
    let mut r = v.round();
    if (v - v.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r -= v.signum();
    }
    if places == 0.0 {
        r
    } else {
        shift(r, -places)
    }
}

/// `v × 10^by` on the decimal digits of `v`'s shortest form (so 2.675 at two places is
/// 267.5, not 267.49…), as parsing `<digits>e<exponent>` would give it.
fn shift10(v: f64, by: i32) -> f64 {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
        1e20, 1e21, 1e22,
    ];
    if !v.is_finite() || v == 0.0 {
        return v;
    }
    let mut buf = ryu::Buffer::new();
    let text = buf.format_finite(v.abs());
    let (m, e) = text.split_once('e').unwrap_or((text, "0"));
    let (ip, fp) = m.split_once('.').unwrap_or((m, ""));
    let exp = e.parse::<i32>().unwrap_or(0).saturating_sub(fp.len() as i32).saturating_add(by);
    let digits = ip.len() + fp.len();
    // An integer of 15 digits and a power of ten up to 1e22 are exact: one correctly rounded
    // operation on them gives what parsing the text would.
    let magnitude = if digits <= 15 && exp.unsigned_abs() <= 22 {
        let d = ip.bytes().chain(fp.bytes()).fold(0u64, |acc, c| acc * 10 + u64::from(c - b'0')) as f64;
        if exp >= 0 {
            d * POW10[exp as usize]
        } else {
            d / POW10[(-exp) as usize]
        }
    } else {
        format!("{ip}{fp}e{exp}").parse().unwrap_or(v.abs())
    };
    magnitude.copysign(v)
}

fn format_base<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let Some(x) = n_arg(a, 0) else {
        return Ok(Val::Undef);
    };
    let radix = n_arg(a, 1).unwrap_or(10.0);
    if !(2.0..=36.0).contains(&radix) {
        return Err(err(
            "D3100",
            format!(
                "The radix of the formatBase function must be between 2 and 36.  It was given {}",
                super::super::value::js_number(radix)
            ),
        ));
    }
    let radix = radix as u32;
    let v = round_half_even(x, 0.0);
    let neg = v < 0.0;
    let mut v = v.abs();
    let mut digits = Vec::new();
    loop {
        digits.push(std::char::from_digit((v % radix as f64) as u32, radix).unwrap_or('0'));
        v = (v / radix as f64).floor();
        if v < 1.0 {
            break;
        }
    }
    if neg {
        digits.push('-');
    }
    s(digits.into_iter().rev().collect::<String>())
}

fn format_number<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let Some(x) = n_arg(a, 0) else {
        return Ok(Val::Undef);
    };
    let pic = s_arg(a, 1).unwrap_or_default();
    let mut format = picture::DecimalFormat::default();
    if arg(a, 2).is_object() {
        for (k, v) in arg(a, 2).entries() {
            if let Some(v) = v.as_str() {
                format.set(&k, v);
            }
        }
    }
    s(picture::format_number(x, pic, &format)?)
}

fn format_integer<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let Some(x) = n_arg(a, 0) else {
        return Ok(Val::Undef);
    };
    s(picture::format_integer(x, s_arg(a, 1).unwrap_or_default())?)
}

/// Text that holds no integer is NaN in jsonata-js; here it is undefined.
fn parse_integer<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let Some(text) = s_arg(a, 0) else {
        return Ok(Val::Undef);
    };
    match picture::parse_integer(text, s_arg(a, 1).unwrap_or_default())? {
        Some(v) if v.is_finite() => n(v),
        _ => Ok(Val::Undef),
    }
}

/// A JSON number's text (no sign or spaces around it).
fn json_number(t: &str) -> Option<f64> {
    let b = t.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let s = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > s
    };
    let int_start = i;
    if !digits(&mut i) || (b[int_start] == b'0' && i - int_start > 1) {
        return None;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if !digits(&mut i) {
            return None;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if !digits(&mut i) {
            return None;
        }
    }
    (i == b.len()).then(|| t.parse().ok()).flatten()
}

fn number<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    match arg(a, 0) {
        Val::Undef => Ok(Val::Undef),
        Val::Num(x) => Ok(Val::Num(*x)),
        Val::Bool(x) => Ok(Val::Num(if *x { 1.0 } else { 0.0 })),
        v => {
            let x = v.as_str().unwrap_or_default();
            let radix = |p: &str, r: u32| {
                x.strip_prefix(p)
                    .filter(|d| !d.is_empty())
                    .and_then(|d| u64::from_str_radix(d, r).ok())
                    .map(|v| v as f64)
            };
            let parsed = radix("0x", 16)
                .or_else(|| radix("0X", 16))
                .or_else(|| radix("0o", 8))
                .or_else(|| radix("0O", 8))
                .or_else(|| radix("0b", 2))
                .or_else(|| radix("0B", 2))
                .or_else(|| json_number(x));
            match parsed.filter(|p| p.is_finite()) {
                Some(v) => Ok(Val::Num(v)),
                None => Err(err("D3030", format!("Unable to cast value to a number: {}", show(v)))),
            }
        }
    }
}

fn unary<'a>(a: &[Val<'a>], f: impl Fn(f64) -> f64) -> R<'a> {
    match n_arg(a, 0) {
        Some(x) => n(f(x)),
        None => Ok(Val::Undef),
    }
}

fn abs<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    unary(a, f64::abs)
}

fn floor<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    unary(a, f64::floor)
}

fn ceil<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    unary(a, f64::ceil)
}

fn round<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let Some(x) = n_arg(a, 0) else {
        return Ok(Val::Undef);
    };
    let p = n_arg(a, 1).unwrap_or(0.0).trunc();
    n(round_half_even(x, p))
}

fn power<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let (Some(x), Some(y)) = (n_arg(a, 0), n_arg(a, 1)) else {
        return Ok(Val::Undef);
    };
    let r = x.powf(y);
    if !r.is_finite() {
        return Err(err(
            "D3061",
            format!(
                "The power function has resulted in a value that cannot be represented as a JSON number: base={}, exponent={}",
                super::super::value::js_number(x),
                super::super::value::js_number(y)
            ),
        ));
    }
    n(r)
}

fn sqrt<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let Some(x) = n_arg(a, 0) else {
        return Ok(Val::Undef);
    };
    if x < 0.0 {
        return Err(err(
            "D3060",
            format!("The sqrt function cannot be applied to a negative number: {}", super::super::value::js_number(x)),
        ));
    }
    n(x.sqrt())
}

fn random<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    use rand::{Rng, SeedableRng};
    n(match n_arg(a, 0) {
        None => rand::random(),
        Some(seed) => rand_chacha::ChaCha12Rng::seed_from_u64(seed as i64 as u64).gen(),
    })
}

fn sum<'a>(_ctx: &Ctx<'a>, name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let v = arg(a, 0);
    if v.is_undef() {
        return Ok(Val::Undef);
    }
    let mut xs = Vec::with_capacity(v.len());
    v.for_each(|it| {
        xs.push(it.as_num().unwrap_or(0.0));
        Ok::<(), ()>(())
    })
    .unwrap_or(());
    match name {
        "sum" => n(xs.iter().sum()),
        _ if xs.is_empty() => Ok(Val::Undef),
        "max" => n(xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max)),
        "min" => n(xs.iter().cloned().fold(f64::INFINITY, f64::min)),
        _ => n(xs.iter().sum::<f64>() / xs.len() as f64),
    }
}
