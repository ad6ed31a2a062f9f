//! A Redis Cluster connection that is replaced when it stops answering.
//!
//! redis-rs's cluster connection runs every command of every clone through one task, which
//! also repairs the connection after a failover (a slot refresh, or a reconnect to the
//! configured nodes). That repair can wait forever: it needs the write lock of the node map,
//! while a command it no longer polls holds a read permit of that lock (tokio hands a
//! `RwLock` permit out before it checks the task's cooperative budget, so a command that runs
//! out of budget returns `Pending` still holding it; seen with redis 1.8 and tokio 1.54, the
//! same in redis 2.0's release candidate). From then on every command on every
//! clone times out, the connection never comes back, and whoever retries (the workers'
//! outcomes, the frontend's starts) retries for good while the cluster itself is healthy.
//!
//! [`Healing`] keeps the connection behind a shared handle: once commands have gone
//! unanswered (timed out, or no connection) for a while with none answered meanwhile, it makes
//! a new connection in the background and puts it in place for every clone. A failover alone
//! does not trigger it: the commands to the other primaries keep being answered.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::ConnectionLike;
use tokio::time::Instant;

use crate::StoreError;

/// How a replacement connection is made.
pub(crate) type Connect<C> = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<C, StoreError>> + Send>> + Send + Sync>;

/// A connection shared by its clones, replaced when it stops answering.
pub struct Healing<C> {
    shared: Arc<Shared<C>>,
}

impl<C> Clone for Healing<C> {
    fn clone(&self) -> Self {
        Healing { shared: self.shared.clone() }
    }
}

struct Shared<C> {
    /// The connection in use, and how many replaced it so far (its generation).
    current: Mutex<(u64, C)>,
    health: Mutex<Health>,
    /// How long commands may go unanswered, with none answered, before the connection is
    /// replaced; also the least time between two attempts at a replacement.
    stall: Duration,
    connect: Connect<C>,
}

#[derive(Default)]
struct Health {
    /// When the current connection last answered a command.
    answered: Option<Instant>,
    /// When the first command went out of those unanswered since then.
    unanswered_since: Option<Instant>,
    /// A replacement is being made.
    replacing: bool,
    /// When the last replacement was started.
    last_attempt: Option<Instant>,
}

/// Whether an error means the connection gave no answer at all (timed out, dropped, no
/// connection to the node), rather than an answer that is an error.
fn unanswered(e: &redis::RedisError) -> bool {
    e.is_io_error() || e.kind() == redis::ErrorKind::ClusterConnectionNotFound
}

impl<C> Healing<C>
where
    C: ConnectionLike + Clone + Send + 'static,
{
    /// `conn`, replaced through `connect` once commands went unanswered for `stall`.
    pub(crate) fn new(conn: C, stall: Duration, connect: Connect<C>) -> Self {
        let shared = Shared { current: Mutex::new((0, conn)), health: Mutex::new(Health::default()), stall, connect };
        Healing { shared: Arc::new(shared) }
    }

    /// How many times the connection was replaced.
    pub fn replacements(&self) -> u64 {
        self.current().0
    }

    fn current(&self) -> (u64, C) {
        let current = self.shared.current.lock().unwrap_or_else(|p| p.into_inner());
        (current.0, current.1.clone())
    }

    /// Note how a command sent at `sent` on the connection of `generation` ended; start a
    /// replacement when nothing sent for a stall period has been answered.
    fn observe<T>(&self, generation: u64, sent: Instant, result: &redis::RedisResult<T>) {
        let now = Instant::now();
        let mut health = self.shared.health.lock().unwrap_or_else(|p| p.into_inner());
        if generation != self.current().0 {
            // An answer (or silence) from a connection already replaced says nothing.
            return;
        }
        match result {
            // The connection answered another command after this one went out: slow or
            // unlucky (a failover), not stalled.
            Err(e) if unanswered(e) && health.answered.is_some_and(|a| a > sent) => {}
            Err(e) if unanswered(e) => {
                let since = *health.unanswered_since.get_or_insert(sent);
                let tried_lately = health.last_attempt.is_some_and(|t| now.duration_since(t) < self.shared.stall);
                if now.duration_since(since) < self.shared.stall || health.replacing || tried_lately {
                    return;
                }
                health.replacing = true;
                health.last_attempt = Some(now);
                let unanswered_ms = now.duration_since(since).as_millis() as u64;
                drop(health);
                self.replace(generation, unanswered_ms);
            }
            _ => {
                health.answered = Some(now);
                health.unanswered_since = None;
            }
        }
    }

    /// Make a new connection in the background and put it in place of the one of
    /// `generation`.
    fn replace(&self, generation: u64, unanswered_ms: u64) {
        tracing::warn!(
            unanswered_ms,
            generation,
            "redis cluster connection stopped answering (every command timed out); making a new one"
        );
        let shared = self.shared.clone();
        tokio::spawn(async move {
            let made = (shared.connect)().await;
            let mut health = shared.health.lock().unwrap_or_else(|p| p.into_inner());
            health.replacing = false;
            match made {
                Ok(conn) => {
                    let mut current = shared.current.lock().unwrap_or_else(|p| p.into_inner());
                    if current.0 == generation {
                        *current = (generation + 1, conn);
                        *health = Health::default();
                        tracing::warn!(generation = generation + 1, "redis cluster connection replaced");
                    }
                }
                // Tried again once the stall period has passed, on the next unanswered command.
                Err(e) => tracing::warn!(error = %e, "new redis cluster connection not made yet; trying again later"),
            }
        });
    }
}

impl<C> ConnectionLike for Healing<C>
where
    C: ConnectionLike + Clone + Send + 'static,
{
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> redis::RedisFuture<'a, redis::Value> {
        Box::pin(async move {
            let (generation, mut conn) = self.current();
            let sent = Instant::now();
            let r = conn.req_packed_command(cmd).await;
            self.observe(generation, sent, &r);
            r
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        Box::pin(async move {
            let (generation, mut conn) = self.current();
            let sent = Instant::now();
            let r = conn.req_packed_commands(pipeline, offset, count).await;
            self.observe(generation, sent, &r);
            r
        })
    }

    fn get_db(&self) -> i64 {
        self.current().1.get_db()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    /// A connection that answers PONG, or times out every command once wedged.
    #[derive(Clone)]
    struct Fake {
        id: u64,
        wedged: Arc<AtomicBool>,
    }

    impl ConnectionLike for Fake {
        fn req_packed_command<'a>(&'a mut self, _cmd: &'a redis::Cmd) -> redis::RedisFuture<'a, redis::Value> {
            Box::pin(async move {
                if self.wedged.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_secs(4)).await;
                    return Err(std::io::Error::from(std::io::ErrorKind::TimedOut).into());
                }
                Ok(redis::Value::Int(self.id as i64))
            })
        }

        fn req_packed_commands<'a>(
            &'a mut self,
            _pipeline: &'a redis::Pipeline,
            _offset: usize,
            _count: usize,
        ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
            Box::pin(async { Ok(Vec::new()) })
        }

        fn get_db(&self) -> i64 {
            0
        }
    }

    async fn ask(conn: &mut Healing<Fake>) -> redis::RedisResult<i64> {
        redis::cmd("PING").query_async(conn).await
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_stops_answering_is_replaced_for_every_clone() {
        let made = Arc::new(AtomicU64::new(0));
        let first = Fake { id: 0, wedged: Arc::new(AtomicBool::new(false)) };
        let connect: Connect<Fake> = {
            let made = made.clone();
            Arc::new(move || {
                let id = made.fetch_add(1, Ordering::SeqCst) + 1;
                Box::pin(async move { Ok(Fake { id, wedged: Arc::new(AtomicBool::new(false)) }) })
            })
        };
        let mut conn = Healing::new(first.clone(), Duration::from_secs(6), connect);
        let mut clone = conn.clone();
        assert_eq!(ask(&mut conn).await.expect("answered"), 0);
        first.wedged.store(true, Ordering::SeqCst);
        // Unanswered (4 s), but not for a stall period yet: the same connection.
        assert!(ask(&mut conn).await.is_err());
        assert_eq!(made.load(Ordering::SeqCst), 0);
        // The next unanswered command: nothing answered for 8 s, a new connection for every
        // clone.
        assert!(ask(&mut conn).await.is_err());
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(made.load(Ordering::SeqCst), 1);
        assert_eq!(ask(&mut clone).await.expect("answered"), 1);
        assert_eq!(conn.replacements(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn answers_in_between_keep_the_connection() {
        let made = Arc::new(AtomicU64::new(0));
        let connect: Connect<Fake> = {
            let made = made.clone();
            Arc::new(move || {
                made.fetch_add(1, Ordering::SeqCst);
                Box::pin(async { Err(StoreError::Unavailable("not needed".into())) })
            })
        };
        let fake = Fake { id: 0, wedged: Arc::new(AtomicBool::new(false)) };
        let mut conn = Healing::new(fake.clone(), Duration::from_secs(6), connect);
        // A failover: some commands time out, others (to the other primaries) are answered.
        for _ in 0..5 {
            fake.wedged.store(true, Ordering::SeqCst);
            assert!(ask(&mut conn).await.is_err());
            fake.wedged.store(false, Ordering::SeqCst);
            assert_eq!(ask(&mut conn).await.expect("answered"), 0);
        }
        assert_eq!(made.load(Ordering::SeqCst), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_replacement_is_tried_again_after_the_stall_period() {
        let made = Arc::new(AtomicU64::new(0));
        let connect: Connect<Fake> = {
            let made = made.clone();
            Arc::new(move || {
                let n = made.fetch_add(1, Ordering::SeqCst) + 1;
                Box::pin(async move {
                    match n {
                        1 => Err(StoreError::Unavailable("every node refused".into())),
                        _ => Ok(Fake { id: n, wedged: Arc::new(AtomicBool::new(false)) }),
                    }
                })
            })
        };
        let fake = Fake { id: 0, wedged: Arc::new(AtomicBool::new(true)) };
        let mut conn = Healing::new(fake, Duration::from_secs(6), connect);
        for _ in 0..2 {
            assert!(ask(&mut conn).await.is_err());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(made.load(Ordering::SeqCst), 1, "the first try failed");
        // Not again at once: only after another stall period of unanswered commands.
        assert!(ask(&mut conn).await.is_err());
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(made.load(Ordering::SeqCst), 1);
        assert!(ask(&mut conn).await.is_err());
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(made.load(Ordering::SeqCst), 2);
        assert_eq!(ask(&mut conn).await.expect("answered"), 2);
    }
}
