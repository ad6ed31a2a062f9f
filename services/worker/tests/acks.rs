//! A delivery is acknowledged (its offset may be committed) only once its outcome is recorded
//! and its results are durable: a worker that crashed before then would otherwise have lost
//! the results of an execution nobody will run again.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use expressway_asl::NoTasks;
use expressway_bus::{
    Ack, Delivery, ExecutionSource, NoReplies, Receipt, ResultMessage, ResultsHub, StartCommand, Subscription,
};
use expressway_store::arn::Partition;
use expressway_store::memory::{MemoryExecutions, MemoryRegistry};
use expressway_store::{
    ExecutionRecord, ExecutionStatus, ExecutionStore, Logging, MachineKind, NewStateMachine, Registry,
};
use expressway_worker::{Worker, WorkerConfig};

/// A results stream whose messages become durable only when the test says so.
#[derive(Default)]
struct HeldHub {
    held: Mutex<Vec<(ResultMessage, tokio::sync::watch::Sender<bool>)>>,
}

impl HeldHub {
    fn outcomes(&self) -> usize {
        let held = self.held.lock().expect("lock");
        held.iter().filter(|(m, _)| matches!(m, ResultMessage::Outcome(_))).count()
    }
    fn make_durable(&self) {
        for (_, done) in self.held.lock().expect("lock").iter() {
            let _ = done.send(true);
        }
    }
}

struct Nothing;

#[async_trait]
impl Subscription for Nothing {
    async fn next(&mut self) -> Option<expressway_bus::Delivered> {
        None
    }
}

impl ResultsHub for HeldHub {
    fn publish(&self, message: ResultMessage) -> Receipt {
        let (done, receipt) = tokio::sync::watch::channel(false);
        self.held.lock().expect("lock").push((message, done));
        Receipt::pending(receipt)
    }
    fn subscribe(&self, _from: Option<u64>) -> Box<dyn Subscription> {
        Box::new(Nothing)
    }
}

/// Hands out the given deliveries, then waits forever (as a live consumer does).
struct Source(Vec<Delivery>);

#[async_trait]
impl ExecutionSource for Source {
    async fn next(&mut self) -> Option<Delivery> {
        match self.0.pop() {
            Some(d) => Some(d),
            None => futures::future::pending().await,
        }
    }
}

#[tokio::test]
async fn deliveries_are_acknowledged_once_their_results_are_durable() {
    let partition = Partition::default();
    let registry = Arc::new(MemoryRegistry::new(partition.clone()));
    let machine = registry
        .create(NewStateMachine {
            name: "hello".into(),
            arn: partition.state_machine("hello"),
            definition: r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#.into(),
            kind: MachineKind::Express,
            logging: Logging::default(),
            tracing: false,
            tags: Default::default(),
            now_ms: 1,
        })
        .await
        .expect("create");
    let executions = Arc::new(MemoryExecutions::new(Duration::from_secs(60), 1000));
    let acked = Arc::new(AtomicUsize::new(0));
    let mut deliveries = Vec::new();
    for i in 0..3 {
        let arn = partition.express_execution("hello", &format!("e{i}"), &format!("u{i}"));
        let record = ExecutionRecord {
            execution_arn: arn.clone(),
            name: format!("e{i}"),
            state_machine_arn: machine.arn.clone(),
            revision_id: machine.current.revision_id.clone(),
            input_hash: expressway_store::input_hash("{}"),
            input: "{}".into(),
            status: ExecutionStatus::Running,
            output: None,
            error: None,
            cause: None,
            start_ms: 1,
            stop_ms: None,
        };
        executions.start(record, Duration::from_secs(60)).await.expect("start");
        let acked = acked.clone();
        deliveries.push(Delivery {
            command: StartCommand {
                execution_arn: arn,
                execution_name: format!("e{i}"),
                state_machine_arn: machine.arn.clone(),
                revision_id: machine.current.revision_id.clone(),
                input: "{}".into(),
                start_ms: 1,
                reply_to: None,
                trace_header: None,
            },
            ack: Ack::new(move || {
                acked.fetch_add(1, Ordering::SeqCst);
            }),
        });
    }
    let hub = Arc::new(HeldHub::default());
    let worker = Arc::new(Worker::new(
        registry,
        executions.clone(),
        hub.clone(),
        Arc::new(NoReplies),
        Arc::new(NoTasks),
        WorkerConfig { concurrency: 2, ..WorkerConfig::default() },
    ));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(worker.run(Source(deliveries), stopped));

    // Every execution finishes and publishes its outcome, but none is acknowledged yet.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while hub.outcomes() < 3 {
        assert!(tokio::time::Instant::now() < deadline, "executions did not finish");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(acked.load(Ordering::SeqCst), 0, "acknowledged before the results were durable");

    hub.make_durable();
    while acked.load(Ordering::SeqCst) < 3 {
        assert!(tokio::time::Instant::now() < deadline, "durable results were not acknowledged");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(true);
    tokio::time::timeout(Duration::from_secs(5), running).await.expect("drained").expect("joined");
}
