//! A delivery is acknowledged (its offset may be committed) only once its outcome is recorded
//! and its results are durable: a worker that crashed before then would otherwise have lost
//! the results of an execution nobody will run again. A poison delivery (its runs kept being
//! cut off) is failed without running and dead-lettered before it is acknowledged.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use expressway_asl::{NoTasks, StatesError, TaskInvoker, TaskRequest};
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
                depth: 0,
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

/// Counts task calls and answers `{}`.
#[derive(Default)]
struct CountingTasks(AtomicUsize);

impl TaskInvoker for CountingTasks {
    fn invoke<'a>(
        &'a self,
        _: TaskRequest<'a>,
    ) -> futures::future::BoxFuture<'a, Result<serde_json::Value, StatesError>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Ok(serde_json::json!({})) })
    }
}

#[tokio::test]
async fn an_execution_whose_runs_keep_being_cut_off_is_failed_and_dead_lettered() {
    let partition = Partition::default();
    let registry = Arc::new(MemoryRegistry::new(partition.clone()));
    let machine = registry
        .create(NewStateMachine {
            name: "charge".into(),
            arn: partition.state_machine("charge"),
            definition: r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","End":true}}}"#.into(),
            kind: MachineKind::Express,
            logging: Logging::default(),
            tracing: false,
            tags: Default::default(),
            now_ms: 1,
        })
        .await
        .expect("create");
    let executions = Arc::new(MemoryExecutions::new(Duration::from_secs(60), 1000));
    let dead = Arc::new(Mutex::new(Vec::<String>::new()));
    let acked = Arc::new(AtomicUsize::new(0));
    let mut deliveries = Vec::new();
    // "poison": three earlier runs were cut off (three owners took the lease, none finished);
    // "survivor": one was, so it runs again.
    for (name, cut_off) in [("poison", 3), ("survivor", 1)] {
        let arn = partition.express_execution("charge", name, name);
        let record = ExecutionRecord {
            execution_arn: arn.clone(),
            name: name.into(),
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
        for owner in 0..cut_off {
            let taken = executions.begin(&arn, &format!("dead-{owner}"), Duration::from_millis(1)).await;
            assert!(matches!(taken, Ok(expressway_store::Begin::Acquired { .. })), "{taken:?}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let (acked, dead) = (acked.clone(), dead.clone());
        let ack = Ack::new(move || {
            acked.fetch_add(1, Ordering::SeqCst);
        })
        .with_dead_letter(Box::new(move |why: String| Box::pin(async move { dead.lock().expect("lock").push(why) })));
        deliveries.push(Delivery {
            command: StartCommand {
                execution_arn: arn,
                execution_name: name.into(),
                state_machine_arn: machine.arn.clone(),
                revision_id: machine.current.revision_id.clone(),
                input: "{}".into(),
                start_ms: 1,
                reply_to: None,
                trace_header: None,
                depth: 0,
            },
            ack,
        });
    }
    let hub = Arc::new(HeldHub::default());
    hub.make_durable();
    let tasks = Arc::new(CountingTasks::default());
    let worker = Arc::new(Worker::new(
        registry,
        executions.clone(),
        hub.clone(),
        Arc::new(NoReplies),
        tasks.clone(),
        WorkerConfig { concurrency: 2, max_attempts: 3, ..WorkerConfig::default() },
    ));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(worker.run(Source(deliveries), stopped));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while acked.load(Ordering::SeqCst) < 2 {
        hub.make_durable();
        assert!(tokio::time::Instant::now() < deadline, "deliveries were not acknowledged");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(true);
    tokio::time::timeout(Duration::from_secs(5), running).await.expect("drained").expect("joined");

    let poison = executions.get(&partition.express_execution("charge", "poison", "poison")).await.expect("poison");
    assert_eq!(poison.status, ExecutionStatus::Failed);
    assert_eq!(poison.error.as_deref(), Some(expressway_worker::CRASHED));
    assert!(
        poison.cause.as_deref().unwrap_or_default().starts_with("3 runs of this execution were cut off"),
        "{poison:?}"
    );
    let survivor =
        executions.get(&partition.express_execution("charge", "survivor", "survivor")).await.expect("survivor");
    assert_eq!(survivor.status, ExecutionStatus::Succeeded, "a second run is still allowed: {survivor:?}");
    assert_eq!(tasks.0.load(Ordering::SeqCst), 1, "only the survivor called its task");
    let dead = dead.lock().expect("lock");
    assert_eq!(dead.len(), 1, "only the poison execution is dead-lettered: {dead:?}");
    assert!(dead[0].contains("worker.max_attempts = 3"), "{}", dead[0]);
}

#[tokio::test]
async fn a_drain_that_outlasts_its_deadline_hands_the_runs_back_unacknowledged() {
    let partition = Partition::default();
    let registry = Arc::new(MemoryRegistry::new(partition.clone()));
    let machine = registry
        .create(NewStateMachine {
            name: "long".into(),
            arn: partition.state_machine("long"),
            definition: r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":600,"End":true}}}"#.into(),
            kind: MachineKind::Express,
            logging: Logging::default(),
            tracing: false,
            tags: Default::default(),
            now_ms: 1,
        })
        .await
        .expect("create");
    let executions = Arc::new(MemoryExecutions::new(Duration::from_secs(60), 1000));
    let arn = partition.express_execution("long", "l1", "u1");
    let record = ExecutionRecord {
        execution_arn: arn.clone(),
        name: "l1".into(),
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
    let acked = Arc::new(AtomicUsize::new(0));
    let counted = acked.clone();
    let delivery = Delivery {
        command: StartCommand {
            execution_arn: arn.clone(),
            execution_name: "l1".into(),
            state_machine_arn: machine.arn.clone(),
            revision_id: machine.current.revision_id.clone(),
            input: "{}".into(),
            start_ms: 1,
            reply_to: None,
            trace_header: None,
            depth: 0,
        },
        ack: Ack::new(move || {
            counted.fetch_add(1, Ordering::SeqCst);
        }),
    };
    let worker = Arc::new(Worker::new(
        registry,
        executions.clone(),
        Arc::new(HeldHub::default()),
        Arc::new(NoReplies),
        Arc::new(NoTasks),
        WorkerConfig { drain_timeout: Duration::from_millis(300), ..WorkerConfig::default() },
    ));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(worker.clone().run(Source(vec![delivery]), stopped));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while worker.running().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the execution did not start");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(true);
    tokio::time::timeout(Duration::from_secs(3), running)
        .await
        .expect("the drain ended at its deadline")
        .expect("joined");
    assert_eq!(acked.load(Ordering::SeqCst), 0, "a run cut off must be redelivered, not acknowledged");
    assert!(worker.running().is_empty());
    // Its lease was given back: the next owner takes it over at once.
    let next = executions.begin(&arn, "next-owner", Duration::from_secs(30)).await;
    assert_eq!(next, Ok(expressway_store::Begin::Acquired { attempt: 2 }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_executions_history_is_bounded() {
    let partition = Partition::default();
    let registry = Arc::new(MemoryRegistry::new(partition.clone()));
    let machine = registry
        .create(NewStateMachine {
            name: "many".into(),
            arn: partition.state_machine("many"),
            definition: r#"{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"ResultPath":null,"End":true}}}"#.into(),
            kind: MachineKind::Express,
            logging: Logging { level: expressway_store::LogLevel::All, include_execution_data: false },
            tracing: false,
            tags: Default::default(),
            now_ms: 1,
        })
        .await
        .expect("create");
    let executions = Arc::new(MemoryExecutions::new(Duration::from_secs(60), 1000));
    let arn = partition.express_execution("many", "m1", "u1");
    let input = serde_json::to_string(&(0..10_000).collect::<Vec<u32>>()).expect("json");
    let record = ExecutionRecord {
        execution_arn: arn.clone(),
        name: "m1".into(),
        state_machine_arn: machine.arn.clone(),
        revision_id: machine.current.revision_id.clone(),
        input_hash: expressway_store::input_hash(&input),
        input: input.clone(),
        status: ExecutionStatus::Running,
        output: None,
        error: None,
        cause: None,
        start_ms: 1,
        stop_ms: None,
    };
    executions.start(record, Duration::from_secs(60)).await.expect("start");
    let hub = Arc::new(HeldHub::default());
    let worker = Worker::new(
        registry,
        executions.clone(),
        hub.clone(),
        Arc::new(NoReplies),
        Arc::new(NoTasks),
        WorkerConfig::default(),
    );
    let command = StartCommand {
        execution_arn: arn.clone(),
        execution_name: "m1".into(),
        state_machine_arn: machine.arn.clone(),
        revision_id: machine.current.revision_id.clone(),
        input,
        start_ms: 1,
        reply_to: None,
        trace_header: None,
        depth: 0,
    };
    let handled = worker.execute(&command).await.expect("run");
    assert_eq!(handled.outcome.status, ExecutionStatus::Succeeded);
    // Ten thousand iterations make over forty thousand events; the history keeps the limit.
    let history = executions.history(&arn).await.expect("history");
    assert_eq!(history.len(), expressway_worker::MAX_HISTORY_EVENTS);
    let streamed = hub.held.lock().expect("lock").iter().filter(|(m, _)| matches!(m, ResultMessage::Event(_))).count();
    assert_eq!(streamed, expressway_worker::MAX_HISTORY_EVENTS);
}
