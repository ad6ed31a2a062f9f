//! Triggers: records that do not come from a frontend, turned into executions.

use super::*;

/// Turns a trigger record into a recorded execution (implemented by the worker with the stores).
#[async_trait]
pub trait TriggerStarter: Send + Sync {
    /// Record the execution (deduplicated by name) and return its start command, or say why
    /// the record cannot start.
    async fn start(&self, state_machine_arn: &str, name: &str, input: &str) -> Result<StartCommand, TriggerError>;
}

#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    /// The record can never start (bad JSON, unknown state machine…): dead-letter it.
    #[error("{0}")]
    Rejected(String),
    /// A backing service is down: try again later.
    #[error("{0}")]
    Unavailable(String),
}

/// A trigger record's fields.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TriggerRecord {
    state_machine_arn: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    input: Option<serde_json::Value>,
}

/// A stable execution name for a record that has none: redelivery starts nothing new.
pub(super) fn record_name(topic: &str, partition: i32, offset: i64) -> String {
    let clean: String =
        topic.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
    let mut name = format!("kafka-{clean}-{partition}-{offset}");
    if name.len() > 80 {
        name = format!("kafka-{:x}-{partition}-{offset}", stable_hash(topic));
    }
    name
}

/// What a trigger record starts: the state machine's ARN, the execution's name and its input
/// as JSON text; or why it starts nothing (the record then goes to the dead-letter topic).
/// `mapped` is the state machine of a topic mapped to one: there the whole value is the input.
pub fn read_trigger(
    mapped: Option<&str>,
    (topic, partition, offset): (&str, i32, i64),
    payload: &[u8],
) -> Result<(String, String, String), String> {
    if let Some(arn) = mapped {
        let input = serde_json::from_slice::<serde_json::Value>(payload)
            .map_err(|e| format!("the record value is not JSON: {e}"))?;
        return Ok((arn.to_string(), record_name(topic, partition, offset), input.to_string()));
    }
    let r = serde_json::from_slice::<TriggerRecord>(payload)
        .map_err(|e| format!("not a start record (expected {{\"stateMachineArn\", \"name\", \"input\"}}): {e}"))?;
    let input = match r.input {
        None => "{}".to_string(),
        Some(serde_json::Value::String(s)) => s,
        Some(v) => v.to_string(),
    };
    let name = r.name.filter(|n| !n.is_empty()).unwrap_or_else(|| record_name(topic, partition, offset));
    Ok((r.state_machine_arn, name, input))
}
