//! Starts on the in-memory execution store when it is at capacity: each start must make room
//! in constant time (it used to sweep and sort the whole store).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use expressway_store::memory::MemoryExecutions;
use expressway_store::{ExecutionRecord, ExecutionStatus, ExecutionStore, Finished};
use futures::executor::block_on;

fn record(i: u64) -> ExecutionRecord {
    ExecutionRecord {
        execution_arn: format!("arn:aws:states:us-east-1:000000000000:express:m:e{i}:u{i}"),
        name: format!("e{i}"),
        state_machine_arn: "arn:aws:states:us-east-1:000000000000:stateMachine:m".into(),
        revision_id: "r1".into(),
        input_hash: expressway_store::input_hash("{}"),
        input: "{\"order\":42}".into(),
        status: ExecutionStatus::Running,
        output: None,
        error: None,
        cause: None,
        start_ms: 1,
        stop_ms: None,
    }
}

fn at_capacity(c: &mut Criterion) {
    let capacity = 100_000u64;
    let store = MemoryExecutions::new(Duration::from_secs(3600), capacity as usize);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64);
    let now = now.unwrap_or(0);
    let finish = |i: u64| Finished {
        status: ExecutionStatus::Succeeded,
        output: Some("{}".into()),
        error: None,
        cause: None,
        stop_ms: now + i as i64,
    };
    for i in 0..capacity {
        let r = record(i);
        let arn = r.execution_arn.clone();
        block_on(store.start(r, Duration::ZERO)).expect("start");
        block_on(store.finish(&arn, finish(i))).expect("finish");
    }
    let mut next = capacity;
    c.bench_function("memory_store/start_and_finish_at_capacity_100k", |b| {
        b.iter(|| {
            let r = record(next);
            let arn = r.execution_arn.clone();
            block_on(store.start(r, Duration::ZERO)).expect("room");
            block_on(store.finish(&arn, finish(next))).expect("finish");
            next += 1;
        })
    });
    assert_eq!(store.len(), capacity as usize);
}

criterion_group!(benches, at_capacity);
criterion_main!(benches);
