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
    match delivery.await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err((e, _))) => Err(unavailable(e)),
        Err(_) => Err(BusError::Unavailable("the producer was dropped before delivery".into())),
    }
}

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
const START_PREFIX: &[u8] = b"{\"expresswayStart\":1,";

/// A start command as it travels on the executions topic.
#[derive(Serialize, Deserialize)]
struct StartRecord<C> {
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

/// Records written by an earlier release marked start commands with this header instead.
const LEGACY_KIND: &str = "expressway-kind";

#[async_trait]
impl ExecutionBus for KafkaBus {
    async fn publish(&self, command: StartCommand) -> Result<(), BusError> {
        let payload = encode_start(&command)?;
        produce(&self.producer, &self.topic, &command.execution_name, &payload, None).await
    }
}

/// Outcomes and events on the results topic, packed: each message goes to one of a few slots
/// (by execution ARN), and every few milliseconds ([`HUB_LINGER`]) what each slot gathered
/// leaves as one record of newline-delimited JSON keyed by the slot, so the broker sees a
/// few produce requests a second and a few records per flush, however many executions end.
/// One execution always uses the same slot, so its messages stay in order on one partition
/// (the idempotent producer keeps a partition's records in order). Each message's
/// [`Receipt`] resolves once the broker has its record. Read records with [`unpack`].
pub struct KafkaHub {
    inner: Arc<HubInner>,
    flusher: tokio::task::JoinHandle<()>,
}

struct HubInner {
    producer: FutureProducer,
    topic: String,
    slots: Vec<Mutex<Slot>>,
    /// Something waits in a slot: the flusher sends it after [`HUB_LINGER`].
    waiting: tokio::sync::Notify,
}

/// Messages waiting to leave together, and who waits for them to be durable.
#[derive(Default)]
struct Slot {
    bytes: Vec<u8>,
    done: Option<tokio::sync::watch::Sender<bool>>,
}

/// A record grows to this size at most before it leaves, whatever the time (well below
/// Kafka's 1 MB default; a single larger message still travels alone).
const HUB_RECORD_BYTES: usize = 256 * 1024;

/// How long messages gather before they leave. A worker acknowledges its deliveries only
/// once their results are durable, so this adds to when offsets are committed, not to what
/// callers wait for (synchronous replies travel on their own path).
pub const HUB_LINGER: Duration = Duration::from_millis(5);

/// The messages of one results-topic record (a record of one message reads the same).
pub fn unpack(payload: &[u8]) -> impl Iterator<Item = &[u8]> {
    payload.split(|b| *b == b'\n').filter(|m| !m.is_empty())
}

impl KafkaHub {
    /// Needs a tokio runtime: the flusher and deliveries are tasks.
    pub fn new(cfg: &KafkaConfig) -> Result<Self, BusError> {
        let mut client = cfg.producer_config();
        // Retried until the broker takes them (a receipt waits meanwhile, and with it the
        // worker's offset commit), not given up after a timeout. Records are already
        // gathered here: the producer sends them at once.
        client.set("message.timeout.ms", "0").set("linger.ms", "0");
        for (k, v) in &cfg.properties {
            client.set(k, v);
        }
        let producer = client.create().map_err(unavailable)?;
        let inner = Arc::new(HubInner {
            producer,
            topic: cfg.results_topic.clone(),
            slots: (0..cfg.partitions.max(1)).map(|_| Mutex::new(Slot::default())).collect(),
            waiting: tokio::sync::Notify::new(),
        });
        let flusher = {
            let inner = inner.clone();
            tokio::spawn(async move {
                loop {
                    inner.waiting.notified().await;
                    tokio::time::sleep(HUB_LINGER).await;
                    if !inner.send_all() {
                        // The producer's queue is full: try again after the next linger.
                        inner.waiting.notify_one();
                    }
                }
            })
        };
        Ok(KafkaHub { inner, flusher })
    }

    /// Send what is waiting and wait until every produced record is delivered (shutdown).
    pub fn flush(&self, timeout: Duration) {
        self.inner.send_all();
        let _ = self.inner.producer.flush(timeout);
    }
}

impl HubInner {
    fn lock(&self, slot: usize) -> std::sync::MutexGuard<'_, Slot> {
        self.slots[slot].lock().unwrap_or_else(|p| p.into_inner())
    }

    fn slot_of(&self, execution_arn: &str) -> usize {
        (stable_hash(execution_arn) % self.slots.len() as u64) as usize
    }

    /// Send every slot's waiting messages; false when the producer could not take them all.
    fn send_all(self: &Arc<Self>) -> bool {
        let mut all = true;
        for slot in 0..self.slots.len() {
            let mut s = self.lock(slot);
            all &= self.send(slot, &mut s);
        }
        all
    }

    /// Hand a slot's waiting messages to the producer as one record. Called under the slot's
    /// lock, so a slot's records reach the producer (and, idempotent, the partition) in the
    /// order of their messages. False when the producer's queue is full (the messages stay).
    fn send(self: &Arc<Self>, slot: usize, s: &mut Slot) -> bool {
        if s.bytes.is_empty() {
            return true;
        }
        let key = format!("results-{slot}");
        let delivery = match self
            .producer
            .send_result(FutureRecord::to(&self.topic).key(&key).payload(s.bytes.as_slice()))
        {
            Ok(delivery) => delivery,
            // Kept for a later try; the producer's queue drains as the broker answers.
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => return false,
            Err((e, _)) => {
                // Refused for good (too large, say): holding it would hold every later
                // message of the slot, and the workers' commits with them. The outcomes stay
                // readable in the execution store.
                tracing::error!(topic = %self.topic, error = %e, messages = unpack(&s.bytes).count(), "results refused by the producer are lost");
                s.bytes.clear();
                if let Some(done) = s.done.take() {
                    let _ = done.send(true);
                }
                return true;
            }
        };
        let messages = unpack(&s.bytes).count();
        s.bytes.clear();
        let done = s.done.take();
        let topic = self.topic.clone();
        tokio::spawn(async move {
            match delivery.await {
                Ok(Ok(_)) => {}
                // Nothing times out (see `new`): this error will not pass by itself.
                Ok(Err((e, _))) => {
                    tracing::error!(topic = %topic, error = %e, messages, "results refused by the broker are lost")
                }
                // The producer went away (shutdown): the receipts say the messages were not kept.
                Err(_) => return,
            }
            if let Some(done) = done {
                let _ = done.send(true);
            }
        });
        true
    }
}

impl Drop for KafkaHub {
    fn drop(&mut self) {
        self.flusher.abort();
    }
}

struct Ended;

#[async_trait]
impl Subscription for Ended {
    async fn next(&mut self) -> Option<crate::Delivered> {
        None
    }
}

impl ResultsHub for KafkaHub {
    fn publish(&self, message: ResultMessage) -> Receipt {
        let Some(line) = crate::encode_result(&message) else { return Receipt::done() };
        let inner = &self.inner;
        let slot = inner.slot_of(message.execution_arn());
        let mut s = inner.lock(slot);
        if !s.bytes.is_empty() && s.bytes.len() + 1 + line.len() > HUB_RECORD_BYTES {
            inner.send(slot, &mut s);
        }
        let first = s.bytes.is_empty();
        // JSON text holds no raw newline, so one line is one message.
        if !first {
            s.bytes.push(b'\n');
        }
        s.bytes.extend_from_slice(&line);
        let receipt = Receipt::pending(s.done.get_or_insert_with(|| tokio::sync::watch::channel(false).0).subscribe());
        if first {
            inner.waiting.notify_one();
        }
        receipt
    }

    /// Subscriptions are served by the results service, which consumes the results topic.
    fn subscribe(&self, _from: Option<u64>) -> Box<dyn Subscription> {
        Box::new(Ended)
    }
}

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

/// Offsets of one partition: those delivered but not yet acknowledged, and the next one.
#[derive(Default)]
struct PartitionOffsets {
    in_flight: BTreeSet<i64>,
    next: i64,
    committed: i64,
    assigned: bool,
}

#[derive(Default)]
struct Tracker {
    partitions: HashMap<(String, i32), PartitionOffsets>,
}

impl Tracker {
    /// Offsets safe to commit: below the oldest record still in flight.
    fn committable(&mut self, only: Option<&TopicPartitionList>) -> TopicPartitionList {
        let mut tpl = TopicPartitionList::new();
        for ((topic, partition), p) in self.partitions.iter_mut() {
            if let Some(list) = only {
                if list.find_partition(topic, *partition).is_none() {
                    continue;
                }
            }
            let upto = p.in_flight.first().copied().unwrap_or(p.next);
            if upto > p.committed && tpl.add_partition_offset(topic, *partition, Offset::Offset(upto)).is_ok() {
                p.committed = upto;
            }
        }
        tpl
    }
}

/// Commits on revoke and forgets revoked partitions.
struct RebalanceContext {
    tracker: Arc<Mutex<Tracker>>,
}

impl ClientContext for RebalanceContext {}

impl ConsumerContext for RebalanceContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            let mut t = self.tracker.lock().unwrap_or_else(|p| p.into_inner());
            let tpl = t.committable(Some(list));
            if tpl.count() > 0 {
                if let Err(e) = consumer.commit(&tpl, CommitMode::Sync) {
                    tracing::warn!(error = %e, "commit on revoke failed; the new owner may redeliver");
                }
            }
            for elem in list.elements() {
                // Unfinished records of a revoked partition go to its new owner.
                t.partitions.remove(&(elem.topic().to_string(), elem.partition()));
            }
            tracing::info!(partitions = list.count(), "partitions revoked");
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(list) = rebalance {
            let mut t = self.tracker.lock().unwrap_or_else(|p| p.into_inner());
            for elem in list.elements() {
                let e = t.partitions.entry((elem.topic().to_string(), elem.partition())).or_default();
                e.assigned = true;
                e.in_flight.clear();
                e.next = 0;
                e.committed = 0;
            }
            tracing::info!(partitions = list.count(), "partitions assigned");
        }
    }
}

/// Start commands (and triggers) consumed from Kafka.
pub struct KafkaSource {
    consumer: Arc<StreamConsumer<RebalanceContext>>,
    tracker: Arc<Mutex<Tracker>>,
    executions_topic: String,
    mappings: HashMap<String, String>,
    starter: Arc<dyn TriggerStarter>,
    dead_letters: FutureProducer,
    dead_letter_topic: String,
    committer: tokio::task::JoinHandle<()>,
}

impl KafkaSource {
    pub fn new(
        cfg: &KafkaConfig,
        mappings: &[TriggerMapping],
        starter: Arc<dyn TriggerStarter>,
    ) -> Result<Self, BusError> {
        let tracker = Arc::new(Mutex::new(Tracker::default()));
        let consumer: StreamConsumer<RebalanceContext> = cfg
            .consumer_config()
            .create_with_context(RebalanceContext { tracker: tracker.clone() })
            .map_err(unavailable)?;
        let mut topics = vec![cfg.executions_topic.as_str()];
        topics.extend(mappings.iter().map(|m| m.topic.as_str()));
        consumer.subscribe(&topics).map_err(unavailable)?;
        let consumer = Arc::new(consumer);
        let committer = {
            let consumer = consumer.clone();
            let tracker = tracker.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(200));
                loop {
                    tick.tick().await;
                    let tpl = tracker.lock().unwrap_or_else(|p| p.into_inner()).committable(None);
                    if tpl.count() > 0 {
                        if let Err(e) = consumer.commit(&tpl, CommitMode::Async) {
                            tracing::warn!(error = %e, "offset commit failed; it will be retried");
                        }
                    }
                }
            })
        };
        Ok(KafkaSource {
            consumer,
            tracker,
            executions_topic: cfg.executions_topic.clone(),
            mappings: mappings.iter().map(|m| (m.topic.clone(), m.state_machine_arn.clone())).collect(),
            starter,
            dead_letters: cfg.producer_config().create().map_err(unavailable)?,
            dead_letter_topic: cfg.dead_letter_topic.clone(),
            committer,
        })
    }

    fn ack_for(&self, topic: &str, partition: i32, offset: i64) -> Ack {
        let tracker = self.tracker.clone();
        let key = (topic.to_string(), partition);
        Ack::new(move || {
            let mut t = tracker.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(p) = t.partitions.get_mut(&key) {
                p.in_flight.remove(&offset);
            }
        })
    }

    /// Commit what is complete and leave the group cleanly (graceful shutdown).
    pub fn close(&self) {
        self.committer.abort();
        let tpl = self.tracker.lock().unwrap_or_else(|p| p.into_inner()).committable(None);
        if tpl.count() > 0 {
            if let Err(e) = self.consumer.commit(&tpl, CommitMode::Sync) {
                tracing::warn!(error = %e, "final offset commit failed");
            }
        }
        self.consumer.unsubscribe();
    }

    async fn dead_letter(&self, topic: &str, partition: i32, offset: i64, key: &[u8], payload: &[u8], why: &str) {
        dead_letter(&self.dead_letters, &self.dead_letter_topic, (topic, partition, offset), key, payload, why).await
    }
}

/// Put a record on the dead-letter topic with why and where it came from, retrying until the
/// broker has it: the record is acknowledged after this, so it must not be lost on the way.
async fn dead_letter(
    producer: &FutureProducer,
    dead_letter_topic: &str,
    (topic, partition, offset): (&str, i32, i64),
    key: &[u8],
    payload: &[u8],
    why: &str,
) {
    let origin = format!("{topic}/{partition}/{offset}");
    let headers = OwnedHeaders::new()
        .insert(Header { key: "expressway-error", value: Some(why) })
        .insert(Header { key: "expressway-origin", value: Some(origin.as_str()) });
    let key = String::from_utf8_lossy(key).to_string();
    loop {
        match produce(producer, dead_letter_topic, &key, payload, Some(headers.clone())).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, topic = %dead_letter_topic, "dead-letter produce failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

impl Drop for KafkaSource {
    fn drop(&mut self) {
        self.committer.abort();
    }
}

fn decode_start(payload: &[u8]) -> Result<StartCommand, serde_json::Error> {
    if payload.starts_with(START_PREFIX) {
        serde_json::from_slice::<StartRecord<StartCommand>>(payload).map(|r| r.command)
    } else {
        serde_json::from_slice(payload)
    }
}

/// A trigger record's fields.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TriggerRecord {
    state_machine_arn: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    input: Option<serde_json::Value>,
}

/// A hash fixed by its specification (XXH3, 64 bits), unlike std's `DefaultHasher`: every
/// build, on every machine, derives the same slot and the same execution name from the same
/// text, so a record redelivered to a worker of another release is still one execution.
pub fn stable_hash(text: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

/// A stable execution name for a record that has none: redelivery starts nothing new.
fn record_name(topic: &str, partition: i32, offset: i64) -> String {
    let clean: String =
        topic.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
    let mut name = format!("kafka-{clean}-{partition}-{offset}");
    if name.len() > 80 {
        name = format!("kafka-{:x}-{partition}-{offset}", stable_hash(topic));
    }
    name
}

#[async_trait]
impl ExecutionSource for KafkaSource {
    async fn next(&mut self) -> Option<Delivery> {
        loop {
            let msg = match self.consumer.recv().await {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "consume error; retrying");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            };
            let (topic, partition, offset) = (msg.topic().to_string(), msg.partition(), msg.offset());
            {
                let mut t = self.tracker.lock().unwrap_or_else(|p| p.into_inner());
                let p = t.partitions.entry((topic.clone(), partition)).or_default();
                p.in_flight.insert(offset);
                p.next = p.next.max(offset + 1);
            }
            let payload = msg.payload().unwrap_or_default().to_vec();
            let key = msg.key().unwrap_or_default().to_vec();
            let internal = payload.starts_with(START_PREFIX)
                || msg
                    .headers()
                    .is_some_and(|h| h.iter().any(|x| x.key == LEGACY_KIND && x.value == Some(b"start".as_slice())));
            let traceparent = msg.headers().and_then(|h| {
                h.iter()
                    .find(|x| x.key == "traceparent")
                    .and_then(|x| x.value.map(|v| String::from_utf8_lossy(v).to_string()))
            });
            drop(msg);
            let ack = self.ack_for(&topic, partition, offset);

            if internal && topic == self.executions_topic {
                match decode_start(&payload) {
                    Ok(command) => {
                        let (producer, dl_topic) = (self.dead_letters.clone(), self.dead_letter_topic.clone());
                        let ack = ack.with_dead_letter(Box::new(move |why: String| {
                            Box::pin(async move {
                                let origin = (topic.as_str(), partition, offset);
                                dead_letter(&producer, &dl_topic, origin, &key, &payload, &why).await
                            })
                        }));
                        return Some(Delivery { command, ack });
                    }
                    Err(e) => {
                        self.dead_letter(
                            &topic,
                            partition,
                            offset,
                            &key,
                            &payload,
                            &format!("unreadable start command: {e}"),
                        )
                        .await;
                        ack.ack();
                        continue;
                    }
                }
            }
            // A trigger: from a mapped topic (the whole value is the input) or the executions topic.
            let (arn, name, input) = match self.mappings.get(&topic) {
                Some(arn) => {
                    let input = match serde_json::from_slice::<serde_json::Value>(&payload) {
                        Ok(v) => v.to_string(),
                        Err(e) => {
                            self.dead_letter(
                                &topic,
                                partition,
                                offset,
                                &key,
                                &payload,
                                &format!("the record value is not JSON: {e}"),
                            )
                            .await;
                            ack.ack();
                            continue;
                        }
                    };
                    (arn.clone(), record_name(&topic, partition, offset), input)
                }
                None => match serde_json::from_slice::<TriggerRecord>(&payload) {
                    Ok(r) => {
                        let input = match r.input {
                            None => "{}".to_string(),
                            Some(serde_json::Value::String(s)) => s,
                            Some(v) => v.to_string(),
                        };
                        let name =
                            r.name.filter(|n| !n.is_empty()).unwrap_or_else(|| record_name(&topic, partition, offset));
                        (r.state_machine_arn, name, input)
                    }
                    Err(e) => {
                        self.dead_letter(
                            &topic,
                            partition,
                            offset,
                            &key,
                            &payload,
                            &format!("not a start record (expected {{\"stateMachineArn\", \"name\", \"input\"}}): {e}"),
                        )
                        .await;
                        ack.ack();
                        continue;
                    }
                },
            };
            let mut backoff = Duration::from_millis(100);
            loop {
                match self.starter.start(&arn, &name, &input).await {
                    Ok(mut command) => {
                        if command.trace_header.is_none() {
                            command.trace_header = traceparent.clone();
                        }
                        return Some(Delivery { command, ack });
                    }
                    Err(TriggerError::Rejected(why)) => {
                        self.dead_letter(&topic, partition, offset, &key, &payload, &why).await;
                        ack.ack();
                        break;
                    }
                    Err(TriggerError::Unavailable(why)) => {
                        tracing::warn!(%topic, partition, offset, error = %why, "cannot start a triggered execution yet; retrying");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn commits_stop_below_the_oldest_record_in_flight() {
        let mut t = Tracker::default();
        let p = t.partitions.entry(("x".into(), 0)).or_default();
        p.in_flight.extend([5, 6, 7]);
        p.next = 8;
        p.committed = 5;
        assert_eq!(t.committable(None).count(), 0, "offset 5 still in flight");
        t.partitions.get_mut(&("x".into(), 0)).map(|p| p.in_flight.remove(&6));
        assert_eq!(t.committable(None).count(), 0, "6 done but 5 is not");
        t.partitions.get_mut(&("x".into(), 0)).map(|p| p.in_flight.remove(&5));
        let tpl = t.committable(None);
        assert_eq!(tpl.find_partition("x", 0).map(|e| e.offset()), Some(Offset::Offset(7)));
        t.partitions.get_mut(&("x".into(), 0)).map(|p| p.in_flight.remove(&7));
        assert_eq!(t.committable(None).find_partition("x", 0).map(|e| e.offset()), Some(Offset::Offset(8)));
    }
}
