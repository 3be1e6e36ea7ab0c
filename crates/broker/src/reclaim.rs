//! Giving memory back to the system after many connections closed.
//!
//! Everything a connection allocated is freed when it closes, but glibc's
//! allocator keeps freed memory in its per-thread arenas: after 10,000
//! connections closed the process stayed at its peak size. `malloc_trim`
//! returns the free pages of every arena. It walks the whole heap, so it
//! runs only when the open connections fell to half their peak or less (and
//! by at least [`MIN_DROP`]), checked every [`CHECK`], on a blocking thread.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::broker::Shared;

/// How often the connection count is looked at.
const CHECK: Duration = Duration::from_secs(2);
/// Fewest closed connections worth a trim.
const MIN_DROP: usize = 1000;

/// Trims after large drops in the connection count until shutdown.
pub(crate) async fn run(shared: Arc<Shared>) {
    let mut stop = shared.shutdown.clone();
    let mut tick = tokio::time::interval(CHECK);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let now = shared.connections.load(Ordering::Relaxed);
        let peak = shared.connections_peak.load(Ordering::Relaxed);
        if worth_trimming(peak, now) {
            shared.connections_peak.store(now, Ordering::Relaxed);
            tokio::task::spawn_blocking(release).await.ok();
        }
    }
}

fn worth_trimming(peak: usize, now: usize) -> bool {
    peak.saturating_sub(now) >= MIN_DROP && now <= peak / 2
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release() {
    // SAFETY: malloc_trim takes no pointer and only rearranges the
    // allocator's own free memory; it is safe to call at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_only_after_a_large_drop() {
        assert!(worth_trimming(10_000, 0));
        assert!(worth_trimming(10_000, 5_000));
        assert!(!worth_trimming(10_000, 5_001));
        assert!(!worth_trimming(999, 0));
        assert!(!worth_trimming(0, 0));
    }
}
