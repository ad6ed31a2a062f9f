//! Date and time functions: `$now`, `$millis`, `$fromMillis`, `$toMillis`.

use super::*;

pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin { name: "now", context_below: 0, call: now },
    Builtin { name: "millis", context_below: 0, call: millis },
    Builtin { name: "fromMillis", context_below: 0, call: from_millis },
    Builtin { name: "toMillis", context_below: 0, call: to_millis },
];

fn now(_ctx: &Ctx<'_>, _name: &'static str, _a: &[Val], _input: &Val) -> R {
    s(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

fn millis(_ctx: &Ctx<'_>, _name: &'static str, _a: &[Val], _input: &Val) -> R {
    n(chrono::Utc::now().timestamp_millis() as f64)
}

fn from_millis(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    match n_arg(name, a, 0)? {
        Some(ms) => s(chrono::DateTime::from_timestamp_millis(ms as i64)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default()),
        None => Ok(Val::Undef),
    }
}

fn to_millis(_ctx: &Ctx<'_>, name: &'static str, a: &[Val], _input: &Val) -> R {
    match s_arg(name, a, 0)? {
        Some(t) => match chrono::DateTime::parse_from_rfc3339(t) {
            Ok(d) => n(d.timestamp_millis() as f64),
            Err(_) => Err(err("D3110", format!("Failed to parse date/time: {t}"))),
        },
        None => Ok(Val::Undef),
    }
}
