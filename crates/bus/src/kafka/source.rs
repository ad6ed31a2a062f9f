//! The consumer side: start commands and triggers delivered to workers, offsets committed
//! only below the oldest record still in flight, rebalances handled explicitly.

use super::*;
use crate::retry::Backoff;

/// Offsets of one partition: those delivered but not yet acknowledged, and the next one.
#[derive(Default)]
pub(super) struct PartitionOffsets {
    in_flight: BTreeSet<i64>,
    next: i64,
    committed: i64,
    assigned: bool,
}

#[derive(Default)]
pub(super) struct Tracker {
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

    /// A commit of `tpl` failed: send those offsets again at the next commit.
    fn retry(&mut self, tpl: &TopicPartitionList) {
        for elem in tpl.elements() {
            if let (Some(p), Offset::Offset(at)) =
                (self.partitions.get_mut(&(elem.topic().to_string(), elem.partition())), elem.offset())
            {
                if p.committed == at {
                    p.committed = 0;
                }
            }
        }
    }
}

/// Offsets the broker confirmed committed, for the metrics.
fn confirmed(tpl: &TopicPartitionList) {
    for elem in tpl.elements() {
        if let Offset::Offset(at) = elem.offset() {
            expressway_telemetry::metrics::offset_committed(elem.topic(), elem.partition(), at);
        }
    }
}

/// Commits on revoke and forgets revoked partitions.
pub(super) struct RebalanceContext {
    tracker: Arc<Mutex<Tracker>>,
}

impl ClientContext for RebalanceContext {
    /// The client's statistics (every `statistics.interval.ms`): the lag of each partition this
    /// member owns, as a gauge.
    fn stats(&self, statistics: rdkafka::Statistics) {
        for (topic, t) in &statistics.topics {
            for (partition, p) in &t.partitions {
                if *partition >= 0 && p.consumer_lag >= 0 {
                    expressway_telemetry::metrics::consumer_lag(topic, *partition, p.consumer_lag);
                }
            }
        }
    }
}

impl ConsumerContext for RebalanceContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            let mut t = self.tracker.lock().unwrap_or_else(|p| p.into_inner());
            let tpl = t.committable(Some(list));
            if tpl.count() > 0 {
                match consumer.commit(&tpl, CommitMode::Sync) {
                    Ok(()) => confirmed(&tpl),
                    Err(e) => tracing::warn!(error = %e, "commit on revoke failed; the new owner may redeliver"),
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
                    if tpl.count() == 0 {
                        continue;
                    }
                    // Synchronous, off the runtime's threads: the answer says whether the broker
                    // has the offsets (librdkafka reports an asynchronous manual commit to no
                    // one when no commit callback is set, as in rdkafka's event mode).
                    let (c, sent) = (consumer.clone(), tpl.clone());
                    match tokio::task::spawn_blocking(move || c.commit(&sent, CommitMode::Sync)).await {
                        Ok(Ok(())) => confirmed(&tpl),
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, "offset commit failed; it will be retried");
                            tracker.lock().unwrap_or_else(|p| p.into_inner()).retry(&tpl);
                        }
                        Err(e) => tracing::warn!(error = %e, "offset commit task failed"),
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
            match self.consumer.commit(&tpl, CommitMode::Sync) {
                Ok(()) => confirmed(&tpl),
                Err(e) => tracing::warn!(error = %e, "final offset commit failed"),
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
pub(super) async fn dead_letter(
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
    let mut backoff = Backoff::default();
    loop {
        match produce(producer, dead_letter_topic, &key, payload, Some(headers.clone())).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, topic = %dead_letter_topic, "dead-letter produce failed; retrying");
                backoff.wait().await;
            }
        }
    }
}

impl Drop for KafkaSource {
    fn drop(&mut self) {
        self.committer.abort();
    }
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
            let internal = payload.starts_with(START_PREFIX);
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
            let mapped = self.mappings.get(&topic).map(String::as_str);
            let (arn, name, input) = match read_trigger(mapped, (&topic, partition, offset), &payload) {
                Ok(t) => t,
                Err(why) => {
                    self.dead_letter(&topic, partition, offset, &key, &payload, &why).await;
                    ack.ack();
                    continue;
                }
            };
            let mut backoff = Backoff::default();
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
                        backoff.wait().await;
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

    #[test]
    fn a_failed_commit_is_sent_again() {
        let mut t = Tracker::default();
        t.partitions.entry(("x".into(), 0)).or_default().next = 4;
        let tpl = t.committable(None);
        assert_eq!(t.committable(None).count(), 0, "nothing new to commit");
        t.retry(&tpl);
        assert_eq!(t.committable(None).find_partition("x", 0).map(|e| e.offset()), Some(Offset::Offset(4)));
    }
}
