//! Translation between API messages and store/bus records.

use std::collections::HashSet;

use expressway_bus::{OutcomeMessage, ResultMessage};
use expressway_proto::v1 as pb;
use expressway_store::{ExecutionRecord, ExecutionStatus, LogLevel, Logging, MachineKind};

pub fn timestamp(ms: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: ms.div_euclid(1000), nanos: (ms.rem_euclid(1000) * 1_000_000) as i32 }
}

pub fn kind_from_pb(t: i32) -> MachineKind {
    match pb::StateMachineType::try_from(t) {
        Ok(pb::StateMachineType::Standard) => MachineKind::Standard,
        _ => MachineKind::Express,
    }
}

pub fn kind_to_pb(k: MachineKind) -> pb::StateMachineType {
    match k {
        MachineKind::Express => pb::StateMachineType::Express,
        MachineKind::Standard => pb::StateMachineType::Standard,
    }
}

pub fn logging_from_pb(l: Option<&pb::LoggingConfiguration>) -> Logging {
    let Some(l) = l else { return Logging::default() };
    let level = match pb::LogLevel::try_from(l.level) {
        Ok(pb::LogLevel::All) => LogLevel::All,
        Ok(pb::LogLevel::Error) => LogLevel::Error,
        Ok(pb::LogLevel::Fatal) => LogLevel::Fatal,
        _ => LogLevel::Off,
    };
    Logging { level, include_execution_data: l.include_execution_data }
}

pub fn logging_to_pb(l: &Logging) -> pb::LoggingConfiguration {
    let level = match l.level {
        LogLevel::Off => pb::LogLevel::Off,
        LogLevel::All => pb::LogLevel::All,
        LogLevel::Error => pb::LogLevel::Error,
        LogLevel::Fatal => pb::LogLevel::Fatal,
    };
    pb::LoggingConfiguration { level: level as i32, include_execution_data: l.include_execution_data }
}

pub fn status_to_pb(s: ExecutionStatus) -> pb::ExecutionStatus {
    match s {
        ExecutionStatus::Running => pb::ExecutionStatus::Running,
        ExecutionStatus::Succeeded => pb::ExecutionStatus::Succeeded,
        ExecutionStatus::Failed => pb::ExecutionStatus::Failed,
        ExecutionStatus::TimedOut => pb::ExecutionStatus::TimedOut,
        ExecutionStatus::Aborted => pb::ExecutionStatus::Aborted,
    }
}

pub fn describe(r: ExecutionRecord) -> pb::DescribeExecutionResponse {
    pb::DescribeExecutionResponse {
        execution_arn: r.execution_arn,
        state_machine_arn: r.state_machine_arn,
        name: r.name,
        status: status_to_pb(r.status) as i32,
        start_date: Some(timestamp(r.start_ms)),
        stop_date: r.stop_ms.map(timestamp),
        input: r.input,
        output: r.output.unwrap_or_default(),
        error: r.error.unwrap_or_default(),
        cause: r.cause.unwrap_or_default(),
        revision_id: r.revision_id,
    }
}

pub fn outcome_of(r: &ExecutionRecord) -> OutcomeMessage {
    OutcomeMessage::from_record(r.clone(), r.start_ms)
}

pub fn history_event(e: &expressway_asl::HistoryEvent) -> pb::HistoryEvent {
    pb::HistoryEvent {
        id: e.id as i64,
        timestamp: Some(timestamp(e.timestamp_ms)),
        r#type: e.event_type.as_str().to_string(),
        state_name: e.state_name.clone().unwrap_or_default(),
        details: if e.details.is_null() { String::new() } else { e.details.to_string() },
    }
}

/// A subscriber's filters, checked against each message.
pub struct Filter {
    state_machine_arn: String,
    execution_arn: String,
    statuses: HashSet<i32>,
    event_types: HashSet<String>,
    all_events: bool,
}

impl Filter {
    pub fn new(req: &pb::SubscribeRequest) -> Result<Filter, String> {
        for t in &req.event_types {
            if !t.chars().all(|c| c.is_ascii_alphabetic()) || t.is_empty() {
                return Err(format!("unknown event type '{t}'"));
            }
        }
        Ok(Filter {
            state_machine_arn: req.state_machine_arn.clone(),
            execution_arn: req.execution_arn.clone(),
            statuses: req.statuses.iter().copied().collect(),
            event_types: req.event_types.iter().cloned().collect(),
            all_events: req.all_events,
        })
    }

    /// The message to send for `m`, or `None` when the filters exclude it.
    pub fn render(&self, position: u64, m: &ResultMessage) -> Option<pb::SubscribeResponse> {
        if !self.execution_arn.is_empty() && m.execution_arn() != self.execution_arn {
            return None;
        }
        if !self.state_machine_arn.is_empty() && m.state_machine_arn() != self.state_machine_arn {
            return None;
        }
        let body = match m {
            ResultMessage::Outcome(o) => {
                let status = status_to_pb(o.status) as i32;
                if !self.statuses.is_empty() && !self.statuses.contains(&status) {
                    return None;
                }
                pb::subscribe_response::Body::Outcome(pb::ExecutionOutcome {
                    execution_arn: o.execution_arn.clone(),
                    state_machine_arn: o.state_machine_arn.clone(),
                    status,
                    output: o.output.clone().unwrap_or_default(),
                    error: o.error.clone().unwrap_or_default(),
                    cause: o.cause.clone().unwrap_or_default(),
                    start_date: Some(timestamp(o.start_ms)),
                    stop_date: Some(timestamp(o.stop_ms)),
                })
            }
            ResultMessage::Event(e) => {
                let ty = e.event.event_type.as_str();
                if !self.all_events && !self.event_types.contains(ty) {
                    return None;
                }
                pb::subscribe_response::Body::Event(pb::ExecutionEvent {
                    execution_arn: e.execution_arn.clone(),
                    state_machine_arn: e.state_machine_arn.clone(),
                    event: Some(history_event(&e.event)),
                })
            }
        };
        Some(pb::SubscribeResponse { position, body: Some(body) })
    }
}
