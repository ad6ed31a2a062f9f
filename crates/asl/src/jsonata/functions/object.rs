//! Object functions: `$keys`, `$lookup`, `$spread`, `$merge`, `$sift`, `$each`, `$error`,
//! `$assert`, `$type`.

use super::*;

pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin { name: "keys", sig: "<x-:a<s>>", call: keys },
    Builtin { name: "lookup", sig: "<x-s:x>", call: lookup },
    Builtin { name: "spread", sig: "<x-:a<o>>", call: spread },
    Builtin { name: "merge", sig: "<a<o>:o>", call: merge },
    Builtin { name: "sift", sig: "<o-f?:o>", call: sift },
    Builtin { name: "each", sig: "<o-f:a>", call: each },
    Builtin { name: "error", sig: "<s?:x>", call: error },
    Builtin { name: "assert", sig: "<bs?:x>", call: assert },
    Builtin { name: "type", sig: "<x:s>", call: r#type },
];

fn keys<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let v = arg(a, 0);
    let mut out: Vec<Val<'a>> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let objects = if v.is_array() { v.items() } else { vec![v.clone()] };
    for o in objects {
        for (k, _) in o.entries() {
            if seen.insert(k.clone()) {
                out.push(Val::key(k));
            }
        }
    }
    Ok(Val::seq(out))
}

fn lookup<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let key = s_arg(a, 1).unwrap_or_default();
    let v = arg(a, 0);
    if v.is_array() {
        let mut out = Vec::new();
        v.for_each(|it| {
            let r = lookup(_ctx, _name, &[it, arg(a, 1).clone()], _input)?;
            if r.is_array() {
                out.extend(r.items());
            } else if !r.is_undef() {
                out.push(r);
            }
            Ok::<(), JsonataError>(())
        })?;
        return Ok(Val::seq(out));
    }
    Ok(v.field(key))
}

fn spread<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let v = arg(a, 0);
    if v.is_array() {
        let mut out = Vec::new();
        for it in v.items() {
            out.extend(spread(_ctx, _name, &[it], _input)?.items());
        }
        return Ok(Val::seq(out));
    }
    if !v.is_object() {
        return Ok(v.clone());
    }
    Ok(Val::seq(
        v.entries()
            .into_iter()
            .map(|(k, x)| {
                let mut o = Obj::default();
                o.insert(k, x);
                Val::Obj(Rc::new(o))
            })
            .collect(),
    ))
}

fn merge<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let v = arg(a, 0);
    if v.is_undef() {
        return Ok(Val::Undef);
    }
    let mut m = Obj::default();
    for it in v.items() {
        for (k, x) in it.entries() {
            m.insert(k, x);
        }
    }
    Ok(Val::Obj(Rc::new(m)))
}

fn sift<'a>(ctx: &Ctx<'a>, name: &'static str, a: &[Val<'a>], input: &Val<'a>) -> R<'a> {
    let v = arg(a, 0);
    if v.is_undef() {
        return Ok(Val::Undef);
    }
    let f = f_arg(name, a, 1)?;
    let mut kept = Obj::default();
    for (k, x) in v.entries() {
        let r = callback(ctx, &f, [x.clone(), Val::key(k.clone()), v.clone()], input)?;
        if truthy(&r) {
            kept.insert(k, x);
        }
    }
    Ok(if kept.len() == 0 { Val::Undef } else { Val::Obj(Rc::new(kept)) })
}

fn each<'a>(ctx: &Ctx<'a>, name: &'static str, a: &[Val<'a>], input: &Val<'a>) -> R<'a> {
    let v = arg(a, 0);
    if v.is_undef() {
        return Ok(Val::Undef);
    }
    let f = f_arg(name, a, 1)?;
    let mut out = Vec::new();
    for (k, x) in v.entries() {
        let r = callback(ctx, &f, [x, Val::key(k), v.clone()], input)?;
        if !r.is_undef() {
            out.push(r);
        }
    }
    Ok(Val::seq(out))
}

fn error<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    Err(err("D3137", s_arg(a, 0).unwrap_or("$error() function evaluated").to_string()))
}

fn assert<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    if matches!(arg(a, 0), Val::Bool(true)) {
        Ok(Val::Undef)
    } else {
        Err(err("D3141", s_arg(a, 1).unwrap_or("$assert() statement failed").to_string()))
    }
}

fn r#type<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    if let Val::Num(x) = arg(a, 0) {
        if !x.is_finite() {
            return Err(err("D1001", "Number out of range: null"));
        }
    }
    Ok(arg(a, 0).type_name().map(Val::S).unwrap_or(Val::Undef))
}
