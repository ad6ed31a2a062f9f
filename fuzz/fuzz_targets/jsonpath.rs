//! JSONPath: `<path>\n<json document>`. The path is compiled, then evaluated (borrowed and
//! owned), normalised, and for reference paths used as a ResultPath (`set`).
//! Without a newline, or when the document is not JSON, a fixed document is used.
#![no_main]

use expressway_asl::jsonpath::{JsonPath, Root};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

fn default_doc() -> Value {
    json!({
        "a": {"b": [1, 2.5, "x", null, true, {"c": [10, 20, 30]}]},
        "items": [{"sku": "a", "qty": 1, "price": 3.5}, {"sku": "b", "qty": 12, "price": 1.25}],
        "s": "héllo",
        "n": -3,
        "empty": {},
        "list": []
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() > 65536 {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (path_text, doc_text) = match text.split_once('\n') {
        Some((p, d)) => (p, Some(d)),
        None => (text, None),
    };
    let doc = doc_text.and_then(|d| serde_json::from_str::<Value>(d).ok()).unwrap_or_else(default_doc);

    let Ok(path) = JsonPath::parse(path_text) else { return };
    let _ = path.as_str();
    let _ = path.to_string();
    let definite = path.is_definite();
    let _ = (path.is_reference(), path.is_root_only());
    match path.root() {
        Root::Input | Root::Context | Root::Variable(_) => {}
    }

    let borrowed = path.eval(&doc).map(|c| c.into_owned());
    let owned = path.eval_owned(&doc);
    assert_eq!(borrowed, owned, "eval and eval_owned disagree for {path_text:?}");
    if !definite {
        // An indefinite path yields an array, or nothing when it ran out of steps.
        assert!(matches!(owned, Some(Value::Array(_)) | None), "indefinite path {path_text:?} gave {owned:?}");
    }
    if definite {
        let _ = path.normalized();
    }

    // ResultPath semantics on a copy: a successful set must be readable back.
    if path.is_reference() {
        let mut target = doc.clone();
        let marker = json!({"__fuzz_marker__": 1});
        if path.set(&mut target, marker.clone()).is_ok() {
            assert_eq!(path.eval_owned(&target), Some(marker), "value set at {path_text:?} cannot be read back");
        }
    }
});
