//! The bus's record decoders, as a worker meets them on Kafka: start commands
//! (`kafka::decode_start`, checked against `kafka::encode_start`: whatever decodes must encode
//! to a record with the start prefix that decodes back to the same command), trigger records
//! (`kafka::read_trigger`, on the executions topic and on a mapped topic), and results-topic
//! records (`kafka::unpack`, each message decoded as a `ResultMessage` and encoded back).
#![no_main]

use expressway_bus::kafka::{decode_start, encode_start, read_trigger, stable_hash, unpack, START_PREFIX};
use expressway_bus::ResultMessage;
use libfuzzer_sys::fuzz_target;

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
    }

    // A trigger record, on the executions topic and on a topic mapped to a state machine.
    for mapped in [None, Some("arn:aws:states:us-east-1:000000000000:stateMachine:t")] {
        let Ok((arn, name, input)) = read_trigger(mapped, ("orders.v1", 3, 42), data) else { continue };
        if let Some(m) = mapped {
            // The whole value is the input, and the name comes from where the record is.
            assert_eq!((arn.as_str(), name.as_str()), (m, "kafka-orders-v1-3-42"));
            serde_json::from_str::<serde_json::Value>(&input).expect("a mapped record's input is JSON");
        }
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
