//! Higher-order functions: `$map`, `$filter`, `$single`, `$reduce`.

use super::*;

pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin { name: "map", context_below: 0, call: map },
    Builtin { name: "filter", context_below: 0, call: map },
    Builtin { name: "single", context_below: 0, call: map },
    Builtin { name: "reduce", context_below: 0, call: reduce },
];

fn map(ctx: &Ctx<'_>, name: &'static str, a: &[Val], input: &Val) -> R {
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
            0 => Err(err("D3139", "The $single() function expected exactly 1 matching result.  Instead it matched 0.")),
            k => Err(err(
                "D3138",
                format!("The $single() function expected exactly 1 matching result.  Instead it matched {k}."),
            )),
        };
    }
    Ok(from_seq(out, false))
}

fn reduce(ctx: &Ctx<'_>, name: &'static str, a: &[Val], input: &Val) -> R {
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
