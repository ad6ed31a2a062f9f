//! Boolean functions: `$boolean`, `$not`, `$exists`.

use super::*;

pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin { name: "boolean", context_below: 1, call: boolean },
    Builtin { name: "not", context_below: 1, call: not },
    Builtin { name: "exists", context_below: 0, call: exists },
];

fn boolean(_ctx: &Ctx<'_>, _name: &'static str, a: &[Val], _input: &Val) -> R {
    match arg(a, 0) {
        Val::Undef => Ok(Val::Undef),
        v => b(truthy(v)),
    }
}

fn not(_ctx: &Ctx<'_>, _name: &'static str, a: &[Val], _input: &Val) -> R {
    match arg(a, 0) {
        Val::Undef => Ok(Val::Undef),
        v => b(!truthy(v)),
    }
}

fn exists(_ctx: &Ctx<'_>, _name: &'static str, a: &[Val], _input: &Val) -> R {
    b(!arg(a, 0).is_undef())
}
