//! Date and time functions: `$now`, `$millis`, `$fromMillis`, `$toMillis` (ISO 8601 only:
//! picture strings belong to the `picture` module).

use super::*;

pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin { name: "now", sig: "<s?s?:s>", call: now },
    Builtin { name: "millis", sig: "<:n>", call: millis },
    Builtin { name: "fromMillis", sig: "<n-s?s?:s>", call: from_millis },
    Builtin { name: "toMillis", sig: "<s-s?:n>", call: to_millis },
];

fn now<'a>(_ctx: &Ctx<'a>, _name: &'static str, _a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    s(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

fn millis<'a>(_ctx: &Ctx<'a>, _name: &'static str, _a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    n(chrono::Utc::now().timestamp_millis() as f64)
}

fn from_millis<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    match n_arg(a, 0) {
        Some(ms) => s(chrono::DateTime::from_timestamp_millis(ms as i64)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default()),
        None => Ok(Val::Undef),
    }
}

fn to_millis<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    match s_arg(a, 0) {
        Some(t) => match chrono::DateTime::parse_from_rfc3339(t) {
            Ok(d) => n(d.timestamp_millis() as f64),
            Err(_) => Err(err("D3110", format!("Failed to parse date/time: {t}"))),
        },
        None => Ok(Val::Undef),
    }
}
