//! Object functions: `$keys`, `$lookup`, `$spread`, `$merge`, `$sift`, `$each`, `$error`,
//! `$assert`, `$type`.

use super::*;

pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin { name: "keys", context_below: 1, call: keys },
    Builtin { name: "lookup", context_below: 0, call: lookup },
    Builtin { name: "spread", context_below: 1, call: spread },
    Builtin { name: "merge", context_below: 0, call: merge },
    Builtin { name: "sift", context_below: 0, call: sift },
    Builtin { name: "each", context_below: 0, call: sift },
    Builtin { name: "error", context_below: 0, call: error },
    Builtin { name: "assert", context_below: 0, call: assert },
    Builtin { name: "type", context_below: 0, call: r#type },
];

fn keys(_ctx: &Ctx<'_>, _name: &'static str, a: &[Val], _input: &Val) -> R {
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

fn lookup(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
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

fn spread(_ctx: &Ctx<'_>, _name: &'static str, a: &[Val], _input: &Val) -> R {
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

fn merge(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
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

fn sift(ctx: &Ctx<'_>, name: &'static str, a: &[Val], input: &Val) -> R {
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

fn error(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    Err(err("D3137", s_arg(name, a, 0)?.unwrap_or("$error() function evaluated").to_string()))
}

fn assert(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    if truthy(arg(a, 0)) {
        Ok(Val::Undef)
    } else {
        Err(err("D3141", s_arg(name, a, 1)?.unwrap_or("$assert() statement failed").to_string()))
    }
}

fn r#type(_ctx: &Ctx<'_>, _name: &'static str, a: &[Val], _input: &Val) -> R {
    Ok(match arg(a, 0) {
        Val::Undef => Val::Undef,
        Val::F(_) => Val::J(Value::String("function".into())),
        Val::J(v) => Val::J(Value::String(crate::jsonpath::type_name(v).into())),
    })
}
