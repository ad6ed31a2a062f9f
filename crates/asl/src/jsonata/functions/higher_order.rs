//! Higher-order functions: `$map`, `$filter`, `$single`, `$reduce`; a callback is given as
//! many of (value, index, array) as it declares parameters.

use super::*;

pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin { name: "map", sig: "<af>", call: map },
    Builtin { name: "filter", sig: "<af>", call: map },
    Builtin { name: "single", sig: "<af?>", call: map },
    Builtin { name: "reduce", sig: "<afj?:j>", call: reduce },
];

fn map<'a>(ctx: &Ctx<'a>, name: &'static str, a: &[Val<'a>], input: &Val<'a>) -> R<'a> {
    let whole = arg(a, 0);
    if whole.is_undef() {
        return Ok(Val::Undef);
    }
    let f = match arg(a, 1) {
        Val::F(f) => Some(f.clone()),
        _ => None,
    };
    let items = whole.items();
    let mut out = Vec::new();
    for (i, it) in items.into_iter().enumerate() {
        let r = match &f {
            Some(f) => callback(ctx, f, [it.clone(), Val::Num(i as f64), whole.clone()], input)?,
            None => Val::Bool(true),
        };
        match name {
            "map" => {
                if !r.is_undef() {
                    out.push(r)
                }
            }
            _ => {
                if truthy(&r) {
                    out.push(it);
                }
            }
        }
    }
    if name == "single" {
        return match out.len() {
            1 => Ok(out.pop().unwrap_or(Val::Undef)),
            0 => Err(err("D3139", "The $single() function expected exactly 1 matching result.  Instead it matched 0.")),
            _ => Err(err(
                "D3138",
                "The $single() function expected exactly 1 matching result.  Instead it matched more.",
            )),
        };
    }
    Ok(Val::seq(out))
}

fn reduce<'a>(ctx: &Ctx<'a>, name: &'static str, a: &[Val<'a>], input: &Val<'a>) -> R<'a> {
    let whole = arg(a, 0);
    if whole.is_undef() {
        return Ok(Val::Undef);
    }
    let f = f_arg(name, a, 1)?;
    let arity = Ctx::arity(&f);
    if arity < 2 {
        return Err(err(
            "D3050",
            "The second argument of reduce function must be a function with at least two arguments",
        ));
    }
    let items = whole.items();
    let mut it = items.into_iter().enumerate();
    let mut acc = match arg(a, 2) {
        Val::Undef => match it.next() {
            Some((_, v)) => v,
            None => return Ok(Val::Undef),
        },
        init => init.clone(),
    };
    for (i, v) in it {
        let all = [acc, v, Val::Num(i as f64), whole.clone()];
        acc = ctx.apply(&f, all.into_iter().take(arity.min(4)).collect(), input)?;
    }
    Ok(acc)
}
