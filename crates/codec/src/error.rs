//! Errors, grouped by who is at fault.

use crate::packet::PacketType;
use crate::property::PropertyId;
use crate::reason_code::ReasonCode;
use crate::topic::TopicError;

/// The peer sent bytes that are not a valid packet.
///
/// Each variant names the [`ReasonCode`] to send in DISCONNECT (or CONNACK)
/// before closing the connection: see [`DecodeError::reason_code`]. After a
/// decode error the byte stream cannot be resynchronised. Plain data, so
/// `Copy`: the decoder hands its error out again with a copy, not a
/// clone per variant (-160 B gzip of the browser bundle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    // --- Malformed Packet (0x81) ---
    /// A Variable Byte Integer ran to a fifth byte [MQTT-1.5.5-1].
    #[error("variable byte integer is longer than four bytes")]
    VarIntTooLong,
    /// A Variable Byte Integer used more bytes than its value needs [MQTT-1.5.5-1].
    #[error("variable byte integer is not minimally encoded")]
    VarIntNotMinimal,
    /// A field runs past the end of the packet.
    #[error("field runs past the end of the packet")]
    UnexpectedEnd,
    /// Bytes are left over after the last field of the packet.
    #[error("unexpected bytes after the end of the packet")]
    TrailingBytes,
    /// The packet type nibble is 0, or 15 in MQTT 3.1.1.
    #[error("invalid packet type {0}")]
    InvalidPacketType(u8),
    /// Reserved fixed header flags have the wrong value [MQTT-2.1.3-1].
    #[error("invalid fixed header flags {flags:#06b} for {packet:?}")]
    InvalidFlags {
        /// The packet whose flags were wrong.
        packet: PacketType,
        /// The low nibble of the first byte.
        flags: u8,
    },
    /// A QoS field holds 3 [MQTT-3.3.1-4].
    #[error("QoS 3 is not a valid QoS")]
    InvalidQoS,
    /// DUP is set on a QoS 0 PUBLISH [MQTT-3.3.1-2].
    #[error("DUP flag set on a QoS 0 PUBLISH")]
    DupWithQoS0,
    /// A string is not well-formed UTF-8 [MQTT-1.5.4-1].
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// A string contains U+0000 [MQTT-1.5.4-2].
    #[error("string contains the null character")]
    NullCharacter,
    /// CONNECT's Protocol Name is not "MQTT" [MQTT-3.1.2-1].
    #[error("protocol name is not MQTT")]
    InvalidProtocolName,
    /// A reserved bit in a flags byte is set [MQTT-3.1.2-3].
    #[error("reserved bit set in {0:?}")]
    ReservedBitSet(PacketType),
    /// A property identifier that MQTT 5.0 does not define.
    #[error("unknown property identifier {0:#04x}")]
    UnknownProperty(u32),
    /// A property that this packet may not carry.
    #[error("property {property:?} is not allowed in {packet:?}")]
    PropertyNotAllowed {
        /// The property.
        property: PropertyId,
        /// The packet it appeared in.
        packet: PacketType,
    },
    /// A reason code that this packet may not carry.
    #[error("reason code {code:#04x} is not valid in {packet:?}")]
    InvalidReasonCode {
        /// The byte received.
        code: u8,
        /// The packet it appeared in.
        packet: PacketType,
    },
    /// A Subscription Options byte has reserved bits set or Retain Handling 3 [MQTT-3.8.3-5].
    #[error("invalid subscription options {0:#010b}")]
    InvalidSubscriptionOptions(u8),
    /// The Will QoS or Will Retain flag is set without the Will Flag [MQTT-3.1.2-11] [MQTT-3.1.2-13].
    #[error("will QoS or retain set without a will")]
    WillFlagsWithoutWill,

    // --- Protocol Error (0x82) ---
    /// Subscription Options with Maximum QoS 3 or Retain Handling 3 (section 3.8.3.1).
    #[error("invalid QoS or retain handling in subscription options {0:#010b}")]
    InvalidSubscriptionValue(u8),
    /// A property other than User Property or Subscription Identifier appeared twice.
    #[error("property {0:?} appears more than once")]
    DuplicateProperty(PropertyId),
    /// A property value outside its allowed range (for example Receive Maximum 0).
    #[error("invalid value for property {0:?}")]
    InvalidPropertyValue(PropertyId),
    /// A Packet Identifier of zero [MQTT-2.2.1-3].
    #[error("packet identifier is zero")]
    ZeroPacketId,
    /// A packet type the peer may not send: from
    /// [`Packet::decode_from_server`](crate::Packet::decode_from_server),
    /// a packet only clients send.
    #[error("unexpected {0:?} packet")]
    UnexpectedPacketType(PacketType),
    /// SUBSCRIBE or UNSUBSCRIBE without any topic filter [MQTT-3.8.3-2] [MQTT-3.10.3-2].
    #[error("{0:?} carries no topic filter")]
    NoTopicFilters(PacketType),
    /// SUBACK or UNSUBACK without any reason code [MQTT-3.9.3-1] [MQTT-3.11.3-1].
    #[error("{0:?} carries no reason code")]
    NoReasonCodes(PacketType),
    /// MQTT 3.1.1 CONNECT with a password but no user name [MQTT-3.1.2-22].
    #[error("password without user name")]
    PasswordWithoutUserName,
    /// The No Local option on a shared subscription [MQTT-3.8.3-4].
    #[error("no local option on a shared subscription")]
    NoLocalOnSharedSubscription,
    /// A zero-length topic name without a Topic Alias [MQTT-3.3.2-1].
    #[error("empty topic name without a topic alias")]
    EmptyTopicWithoutAlias,

    // --- other reason codes ---
    /// PUBLISH Topic Name is not a valid topic name (0x90) [MQTT-3.3.2-2].
    #[error("invalid topic name: {0}")]
    TopicNameInvalid(TopicError),
    /// A Topic Alias of 0 (0x94) [MQTT-3.3.2-8].
    #[error("topic alias 0 is not allowed")]
    TopicAliasZero,
    /// CONNECT asks for a protocol level other than 4 or 5 (0x84) [MQTT-3.1.2-2].
    #[error("unsupported protocol level {0}")]
    UnsupportedProtocolVersion(u8),
    /// The packet is larger than the Maximum Packet Size (0x95).
    #[error("packet of {size} bytes exceeds the maximum of {max}")]
    PacketTooLarge {
        /// The packet's total size, fixed header included.
        size: usize,
        /// The limit it broke.
        max: u32,
    },
}

impl DecodeError {
    /// The reason code to send the peer before closing the connection.
    #[must_use]
    pub const fn reason_code(&self) -> ReasonCode {
        match self {
            Self::DuplicateProperty(_)
            | Self::InvalidSubscriptionValue(_)
            | Self::InvalidPropertyValue(_)
            | Self::ZeroPacketId
            | Self::UnexpectedPacketType(_)
            | Self::NoTopicFilters(_)
            | Self::NoReasonCodes(_)
            | Self::PasswordWithoutUserName
            | Self::NoLocalOnSharedSubscription
            | Self::EmptyTopicWithoutAlias => ReasonCode::ProtocolError,
            Self::TopicNameInvalid(_) => ReasonCode::TopicNameInvalid,
            Self::TopicAliasZero => ReasonCode::TopicAliasInvalid,
            Self::UnsupportedProtocolVersion(_) => ReasonCode::UnsupportedProtocolVersion,
            Self::PacketTooLarge { .. } => ReasonCode::PacketTooLarge,
            Self::VarIntTooLong
            | Self::VarIntNotMinimal
            | Self::UnexpectedEnd
            | Self::TrailingBytes
            | Self::InvalidPacketType(_)
            | Self::InvalidFlags { .. }
            | Self::InvalidQoS
            | Self::DupWithQoS0
            | Self::InvalidUtf8
            | Self::NullCharacter
            | Self::InvalidProtocolName
            | Self::ReservedBitSet(_)
            | Self::UnknownProperty(_)
            | Self::PropertyNotAllowed { .. }
            | Self::InvalidReasonCode { .. }
            | Self::InvalidSubscriptionOptions(_)
            | Self::WillFlagsWithoutWill => ReasonCode::MalformedPacket,
        }
    }
}

/// The caller asked to encode a packet that cannot be sent as built.
///
/// Encoding never writes a partial packet: on error the output buffer is
/// left as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A string or binary field is longer than 65,535 bytes.
    #[error("field is longer than 65535 bytes")]
    FieldTooLong,
    /// A string contains U+0000 [MQTT-1.5.4-2].
    #[error("string contains the null character")]
    NullCharacter,
    /// The packet's Remaining Length would exceed 268,435,455 bytes.
    #[error("packet is larger than the protocol allows")]
    PacketTooLarge,
    /// A property that this packet may not carry.
    #[error("property {property:?} is not allowed in {packet:?}")]
    PropertyNotAllowed {
        /// The property.
        property: PropertyId,
        /// The packet being encoded.
        packet: PacketType,
    },
    /// A property value outside its allowed range (for example Receive Maximum 0).
    #[error("invalid value for property {0:?}")]
    InvalidPropertyValue(PropertyId),
    /// A reason code that this packet may not carry.
    #[error("reason code {code:?} is not valid in {packet:?}")]
    InvalidReasonCode {
        /// The reason code.
        code: ReasonCode,
        /// The packet being encoded.
        packet: PacketType,
    },
    /// The reason code has no equivalent in MQTT 3.1.1.
    #[error("reason code {0:?} has no MQTT 3.1.1 equivalent")]
    NotInVersion(ReasonCode),
    /// The packet type does not exist in MQTT 3.1.1 (AUTH).
    #[error("{0:?} does not exist in MQTT 3.1.1")]
    PacketNotInVersion(PacketType),
    /// A PUBLISH whose Packet Identifier does not agree with its QoS.
    #[error("packet identifier must be present exactly when QoS > 0")]
    PacketIdMismatch,
    /// DUP set on a QoS 0 PUBLISH [MQTT-3.3.1-2].
    #[error("DUP flag set on a QoS 0 PUBLISH")]
    DupWithQoS0,
    /// An invalid topic name or filter.
    #[error("invalid topic: {0}")]
    Topic(TopicError),
    /// An empty topic name without a Topic Alias.
    #[error("empty topic name without a topic alias")]
    EmptyTopicWithoutAlias,
    /// SUBSCRIBE or UNSUBSCRIBE with no topic filter.
    #[error("{0:?} needs at least one topic filter")]
    NoTopicFilters(PacketType),
    /// SUBACK or UNSUBACK with no reason code.
    #[error("{0:?} needs at least one reason code")]
    NoReasonCodes(PacketType),
    /// The No Local option on a shared subscription [MQTT-3.8.3-4].
    #[error("no local option on a shared subscription")]
    NoLocalOnSharedSubscription,
    /// MQTT 3.1.1 CONNECT with a password but no user name [MQTT-3.1.2-22].
    #[error("password without user name")]
    PasswordWithoutUserName,
}
