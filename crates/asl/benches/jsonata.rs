//! Evaluations per second of representative JSONata expressions on a 20-order document, one
//! core, in-process: each expression is parsed once and evaluated in the loop. The
//! expressions and the input are in `benches/jsonata-js/cases.json`, which
//! `benches/jsonata-js/bench.mjs` times with jsonata-js 2.0.6; `benches/jsonata-js/compare.sh`
//! runs both and prints a table. An expression the evaluator cannot parse or evaluate is
//! skipped with a printed note, so the other numbers are still measured.

use std::collections::HashMap;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use expressway_asl::jsonata::{Bindings, Expr};
use serde_json::{json, Value};

// The same allocator the binaries use.
#[global_allocator]
static GLOBAL: expressway_alloc::Mimalloc = expressway_alloc::Mimalloc;

const CASES: &str = include_str!("jsonata-js/cases.json");

/// `$states.input` is the benchmark document, as a JSONata state would see it.
struct Input(HashMap<String, Value>);

impl Bindings for Input {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }
}

fn bench(c: &mut Criterion) {
    let cases: Value = serde_json::from_str(CASES).expect("cases.json is JSON");
    let bindings = Input(HashMap::from([("states".to_string(), json!({ "input": cases["input"] }))]));
    let mut group = c.benchmark_group("jsonata");
    group.throughput(Throughput::Elements(1));
    for case in cases["expressions"].as_array().expect("an array of expressions") {
        let name = case["name"].as_str().expect("a name");
        let src = case["expr"].as_str().expect("an expression");
        let expr = match Expr::parse(src) {
            Ok(e) => e,
            Err(e) => {
                println!("skipped {name}: cannot parse `{src}`: {e}");
                continue;
            }
        };
        // Evaluated once before timing: an expression that fails is reported, not timed.
        match expr.evaluate(&bindings) {
            Ok(Some(_)) => {}
            Ok(None) => {
                println!("skipped {name}: `{src}` evaluates to undefined");
                continue;
            }
            Err(e) => {
                println!("skipped {name}: `{src}` fails: {e}");
                continue;
            }
        }
        group.bench_function(name, |b| b.iter(|| expr.evaluate(&bindings)));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
