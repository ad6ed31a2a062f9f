//! Helpers shared by the interpreter tests: a tokio-driven clock (tests run with paused time,
//! so nothing really sleeps), a scripted task invoker, and shortcuts to run definitions.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use expressway_asl::{
    Clock, EventSink, ExecutionInfo, Interpreter, Limits, NoEvents, Outcome, StateMachine, StatesError, TaskInvoker,
    TaskRequest,
};
use futures::future::BoxFuture;
use futures::FutureExt;
use serde_json::Value;

/// Time from tokio's clock; with `start_paused` it advances only when every task waits.
pub struct TokioClock {
    origin: tokio::time::Instant,
    epoch_ms: i64,
}

impl TokioClock {
    pub fn new() -> Self {
        TokioClock { origin: tokio::time::Instant::now(), epoch_ms: 1_700_000_000_000 }
    }
}

impl Clock for TokioClock {
    fn now_millis(&self) -> i64 {
        self.epoch_ms + self.origin.elapsed().as_millis() as i64
    }
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        tokio::time::sleep(d).boxed()
    }
}

/// What a scripted task does on each call.
#[derive(Clone)]
pub enum Step {
    Ok(Value),
    Err(&'static str, &'static str),
    Hang,
    Echo,
}

/// A task invoker following a script per resource, recording every call and its time.
#[derive(Default)]
pub struct Script {
    steps: Mutex<HashMap<String, Vec<Step>>>,
    pub calls: Mutex<Vec<(String, Value, u32, tokio::time::Instant)>>,
}

impl Script {
    pub fn on(self, resource: &str, steps: Vec<Step>) -> Self {
        self.steps.lock().expect("lock").insert(resource.to_string(), steps);
        self
    }
    pub fn calls(&self) -> Vec<(String, Value, u32, tokio::time::Instant)> {
        self.calls.lock().expect("lock").clone()
    }
}

impl TaskInvoker for Script {
    fn invoke<'a>(&'a self, req: TaskRequest<'a>) -> BoxFuture<'a, Result<Value, StatesError>> {
        self.calls.lock().expect("lock").push((
            req.resource.to_string(),
            req.input.clone(),
            req.attempt,
            tokio::time::Instant::now(),
        ));
        let step = {
            let mut steps = self.steps.lock().expect("lock");
            let list = steps.entry(req.resource.to_string()).or_default();
            if list.len() > 1 {
                list.remove(0)
            } else {
                list.first().cloned().unwrap_or(Step::Echo)
            }
        };
        async move {
            match step {
                Step::Ok(v) => Ok(v),
                Step::Err(e, c) => Err(StatesError::new(e, c)),
                Step::Hang => futures::future::pending().await,
                Step::Echo => Ok(req.input),
            }
        }
        .boxed()
    }
}

pub fn machine(def: &Value) -> StateMachine {
    StateMachine::from_value(def, expressway_asl::MachineType::Standard).expect("valid definition")
}

pub fn info() -> ExecutionInfo {
    ExecutionInfo {
        execution_arn: "arn:aws:states:us-east-1:123456789012:express:sm:exec-1".into(),
        execution_name: "exec-1".into(),
        state_machine_arn: "arn:aws:states:us-east-1:123456789012:stateMachine:sm".into(),
        state_machine_name: "sm".into(),
        start_time: "2023-11-14T22:13:20.000Z".into(),
        ..ExecutionInfo::default()
    }
}

pub async fn run_with(def: &Value, input: Value, tasks: Arc<dyn TaskInvoker>, sink: &dyn EventSink) -> Outcome {
    let interp = Interpreter::new(tasks, Arc::new(TokioClock::new()), Limits::default());
    interp.execute(&machine(def), input, info(), sink).await
}

pub async fn run(def: &Value, input: Value) -> Outcome {
    run_with(def, input, Arc::new(Script::default()), &NoEvents).await
}

pub fn succeeded(o: Outcome) -> Value {
    match o {
        Outcome::Succeeded(v) => v,
        other => panic!("expected success, got {other:?}"),
    }
}

pub fn failed(o: Outcome) -> StatesError {
    match o {
        Outcome::Failed(e) => e,
        other => panic!("expected failure, got {other:?}"),
    }
}
