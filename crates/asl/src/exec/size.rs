//! Payload size accounting: serialized sizes of JSON values computed without serializing,
//! and the cheap upper bounds the state loop tracks instead of measuring every output.

use super::*;

/// Size of `v` serialized as compact JSON, computed without serializing. Stops counting
/// once `limit` is passed (the caller only needs to know that it is too big).
pub(crate) fn json_size_upto(v: &Value, limit: usize) -> usize {
    fn walk(v: &Value, acc: &mut usize, limit: usize) {
        if *acc > limit {
            return;
        }
        match v {
            Value::Null => *acc += 4,
            Value::Bool(b) => *acc += if *b { 4 } else { 5 },
            Value::Number(n) => {
                *acc += if let Some(i) = n.as_i64() {
                    int_len(i)
                } else if let Some(u) = n.as_u64() {
                    u.to_string().len()
                } else {
                    float_len(n.as_f64().unwrap_or(0.0))
                }
            }
            Value::String(s) => *acc += json_str_len(s),
            Value::Array(a) => {
                *acc += 2 + a.len().saturating_sub(1);
                for x in a {
                    walk(x, acc, limit);
                }
            }
            Value::Object(o) => {
                *acc += 2 + o.len().saturating_sub(1);
                for (k, x) in o {
                    *acc += json_str_len(k) + 1;
                    walk(x, acc, limit);
                }
            }
        }
    }
    let mut acc = 0;
    walk(v, &mut acc, limit);
    acc
}

/// A cheap upper bound of `v`'s serialized size: exact but for non-integer numbers, which
/// count as the longest a float can print (24 bytes).
pub(crate) fn size_bound(v: &Value) -> usize {
    fn walk(v: &Value) -> usize {
        match v {
            Value::Null => 4,
            Value::Bool(b) => 4 + usize::from(!*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => int_len(i),
                // u64 beyond i64: 20 digits at most; any other number prints in 24 at most.
                None if n.is_u64() => 20,
                None => 24,
            },
            Value::Array(a) => 2 + a.len().saturating_sub(1) + a.iter().map(walk).sum::<usize>(),
            Value::Object(o) => {
                2 + o.len().saturating_sub(1) + o.iter().map(|(k, x)| json_str_len(k) + 1 + walk(x)).sum::<usize>()
            }
            Value::String(s) => json_str_len(s),
        }
    }
    walk(v)
}

/// An upper bound of the serialized size of the value parsed from the JSON `text`, found
/// without walking the value: compact printing never lengthens whitespace, strings or
/// integers, and a number can only grow where it was written with an exponent (`1e15`
/// prints as `1000000000000000.0`): at most to the 24 bytes any float prints in, from the
/// 3 of the shortest exponent form. So each `e` or `E` in the text (counted anywhere, which
/// only loosens the bound) allows 21 more bytes.
pub fn text_size_bound(text: &str) -> usize {
    let exponents = text.bytes().filter(|b| b | 0x20 == b'e').count();
    text.len().saturating_add(exponents.saturating_mul(21))
}

/// Printed length of a float as serde_json prints it: ryu's shortest form, with a `+` in a
/// positive exponent (`1e+300`).
fn float_len(x: f64) -> usize {
    let mut b = ryu::Buffer::new();
    let text = b.format(x);
    match text.find('e') {
        Some(e) if text.as_bytes().get(e + 1) != Some(&b'-') => text.len() + 1,
        _ => text.len(),
    }
}

/// Printed length of an integer.
fn int_len(i: i64) -> usize {
    let sign = usize::from(i < 0);
    match i.unsigned_abs().checked_ilog10() {
        Some(d) => sign + d as usize + 1,
        None => sign + 1,
    }
}

/// Printed length of a string, quotes and escapes included.
#[inline]
pub(crate) fn json_str_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    if !escapes_any(bytes) {
        return bytes.len() + 2;
    }
    let mut n = bytes.len() + 2;
    for &b in bytes {
        if b < 0x20 || b == b'"' || b == b'\\' {
            n += if matches!(b, b'\n' | b'\r' | b'\t' | b'"' | b'\\' | 0x08 | 0x0c) { 1 } else { 5 };
        }
    }
    n
}

/// Whether JSON must escape any of `bytes` (a control character, `"` or `\`): eight bytes
/// at a time, as most strings escape nothing.
fn escapes_any(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of a byte is set where the byte of `x` is below `n` (exact as a whole for
    // n <= 0x80: a borrow only ever follows a byte that is below it).
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let word =
        |x: u64| below(x, 0x20) | below(x ^ (ONES * u64::from(b'"')), 1) | below(x ^ (ONES * u64::from(b'\\')), 1);
    let load = |c: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        u64::from_le_bytes(w)
    };
    if bytes.len() < 8 {
        return bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
    }
    // Whole words, then the last eight bytes (overlapping the words before them).
    bytes.chunks_exact(8).any(|c| word(load(c)) != 0) || word(load(&bytes[bytes.len() - 8..])) != 0
}

/// Bound of a state's output when ResultPath puts a result of bound `rb` into an input of
/// bound `in_bound`.
pub(super) fn merged_bound(p: &PathOpt, in_bound: usize, rb: usize) -> usize {
    match p {
        PathOpt::Default => rb,
        PathOpt::Null => in_bound,
        PathOpt::Path(p) if p.is_root_only() => rb,
        PathOpt::Path(_) => in_bound + rb,
    }
}

pub(crate) fn json_size(v: &Value) -> usize {
    json_size_upto(v, usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_serde_json_and_bounds_never_undercount() {
        let docs = [
            serde_json::json!(null),
            serde_json::json!([true, false, 0, 9, 10, -1, -10, 99999, i64::MIN, i64::MAX, u64::MAX]),
            serde_json::json!({"a\"b": "line\nbreak \u{1} é ✓", "n": [1.5, -0.25, 1e300, 3.0], "e": {}, "z": []}),
            serde_json::json!({"ctl": (0u8..0x30).map(char::from).collect::<String>(), "q\\\"": "\u{7f}\u{80}\u{2028}"}),
        ];
        for d in &docs {
            let printed = serde_json::to_string(d).expect("json").len();
            assert_eq!(json_size(d), printed, "{d}");
            let bound = size_bound(d);
            assert!(bound >= printed, "{d}: bound {bound} < {printed}");
            if !d.to_string().contains('.') {
                assert_eq!(bound, printed, "exact without floats: {d}");
            }
        }
    }

    #[test]
    fn string_lengths_match_serde_json_wherever_the_escape_falls() {
        // Every byte that needs an escape and its neighbours, at every place in and around an
        // eight-byte word, beside bytes just above and below them and multi-byte characters.
        let specials = ['\0', '\u{1}', '\u{8}', '\t', '\n', '\u{c}', '\r', '\u{1f}', '"', '\\'];
        let plain = [' ', '!', '#', '[', ']', '\u{7f}', 'é', '✓', '\u{2028}', 'a'];
        for len in 0..20 {
            for c in specials.iter().chain(&plain) {
                for at in 0..=len {
                    let s: String = (0..len).map(|i| if i == at { *c } else { 'x' }).collect();
                    assert_eq!(json_str_len(&s), serde_json::to_string(&s).expect("json").len(), "{s:?}");
                }
            }
        }
    }

    #[test]
    fn a_bound_from_the_text_is_never_below_the_printed_size() {
        let texts = [
            r#"{ "a" : [ 1 , 2 ] ,  "b" : "x" }"#,
            "[1e15, 1E2, 1e-7, 1.5e300, -2.5E-300, 0.1e1, 100000000000000000000, 1e0]",
            r#"["\u00e9\/\n\u0001", -0, -0.0, 1.0000000000000000000001, 12345678901234567890123]"#,
            r#"{"k": 1e22, "k": 2}"#,
        ];
        for text in texts {
            let v: Value = serde_json::from_str(text).expect("json");
            let printed = serde_json::to_string(&v).expect("print").len();
            assert!(text_size_bound(text) >= printed, "{text}: {} < {printed}", text_size_bound(text));
        }
    }
}
