//! Boolean functions: `$boolean`, `$not`, `$exists`.

use super::*;

pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin { name: "boolean", sig: "<x-:b>", call: boolean },
    Builtin { name: "not", sig: "<x-:b>", call: not },
    Builtin { name: "exists", sig: "<x:b>", call: exists },
];

fn boolean<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    Ok(match arg(a, 0) {
        Val::Undef => Val::Undef,
        v => Val::Bool(truthy(v)),
    })
}

fn not<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    Ok(match arg(a, 0) {
        Val::Undef => Val::Undef,
        v => Val::Bool(!truthy(v)),
    })
}

fn exists<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    Ok(Val::Bool(!arg(a, 0).is_undef()))
}
