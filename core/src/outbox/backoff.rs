//! How long to wait before trying the upstream again: exponential from `base`, capped, with
//! full jitter (so desks that lost the same line do not all come back in the same second),
//! and never shorter than what the server asked for with Retry-After.

use std::time::Duration;

/// A number in [0, 1): the jitter. Injected so tests can pin it.
pub type Jitter = Box<dyn FnMut() -> f64 + Send>;

/// The OS's randomness as jitter.
pub fn os_jitter() -> Jitter {
    Box::new(|| {
        let mut b = [0u8; 8];
        if getrandom::fill(&mut b).is_err() {
            return 0.5;
        }
        (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
    })
}

pub struct Backoff {
    base: Duration,
    cap: Duration,
    /// A Retry-After longer than this is cut to it (a server asking for a day is wrong).
    max_retry_after: Duration,
    failures: u32,
    jitter: Jitter,
}

impl std::fmt::Debug for Backoff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backoff")
            .field("base", &self.base)
            .field("cap", &self.cap)
            .field("failures", &self.failures)
            .finish_non_exhaustive()
    }
}

impl Backoff {
    pub fn new(base: Duration, cap: Duration, jitter: Jitter) -> Backoff {
        Backoff {
            base,
            cap,
            max_retry_after: Duration::from_secs(600),
            failures: 0,
            jitter,
        }
    }

    /// The desk's default: 1 s, doubling, at most 5 minutes apart.
    pub fn standard() -> Backoff {
        Backoff::new(
            Duration::from_secs(1),
            Duration::from_secs(300),
            os_jitter(),
        )
    }

    /// The wait after one more failure.
    pub fn next(&mut self, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32.checked_shl(self.failures.min(20)).unwrap_or(u32::MAX))
            .min(self.cap);
        self.failures = self.failures.saturating_add(1);
        // Full jitter, but never less than half the step: a sick server gets some rest.
        let wait = exp.mul_f64(0.5 + 0.5 * (self.jitter)().clamp(0.0, 1.0));
        match retry_after {
            Some(asked) => wait.max(asked.min(self.max_retry_after)),
            None => wait,
        }
    }

    /// A request went through: start again from `base`.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed(x: f64) -> Jitter {
        Box::new(move || x)
    }

    #[test]
    fn waits_double_up_to_the_cap_and_jitter_stays_within_the_step() {
        let mut top = Backoff::new(Duration::from_secs(1), Duration::from_secs(60), fixed(1.0));
        let waits: Vec<u64> = (0..9).map(|_| top.next(None).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        let mut low = Backoff::new(Duration::from_secs(1), Duration::from_secs(60), fixed(0.0));
        let waits: Vec<u64> = (0..4).map(|_| low.next(None).as_millis() as u64).collect();
        assert_eq!(waits, [500, 1000, 2000, 4000]);
        low.reset();
        assert_eq!(low.next(None), Duration::from_millis(500));
    }

    #[test]
    fn retry_after_is_honoured_but_bounded() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60), fixed(0.0));
        assert_eq!(
            b.next(Some(Duration::from_secs(20))),
            Duration::from_secs(20)
        );
        assert_eq!(
            b.next(Some(Duration::from_secs(86_400))),
            Duration::from_secs(600)
        );
        // A short Retry-After does not undercut the backoff.
        b.reset();
        b.next(None);
        b.next(None);
        assert_eq!(b.next(Some(Duration::ZERO)), Duration::from_secs(2));
    }

    #[test]
    fn os_jitter_spreads_over_the_unit_interval() {
        let mut j = os_jitter();
        let xs: Vec<f64> = (0..200).map(|_| j()).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        assert!(xs.iter().any(|x| *x < 0.3) && xs.iter().any(|x| *x > 0.7));
    }
}
