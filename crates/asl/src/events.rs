//! History events, as AWS names them, reported to an [`EventSink`] while an execution runs.
//! Event ids are always counted (error causes cite them); building an event's details is
//! skipped when the sink is not interested.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// AWS history event types that the interpreter emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    ExecutionStarted,
    ExecutionSucceeded,
    ExecutionFailed,
    ExecutionTimedOut,
    ExecutionAborted,
    PassStateEntered,
    PassStateExited,
    TaskStateEntered,
    TaskStateExited,
    ChoiceStateEntered,
    ChoiceStateExited,
    WaitStateEntered,
    WaitStateExited,
    SucceedStateEntered,
    SucceedStateExited,
    FailStateEntered,
    ParallelStateEntered,
    ParallelStateExited,
    ParallelStateStarted,
    ParallelStateSucceeded,
    ParallelStateFailed,
    MapStateEntered,
    MapStateExited,
    MapStateStarted,
    MapStateSucceeded,
    MapStateFailed,
    MapIterationStarted,
    MapIterationSucceeded,
    MapIterationFailed,
    TaskScheduled,
    TaskStarted,
    TaskSucceeded,
    TaskFailed,
    TaskTimedOut,
}

impl EventType {
    pub(crate) fn entered(state_type: &str) -> EventType {
        match state_type {
            "Pass" => EventType::PassStateEntered,
            "Task" => EventType::TaskStateEntered,
            "Choice" => EventType::ChoiceStateEntered,
            "Wait" => EventType::WaitStateEntered,
            "Succeed" => EventType::SucceedStateEntered,
            "Fail" => EventType::FailStateEntered,
            "Parallel" => EventType::ParallelStateEntered,
            _ => EventType::MapStateEntered,
        }
    }

    pub(crate) fn exited(state_type: &str) -> Option<EventType> {
        Some(match state_type {
            "Pass" => EventType::PassStateExited,
            "Task" => EventType::TaskStateExited,
            "Choice" => EventType::ChoiceStateExited,
            "Wait" => EventType::WaitStateExited,
            "Succeed" => EventType::SucceedStateExited,
            "Parallel" => EventType::ParallelStateExited,
            "Map" => EventType::MapStateExited,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        // The Debug form is the AWS name.
        match self {
            EventType::ExecutionStarted => "ExecutionStarted",
            EventType::ExecutionSucceeded => "ExecutionSucceeded",
            EventType::ExecutionFailed => "ExecutionFailed",
            EventType::ExecutionTimedOut => "ExecutionTimedOut",
            EventType::ExecutionAborted => "ExecutionAborted",
            EventType::PassStateEntered => "PassStateEntered",
            EventType::PassStateExited => "PassStateExited",
            EventType::TaskStateEntered => "TaskStateEntered",
            EventType::TaskStateExited => "TaskStateExited",
            EventType::ChoiceStateEntered => "ChoiceStateEntered",
            EventType::ChoiceStateExited => "ChoiceStateExited",
            EventType::WaitStateEntered => "WaitStateEntered",
            EventType::WaitStateExited => "WaitStateExited",
            EventType::SucceedStateEntered => "SucceedStateEntered",
            EventType::SucceedStateExited => "SucceedStateExited",
            EventType::FailStateEntered => "FailStateEntered",
            EventType::ParallelStateEntered => "ParallelStateEntered",
            EventType::ParallelStateExited => "ParallelStateExited",
            EventType::ParallelStateStarted => "ParallelStateStarted",
            EventType::ParallelStateSucceeded => "ParallelStateSucceeded",
            EventType::ParallelStateFailed => "ParallelStateFailed",
            EventType::MapStateEntered => "MapStateEntered",
            EventType::MapStateExited => "MapStateExited",
            EventType::MapStateStarted => "MapStateStarted",
            EventType::MapStateSucceeded => "MapStateSucceeded",
            EventType::MapStateFailed => "MapStateFailed",
            EventType::MapIterationStarted => "MapIterationStarted",
            EventType::MapIterationSucceeded => "MapIterationSucceeded",
            EventType::MapIterationFailed => "MapIterationFailed",
            EventType::TaskScheduled => "TaskScheduled",
            EventType::TaskStarted => "TaskStarted",
            EventType::TaskSucceeded => "TaskSucceeded",
            EventType::TaskFailed => "TaskFailed",
            EventType::TaskTimedOut => "TaskTimedOut",
        }
    }
}

/// One history event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HistoryEvent {
    pub id: u64,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    #[serde(rename = "type")]
    pub event_type: EventType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_name: Option<String>,
    /// Input, output, error and cause, as the event type carries them.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub details: Value,
}

impl HistoryEvent {
    /// About what this event holds in memory: its details' serialized size (a cheap upper
    /// bound) plus the fixed fields. Byte budgets of stores and buffers count events by it.
    pub fn approx_bytes(&self) -> usize {
        64 + self.state_name.as_ref().map_or(0, String::len) + crate::exec::size_bound(&self.details)
    }
}

/// Receives history events. Implementations must be cheap when `enabled` is false.
pub trait EventSink: Send + Sync {
    /// Whether events should be built at all.
    fn enabled(&self) -> bool {
        true
    }
    fn record(&self, event: HistoryEvent);
}

/// Discards everything; the default when nobody listens.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEvents;

impl EventSink for NoEvents {
    fn enabled(&self) -> bool {
        false
    }
    fn record(&self, _event: HistoryEvent) {}
}

/// Keeps every event in memory (tests, `--events`, short executions).
#[derive(Debug, Default)]
pub struct EventLog {
    events: Mutex<Vec<HistoryEvent>>,
}

impl EventLog {
    pub fn take(&self) -> Vec<HistoryEvent> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl EventSink for EventLog {
    fn record(&self, event: HistoryEvent) {
        self.events.lock().unwrap_or_else(|p| p.into_inner()).push(event);
    }
}
