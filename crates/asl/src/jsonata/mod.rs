//! JSONata 2.x for Step Functions: `{% … %}` expressions in JSONata states, with AWS's added
//! functions (`$partition`, `$range`, `$hash`, `$random`, `$uuid`, `$parse`).
//!
//! Layout: [`parser`] (lexer and Pratt parser), `eval` (evaluation with first-class functions
//! and lexical scopes), `functions` (the function library). Expressions are parsed once
//! when the definition is loaded.

mod eval;
mod functions;
pub mod parser;
mod picture;

use serde_json::Value;

use eval::{Ctx, Scope, Val};

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
}

impl Expr {
    pub fn parse(src: &str) -> Result<Expr, String> {
        let src = src.trim();
        let root = parser::parse(src)?;
        Ok(Expr { src: src.to_string(), root })
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
        let input = bindings.get("states").and_then(|s| s.get("input")).cloned().map(Val::J).unwrap_or(Val::Undef);
        let ctx = Ctx::new(bindings, input.clone());
        let scope = Scope::new();
        let result = ctx.eval(&self.root, &input, &scope);
        ctx.release();
        match result? {
            Val::J(v) => Ok(Some(v)),
            Val::Undef => Ok(None),
            Val::F(_) => Ok(None),
        }
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
        let live = || eval::LIVE_SCOPES.with(|n| n.get());
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
    fn errors_are_reported_not_panics() {
        let b = B(HashMap::new());
        let e = Expr::parse("$nope(1)").expect("parse").evaluate(&b).expect_err("must fail");
        assert_eq!(e.code, "T1006");
        assert!(Expr::parse("1 +").is_err());
        assert!(Expr::parse(&"(".repeat(5000)).is_err());
        let deep = Expr::parse("($f := function($n) { $f($n + 1) }; $f(0))").expect("parse");
        assert_eq!(deep.evaluate(&b).expect_err("recursion").code, "U1001");
        assert!(Expr::parse("'a' + 1").expect("parse").evaluate(&b).is_err());
        // Range bounds at i64's ends: a size error, not an overflow.
        for src in ["[-1..1e19]", "[-1e19..1e19]", "[-9223372036854775808..9223372036854775807]"] {
            let e = Expr::parse(src).expect("parse").evaluate(&b).expect_err(src);
            assert_eq!(e.code, "D2014", "{src}");
        }
    }
}
