//! What a process says about itself: it is ready for traffic while it is not draining and the
//! services it stands on (Kafka, Redis) answer. The gRPC health service follows it (NOT_SERVING
//! while draining or while a dependency is down, SERVING again once it is back).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

/// The process's readiness, shared by whatever reports it.
#[derive(Clone)]
pub struct Readiness(Arc<watch::Sender<State>>);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub draining: bool,
    /// Dependencies that do not answer now.
    pub down: BTreeSet<&'static str>,
}

impl State {
    /// Why the process is not ready; `None` when it is.
    pub fn not_ready(&self) -> Option<String> {
        if self.draining {
            return Some("draining".into());
        }
        (!self.down.is_empty())
            .then(|| format!("unreachable: {}", self.down.iter().copied().collect::<Vec<_>>().join(", ")))
    }
}

impl Default for Readiness {
    fn default() -> Self {
        Readiness(Arc::new(watch::channel(State::default()).0))
    }
}

impl Readiness {
    /// The process stops taking work: not ready from now on.
    pub fn draining(&self) {
        self.0.send_if_modified(|s| !std::mem::replace(&mut s.draining, true));
    }

    /// Record whether `dependency` answers.
    pub fn dependency(&self, dependency: &'static str, up: bool) {
        self.0.send_if_modified(|s| if up { s.down.remove(dependency) } else { s.down.insert(dependency) });
    }

    pub fn state(&self) -> State {
        self.0.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<State> {
        self.0.subscribe()
    }

    /// Probe a dependency every `every` until the process drains, recording each answer
    /// (a change is logged once, not every probe).
    pub fn probe<F, Fut, E>(&self, dependency: &'static str, every: Duration, check: F) -> tokio::task::JoinHandle<()>
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<(), E>> + Send,
        E: std::fmt::Display,
    {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                let up = {
                    let r = check().await;
                    let was_down = me.state().down.contains(dependency);
                    match &r {
                        Err(e) if !was_down => {
                            tracing::warn!(dependency, error = %e, "dependency unreachable: not ready")
                        }
                        Ok(()) if was_down => tracing::info!(dependency, "dependency reachable again: ready"),
                        _ => {}
                    }
                    r.is_ok()
                };
                me.dependency(dependency, up);
                if me.state().draining {
                    return;
                }
                tokio::time::sleep(every).await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_until_a_dependency_is_down_or_the_process_drains() {
        let r = Readiness::default();
        assert_eq!(r.state().not_ready(), None);
        r.dependency("redis", false);
        assert_eq!(r.state().not_ready().as_deref(), Some("unreachable: redis"));
        r.dependency("kafka", false);
        assert_eq!(r.state().not_ready().as_deref(), Some("unreachable: kafka, redis"));
        r.dependency("redis", true);
        r.dependency("kafka", true);
        assert_eq!(r.state().not_ready(), None);
        r.draining();
        assert_eq!(r.state().not_ready().as_deref(), Some("draining"));
    }
}
