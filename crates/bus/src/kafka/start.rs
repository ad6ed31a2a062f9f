//! Start commands on the executions topic: the producer side ([`KafkaBus`]) and the record
//! format both sides share.

use super::*;

/// Start commands on the executions topic.
pub struct KafkaBus {
    producer: FutureProducer,
    topic: String,
}

impl KafkaBus {
    pub fn new(cfg: &KafkaConfig) -> Result<Self, BusError> {
        let producer = cfg.producer_config().create().map_err(unavailable)?;
        Ok(KafkaBus { producer, topic: cfg.executions_topic.clone() })
    }

    /// Wait until every produced record is delivered (shutdown).
    pub fn flush(&self, timeout: Duration) {
        let _ = self.producer.flush(timeout);
    }
}

/// How a start command's value begins (the version of its format is the number).
pub const START_PREFIX: &[u8] = b"{\"expresswayStart\":1,";

/// A start command as it travels on the executions topic.
#[derive(Serialize, Deserialize)]
pub(super) struct StartRecord<C> {
    /// Always first, so a reader knows the record by its prefix.
    #[serde(rename = "expresswayStart")]
    version: u32,
    #[serde(flatten)]
    command: C,
}

/// The value of a start command's record on the executions topic.
pub fn encode_start(command: &StartCommand) -> Result<Vec<u8>, BusError> {
    serde_json::to_vec(&StartRecord { version: 1, command }).map_err(|e| BusError::Unavailable(e.to_string()))
}

#[async_trait]
impl ExecutionBus for KafkaBus {
    async fn publish(&self, command: StartCommand) -> Result<(), BusError> {
        let payload = encode_start(&command)?;
        produce(&self.producer, &self.topic, &command.execution_name, &payload, None).await
    }
}

/// Read a start command from its record value.
pub fn decode_start(payload: &[u8]) -> Result<StartCommand, serde_json::Error> {
    if payload.starts_with(START_PREFIX) {
        serde_json::from_slice::<StartRecord<StartCommand>>(payload).map(|r| r.command)
    } else {
        serde_json::from_slice(payload)
    }
}
