//! Date and time functions: `$now`, `$millis`, `$fromMillis`, `$toMillis`, with
//! [`crate::jsonata::picture`]'s date/time pictures.

use super::*;
use crate::jsonata::picture::datetime as picture;

pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin { name: "now", sig: "<s?s?:s>", call: now },
    Builtin { name: "millis", sig: "<:n>", call: millis },
    Builtin { name: "fromMillis", sig: "<n-s?s?:s>", call: from_millis },
    Builtin { name: "toMillis", sig: "<s-s?:n>", call: to_millis },
];

fn now<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    s(picture::format_datetime(chrono::Utc::now().timestamp_millis(), s_arg(a, 0), s_arg(a, 1))?)
}

fn millis<'a>(_ctx: &Ctx<'a>, _name: &'static str, _a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    n(chrono::Utc::now().timestamp_millis() as f64)
}

fn from_millis<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let Some(ms) = n_arg(a, 0) else {
        return Ok(Val::Undef);
    };
    // Whole milliseconds toward zero, as JavaScript's Date takes them; NaN and beyond fail.
    let ms = if ms.abs() < 9.0e15 { ms.trunc() as i64 } else { i64::MAX };
    s(picture::format_datetime(ms, s_arg(a, 1), s_arg(a, 2))?)
}

/// A date that does not match its picture, or has fields out of range, is undefined.
fn to_millis<'a>(_ctx: &Ctx<'a>, _name: &'static str, a: &[Val<'a>], _input: &Val<'a>) -> R<'a> {
    let Some(text) = s_arg(a, 0) else {
        return Ok(Val::Undef);
    };
    match picture::parse_datetime(text, s_arg(a, 1))? {
        Some(ms) => n(ms as f64),
        None => Ok(Val::Undef),
    }
}

#[cfg(test)]
mod tests {
    //! The picture functions reach [`crate::jsonata::picture`] through the evaluator
    //! (expected values from jsonata-js 2.0.6).
    use crate::jsonata::{Bindings, Expr, JsonataError};
    use serde_json::{json, Value};

    struct NoBindings;
    impl Bindings for NoBindings {
        fn get(&self, _name: &str) -> Option<&Value> {
            None
        }
    }

    fn ev(src: &str) -> Result<Option<Value>, JsonataError> {
        Expr::parse(src).map_err(|e| JsonataError { code: "S0000", message: e })?.evaluate(&NoBindings)
    }

    #[test]
    fn picture_functions_are_wired() {
        assert_eq!(ev(r##"$formatNumber(1234.5678, "#,##0.00")"##), Ok(Some(json!("1,234.57"))));
        let options =
            r##"$formatNumber(1234.5678, "#.##0,00", {"decimal-separator": ",", "grouping-separator": "."})"##;
        assert_eq!(ev(options), Ok(Some(json!("1.234,57"))));
        assert_eq!(ev(r#"$formatNumber(1, "0;0;0")"#).map_err(|e| e.code), Err("D3080"));
        assert_eq!(ev(r#"$formatInteger(1234, "w")"#), Ok(Some(json!("one thousand, two hundred and thirty-four"))));
        assert_eq!(ev(r#"$parseInteger("twelve", "w")"#), Ok(Some(json!(12))));
        assert_eq!(ev(r#"$parseInteger("abc", "0")"#), Ok(None));
        assert_eq!(ev("$fromMillis(1521801216617)"), Ok(Some(json!("2018-03-23T10:33:36.617Z"))));
        assert_eq!(ev(r#"$fromMillis(1521801216617, "[D1o] [MNn] [Y]")"#), Ok(Some(json!("23rd March 2018"))));
        assert_eq!(ev(r#"$fromMillis(1521801216617, "[H01]:[m01] [Z]", "-0500")"#), Ok(Some(json!("05:33 -05:00"))));
        assert_eq!(ev(r#"$toMillis("23rd March 2018", "[D1o] [MNn] [Y]")"#), Ok(Some(json!(1521763200000u64))));
        assert_eq!(ev(r#"$toMillis("2018-03-23T10:33:36.617Z")"#), Ok(Some(json!(1521801216617u64))));
        assert_eq!(ev(r#"$toMillis("foo")"#).map_err(|e| e.code), Err("D3110"));
        assert_eq!(ev(r#"$string($now("[Y]")) = $string($substring($now(), 0, 4))"#), Ok(Some(json!(true))));
    }
}
