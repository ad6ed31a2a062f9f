//! How every loop that waits for Kafka or Redis to come back paces itself: exponential
//! backoff with jitter, from 100 ms up to 5 s between attempts, for as long as it takes.

use std::time::Duration;

use backon::BackoffBuilder as _;

const FIRST: Duration = Duration::from_millis(100);
const LONGEST: Duration = Duration::from_secs(5);

/// The delays between the attempts of one retry loop.
pub struct Backoff {
    first: Duration,
    delays: backon::ExponentialBackoff,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::starting_at(FIRST)
    }
}

impl Backoff {
    /// Delays that start at `first` and double (with jitter) up to 5 s.
    pub fn starting_at(first: Duration) -> Self {
        Backoff { first, delays: Self::build(first) }
    }

    fn build(first: Duration) -> backon::ExponentialBackoff {
        backon::ExponentialBuilder::new()
            .with_min_delay(first)
            .with_max_delay(LONGEST.max(first))
            .with_jitter()
            .without_max_times()
            .build()
    }

    /// How long to wait before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        self.delays.next().unwrap_or(LONGEST)
    }

    /// Wait before the next attempt.
    pub async fn wait(&mut self) {
        tokio::time::sleep(self.next_delay()).await;
    }

    /// After a success: the next failure starts from the shortest delay again.
    pub fn reset(&mut self) {
        self.delays = Self::build(self.first);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_to_the_cap_and_start_over_after_a_reset() {
        let mut b = Backoff::default();
        let delays: Vec<Duration> = (0..12).map(|_| b.next_delay()).collect();
        // Jitter adds up to one more delay: 100 ms becomes 100..200 ms.
        assert!(delays[0] >= FIRST && delays[0] <= FIRST * 2, "{delays:?}");
        assert!(delays.iter().all(|d| *d <= LONGEST * 2), "{delays:?}");
        assert!(delays[11] >= LONGEST, "capped delays reach 5 s: {delays:?}");
        b.reset();
        assert!(b.next_delay() <= FIRST * 2);
    }
}
