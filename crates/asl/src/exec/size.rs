//! Payload size accounting: serialized sizes of JSON values computed without serializing,
//! and the cheap upper bounds the state loop tracks instead of measuring every output.

use super::*;

/// Size of `v` serialized as compact JSON, computed without serializing. Stops counting
/// once `limit` is passed (the caller only needs to know that it is too big).
pub(crate) fn json_size_upto(v: &Value, limit: usize) -> usize {
    fn str_len(s: &str) -> usize {
        let mut n = s.len() + 2;
        for &b in s.as_bytes() {
            if b < 0x20 || b == b'"' || b == b'\\' {
                n += if matches!(b, b'\n' | b'\r' | b'\t' | b'"' | b'\\' | 0x08 | 0x0c) { 1 } else { 5 };
            }
        }
        n
    }
    fn walk(v: &Value, acc: &mut usize, limit: usize) {
        if *acc > limit {
            return;
        }
        match v {
            Value::Null => *acc += 4,
            Value::Bool(b) => *acc += if *b { 4 } else { 5 },
            Value::Number(n) => {
                *acc += if let Some(i) = n.as_i64() {
                    let mut digits = if i < 0 { 2 } else { 1 };
                    let mut x = i.unsigned_abs();
                    while x >= 10 {
                        x /= 10;
                        digits += 1;
                    }
                    digits
                } else if let Some(u) = n.as_u64() {
                    u.to_string().len()
                } else {
                    ryu::Buffer::new().format(n.as_f64().unwrap_or(0.0)).len()
                }
            }
            Value::String(s) => *acc += str_len(s),
            Value::Array(a) => {
                *acc += 2 + a.len().saturating_sub(1);
                for x in a {
                    walk(x, acc, limit);
                }
            }
            Value::Object(o) => {
                *acc += 2 + o.len().saturating_sub(1);
                for (k, x) in o {
                    *acc += str_len(k) + 1;
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
            Value::Number(n) if !n.is_i64() && !n.is_u64() => 24,
            Value::Array(a) => 2 + a.len().saturating_sub(1) + a.iter().map(walk).sum::<usize>(),
            Value::Object(o) => {
                2 + o.len().saturating_sub(1) + o.iter().map(|(k, x)| json_str_len(k) + 1 + walk(x)).sum::<usize>()
            }
            Value::String(s) => json_str_len(s),
            other => json_size_upto(other, usize::MAX),
        }
    }
    walk(v)
}

pub(super) fn json_str_len(s: &str) -> usize {
    let mut n = s.len() + 2;
    for &b in s.as_bytes() {
        if b < 0x20 || b == b'"' || b == b'\\' {
            n += if matches!(b, b'\n' | b'\r' | b'\t' | b'"' | b'\\' | 0x08 | 0x0c) { 1 } else { 5 };
        }
    }
    n
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
