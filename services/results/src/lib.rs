//! The results service's ingestion: it consumes the results topic (outcomes and execution
//! events, published by workers, several per record) in its own consumer group and appends
//! every message, in partition order, to the retained results stream in Redis
//! ([`RedisResults`]). Offsets are
//! committed only after the append is durable (with `redis.wait_replicas`, on a replica too),
//! so nothing is lost; after a crash or a rebalance a few records may be appended twice (at
//! least once).
//!
//! Subscribers are served by `expressway_frontend::ResultsApi` over the same Redis stream,
//! from any results service or frontend. Several results services share the consumption.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use expressway_bus::kafka::{unpack, KafkaConfig};
use expressway_bus::redis::RedisResults;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::watch;

/// Errors of the ingestion loop.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error("kafka consumer for topic {topic}: {source}")]
    Kafka { topic: String, source: rdkafka::error::KafkaError },
}

impl ResultsError {
    pub fn is_retryable(&self) -> bool {
        true
    }
}

/// Ingestion settings.
#[derive(Debug, Clone)]
pub struct IngestConfig {
    /// Consumer group of the results services (not the workers').
    pub group_id: String,
    /// Messages appended to Redis in one step (a record's messages are never split).
    pub batch: usize,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig { group_id: "expressway-results".into(), batch: 512 }
    }
}

/// Moves the results topic into the Redis results stream.
pub struct Ingest {
    consumer: StreamConsumer,
    results: Arc<RedisResults>,
    batch: usize,
    topic: String,
}

impl Ingest {
    pub fn new(kafka: &KafkaConfig, cfg: &IngestConfig, results: Arc<RedisResults>) -> Result<Self, ResultsError> {
        let topic = kafka.results_topic.clone();
        let err = |source| ResultsError::Kafka { topic: topic.clone(), source };
        let mut client = kafka.consumer_config();
        client.set("group.id", &cfg.group_id);
        let consumer: StreamConsumer = client.create().map_err(err)?;
        consumer.subscribe(&[topic.as_str()]).map_err(err)?;
        Ok(Ingest { consumer, results, batch: cfg.batch.max(1), topic })
    }

    /// Run until `shutdown` turns true; then commit what is appended and leave the group.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut payloads: Vec<Vec<u8>> = Vec::with_capacity(self.batch);
        let mut next: HashMap<i32, i64> = HashMap::new();
        // Appended but not committed yet: committed every COMMIT_EVERY (a commit is a write
        // to the broker's offsets log; one per batch would be hundreds a second).
        let mut appended: HashMap<i32, i64> = HashMap::new();
        let mut tick = tokio::time::interval(COMMIT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // Block for the first record, then take what else is ready into the same batch.
            let first = tokio::select! {
                m = self.consumer.recv() => m,
                _ = tick.tick() => {
                    self.commit(&mut appended);
                    continue;
                }
                _ = shutdown.wait_for(|s| *s) => break,
            };
            let take = |m: rdkafka::message::BorrowedMessage<'_>, p: &mut Vec<Vec<u8>>, n: &mut HashMap<i32, i64>| {
                p.extend(unpack(m.payload().unwrap_or_default()).map(<[u8]>::to_vec));
                n.insert(m.partition(), m.offset() + 1);
            };
            match first {
                Ok(m) => take(m, &mut payloads, &mut next),
                Err(e) => {
                    tracing::warn!(topic = %self.topic, error = %e, "consume error; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            }
            while payloads.len() < self.batch {
                match tokio::time::timeout(Duration::from_millis(1), self.consumer.recv()).await {
                    Ok(Ok(m)) => take(m, &mut payloads, &mut next),
                    _ => break,
                }
            }
            // Until Redis takes it: the offsets are not committed before.
            self.results.append_until_stored(&payloads).await;
            payloads.clear();
            appended.extend(next.drain());
        }
        // Everything consumed was appended (the loop appends before it reads on).
        self.commit(&mut appended);
        if let Ok(tpl) = self.consumer.position() {
            let _ = self.consumer.commit(&tpl, CommitMode::Sync);
        }
        self.consumer.unsubscribe();
    }

    fn commit(&self, appended: &mut HashMap<i32, i64>) {
        if appended.is_empty() {
            return;
        }
        let mut tpl = TopicPartitionList::new();
        for (partition, offset) in appended.drain() {
            let _ = tpl.add_partition_offset(&self.topic, partition, Offset::Offset(offset));
        }
        if let Err(e) = self.consumer.commit(&tpl, CommitMode::Async) {
            tracing::warn!(topic = %self.topic, error = %e, "offset commit failed; a later one covers it");
        }
    }
}

/// How often appended offsets are committed.
const COMMIT_EVERY: Duration = Duration::from_millis(500);
