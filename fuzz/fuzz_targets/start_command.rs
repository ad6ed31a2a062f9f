//! The bus's record decoders, as a worker meets them on Kafka.
//!
//! `expressway_bus::kafka`'s own `decode_start` and `TriggerRecord` are private, so this target
//! mirrors them exactly (same serde shapes, same prefix test) and checks them against the
//! public encoder `kafka::encode_start`: whatever decodes as a start command must encode to a
//! record that carries the start prefix and decodes back to the same command. It also splits
//! the input with the public `kafka::unpack` (results-topic records) and decodes each message
//! as a `ResultMessage`, and hashes the text with `kafka::stable_hash`.
#![no_main]

use expressway_bus::kafka::{encode_start, stable_hash, unpack};
use expressway_bus::{ResultMessage, StartCommand};
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;

/// Mirrors `START_PREFIX` in crates/bus/src/kafka.rs.
const START_PREFIX: &[u8] = b"{\"expresswayStart\":1,";

/// Mirrors `StartRecord<C>` in crates/bus/src/kafka.rs.
#[derive(Deserialize)]
struct StartRecord {
    #[serde(rename = "expresswayStart")]
    #[allow(dead_code)]
    version: u32,
    #[serde(flatten)]
    command: StartCommand,
}

/// Mirrors `TriggerRecord` in crates/bus/src/kafka.rs.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct TriggerRecord {
    state_machine_arn: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    input: Option<serde_json::Value>,
}

/// Mirrors the private `decode_start` in crates/bus/src/kafka.rs.
fn decode_start(payload: &[u8]) -> Result<StartCommand, serde_json::Error> {
    if payload.starts_with(START_PREFIX) {
        serde_json::from_slice::<StartRecord>(payload).map(|r| r.command)
    } else {
        serde_json::from_slice(payload)
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() > 65536 {
        return;
    }

    if let Ok(command) = decode_start(data) {
        let encoded = encode_start(&command).expect("a decoded command must encode");
        assert!(
            encoded.starts_with(START_PREFIX),
            "encode_start lost the start prefix: {:?}",
            String::from_utf8_lossy(&encoded)
        );
        let again = decode_start(&encoded).expect("an encoded command must decode");
        assert_eq!(again, command, "start command does not survive encode/decode");
        // The input travels as JSON text; the worker parses it later.
        let _ = serde_json::from_str::<serde_json::Value>(&command.input);
    }

    // A trigger record on the executions topic.
    if let Ok(r) = serde_json::from_slice::<TriggerRecord>(data) {
        let input = match r.input {
            None => "{}".to_string(),
            Some(serde_json::Value::String(s)) => s,
            Some(v) => v.to_string(),
        };
        let _ = stable_hash(&input);
    }

    // A results-topic record: newline-delimited messages.
    for message in unpack(data) {
        assert!(!message.is_empty() && !message.contains(&b'\n'));
        if let Ok(m) = serde_json::from_slice::<ResultMessage>(message) {
            let _ = (m.execution_arn().len(), m.state_machine_arn().len());
            let text = serde_json::to_vec(&m).expect("a decoded result message must encode");
            let _ = serde_json::from_slice::<ResultMessage>(&text).expect("an encoded result message must decode");
        }
    }

    if let Ok(text) = std::str::from_utf8(data) {
        let _ = stable_hash(text);
    }
});
