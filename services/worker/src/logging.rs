//! Which history events a state machine's logging configuration keeps, as AWS defines the
//! levels: ALL keeps everything, ERROR the failure events, FATAL only how a failed execution
//! ended, OFF nothing. Without `includeExecutionData`, inputs and outputs are removed.

use expressway_asl::{EventType, HistoryEvent};
use expressway_store::LogLevel;

pub fn keeps(level: LogLevel, ty: EventType) -> bool {
    use EventType::*;
    match level {
        LogLevel::Off => false,
        LogLevel::All => true,
        LogLevel::Error => matches!(
            ty,
            ExecutionFailed
                | ExecutionTimedOut
                | ExecutionAborted
                | TaskFailed
                | TaskTimedOut
                | MapStateFailed
                | MapIterationFailed
                | ParallelStateFailed
        ),
        LogLevel::Fatal => matches!(ty, ExecutionFailed | ExecutionTimedOut | ExecutionAborted),
    }
}

/// Remove execution data (inputs, outputs, task parameters) from an event.
pub fn strip_data(event: &mut HistoryEvent) {
    if let Some(obj) = event.details.as_object_mut() {
        for k in ["input", "output", "parameters"] {
            obj.remove(k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert!(keeps(LogLevel::All, EventType::PassStateEntered));
        assert!(!keeps(LogLevel::Error, EventType::PassStateEntered));
        assert!(keeps(LogLevel::Error, EventType::TaskFailed));
        assert!(!keeps(LogLevel::Fatal, EventType::TaskFailed));
        assert!(keeps(LogLevel::Fatal, EventType::ExecutionFailed));
        assert!(!keeps(LogLevel::Off, EventType::ExecutionFailed));
    }
}
