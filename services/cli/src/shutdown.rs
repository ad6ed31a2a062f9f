//! Shutdown of every serving command: the signals that begin it, and the one flag that the
//! gRPC server, the worker pool and the results consumer watch while they drain. A second
//! signal exits at once.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// Begun once, by a signal or whatever future the caller chose; cheap to clone.
#[derive(Clone)]
pub struct Shutdown {
    flag: watch::Receiver<bool>,
    began: Arc<OnceLock<Instant>>,
}

impl Shutdown {
    /// Begins when `trigger` resolves.
    pub fn on(trigger: impl Future<Output = ()> + Send + 'static) -> Shutdown {
        let (tx, flag) = watch::channel(false);
        let began = Arc::new(OnceLock::new());
        let at = began.clone();
        tokio::spawn(async move {
            trigger.await;
            let _ = at.set(Instant::now());
            let _ = tx.send(true);
        });
        Shutdown { flag, began }
    }

    /// The flag, for components that watch it (`true` once shutdown began).
    pub fn flag(&self) -> watch::Receiver<bool> {
        self.flag.clone()
    }

    /// Resolves once shutdown has begun.
    pub async fn begun(&self) {
        let mut flag = self.flag.clone();
        // An error means the trigger task is gone without firing: then it never will.
        if flag.wait_for(|begun| *begun).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// What is left of a drain `deadline` counted from when shutdown began (at least 100 ms,
    /// so the last step always gets a chance).
    pub fn left_of(&self, deadline: Duration) -> Duration {
        let spent = self.began.get().map(Instant::elapsed).unwrap_or_default();
        deadline.saturating_sub(spent).max(Duration::from_millis(100))
    }
}

/// Resolves at the first Ctrl-C or SIGTERM; a second one exits the process at once.
pub async fn signal() {
    wait_signal().await;
    tokio::spawn(async {
        wait_signal().await;
        eprintln!("second signal: exiting now");
        std::process::exit(130);
    });
}

async fn wait_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn begins_with_its_trigger_and_counts_the_drain_from_then() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let shutdown = Shutdown::on(async {
            let _ = rx.await;
        });
        assert!(!*shutdown.flag().borrow());
        tokio::time::sleep(Duration::from_secs(5)).await;
        tx.send(()).expect("the trigger still waits");
        shutdown.begun().await;
        assert!(*shutdown.flag().borrow());
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(shutdown.left_of(Duration::from_secs(10)), Duration::from_secs(7));
        assert_eq!(shutdown.left_of(Duration::from_secs(2)), Duration::from_millis(100));
    }
}
