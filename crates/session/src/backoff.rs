//! Reconnect delays: exponential backoff with full jitter.

use crate::Millis;

/// When to try again after a lost connection.
///
/// The delay before attempt `n` (from 1) is a uniformly random value in
/// `[0, min(max_delay, initial_delay * 2^(n-1))]` ("full jitter"), so many
/// clients dropped at once by a broker restart do not come back in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Ceiling of the first delay.
    pub initial_delay: Millis,
    /// Largest ceiling.
    pub max_delay: Millis,
    /// Give up after this many attempts in a row; `None` never gives up.
    pub max_attempts: Option<u32>,
    /// A connection that stays up this long resets the attempt count.
    pub reset_after: Millis,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial_delay: 1_000,
            max_delay: 30_000,
            max_attempts: None,
            reset_after: 10_000,
        }
    }
}

impl Backoff {
    /// The delay before `attempt` (1 for the first retry), given a random
    /// value in `[0, 2^32)`; `None` once the attempts are used up.
    #[must_use]
    pub fn delay(&self, attempt: u32, random: u32) -> Option<Millis> {
        if attempt == 0 || self.max_attempts.is_some_and(|max| attempt > max) {
            return None;
        }
        let shift = (attempt - 1).min(32);
        let ceiling = self
            .initial_delay
            .checked_mul(1u64 << shift)
            .unwrap_or(Millis::MAX)
            .min(self.max_delay);
        // Scale the random value into [0, ceiling] without overflow.
        let scaled = (u128::from(ceiling) * u128::from(random)) >> 32;
        Some(u64::try_from(scaled).unwrap_or(ceiling))
    }
}

/// A small deterministic generator (xorshift64*): jitter, correlation data
/// and simulated readings need spread, not secrecy, and the seed comes
/// from the caller, so a test can repeat a run.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value, zero included).
    #[must_use]
    pub fn new(seed: u64) -> Self {
        // Zero is a fixed point of xorshift.
        Self(if seed == 0 {
            0x2545_F491_4F6C_DD1D
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        // The high half has the better bits.
        (self.next_u64() >> 32) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_grows_then_caps_and_stays_within_the_ceiling() {
        let b = Backoff {
            initial_delay: 100,
            max_delay: 1_000,
            max_attempts: Some(6),
            reset_after: 0,
        };
        let max = u32::MAX;
        assert_eq!(b.delay(1, max), Some(99));
        assert_eq!(b.delay(2, max), Some(199));
        assert_eq!(b.delay(4, max), Some(799));
        assert_eq!(b.delay(5, max), Some(999));
        assert_eq!(b.delay(6, max), Some(999));
        assert_eq!(b.delay(3, 0), Some(0));
        assert_eq!(b.delay(3, 1 << 31), Some(200));
        assert_eq!(b.delay(7, max), None);
        assert_eq!(b.delay(0, max), None);
    }

    #[test]
    fn huge_attempt_numbers_do_not_overflow() {
        let b = Backoff::default();
        assert_eq!(b.delay(u32::MAX, u32::MAX), Some(b.max_delay - 1));
    }

    #[test]
    fn rng_spreads_and_never_sticks_at_zero() {
        let mut r = Rng::new(0);
        let a = r.next_u64();
        let b = r.next_u64();
        assert_ne!(a, 0);
        assert_ne!(a, b);
    }
}
