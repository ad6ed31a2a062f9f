//! The bus on Kafka (any Kafka-protocol broker: Apache Kafka, Redpanda…).
//!
//! - [`KafkaConfig::client_config`] is the one place that builds client settings.
//! - [`KafkaBus`] produces start commands with the idempotent producer (acks=all), keyed by
//!   execution name so one name always lands on one partition. A full producer queue is
//!   `BusError::Full`, never a silent drop; `publish` returns once the broker has the record.
//!   A start command is one JSON value that says what it is in its first field
//!   (`{"expresswayStart":1,…}`) and carries its trace context inside: no record headers, so a
//!   worker tells it from a trigger by a prefix and the record stays as small as it can be.
//! - [`KafkaSource`] consumes with auto-commit off and many executions in flight per partition.
//!   An offset is committed only when every record before it has been acknowledged (its
//!   outcome is durable). Rebalances are handled explicitly: on revoke, what is complete is
//!   committed synchronously and the partition's unfinished records are left to the new owner.
//!   A start command a worker finds poison (see `worker.max_attempts`) is dead-lettered
//!   through its [`Ack`] before its offset is released.
//! - Records that do not come from a frontend are *triggers*: a JSON value
//!   `{"stateMachineArn": …, "name": …, "input": …}` on the executions topic, or any JSON value
//!   on a topic mapped to a state machine. A [`TriggerStarter`] turns them into executions;
//!   records that cannot start go to the dead-letter topic with the reason in a header.
//! - [`KafkaHub`] publishes outcomes and history events to the results topic, several per
//!   record (newline-delimited JSON, see [`unpack`]), in order per execution.
//!
//! Layout: this module holds the configuration, topic creation and the produce helper every
//! part shares; `start` the start-command format and [`KafkaBus`], `source` the consumer with
//! its offset tracking and rebalances, `trigger` how trigger records read, `hub` the results.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};

use crate::{
    Ack, BusError, Delivery, ExecutionBus, ExecutionSource, Receipt, ResultMessage, ResultsHub, StartCommand,
    Subscription,
};

/// Kafka settings of a deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    pub bootstrap_servers: String,
    pub executions_topic: String,
    pub results_topic: String,
    pub dead_letter_topic: String,
    /// Partitions of the topics Expressway creates when they are missing.
    pub partitions: i32,
    pub replication_factor: i32,
    /// Consumer group of the workers.
    pub group_id: String,
    /// Extra librdkafka settings (security, tuning), applied last.
    pub properties: BTreeMap<String, String>,
    /// `sasl.password`, apart so that it can come from `EXPRESSWAY_KAFKA__SASL_PASSWORD`
    /// instead of a file (an environment variable cannot name a key with a dot).
    #[serde(skip_serializing)]
    pub sasl_password: Option<String>,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            bootstrap_servers: "127.0.0.1:9092".into(),
            executions_topic: "expressway.executions".into(),
            results_topic: "expressway.results".into(),
            dead_letter_topic: "expressway.dead-letter".into(),
            partitions: 8,
            replication_factor: 1,
            group_id: "expressway-workers".into(),
            properties: BTreeMap::new(),
            sasl_password: None,
        }
    }
}

/// A topic whose every record starts an execution of one state machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerMapping {
    pub topic: String,
    pub state_machine_arn: String,
}

fn unavailable(e: KafkaError) -> BusError {
    BusError::Unavailable(e.to_string())
}

impl KafkaConfig {
    /// Settings every client shares.
    pub fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap_servers);
        c.set("client.id", "expressway");
        for (k, v) in &self.properties {
            c.set(k, v);
        }
        if let Some(p) = &self.sasl_password {
            c.set("sasl.password", p);
        }
        c
    }

    pub fn producer_config(&self) -> ClientConfig {
        let mut c = self.client_config();
        c.set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "5")
            .set("message.timeout.ms", "30000")
            .set("queue.buffering.max.messages", "100000");
        for (k, v) in &self.properties {
            c.set(k, v);
        }
        c
    }

    pub fn consumer_config(&self) -> ClientConfig {
        let mut c = self.client_config();
        c.set("group.id", &self.group_id)
            // Statistics every 5 s: the consumer lag per partition (a metric).
            .set("statistics.interval.ms", "5000")
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            // A member that dies is noticed after 6 s (the broker's default
            // group.min.session.timeout.ms) and its partitions move to the others.
            .set("session.timeout.ms", "6000")
            .set("heartbeat.interval.ms", "1000")
            // Incremental rebalancing: a member joining or leaving moves only the partitions
            // that change owner, and the rest keep running their executions meanwhile.
            .set("partition.assignment.strategy", "cooperative-sticky")
            // Bound what is prefetched: backpressure comes from the worker's concurrency.
            .set("queued.max.messages.kbytes", "16384")
            // A fetch is answered once 64 KiB are there or 5 ms have passed: under load the
            // broker answers few, full fetches instead of one per record that arrives (each
            // request costs the broker far more than a record does), and an idle consumer
            // waits at most 5 ms for the next record.
            .set("fetch.min.bytes", "65536")
            .set("fetch.wait.max.ms", "5");
        for (k, v) in &self.properties {
            c.set(k, v);
        }
        c
    }
}

/// Create the topics that are missing, with the configured partition count.
/// Notes why the broker refused this client (failed authentication or TLS handshake), which
/// librdkafka reports only to this callback while the request itself waits for its timeout.
#[derive(Default)]
struct RefusalWatch(Mutex<Option<String>>);

impl ClientContext for RefusalWatch {
    fn error(&self, error: KafkaError, reason: &str) {
        if matches!(error.rdkafka_error_code(), Some(RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SSL)) {
            *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason.to_string());
        }
        tracing::warn!(error = %error, reason, "kafka client error");
    }
}

impl rdkafka::producer::ProducerContext for RefusalWatch {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &rdkafka::message::DeliveryResult<'_>, _: Self::DeliveryOpaque) {}
}

/// Whether the brokers accept this client, within `within`: refused credentials or
/// certificates are [`BusError::Refused`] at once (librdkafka reports them only to the error
/// callback, served by polling, while requests wait out their timeouts).
fn probe(cfg: &KafkaConfig, within: Duration) -> Result<(), BusError> {
    use rdkafka::producer::BaseProducer;
    let client: BaseProducer<RefusalWatch> =
        cfg.client_config().create_with_context(RefusalWatch::default()).map_err(unavailable)?;
    let deadline = std::time::Instant::now() + within;
    loop {
        let answered = client.client().fetch_metadata(None, Duration::from_millis(500));
        client.poll(Duration::from_millis(50));
        if let Some(why) = client.context().0.lock().unwrap_or_else(|p| p.into_inner()).clone() {
            return Err(BusError::Refused(why));
        }
        match answered {
            Ok(_) => return Ok(()),
            Err(e) if std::time::Instant::now() >= deadline => return Err(unavailable(e)),
            Err(_) => {}
        }
    }
}

/// Create the topics that are missing, with the configured partition count. Being the first
/// call a service makes, it first tells refused credentials or certificates apart from a
/// broker that is not there yet.
/// Asks the cluster for its metadata: whether Kafka is reachable (a readiness probe). One
/// client, made once, with the process's connection settings.
pub struct KafkaProbe(Arc<rdkafka::consumer::BaseConsumer>);

impl KafkaProbe {
    pub fn new(cfg: &KafkaConfig) -> Result<KafkaProbe, BusError> {
        cfg.client_config().create().map(|c| KafkaProbe(Arc::new(c))).map_err(unavailable)
    }

    /// Whether a broker answers within `within`.
    pub async fn check(&self, within: std::time::Duration) -> Result<(), BusError> {
        use rdkafka::consumer::Consumer as _;
        let client = self.0.clone();
        match tokio::task::spawn_blocking(move || client.fetch_metadata(None, within)).await {
            Ok(Ok(m)) if !m.brokers().is_empty() => Ok(()),
            Ok(Ok(_)) => Err(BusError::Unavailable("no Kafka broker is known".into())),
            Ok(Err(e)) => Err(unavailable(e)),
            Err(e) => Err(BusError::Unavailable(e.to_string())),
        }
    }
}

pub async fn ensure_topics(cfg: &KafkaConfig, topics: &[&str]) -> Result<(), BusError> {
    let probed = cfg.clone();
    tokio::task::spawn_blocking(move || probe(&probed, Duration::from_secs(10)))
        .await
        .map_err(|e| BusError::Unavailable(e.to_string()))??;
    let admin: AdminClient<rdkafka::client::DefaultClientContext> =
        cfg.client_config().create().map_err(unavailable)?;
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|t| NewTopic::new(t, cfg.partitions, TopicReplication::Fixed(cfg.replication_factor)))
        .collect();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let results = admin.create_topics(&new, &opts).await.map_err(unavailable)?;
    for r in results {
        match r {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => return Err(BusError::Unavailable(format!("cannot create topic {topic}: {code}"))),
        }
    }
    Ok(())
}

/// Produce a record and wait until the broker has it.
async fn produce(
    producer: &FutureProducer,
    topic: &str,
    key: &str,
    payload: &[u8],
    headers: Option<OwnedHeaders>,
) -> Result<(), BusError> {
    let mut record = FutureRecord::to(topic).key(key).payload(payload);
    if let Some(h) = headers {
        record = record.headers(h);
    }
    let delivery = producer.send_result(record).map_err(|(e, _)| match e {
        KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull) => BusError::Full,
        other => unavailable(other),
    })?;
    let started = std::time::Instant::now();
    let delivered = delivery.await;
    expressway_telemetry::metrics::kafka_produced(topic, started.elapsed());
    match delivered {
        Ok(Ok(_)) => Ok(()),
        Ok(Err((e, _))) => Err(unavailable(e)),
        Err(_) => Err(BusError::Unavailable("the producer was dropped before delivery".into())),
    }
}

/// A hash fixed by its specification (XXH3, 64 bits), unlike std's `DefaultHasher`: every
/// build, on every machine, derives the same slot and the same execution name from the same
/// text, so a record redelivered to a worker of another release is still one execution.
pub fn stable_hash(text: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

mod hub;
mod source;
mod start;
mod trigger;

pub use hub::{unpack, KafkaHub, HUB_LINGER};
pub use source::KafkaSource;
pub use start::{decode_start, encode_start, KafkaBus, START_PREFIX};
pub use trigger::{read_trigger, TriggerError, TriggerStarter};

#[cfg(test)]
mod tests {
    use super::trigger::record_name;
    use super::*;

    #[test]
    fn start_commands_are_known_by_their_prefix() {
        let command = StartCommand {
            execution_arn: "arn:aws:states:us-east-1:1:express:m:e:1".into(),
            execution_name: "e".into(),
            state_machine_arn: "arn:aws:states:us-east-1:1:stateMachine:m".into(),
            revision_id: "r".into(),
            input: "{\"stateMachineArn\":1}".into(),
            start_ms: 7,
            reply_to: Some("reply:x".into()),
            trace_header: Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into()),
            depth: 2,
        };
        let bytes = encode_start(&command).expect("encode");
        assert!(bytes.starts_with(START_PREFIX), "{}", String::from_utf8_lossy(&bytes));
        assert_eq!(decode_start(&bytes).expect("decode"), command);
        // A trigger record never has the prefix, whatever its fields.
        let trigger = br#"{"stateMachineArn":"arn:aws:states:us-east-1:1:stateMachine:m","expresswayStart":1}"#;
        assert!(!trigger.starts_with(START_PREFIX));
        // The previous format (plain command, marked by a header) still reads.
        let legacy = serde_json::to_vec(&command).expect("legacy");
        assert_eq!(decode_start(&legacy).expect("decode legacy"), command);
    }

    #[test]
    fn packed_results_unpack_in_order() {
        let a = serde_json::json!({"a": "line\nbreak"}).to_string();
        let b = serde_json::json!({"b": 2}).to_string();
        let packed = format!("{a}\n{b}");
        let got: Vec<&[u8]> = unpack(packed.as_bytes()).collect();
        assert_eq!(got, vec![a.as_bytes(), b.as_bytes()], "a newline inside a string is escaped");
        // A record of one message (as written before packing) is that message.
        assert_eq!(unpack(a.as_bytes()).collect::<Vec<_>>(), vec![a.as_bytes()]);
    }

    #[test]
    fn stable_names_for_records() {
        assert_eq!(record_name("orders", 3, 42), "kafka-orders-3-42");
        assert_eq!(record_name("a.b", 0, 1), "kafka-a-b-0-1");
        let long = record_name(&"t".repeat(200), 1, 2);
        assert!(long.len() <= 80);
        assert_eq!(long, format!("kafka-{:x}-1-2", stable_hash(&"t".repeat(200))));
    }

    #[test]
    fn the_stable_hash_is_xxh3_as_specified() {
        // XXH3-64 of the empty input, from the specification's reference implementation.
        assert_eq!(stable_hash(""), 0x2D06_8005_38D3_94C2);
        // Pinned: a change here would move executions to other result slots and give
        // redelivered trigger records new names.
        assert_eq!(stable_hash("arn:aws:states:us-east-1:000000000000:express:hello:e1:1"), 0x4C28_9885_B65B_1831);
    }
}
