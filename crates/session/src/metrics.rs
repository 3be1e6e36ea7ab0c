//! Counters a dashboard shows about its own connection.

use crate::Millis;

/// Traffic and health counters since the session was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes handed out to send.
    pub bytes_out: u64,
    /// Packets received.
    pub packets_in: u64,
    /// Packets sent.
    pub packets_out: u64,
    /// Application messages delivered.
    pub messages_in: u64,
    /// Application messages sent (first transmissions only).
    pub messages_out: u64,
    /// QoS 1/2 messages sent and not yet acknowledged.
    pub in_flight: usize,
    /// Operations waiting for a connection or for send quota.
    pub queued: usize,
    /// Reconnect attempts made.
    pub reconnects: u64,
    /// Round-trip time of the last PINGREQ/PINGRESP.
    pub round_trip_time: Option<Millis>,
}
