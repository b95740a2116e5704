//! Waiting between attempts to reach something that went away (the embedded Postgres, a
//! lost listener or lock connection): doubling from a first delay up to a cap, back to the
//! first delay after a success. No jitter: each of these loops is one per process.

use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    cap: Duration,
    next: Duration,
    failures: u32,
}

impl Backoff {
    /// `first`, then twice as long each time, never longer than `cap`.
    pub fn new(first: Duration, cap: Duration) -> Self {
        Backoff {
            first,
            cap,
            next: first,
            failures: 0,
        }
    }

    /// 0.5 s → 1 → 2 → 4 → 8 → 10 s: what reconnecting to Postgres uses.
    pub fn for_database() -> Self {
        Self::new(Duration::from_millis(500), Duration::from_secs(10))
    }

    /// The delay before the next attempt (and counts a failure).
    pub fn fail(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.cap);
        self.failures += 1;
        delay
    }

    /// Failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// A success: the next failure waits `first` again.
    pub fn reset(&mut self) {
        self.next = self.first;
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_starts_over_after_a_success() {
        let mut b = Backoff::for_database();
        let delays: Vec<u64> = (0..7).map(|_| b.fail().as_millis() as u64).collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 8000, 10000, 10000]);
        assert_eq!(b.failures(), 7);
        b.reset();
        assert_eq!(b.failures(), 0);
        assert_eq!(b.fail(), Duration::from_millis(500));
    }
}
