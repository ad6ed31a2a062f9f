//! In-process bus, results stream and reply routing for the embedded mode.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::{
    Ack, BusError, Delivered, Delivery, ExecutionBus, ExecutionSource, OutcomeMessage, Receipt, ReplyRouter,
    ResultMessage, ResultsHub, StartCommand, Subscription, Waiting,
};

/// A bounded queue: publishing to a full queue fails (the caller reports RESOURCE_EXHAUSTED)
/// instead of growing without limit.
pub struct MemoryBus {
    tx: mpsc::Sender<StartCommand>,
    queued: Arc<AtomicUsize>,
}

pub struct MemorySource {
    rx: mpsc::Receiver<StartCommand>,
    queued: Arc<AtomicUsize>,
}

impl MemoryBus {
    /// Counts the executions queued and not yet taken by a worker, without keeping the queue
    /// open (the workers stop once every bus is gone and the queue is empty).
    pub fn gauge(&self) -> QueueGauge {
        QueueGauge(self.queued.clone())
    }
}

/// How many executions wait in a [`MemoryBus`].
pub struct QueueGauge(Arc<AtomicUsize>);

impl QueueGauge {
    pub fn queued(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// A bus with room for `capacity` queued executions, and the source workers read from.
pub fn bus(capacity: usize) -> (MemoryBus, MemorySource) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let queued = Arc::new(AtomicUsize::new(0));
    (MemoryBus { tx, queued: queued.clone() }, MemorySource { rx, queued })
}

#[async_trait]
impl ExecutionBus for MemoryBus {
    async fn publish(&self, command: StartCommand) -> Result<(), BusError> {
        self.tx.try_send(command).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => BusError::Full,
            mpsc::error::TrySendError::Closed(_) => BusError::Closed,
        })?;
        self.queued.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

#[async_trait]
impl ExecutionSource for MemorySource {
    async fn next(&mut self) -> Option<Delivery> {
        let command = self.rx.recv().await?;
        // Saturating: a publish counts itself just after its command is in the queue.
        let _ = self.queued.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| Some(n.saturating_sub(1)));
        Some(Delivery { command, ack: Ack::none() })
    }
}

impl MemorySource {
    /// Stop accepting new commands; those already queued are still delivered.
    pub fn close(&mut self) {
        self.rx.close();
    }
}

struct HubInner {
    retained: VecDeque<(u64, Arc<ResultMessage>)>,
    retain: usize,
}

/// Results kept in a ring for resuming, and broadcast live to subscribers.
pub struct MemoryHub {
    tx: broadcast::Sender<(u64, Arc<ResultMessage>)>,
    next: AtomicU64,
    inner: Mutex<HubInner>,
}

impl MemoryHub {
    /// `buffer`: how far a live subscriber may fall behind; `retain`: messages kept for resuming.
    pub fn new(buffer: usize, retain: usize) -> Self {
        let (tx, _) = broadcast::channel(buffer.max(1));
        MemoryHub { tx, next: AtomicU64::new(1), inner: Mutex::new(HubInner { retained: VecDeque::new(), retain }) }
    }
}

impl ResultsHub for MemoryHub {
    fn publish(&self, message: ResultMessage) -> Receipt {
        let message = Arc::new(message);
        // Positions are assigned under the lock so the ring and the broadcast agree on order.
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let pos = self.next.fetch_add(1, Ordering::Relaxed);
        if inner.retain > 0 {
            if inner.retained.len() == inner.retain {
                inner.retained.pop_front();
            }
            inner.retained.push_back((pos, message.clone()));
        }
        // No subscribers is fine: the message is retained for those who come later.
        let _ = self.tx.send((pos, message));
        Receipt::done()
    }

    fn subscribe(&self, from: Option<u64>) -> Box<dyn Subscription> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let rx = self.tx.subscribe();
        let next_live = self.next.load(Ordering::Relaxed);
        let (backlog, gap) = match from {
            Some(from) if from < next_live => {
                let oldest = inner.retained.front().map(|(p, _)| *p).unwrap_or(next_live);
                let backlog: VecDeque<_> = inner.retained.iter().filter(|(p, _)| *p >= from).cloned().collect();
                let gap = (oldest > from).then(|| (oldest - from, oldest));
                (backlog, gap)
            }
            _ => (VecDeque::new(), None),
        };
        Box::new(MemorySubscription { rx, backlog, gap, expect: from.unwrap_or(next_live).max(1) })
    }
}

struct MemorySubscription {
    rx: broadcast::Receiver<(u64, Arc<ResultMessage>)>,
    backlog: VecDeque<(u64, Arc<ResultMessage>)>,
    gap: Option<(u64, u64)>,
    /// The next position this subscriber should see (filters duplicates between ring and live).
    expect: u64,
}

#[async_trait]
impl Subscription for MemorySubscription {
    async fn next(&mut self) -> Option<Delivered> {
        if let Some((skipped, resume_from)) = self.gap.take() {
            self.expect = resume_from;
            return Some(Delivered::FellBehind { skipped, resume_from });
        }
        if let Some((position, message)) = self.backlog.pop_front() {
            self.expect = position + 1;
            return Some(Delivered::Message { position, message });
        }
        loop {
            match self.rx.recv().await {
                Ok((position, message)) => {
                    if position < self.expect {
                        continue;
                    }
                    self.expect = position + 1;
                    return Some(Delivered::Message { position, message });
                }
                Err(broadcast::error::RecvError::Lagged(skipped)) => {
                    let resume_from = self.expect;
                    self.expect += skipped;
                    return Some(Delivered::FellBehind { skipped, resume_from });
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
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
        let hub = MemoryHub::new(16, 100);
        for i in 0..5 {
            hub.publish(outcome(i));
        }
        let mut sub = hub.subscribe(Some(3));
        hub.publish(outcome(5));
        assert_eq!(positions(&mut sub, 4).await, vec!["3", "4", "5", "6"]);
    }

    #[tokio::test]
    async fn slow_subscriber_is_told_it_fell_behind() {
        let hub = MemoryHub::new(4, 0);
        let mut slow = hub.subscribe(None);
        for i in 0..10 {
            hub.publish(outcome(i));
        }
        assert_eq!(positions(&mut slow, 2).await, vec!["behind:6:1", "7"]);
        let mut late = hub.subscribe(Some(1));
        assert_eq!(positions(&mut late, 1).await, vec!["behind:10:11"]);
    }

    #[tokio::test]
    async fn full_bus_refuses_instead_of_growing() {
        let (bus, mut source) = bus(1);
        let cmd = StartCommand {
            execution_arn: "a".into(),
            execution_name: "a".into(),
            state_machine_arn: "sm".into(),
            revision_id: "r".into(),
            input: "{}".into(),
            start_ms: 0,
            reply_to: None,
            trace_header: None,
            depth: 0,
        };
        assert_eq!(bus.publish(cmd.clone()).await, Ok(()));
        assert_eq!(bus.publish(cmd.clone()).await, Err(BusError::Full));
        assert_eq!(source.next().await.map(|d| d.command.execution_arn), Some("a".to_string()));
        assert_eq!(bus.publish(cmd).await, Ok(()));
    }
}
