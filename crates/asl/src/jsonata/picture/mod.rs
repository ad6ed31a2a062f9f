//! XPath F&O 3.1 picture strings as JSONata 2.0.6 uses them, independent of the evaluator's
//! value type: plain Rust values in, strings (or numbers) out, errors as [`JsonataError`] with
//! the reference implementation's codes.
//!
//! Layout: [`number`] (`fn:format-integer` for `$formatInteger`/`$parseInteger`, and
//! `fn:format-number` for `$formatNumber`), [`datetime`] (`fn:format-dateTime` for
//! `$fromMillis`/`$now`, and its inverse for `$toMillis`), which formats its numeric components
//! with [`number`]'s integer pictures.

pub mod datetime;
pub mod number;

use super::JsonataError;

fn err(code: &'static str, message: impl Into<String>) -> JsonataError {
    JsonataError { code, message: message.into() }
}
