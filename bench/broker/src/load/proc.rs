//! Reading a process's memory from /proc/PID/status.

use std::fs;

/// A field of /proc/PID/status in KiB (VmRSS, VmHWM) or as a count (Threads).
pub fn status(pid: u32, field: &str) -> u64 {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Resident set size in KiB.
pub fn rss(pid: u32) -> u64 {
    status(pid, "VmRSS")
}
