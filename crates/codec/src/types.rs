//! Small value types shared by many packets.

use core::num::NonZeroU16;

/// Quality of Service level of a message or subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[non_exhaustive]
#[repr(u8)]
pub enum QoS {
    /// At most once delivery.
    #[default]
    AtMostOnce = 0,
    /// At least once delivery.
    AtLeastOnce = 1,
    /// Exactly once delivery.
    ExactlyOnce = 2,
}

impl QoS {
    /// The QoS for a wire value, or `None` for 3 and above.
    #[must_use]
    pub const fn from_u8(value: u8) -> Option<Self> {
        match value {
            0 => Some(Self::AtMostOnce),
            1 => Some(Self::AtLeastOnce),
            2 => Some(Self::ExactlyOnce),
            _ => None,
        }
    }
}

/// A Packet Identifier: never zero [MQTT-2.2.1-3].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PacketId(NonZeroU16);

impl PacketId {
    /// The identifier for `value`, or `None` for zero.
    #[must_use]
    pub const fn new(value: u16) -> Option<Self> {
        match NonZeroU16::new(value) {
            Some(v) => Some(Self(v)),
            None => None,
        }
    }

    /// The identifier as sent on the wire.
    #[must_use]
    pub const fn get(self) -> u16 {
        self.0.get()
    }
}

impl From<PacketId> for u16 {
    fn from(id: PacketId) -> u16 {
        id.get()
    }
}

/// The protocol revision a connection speaks, chosen by CONNECT's Protocol Level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[non_exhaustive]
#[repr(u8)]
pub enum ProtocolVersion {
    /// MQTT 3.1.1 (Protocol Level 4).
    V311 = 4,
    /// MQTT 5.0 (Protocol Level 5).
    #[default]
    V5 = 5,
}

impl ProtocolVersion {
    /// The version for a CONNECT Protocol Level byte, if supported.
    #[must_use]
    pub const fn from_level(level: u8) -> Option<Self> {
        match level {
            4 => Some(Self::V311),
            5 => Some(Self::V5),
            _ => None,
        }
    }

    /// The Protocol Level byte sent in CONNECT.
    #[must_use]
    pub const fn level(self) -> u8 {
        self as u8
    }
}
