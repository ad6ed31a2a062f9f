//! The essential fault scenarios, asserted: on a three-node Kafka cluster with one frontend,
//! two workers and the results service, no accepted execution is lost, none completes twice,
//! no journaled task is called again, and every synchronous caller gets an answer.

use expressway_benches::faults::{scenario, Fault};

/// One deployment (three JVMs and four services) at a time on a 2-core machine.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn check(fault: Fault) {
    let _serial = SERIAL.lock().await;
    let (r, d) = scenario(fault, 1500, 300).await.expect("the scenario runs");
    eprintln!("{}: {r:?}", fault.name());
    let logs = || {
        ["frontend.log", "worker1.log", "worker2.log", "results.log"]
            .iter()
            .map(|l| format!("--- {l}\n{}", d.log(l)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(r.accepted >= 1500, "every start was accepted in the end: {r:?}");
    assert_eq!(r.lost, 0, "{}: accepted executions lost: {r:?}\n{}", fault.name(), logs());
    assert_eq!(r.duplicate_outcomes, 0, "{}: {r:?}", fault.name());
    assert_eq!(r.duplicate_task_calls, 0, "{}: {r:?}", fault.name());
    assert_eq!(r.sync_hung, 0, "{}: every synchronous caller is answered: {r:?}", fault.name());
    assert!(r.sync_answered > 0, "{}: {r:?}", fault.name());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_loses_nothing() {
    check(Fault::KillWorker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_kafka_broker_loses_nothing() {
    check(Fault::KillBroker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_loses_nothing() {
    check(Fault::RestartRedis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_frontend_loses_nothing() {
    check(Fault::KillFrontend).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_loses_nothing() {
    check(Fault::FreezeRedis).await;
}
