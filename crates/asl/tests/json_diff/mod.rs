//! Where two JSON documents first differ: shared by the corpus harnesses (conformance, jsonata).

use serde_json::Value;

/// JSON equality: objects regardless of key order, arrays by position, numbers by value
/// (`1` equals `1.0`), booleans are not numbers.
pub fn first_difference(expected: &Value, actual: &Value, path: &str) -> Option<String> {
    match (expected, actual) {
        (Value::Number(e), Value::Number(a)) => {
            let same = match (e.as_i64(), a.as_i64(), e.as_u64(), a.as_u64()) {
                (Some(x), Some(y), _, _) => x == y,
                (_, _, Some(x), Some(y)) => x == y,
                _ => e.as_f64() == a.as_f64(),
            };
            (!same).then(|| format!("{path}: expected {e}, got {a}"))
        }
        (Value::Object(e), Value::Object(a)) => {
            if let Some(k) = e.keys().find(|k| !a.contains_key(*k)) {
                return Some(format!("{path}: missing key {k:?}"));
            }
            if let Some(k) = a.keys().find(|k| !e.contains_key(*k)) {
                return Some(format!("{path}: unexpected key {k:?}"));
            }
            e.iter().find_map(|(k, v)| first_difference(v, &a[k], &format!("{path}.{k}")))
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.len() != a.len() {
                return Some(format!("{path}: expected an array of {}, got {}", e.len(), a.len()));
            }
            e.iter().zip(a).enumerate().find_map(|(i, (x, y))| first_difference(x, y, &format!("{path}[{i}]")))
        }
        _ => (expected != actual).then(|| format!("{path}: expected {expected}, got {actual}")),
    }
}
