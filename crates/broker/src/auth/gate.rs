//! Bounds on what password checks can cost us. A check hashes a password
//! (Argon2: about 19 MiB and tens of milliseconds of one core), and a
//! stranger can ask for one with every CONNECT, right or wrong. So:
//!
//! - at most `permits` checks run at once (about one per core), each on a
//!   blocking thread; a CONNECT that cannot start its check within the wait
//!   is refused with 0x89 Server busy (3.1.1: return code 3);
//! - an address that failed `allowance` times in a row is refused
//!   with 0x9F Connection rate exceeded (3.1.1: 3) without a check, for a
//!   back-off that doubles with each further failure, from 1 s up to 64 s.
//!   IPv6 addresses count by their /64 prefix, the unit a host usually
//!   gets. At most [`MAX_TRACKED`] addresses are remembered. Failed SCRAM
//!   proofs count too, and a backing-off address cannot start an exchange.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use wasmqtt_codec::ReasonCode;

/// Addresses whose failures are remembered at most.
pub const MAX_TRACKED: usize = 4096;
/// Back-off after the first failure past the allowance.
const BASE_BACKOFF: Duration = Duration::from_secs(1);
/// Longest back-off (2^6 x BASE_BACKOFF).
const MAX_DOUBLINGS: u32 = 6;
/// Failures older than this are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(600);

/// Admits password checks.
#[derive(Debug)]
pub struct LoginGate {
    permits: Arc<Semaphore>,
    capacity: usize,
    wait: Duration,
    allowance: u32,
    failures: Mutex<HashMap<IpAddr, Failures>>,
    running: Arc<AtomicUsize>,
    peak: AtomicUsize,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    blocked_until: Option<Instant>,
}

/// Leave to run one password check; frees its place when dropped.
#[derive(Debug)]
pub struct Permit {
    _permit: OwnedSemaphorePermit,
    running: Arc<AtomicUsize>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.running.fetch_sub(1, Ordering::Relaxed);
    }
}

impl LoginGate {
    /// `permits` checks at once (0: one per core), waiting at most `wait`
    /// for one; back-off after `allowance` failures from an address (0: no
    /// back-off).
    pub fn new(permits: usize, wait: Duration, allowance: u32) -> Self {
        let capacity = match permits {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        Self {
            permits: Arc::new(Semaphore::new(capacity)),
            capacity,
            wait,
            allowance,
            failures: Mutex::new(HashMap::new()),
            running: Arc::new(AtomicUsize::new(0)),
            peak: AtomicUsize::new(0),
        }
    }

    /// How many checks may run at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The most checks that ran at once so far.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Leave for a check from `addr`: 0x9F while the address is backing
    /// off, 0x89 if no place frees up within the wait.
    pub async fn admit(&self, addr: IpAddr) -> Result<Permit, ReasonCode> {
        let key = key(addr);
        self.check_backoff(key)?;
        let permit = tokio::time::timeout(self.wait, Arc::clone(&self.permits).acquire_owned())
            .await
            .map_err(|_| ReasonCode::ServerBusy)?
            // The semaphore is never closed.
            .map_err(|_| ReasonCode::ServerUnavailable)?;
        // Again: attempts queued behind the failures that started the
        // back-off are dropped without a check, so a flood from one address
        // stops delaying everyone else as soon as it is recognised.
        self.check_backoff(key)?;
        let running = self.running.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(running, Ordering::Relaxed);
        Ok(Permit {
            _permit: permit,
            running: Arc::clone(&self.running),
        })
    }

    /// 0x9F while `addr` is backing off: for checks that cost us little
    /// (SCRAM proofs) but still guess passwords.
    pub fn check(&self, addr: IpAddr) -> Result<(), ReasonCode> {
        self.check_backoff(key(addr))
    }

    fn check_backoff(&self, key: IpAddr) -> Result<(), ReasonCode> {
        let now = Instant::now();
        match self.lock().get(&key) {
            Some(f) if f.blocked_until.is_some_and(|until| now < until) => {
                Err(ReasonCode::ConnectionRateExceeded)
            }
            _ => Ok(()),
        }
    }

    /// Records the outcome of a check from `addr`.
    pub fn record(&self, addr: IpAddr, ok: bool) {
        if self.allowance == 0 {
            return;
        }
        let key = key(addr);
        let mut failures = self.lock();
        if ok {
            failures.remove(&key);
            return;
        }
        let now = Instant::now();
        if failures.len() >= MAX_TRACKED && !failures.contains_key(&key) {
            failures.retain(|_, f| now.saturating_duration_since(f.last) < FORGET_AFTER);
            if failures.len() >= MAX_TRACKED {
                // Still full: forget the address that failed longest ago.
                let oldest = failures.iter().min_by_key(|(_, f)| f.last).map(|(k, _)| *k);
                if let Some(oldest) = oldest {
                    failures.remove(&oldest);
                }
            }
        }
        let entry = failures.entry(key).or_insert(Failures {
            count: 0,
            last: now,
            blocked_until: None,
        });
        if now.saturating_duration_since(entry.last) >= FORGET_AFTER {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        if let Some(over) = entry.count.checked_sub(self.allowance) {
            let backoff = BASE_BACKOFF * 2u32.pow(over.min(MAX_DOUBLINGS));
            entry.blocked_until = Some(now + backoff);
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<IpAddr, Failures>> {
        // Every update is one step: a panic elsewhere leaves the map usable.
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The unit failures are counted by: an IPv4 address, or an IPv6 /64.
fn key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(prefix.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn failures_past_the_allowance_back_off_doubling() {
        let gate = LoginGate::new(1, Duration::from_secs(1), 3);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        for _ in 0..3 {
            assert!(gate.admit(a).await.is_ok());
            gate.record(a, false);
        }
        // Third failure: 1 s back-off; other addresses are not affected.
        assert_eq!(
            gate.admit(a).await.err(),
            Some(ReasonCode::ConnectionRateExceeded)
        );
        assert!(gate.admit(b).await.is_ok());
        tokio::time::advance(Duration::from_millis(1001)).await;
        assert!(gate.admit(a).await.is_ok());
        gate.record(a, false);
        // Fourth: 2 s.
        tokio::time::advance(Duration::from_millis(1500)).await;
        assert!(gate.admit(a).await.is_err());
        tokio::time::advance(Duration::from_millis(501)).await;
        assert!(gate.admit(a).await.is_ok());
        // A success forgets the failures.
        gate.record(a, true);
        gate.record(a, false);
        assert!(gate.admit(a).await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_queued_when_the_back_off_starts_are_dropped() {
        let gate = Arc::new(LoginGate::new(1, Duration::from_secs(10), 1));
        let a: IpAddr = [10, 0, 0, 1].into();
        let first = gate.admit(a).await.unwrap();
        let queued = tokio::spawn({
            let gate = Arc::clone(&gate);
            async move { gate.admit(a).await.map(drop) }
        });
        tokio::task::yield_now().await;
        gate.record(a, false);
        drop(first);
        assert_eq!(
            queued.await.unwrap(),
            Err(ReasonCode::ConnectionRateExceeded)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn no_place_within_the_wait_is_server_busy() {
        let gate = LoginGate::new(2, Duration::from_millis(100), 0);
        let addr: IpAddr = [10, 0, 0, 1].into();
        let one = gate.admit(addr).await;
        let two = gate.admit(addr).await;
        assert!(one.is_ok() && two.is_ok());
        assert_eq!(gate.admit(addr).await.err(), Some(ReasonCode::ServerBusy));
        drop(one);
        assert!(gate.admit(addr).await.is_ok());
        assert_eq!(gate.peak(), 2);
    }

    #[test]
    fn the_map_stays_bounded() {
        let gate = LoginGate::new(1, Duration::from_secs(1), 1);
        for i in 0..(MAX_TRACKED as u32 + 100) {
            gate.record(IpAddr::from(i.to_be_bytes()), false);
        }
        assert_eq!(gate.lock().len(), MAX_TRACKED);
    }

    #[test]
    fn ipv6_counts_by_64_prefix() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(key(a), key(b));
        assert_ne!(key(a), key(c));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(key(mapped), IpAddr::from([10, 0, 0, 1]));
    }
}
