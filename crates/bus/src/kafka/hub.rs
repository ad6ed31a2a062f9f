//! The results topic: outcomes and history events packed several to a record.

use super::*;

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

pub(super) struct HubInner {
    producer: FutureProducer,
    topic: String,
    slots: Vec<Mutex<Slot>>,
    /// Something waits in a slot: the flusher sends it after [`HUB_LINGER`].
    waiting: tokio::sync::Notify,
}

/// Messages waiting to leave together, and who waits for them to be durable.
#[derive(Default)]
pub(super) struct Slot {
    bytes: Vec<u8>,
    done: Option<tokio::sync::watch::Sender<bool>>,
}

/// A record grows to this size at most before it leaves, whatever the time (well below
/// Kafka's 1 MB default; a single larger message still travels alone).
pub(super) const HUB_RECORD_BYTES: usize = 256 * 1024;

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

pub(super) struct Ended;

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
