//! Executions per second of the benchmark workloads (`examples/`: hello, order, fanout), one core,
//! in-process, no listener. Compare with the reference numbers in the README's Performance section.

use std::path::PathBuf;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use expressway_asl::{ExecutionInfo, Interpreter, Limits, ManualClock, NoEvents, NoTasks, Outcome, StateMachine};
use serde_json::Value;

// The same allocator the binaries use.
#[global_allocator]
static GLOBAL: expressway_alloc::Mimalloc = expressway_alloc::Mimalloc;

fn workloads_dir() -> PathBuf {
    std::env::var_os("EXPRESSWAY_WORKLOADS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples"))
}

fn bench(c: &mut Criterion) {
    let dir = workloads_dir();
    let interp = Interpreter::new(Arc::new(NoTasks), Arc::new(ManualClock::new(0)), Limits::default());
    let mut group = c.benchmark_group("workloads");
    group.throughput(Throughput::Elements(1));
    for name in ["hello", "order", "fanout"] {
        let def = std::fs::read_to_string(dir.join(format!("{name}.asl.json")))
            .unwrap_or_else(|e| panic!("cannot read workload {name} in {}: {e}", dir.display()));
        let input: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("{name}.input.json"))).expect("workload input"),
        )
        .expect("workload input is JSON");
        let machine = StateMachine::from_json(&def).expect("workload definition is valid");
        // As `expressway run --repeat` runs it: the one input, borrowed by every execution.
        let info = ExecutionInfo::default();
        let run = || futures::executor::block_on(interp.execute_borrowed(&machine, &input, &info, &NoEvents));
        assert!(matches!(run(), Outcome::Succeeded(_)), "workload {name} must succeed");
        group.bench_function(name, |b| b.iter(run));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
