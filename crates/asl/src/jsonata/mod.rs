//! JSONata 2.x for Step Functions: `{% … %}` expressions in JSONata states, with AWS's added
//! functions (`$partition`, `$range`, `$hash`, `$random`, `$uuid`, `$parse`).
//!
//! Layout: [`parser`] (lexer and Pratt parser), `signature` (function signatures), `value`
//! (the value model: borrowed input, shared built values), `eval` (evaluation with
//! first-class functions, lexical scopes and tail calls), `functions` (the function
//! library). Expressions are parsed once when the definition is loaded.

mod eval;
mod functions;
pub mod parser;
mod picture;
mod signature;
mod value;

use std::rc::Rc;

use serde_json::Value;

use eval::Ctx;
use value::{Arr, Scope, Val};

/// Names an expression can read besides its input: `$states` and workflow variables.
pub trait Bindings {
    fn get(&self, name: &str) -> Option<&Value>;
    /// Asked every [`STEPS_PER_CHECK`] evaluation steps with the count so far: an error ends
    /// the evaluation (too many steps, or the run it belongs to must stop).
    fn check(&self, _steps: u64) -> Result<(), JsonataError> {
        Ok(())
    }
}

/// Evaluation steps between two [`Bindings::check`] calls.
pub const STEPS_PER_CHECK: u64 = 4096;

/// A JSONata error with its code (e.g. `T1006`) as the reference implementation names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct JsonataError {
    pub code: &'static str,
    pub message: String,
}

/// A parsed JSONata expression.
#[derive(Debug, Clone)]
pub struct Expr {
    src: String,
    root: parser::Node,
    /// The expression uses `%`.
    parent: bool,
}

impl Expr {
    pub fn parse(src: &str) -> Result<Expr, String> {
        let src = src.trim();
        let (root, parent) = parser::parse(src)?;
        Ok(Expr { src: src.to_string(), root, parent })
    }

    pub fn source(&self) -> &str {
        &self.src
    }

    /// Whether evaluation may read `$states.context` (so the engine keeps what it needs).
    pub fn reads_context(&self) -> bool {
        let mut rest = self.src.as_str();
        while let Some(i) = rest.find("$states") {
            let after = &rest[i + 7..];
            if !(after.starts_with(".input") || after.starts_with(".result") || after.starts_with(".errorOutput")) {
                return true;
            }
            rest = after;
        }
        false
    }

    /// Evaluate; `Ok(None)` is JSONata's "undefined". The context value `$` is the state input.
    pub fn evaluate(&self, bindings: &dyn Bindings) -> Result<Option<Value>, JsonataError> {
        let input = bindings.get("states").and_then(|s| s.get("input")).map(Val::of).unwrap_or(Val::Undef);
        // An array input is wrapped in a one-item sequence, so that paths see it as one value.
        let context = if input.is_array() {
            Val::Arr(Rc::new(Arr { items: vec![input.clone()], seq: true, outer: true, ..Arr::default() }))
        } else {
            input.clone()
        };
        let ctx = Ctx::new(bindings, input, self.parent);
        let scope = Scope::new(None);
        let result = ctx.eval(&self.root, &context, &scope).and_then(|v| v.to_json());
        drop(scope);
        ctx.release();
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashMap;

    struct B(HashMap<String, Value>);
    impl Bindings for B {
        fn get(&self, name: &str) -> Option<&Value> {
            self.0.get(name)
        }
    }

    mod cases;

    /// Evaluate every `(expression, input, expected)` case and report all mismatches.
    /// `expected` is `U` (undefined), `E:code` (an error) or the JSON value.
    fn check(cases: &[(&str, &str, &str)]) {
        let mut failures = Vec::new();
        for (src, input, expected) in cases {
            let input: Value = serde_json::from_str(input).expect("case input");
            let mut m = HashMap::new();
            m.insert("states".to_string(), json!({ "input": input }));
            let got = match Expr::parse(src) {
                Err(e) => format!("E:{}", e.split(':').next().unwrap_or_default()),
                Ok(x) => match x.evaluate(&B(m)) {
                    Ok(None) => "U".to_string(),
                    Ok(Some(v)) => v.to_string(),
                    Err(e) => format!("E:{}", e.code),
                },
            };
            let same = match (serde_json::from_str::<Value>(&got), serde_json::from_str::<Value>(expected)) {
                (Ok(a), Ok(b)) => crate::intrinsic::json_eq(&a, &b),
                _ => got == *expected,
            };
            if !same {
                failures.push(format!("{src}\n    expected {expected}\n    got      {got}"));
            }
        }
        assert!(failures.is_empty(), "{} of {} cases differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
    }

    fn ev(src: &str, input: Value) -> Option<Value> {
        let mut m = HashMap::new();
        m.insert("states".to_string(), json!({ "input": input }));
        m.insert("x".to_string(), json!(10));
        Expr::parse(src).expect("parse").evaluate(&B(m)).expect("eval")
    }

    #[test]
    fn paths_and_operators() {
        let i = json!({"a": {"b": [1, 2, 3]}, "o": [{"n": "x", "v": 1}, {"n": "y", "v": 2}]});
        assert_eq!(ev("$states.input.a.b[1]", i.clone()), Some(json!(2)));
        assert_eq!(ev("$states.input.o.n", i.clone()), Some(json!(["x", "y"])));
        assert_eq!(ev("$states.input.o[v > 1].n", i.clone()), Some(json!("y")));
        assert_eq!(ev("$sum($states.input.a.b) * 2 + $x", i.clone()), Some(json!(22)));
        assert_eq!(ev("$states.input.missing", i.clone()), None);
        assert_eq!(ev("'a' & 1 & true", json!({})), Some(json!("a1true")));
        assert_eq!(ev("1 < 2 and 'b' > 'a' ? 'yes' : 'no'", json!({})), Some(json!("yes")));
        assert_eq!(ev("[1..4]", json!({})), Some(json!([1, 2, 3, 4])));
        assert_eq!(ev("3 in [1, 2, 3]", json!({})), Some(json!(true)));
        assert_eq!(ev("{'k': 1 + 1, 'l': [1, [2]]}", json!({})), Some(json!({"k": 2, "l": [1, [2]]})));
    }

    #[test]
    fn functions_and_lambdas() {
        assert_eq!(ev("$map([1, 2, 3], function($v) { $v * 2 })", json!({})), Some(json!([2, 4, 6])));
        assert_eq!(ev("$filter([1, 2, 3], function($v) { $v > 1 })", json!({})), Some(json!([2, 3])));
        assert_eq!(ev("$reduce([1, 2, 3], function($a, $b) { $a + $b })", json!({})), Some(json!(6)));
        assert_eq!(ev("($f := function($n) { $n < 2 ? 1 : $n * $f($n - 1) }; $f(5))", json!({})), Some(json!(120)));
        assert_eq!(ev("$uppercase('abc') ~> $substring(1)", json!({})), Some(json!("BC")));
        assert_eq!(ev("$contains('hello$world', /^hello\\$/)", json!({})), Some(json!(true)));
        assert_eq!(ev("$partition([1, 2, 3], 2)", json!({})), Some(json!([[1, 2], [3]])));
        assert_eq!(ev("$range(0, 10, 5)", json!({})), Some(json!([0, 5, 10])));
        assert_eq!(ev("$parse('{\"a\": [1]}').a", json!({})), Some(json!([1])));
        assert_eq!(ev("$string({'a': 1.5})", json!({})), Some(json!("{\"a\":1.5}")));
        assert_eq!(ev("$round(2.5)", json!({})), Some(json!(2)));
        assert_eq!(ev("$keys({'a': 1, 'b': 2})", json!({})), Some(json!(["a", "b"])));
        assert_eq!(
            ev("[$type([1]), $type(null), $type('s'), $type(function() { 1 })]", json!({})),
            Some(json!(["array", "null", "string", "function"]))
        );
    }

    #[test]
    fn strings_stop_growing_at_the_limit_before_they_are_built() {
        let fails = |src: &str| match Expr::parse(src).expect("parse").evaluate(&B(HashMap::new())) {
            Err(e) => assert!(e.to_string().contains("D1001"), "{src}: {e}"),
            Ok(v) => panic!("{src} gave {:.80}", format!("{v:?}")),
        };
        // Doubling a string forty times would take a terabyte.
        fails("$reduce([1..40], function($a, $b) { $a & $a }, 'x')");
        fails("$join($map([1..40], function($i) { $pad('', 1000000, 'y') }), '')");
        fails("$replace($pad('', 1000000, 'x'), 'x', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')");
        assert_eq!(ev("$replace('axbxc', 'x', '--')", json!({})), Some(json!("a--b--c")));
    }

    #[test]
    fn functions_bound_in_scopes_do_not_keep_them_alive() {
        let live = || value::LIVE_SCOPES.with(|n| n.get());
        let before = live();
        for src in [
            "($f := function($n) { $n < 1 ? 0 : $f($n - 1) }; $f(3))",
            "($add := function($x) { function($y) { $x + $y } }; $inc := $add(1); $inc(2))",
            "$map([1, 2], function($v) { ($g := function() { $v }; $g()) })",
        ] {
            assert!(ev(src, json!({})).is_some(), "{src}");
            assert_eq!(live(), before, "scopes leaked by {src}");
        }
    }

    #[test]
    fn values_nested_by_a_loop_are_walked_and_dropped_without_recursing() {
        let b = B(HashMap::new());
        let nest = |n: u32, then: &str| {
            format!("($f := function($n, $acc){{ $n = 0 ? $acc : $f($n - 1, {{'a': $acc}}) }}; $v := $f({n}, {{}}); {then})")
        };
        // Tail calls build 200,000 levels in constant stack: comparing, testing, writing and
        // dropping them must not overflow it; returning them is an error.
        assert_eq!(ev(&nest(200_000, "$v = $v"), json!({})), Some(json!(true)));
        assert_eq!(ev(&nest(200_000, "$boolean($v)"), json!({})), Some(json!(true)));
        assert_eq!(ev(&nest(200_000, "$length($string($v))"), json!({})), Some(json!(1_200_002)));
        assert_eq!(ev(&nest(200_000, "$count($v.**)"), json!({})), Some(json!(200_001)));
        let e = Expr::parse(&nest(200_000, "$v")).expect("parse").evaluate(&b).expect_err("too deep");
        assert_eq!(e.code, "U1001");
        let ok = Expr::parse(&nest(500, "$v")).expect("parse").evaluate(&b).expect("500 levels");
        assert!(ok.is_some());
    }

    #[test]
    fn recursion_runs_deep_and_ends_in_u1001_past_the_limit() {
        // jsonata-js 2.0.6 gives 4000 and 300000 (it has no depth limit of its own).
        let down = "($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; $f(4000))";
        assert_eq!(ev(down, json!({})), Some(json!(4000)));
        let tail = "($f := function($n, $a){ $n = 0 ? $a : ($n % 2 = 0 ? $f($n - 1, $a + 1) : $f($n - 1, $a + 1)) }; $f(300000, 0))";
        assert_eq!(ev(tail, json!({})), Some(json!(300000)));
        let e = Expr::parse("($f := function($n){ 1 + $f($n + 1) }; $f(0))").expect("parse");
        assert_eq!(e.evaluate(&B(HashMap::new())).expect_err("endless").code, "U1001");
    }

    #[test]
    fn errors_are_reported_not_panics() {
        let b = B(HashMap::new());
        let e = Expr::parse("$nope(1)").expect("parse").evaluate(&b).expect_err("must fail");
        assert_eq!(e.code, "T1006");
        assert!(Expr::parse("1 +").is_err());
        assert!(Expr::parse(&"(".repeat(5000)).is_err());
        let deep = Expr::parse("($f := function($n) { 1 + $f($n + 1) }; $f(0))").expect("parse");
        assert_eq!(deep.evaluate(&b).expect_err("recursion").code, "U1001");
        assert!(Expr::parse("'a' + 1").expect("parse").evaluate(&b).is_err());
        // Range bounds at i64's ends: a size error, not an overflow.
        for src in ["[-1..1e19]", "[-1e19..1e19]", "[-9223372036854775808..9223372036854775807]"] {
            let e = Expr::parse(src).expect("parse").evaluate(&b).expect_err(src);
            assert_eq!(e.code, "D2014", "{src}");
        }
    }
}
