//! How long a failed task waits before its next try: exponential with jitter, as River and
//! Oban do, so many tasks failing at once do not all come back at the same moment.

use std::time::Duration;

/// The retry policy of a pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure (and after an exit 75).
    pub base: Duration,
    /// The longest wait.
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The wait after failure number `failures` (1 for the first), before jitter: base,
    /// doubled each time, at most the cap.
    pub fn ceiling(&self, failures: i64) -> Duration {
        let doublings = u32::try_from(failures.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        self.base
            .saturating_mul(1u32 << doublings)
            .min(self.cap.max(self.base))
    }

    /// The wait after failure number `failures`, with jitter: somewhere in the upper half of
    /// the ceiling, so it stays near "about a second" at first and spreads retries apart.
    pub fn delay(&self, failures: i64, unit_random: f64) -> Duration {
        let ceiling = self.ceiling(failures);
        ceiling.mul_f64(0.5 + 0.5 * unit_random.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_the_base_up_to_the_cap() {
        let b = Backoff::default();
        let secs: Vec<u64> = (1..=7).map(|n| b.ceiling(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(b.ceiling(i64::MAX), Duration::from_secs(30));
    }

    #[test]
    fn jitter_keeps_the_wait_in_the_upper_half_of_its_ceiling() {
        let b = Backoff::default();
        assert_eq!(b.delay(3, 0.0), Duration::from_secs(2));
        assert_eq!(b.delay(3, 1.0), Duration::from_secs(4));
        assert_eq!(b.delay(3, 7.0), Duration::from_secs(4));
    }
}
