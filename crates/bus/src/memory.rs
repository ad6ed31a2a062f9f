//! In-process bus, results stream and reply routing for the embedded mode.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot, watch};

use crate::{
    Ack, BusError, Delivered, Delivery, ExecutionBus, ExecutionSource, OutcomeMessage, Receipt, ReplyRouter,
    ResultMessage, ResultsHub, StartCommand, Subscription, Waiting,
};

/// A queue bounded in executions and in bytes: publishing to a full queue fails (the caller
/// reports RESOURCE_EXHAUSTED) instead of growing without limit.
pub struct MemoryBus {
    tx: mpsc::Sender<StartCommand>,
    queued: Arc<Queued>,
    max_bytes: usize,
}

pub struct MemorySource {
    rx: mpsc::Receiver<StartCommand>,
    queued: Arc<Queued>,
}

#[derive(Default)]
struct Queued {
    commands: AtomicUsize,
    bytes: AtomicUsize,
}

impl MemoryBus {
    /// Counts the executions queued and not yet taken by a worker, without keeping the queue
    /// open (the workers stop once every bus is gone and the queue is empty).
    pub fn gauge(&self) -> QueueGauge {
        QueueGauge(self.queued.clone())
    }
}

/// How many executions (and bytes) wait in a [`MemoryBus`].
pub struct QueueGauge(Arc<Queued>);

impl QueueGauge {
    pub fn queued(&self) -> usize {
        self.0.commands.load(Ordering::Relaxed)
    }

    pub fn queued_bytes(&self) -> usize {
        self.0.bytes.load(Ordering::Relaxed)
    }
}

/// A bus with room for `capacity` queued executions holding at most `max_bytes` (inputs and
/// names, as [`StartCommand::approx_bytes`] counts them), and the source workers read from.
pub fn bus(capacity: usize, max_bytes: usize) -> (MemoryBus, MemorySource) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let queued = Arc::new(Queued::default());
    (MemoryBus { tx, queued: queued.clone(), max_bytes }, MemorySource { rx, queued })
}

#[async_trait]
impl ExecutionBus for MemoryBus {
    async fn publish(&self, command: StartCommand) -> Result<(), BusError> {
        let bytes = command.approx_bytes();
        // Reserve the bytes first so concurrent publishers cannot overshoot the budget together.
        let reserved = self.queued.bytes.fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
            held.checked_add(bytes).filter(|&total| total <= self.max_bytes || held == 0)
        });
        if reserved.is_err() {
            return Err(BusError::Full);
        }
        if let Err(e) = self.tx.try_send(command) {
            self.queued.bytes.fetch_sub(bytes, Ordering::AcqRel);
            return Err(match e {
                mpsc::error::TrySendError::Full(_) => BusError::Full,
                mpsc::error::TrySendError::Closed(_) => BusError::Closed,
            });
        }
        self.queued.commands.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

#[async_trait]
impl ExecutionSource for MemorySource {
    async fn next(&mut self) -> Option<Delivery> {
        let command = self.rx.recv().await?;
        self.queued.bytes.fetch_sub(command.approx_bytes(), Ordering::AcqRel);
        // Saturating: a publish counts itself just after its command is in the queue.
        let _ = self.queued.commands.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| Some(n.saturating_sub(1)));
        Some(Delivery { command, ack: Ack::none() })
    }
}

impl MemorySource {
    /// Stop accepting new commands; those already queued are still delivered.
    pub fn close(&mut self) {
        self.rx.close();
    }
}

/// The retained results: positions `front.0 ..` in order, within both budgets.
struct Ring {
    messages: VecDeque<(u64, Arc<ResultMessage>)>,
    bytes: usize,
    /// The position the next published message gets.
    next: u64,
}

struct Retention {
    ring: Mutex<Ring>,
    max_messages: usize,
    max_bytes: usize,
}

impl Retention {
    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Results kept in a ring bounded in messages and bytes, which is both what resuming
/// subscribers replay and what live subscribers read from: one copy of each message, however
/// many subscribers there are, and a subscriber that falls further behind than the ring is told
/// so ([`Delivered::FellBehind`]) instead of holding memory.
pub struct MemoryHub {
    retention: Arc<Retention>,
    /// Carries the newest position; subscribers wait on it.
    published: watch::Sender<u64>,
}

impl MemoryHub {
    /// Keeps the newest `max_messages` results, fewer when they hold more than `max_bytes`
    /// (as [`ResultMessage::approx_bytes`] counts them; the newest one is always kept).
    pub fn new(max_messages: usize, max_bytes: usize) -> Self {
        let ring = Ring { messages: VecDeque::new(), bytes: 0, next: 1 };
        let retention = Arc::new(Retention { ring: Mutex::new(ring), max_messages: max_messages.max(1), max_bytes });
        MemoryHub { retention, published: watch::channel(0).0 }
    }

    /// Messages and bytes retained now.
    pub fn retained(&self) -> (usize, usize) {
        let ring = self.retention.lock();
        (ring.messages.len(), ring.bytes)
    }
}

impl ResultsHub for MemoryHub {
    fn publish(&self, message: ResultMessage) -> Receipt {
        let bytes = message.approx_bytes();
        let pos = {
            let mut ring = self.retention.lock();
            let pos = ring.next;
            ring.next += 1;
            ring.messages.push_back((pos, Arc::new(message)));
            ring.bytes += bytes;
            while ring.messages.len() > 1
                && (ring.messages.len() > self.retention.max_messages || ring.bytes > self.retention.max_bytes)
            {
                if let Some((_, old)) = ring.messages.pop_front() {
                    ring.bytes -= old.approx_bytes();
                }
            }
            pos
        };
        // No subscribers is fine: the message is retained for those who come later.
        self.published.send_replace(pos);
        Receipt::done()
    }

    fn subscribe(&self, from: Option<u64>) -> Box<dyn Subscription> {
        let next = self.retention.lock().next;
        let expect = from.unwrap_or(next).max(1);
        Box::new(MemorySubscription {
            retention: self.retention.clone(),
            published: self.published.subscribe(),
            expect,
        })
    }
}

struct MemorySubscription {
    retention: Arc<Retention>,
    published: watch::Receiver<u64>,
    /// The next position this subscriber should see.
    expect: u64,
}

impl MemorySubscription {
    fn take(&mut self) -> Option<Delivered> {
        let ring = self.retention.lock();
        let oldest = ring.messages.front().map_or(ring.next, |(p, _)| *p);
        if self.expect < oldest.min(ring.next) {
            let skipped = oldest - self.expect;
            self.expect = oldest;
            return Some(Delivered::FellBehind { skipped, resume_from: oldest });
        }
        let (position, message) = ring.messages.get(usize::try_from(self.expect - oldest).ok()?)?.clone();
        self.expect = position + 1;
        Some(Delivered::Message { position, message })
    }
}

#[async_trait]
impl Subscription for MemorySubscription {
    async fn next(&mut self) -> Option<Delivered> {
        loop {
            // Mark the current position seen before looking, so a publish after the look wakes us.
            self.published.borrow_and_update();
            if let Some(d) = self.take() {
                return Some(d);
            }
            self.published.changed().await.ok()?;
        }
    }
}

/// Replies inside one process: a map from execution ARN to the waiting caller.
#[derive(Default)]
pub struct LocalReplies {
    waiting: Waiting,
}

impl LocalReplies {
    /// Callers still waiting (a leak check for tests).
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }
}

#[async_trait]
impl ReplyRouter for LocalReplies {
    fn address(&self) -> String {
        "local".to_string()
    }

    fn expect(&self, execution_arn: &str) -> oneshot::Receiver<OutcomeMessage> {
        self.waiting.expect(execution_arn)
    }

    fn cancel(&self, execution_arn: &str) {
        self.waiting.cancel(execution_arn);
    }

    async fn reply(&self, _reply_to: &str, outcome: OutcomeMessage) -> Result<(), BusError> {
        self.waiting.deliver(outcome);
        Ok(())
    }
}

/// Stops within one process (the embedded mode).
pub struct MemoryStops(tokio::sync::broadcast::Sender<String>);

impl Default for MemoryStops {
    fn default() -> Self {
        MemoryStops(tokio::sync::broadcast::channel(1024).0)
    }
}

#[async_trait::async_trait]
impl crate::Stops for MemoryStops {
    async fn send(&self, execution_arn: &str) -> Result<(), crate::BusError> {
        let _ = self.0.send(execution_arn.to_string());
        Ok(())
    }

    fn listen(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.0.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OutcomeMessage;
    use expressway_store::ExecutionStatus;

    fn outcome(i: u64) -> ResultMessage {
        ResultMessage::Outcome(OutcomeMessage {
            execution_arn: format!("e{i}"),
            execution_name: format!("e{i}"),
            state_machine_arn: "sm".into(),
            status: ExecutionStatus::Succeeded,
            input: None,
            output: Some(i.to_string()),
            error: None,
            cause: None,
            start_ms: 0,
            stop_ms: 0,
        })
    }

    async fn positions(sub: &mut Box<dyn Subscription>, n: usize) -> Vec<String> {
        let mut out = Vec::new();
        for _ in 0..n {
            match sub.next().await {
                Some(Delivered::Message { position, .. }) => out.push(position.to_string()),
                Some(Delivered::FellBehind { skipped, resume_from }) => {
                    out.push(format!("behind:{skipped}:{resume_from}"))
                }
                None => out.push("end".into()),
            }
        }
        out
    }

    #[tokio::test]
    async fn resume_replays_retained_then_follows_live() {
        let hub = MemoryHub::new(100, usize::MAX);
        for i in 0..5 {
            hub.publish(outcome(i));
        }
        let mut sub = hub.subscribe(Some(3));
        hub.publish(outcome(5));
        assert_eq!(positions(&mut sub, 4).await, vec!["3", "4", "5", "6"]);
    }

    #[tokio::test]
    async fn slow_subscriber_is_told_it_fell_behind() {
        let hub = MemoryHub::new(4, usize::MAX);
        let mut slow = hub.subscribe(None);
        for i in 0..10 {
            hub.publish(outcome(i));
        }
        assert_eq!(positions(&mut slow, 2).await, vec!["behind:6:7", "7"]);
        let mut late = hub.subscribe(Some(1));
        assert_eq!(positions(&mut late, 2).await, vec!["behind:6:7", "7"]);
        let mut future = hub.subscribe(Some(12));
        hub.publish(outcome(10));
        hub.publish(outcome(11));
        assert_eq!(positions(&mut future, 1).await, vec!["12"]);
    }

    fn big(i: u64, kib: usize) -> ResultMessage {
        let mut m = outcome(i);
        if let ResultMessage::Outcome(o) = &mut m {
            o.output = Some("x".repeat(kib << 10));
        }
        m
    }

    #[tokio::test]
    async fn retention_stays_within_its_byte_budget() {
        let hub = MemoryHub::new(1000, 100 << 10);
        for i in 0..50 {
            hub.publish(big(i, 10));
        }
        let (messages, bytes) = hub.retained();
        assert!(bytes <= 100 << 10, "{bytes} bytes retained");
        assert_eq!(messages, 9, "ten 10 KiB messages and their overhead exceed 100 KiB");
        let mut sub = hub.subscribe(Some(1));
        assert_eq!(positions(&mut sub, 2).await, vec!["behind:41:42", "42"]);
        // A message larger than the whole budget is still delivered to live subscribers.
        let mut live = hub.subscribe(None);
        hub.publish(big(50, 200));
        assert_eq!(positions(&mut live, 1).await, vec!["51"]);
        assert_eq!(hub.retained().0, 1);
    }

    #[tokio::test]
    async fn subscription_ends_with_the_hub_after_its_backlog() {
        let hub = MemoryHub::new(10, usize::MAX);
        let mut sub = hub.subscribe(Some(1));
        hub.publish(outcome(0));
        drop(hub);
        assert_eq!(positions(&mut sub, 2).await, vec!["1", "end"]);
    }

    fn command(input: String) -> StartCommand {
        StartCommand {
            execution_arn: "a".into(),
            execution_name: "a".into(),
            state_machine_arn: "sm".into(),
            revision_id: "r".into(),
            input,
            start_ms: 0,
            reply_to: None,
            trace_header: None,
            depth: 0,
        }
    }

    #[tokio::test]
    async fn full_bus_refuses_instead_of_growing() {
        let (bus, mut source) = bus(1, usize::MAX);
        let cmd = command("{}".into());
        assert_eq!(bus.publish(cmd.clone()).await, Ok(()));
        assert_eq!(bus.publish(cmd.clone()).await, Err(BusError::Full));
        assert_eq!(source.next().await.map(|d| d.command.execution_arn), Some("a".to_string()));
        assert_eq!(bus.publish(cmd).await, Ok(()));
    }

    #[tokio::test]
    async fn bus_refuses_past_its_byte_budget_and_frees_what_workers_take() {
        let (bus, mut source) = bus(1000, 64 << 10);
        let gauge = bus.gauge();
        let cmd = command(format!("\"{}\"", "x".repeat(20 << 10)));
        for _ in 0..3 {
            assert_eq!(bus.publish(cmd.clone()).await, Ok(()));
        }
        assert_eq!(bus.publish(cmd.clone()).await, Err(BusError::Full));
        assert_eq!((gauge.queued(), gauge.queued_bytes()), (3, 3 * cmd.approx_bytes()));
        source.next().await.expect("a queued command");
        assert_eq!(bus.publish(cmd.clone()).await, Ok(()));
        for _ in 0..3 {
            source.next().await.expect("a queued command");
        }
        assert_eq!((gauge.queued(), gauge.queued_bytes()), (0, 0));
        // One command larger than the whole budget still fits an empty queue.
        assert_eq!(bus.publish(command("x".repeat(100 << 10))).await, Ok(()));
    }
}
