//! MQTT 5.0 properties (section 2.2.2): identifiers, wire types, which
//! packets may carry each, and the one struct all packets share.

use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;

use crate::error::{DecodeError, EncodeError};
use crate::packet::PacketType;
use crate::topic::TopicName;
use crate::types::QoS;
use crate::wire::{self, Reader};

/// Where a property list sits: a packet's variable header, or CONNECT's Will Properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    Packet(PacketType),
    Will,
}

impl Scope {
    const fn bit(self) -> u16 {
        match self {
            // Packet types are 1..=15, so bit 0 is free for the will.
            Self::Packet(p) => 1 << p as u16,
            Self::Will => 1,
        }
    }

    /// The packet to name in errors.
    const fn packet(self) -> PacketType {
        match self {
            Self::Packet(p) => p,
            Self::Will => PacketType::Connect,
        }
    }
}

macro_rules! property_ids {
    ($($(#[$doc:meta])* $name:ident = $value:literal, [$($scope:ident),*];)*) => {
        /// A property identifier (section 2.2.2.2).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        #[repr(u8)]
        pub enum PropertyId {
            $($(#[$doc])* $name = $value,)*
        }

        impl PropertyId {
            /// The property for an identifier, or `None` if MQTT 5.0 defines none.
            #[must_use]
            pub const fn from_u32(value: u32) -> Option<Self> {
                match value {
                    $($value => Some(Self::$name),)*
                    _ => None,
                }
            }

            /// Bit set of the scopes that may carry this property.
            const fn scopes(self) -> u16 {
                match self {
                    $(Self::$name => 0 $(| scope_bit!($scope))*,)*
                }
            }
        }
    };
}

macro_rules! scope_bit {
    (Will) => {
        Scope::Will.bit()
    };
    ($p:ident) => {
        Scope::Packet(PacketType::$p).bit()
    };
}

property_ids! {
    /// Payload Format Indicator (Byte).
    PayloadFormatIndicator = 0x01, [Publish, Will];
    /// Message Expiry Interval (Four Byte Integer).
    MessageExpiryInterval = 0x02, [Publish, Will];
    /// Content Type (UTF-8 String).
    ContentType = 0x03, [Publish, Will];
    /// Response Topic (UTF-8 String).
    ResponseTopic = 0x08, [Publish, Will];
    /// Correlation Data (Binary Data).
    CorrelationData = 0x09, [Publish, Will];
    /// Subscription Identifier (Variable Byte Integer).
    SubscriptionIdentifier = 0x0B, [Publish, Subscribe];
    /// Session Expiry Interval (Four Byte Integer).
    SessionExpiryInterval = 0x11, [Connect, ConnAck, Disconnect];
    /// Assigned Client Identifier (UTF-8 String).
    AssignedClientIdentifier = 0x12, [ConnAck];
    /// Server Keep Alive (Two Byte Integer).
    ServerKeepAlive = 0x13, [ConnAck];
    /// Authentication Method (UTF-8 String).
    AuthenticationMethod = 0x15, [Connect, ConnAck, Auth];
    /// Authentication Data (Binary Data).
    AuthenticationData = 0x16, [Connect, ConnAck, Auth];
    /// Request Problem Information (Byte).
    RequestProblemInformation = 0x17, [Connect];
    /// Will Delay Interval (Four Byte Integer).
    WillDelayInterval = 0x18, [Will];
    /// Request Response Information (Byte).
    RequestResponseInformation = 0x19, [Connect];
    /// Response Information (UTF-8 String).
    ResponseInformation = 0x1A, [ConnAck];
    /// Server Reference (UTF-8 String).
    ServerReference = 0x1C, [ConnAck, Disconnect];
    /// Reason String (UTF-8 String).
    ReasonString = 0x1F, [ConnAck, PubAck, PubRec, PubRel, PubComp, SubAck, UnsubAck, Disconnect, Auth];
    /// Receive Maximum (Two Byte Integer).
    ReceiveMaximum = 0x21, [Connect, ConnAck];
    /// Topic Alias Maximum (Two Byte Integer).
    TopicAliasMaximum = 0x22, [Connect, ConnAck];
    /// Topic Alias (Two Byte Integer).
    TopicAlias = 0x23, [Publish];
    /// Maximum QoS (Byte).
    MaximumQoS = 0x24, [ConnAck];
    /// Retain Available (Byte).
    RetainAvailable = 0x25, [ConnAck];
    /// User Property (UTF-8 String Pair).
    UserProperty = 0x26, [Connect, ConnAck, Publish, Will, PubAck, PubRec, PubRel, PubComp, Subscribe, SubAck, Unsubscribe, UnsubAck, Disconnect, Auth];
    /// Maximum Packet Size (Four Byte Integer).
    MaximumPacketSize = 0x27, [Connect, ConnAck];
    /// Wildcard Subscription Available (Byte).
    WildcardSubscriptionAvailable = 0x28, [ConnAck];
    /// Subscription Identifier Available (Byte).
    SubscriptionIdentifierAvailable = 0x29, [ConnAck];
    /// Shared Subscription Available (Byte).
    SharedSubscriptionAvailable = 0x2A, [ConnAck];
}

impl PropertyId {
    /// Whether a packet of this kind may carry the property.
    #[must_use]
    pub const fn is_allowed_in(self, packet: PacketType) -> bool {
        self.scopes() & Scope::Packet(packet).bit() != 0
    }

    /// Whether the Will Properties of CONNECT may carry the property.
    #[must_use]
    pub const fn is_will_property(self) -> bool {
        self.scopes() & Scope::Will.bit() != 0
    }

    /// Whether the property may appear more than once in `packet`.
    ///
    /// User Property always may; Subscription Identifier only in PUBLISH
    /// (one per matching subscription), never in SUBSCRIBE.
    #[must_use]
    pub const fn may_repeat_in(self, packet: PacketType) -> bool {
        matches!(self, Self::UserProperty)
            || matches!(
                (self, packet),
                (Self::SubscriptionIdentifier, PacketType::Publish)
            )
    }

    const fn allowed(self, scope: Scope) -> bool {
        self.scopes() & scope.bit() != 0
    }
}

/// The Payload Format Indicator values (section 3.3.2.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
#[repr(u8)]
pub enum PayloadFormatIndicator {
    /// Unspecified bytes.
    #[default]
    Unspecified = 0,
    /// UTF-8 Encoded Character Data.
    Utf8 = 1,
}

/// The properties of one packet (or of a will).
///
/// One struct serves every packet; which fields a packet may set is
/// checked when decoding (a property in the wrong packet is a Malformed
/// Packet) and when encoding ([`EncodeError::PropertyNotAllowed`]). Fields
/// follow the spec's names. MQTT 3.1.1 has no properties: they are not
/// encoded for it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]

pub struct Properties {
    /// Payload Format Indicator (0x01).
    pub payload_format_indicator: Option<PayloadFormatIndicator>,
    /// Message Expiry Interval in seconds (0x02).
    pub message_expiry_interval: Option<u32>,
    /// Content Type (0x03).
    pub content_type: Option<String>,
    /// Response Topic (0x08): a topic name, no wildcards [MQTT-3.3.2-14].
    pub response_topic: Option<TopicName>,
    /// Correlation Data (0x09).
    pub correlation_data: Option<Bytes>,
    /// Subscription Identifiers (0x0B), 1..=268,435,455; several only in PUBLISH.
    pub subscription_identifiers: Vec<u32>,
    /// Session Expiry Interval in seconds (0x11).
    pub session_expiry_interval: Option<u32>,
    /// Assigned Client Identifier (0x12).
    pub assigned_client_identifier: Option<String>,
    /// Server Keep Alive in seconds (0x13).
    pub server_keep_alive: Option<u16>,
    /// Authentication Method (0x15).
    pub authentication_method: Option<String>,
    /// Authentication Data (0x16).
    pub authentication_data: Option<Bytes>,
    /// Request Problem Information (0x17).
    pub request_problem_information: Option<bool>,
    /// Will Delay Interval in seconds (0x18).
    pub will_delay_interval: Option<u32>,
    /// Request Response Information (0x19).
    pub request_response_information: Option<bool>,
    /// Response Information (0x1A).
    pub response_information: Option<String>,
    /// Server Reference (0x1C).
    pub server_reference: Option<String>,
    /// Reason String (0x1F).
    pub reason_string: Option<String>,
    /// Receive Maximum (0x21), never 0.
    pub receive_maximum: Option<u16>,
    /// Topic Alias Maximum (0x22).
    pub topic_alias_maximum: Option<u16>,
    /// Topic Alias (0x23), never 0.
    pub topic_alias: Option<u16>,
    /// Maximum QoS (0x24): 0 or 1 (absent means 2).
    pub maximum_qos: Option<QoS>,
    /// Retain Available (0x25).
    pub retain_available: Option<bool>,
    /// User Properties (0x26), in order [MQTT-3.3.2-18].
    pub user_properties: Vec<(String, String)>,
    /// Maximum Packet Size (0x27), never 0.
    pub maximum_packet_size: Option<u32>,
    /// Wildcard Subscription Available (0x28).
    pub wildcard_subscription_available: Option<bool>,
    /// Subscription Identifier Available (0x29).
    pub subscription_identifier_available: Option<bool>,
    /// Shared Subscription Available (0x2A).
    pub shared_subscription_available: Option<bool>,
}

fn flag(r: &mut Reader, id: PropertyId) -> Result<bool, DecodeError> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(DecodeError::InvalidPropertyValue(id)),
    }
}

fn non_zero_u16(r: &mut Reader, id: PropertyId) -> Result<u16, DecodeError> {
    match r.u16()? {
        0 => Err(DecodeError::InvalidPropertyValue(id)),
        v => Ok(v),
    }
}

impl Properties {
    /// Whether no property is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Reads a Property Length and the properties it covers.
    pub(crate) fn decode(r: &mut Reader, scope: Scope) -> Result<Self, DecodeError> {
        let len = r.varint()?;
        let mut r = r.sub(len as usize)?;
        let mut p = Self::default();
        let mut seen: u64 = 0;
        while !r.is_empty() {
            let raw = r.varint()?;
            let id = PropertyId::from_u32(raw).ok_or(DecodeError::UnknownProperty(raw))?;
            if !id.allowed(scope) {
                return Err(DecodeError::PropertyNotAllowed {
                    property: id,
                    packet: scope.packet(),
                });
            }
            let bit = 1u64 << (id as u8);
            if seen & bit != 0 && !id.may_repeat_in(scope.packet()) {
                return Err(DecodeError::DuplicateProperty(id));
            }
            seen |= bit;
            p.decode_one(&mut r, id)?;
        }
        Ok(p)
    }

    fn decode_one(&mut self, r: &mut Reader, id: PropertyId) -> Result<(), DecodeError> {
        use PropertyId as P;
        match id {
            P::PayloadFormatIndicator => {
                self.payload_format_indicator = Some(match r.u8()? {
                    0 => PayloadFormatIndicator::Unspecified,
                    1 => PayloadFormatIndicator::Utf8,
                    _ => return Err(DecodeError::InvalidPropertyValue(id)),
                });
            }
            P::MessageExpiryInterval => self.message_expiry_interval = Some(r.u32()?),
            P::ContentType => self.content_type = Some(r.string()?),
            P::ResponseTopic => {
                let topic = TopicName::new(r.string()?)
                    .map_err(|_| DecodeError::InvalidPropertyValue(id))?;
                self.response_topic = Some(topic);
            }
            P::CorrelationData => self.correlation_data = Some(r.binary()?),
            P::SubscriptionIdentifier => match r.varint()? {
                0 => return Err(DecodeError::InvalidPropertyValue(id)),
                v => self.subscription_identifiers.push(v),
            },
            P::SessionExpiryInterval => self.session_expiry_interval = Some(r.u32()?),
            P::AssignedClientIdentifier => self.assigned_client_identifier = Some(r.string()?),
            P::ServerKeepAlive => self.server_keep_alive = Some(r.u16()?),
            P::AuthenticationMethod => self.authentication_method = Some(r.string()?),
            P::AuthenticationData => self.authentication_data = Some(r.binary()?),
            P::RequestProblemInformation => {
                self.request_problem_information = Some(flag(r, id)?);
            }
            P::WillDelayInterval => self.will_delay_interval = Some(r.u32()?),
            P::RequestResponseInformation => {
                self.request_response_information = Some(flag(r, id)?);
            }
            P::ResponseInformation => self.response_information = Some(r.string()?),
            P::ServerReference => self.server_reference = Some(r.string()?),
            P::ReasonString => self.reason_string = Some(r.string()?),
            P::ReceiveMaximum => self.receive_maximum = Some(non_zero_u16(r, id)?),
            P::TopicAliasMaximum => self.topic_alias_maximum = Some(r.u16()?),
            P::TopicAlias => match r.u16()? {
                // [MQTT-3.3.2-8]: a Topic Alias of 0 is not permitted.
                0 => return Err(DecodeError::TopicAliasZero),
                v => self.topic_alias = Some(v),
            },
            P::MaximumQoS => {
                self.maximum_qos = Some(match r.u8()? {
                    0 => QoS::AtMostOnce,
                    1 => QoS::AtLeastOnce,
                    _ => return Err(DecodeError::InvalidPropertyValue(id)),
                });
            }
            P::RetainAvailable => self.retain_available = Some(flag(r, id)?),
            P::UserProperty => {
                let key = r.string()?;
                let value = r.string()?;
                self.user_properties.push((key, value));
            }
            P::MaximumPacketSize => match r.u32()? {
                0 => return Err(DecodeError::InvalidPropertyValue(id)),
                v => self.maximum_packet_size = Some(v),
            },
            P::WildcardSubscriptionAvailable => {
                self.wildcard_subscription_available = Some(flag(r, id)?);
            }
            P::SubscriptionIdentifierAvailable => {
                self.subscription_identifier_available = Some(flag(r, id)?);
            }
            P::SharedSubscriptionAvailable => {
                self.shared_subscription_available = Some(flag(r, id)?);
            }
        }
        Ok(())
    }

    /// Bytes of the properties themselves, without the Property Length.
    pub(crate) fn content_len(&self) -> usize {
        let s = |v: &Option<String>| v.as_ref().map_or(0, |s| 1 + wire::prefixed_len(s.len()));
        let b = |v: &Option<Bytes>| v.as_ref().map_or(0, |b| 1 + wire::prefixed_len(b.len()));
        let n = |present: bool, size: usize| if present { 1 + size } else { 0 };
        n(self.payload_format_indicator.is_some(), 1)
            + n(self.message_expiry_interval.is_some(), 4)
            + s(&self.content_type)
            + self
                .response_topic
                .as_ref()
                .map_or(0, |t| 1 + wire::prefixed_len(t.as_str().len()))
            + b(&self.correlation_data)
            + self
                .subscription_identifiers
                .iter()
                .map(|&v| 1 + wire::varint_len(v as usize))
                .sum::<usize>()
            + n(self.session_expiry_interval.is_some(), 4)
            + s(&self.assigned_client_identifier)
            + n(self.server_keep_alive.is_some(), 2)
            + s(&self.authentication_method)
            + b(&self.authentication_data)
            + n(self.request_problem_information.is_some(), 1)
            + n(self.will_delay_interval.is_some(), 4)
            + n(self.request_response_information.is_some(), 1)
            + s(&self.response_information)
            + s(&self.server_reference)
            + s(&self.reason_string)
            + n(self.receive_maximum.is_some(), 2)
            + n(self.topic_alias_maximum.is_some(), 2)
            + n(self.topic_alias.is_some(), 2)
            + n(self.maximum_qos.is_some(), 1)
            + n(self.retain_available.is_some(), 1)
            + self
                .user_properties
                .iter()
                .map(|(k, v)| 1 + wire::prefixed_len(k.len()) + wire::prefixed_len(v.len()))
                .sum::<usize>()
            + n(self.maximum_packet_size.is_some(), 4)
            + n(self.wildcard_subscription_available.is_some(), 1)
            + n(self.subscription_identifier_available.is_some(), 1)
            + n(self.shared_subscription_available.is_some(), 1)
    }

    /// Bytes of the Property Length and the properties.
    pub(crate) fn encoded_len(&self) -> usize {
        let len = self.content_len();
        wire::varint_len(len) + len
    }

    /// Writes the Property Length and the properties in identifier order.
    pub(crate) fn encode(&self, scope: Scope, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        use PropertyId as P;
        wire::put_varint(out, self.content_len())?;
        let mut w = Writer { out, scope };
        if let Some(v) = self.payload_format_indicator {
            w.id(P::PayloadFormatIndicator)?;
            w.out.push(v as u8);
        }
        w.u32(P::MessageExpiryInterval, self.message_expiry_interval)?;
        w.str(P::ContentType, self.content_type.as_deref())?;
        w.str(
            P::ResponseTopic,
            self.response_topic.as_ref().map(TopicName::as_str),
        )?;
        w.bin(P::CorrelationData, self.correlation_data.as_deref())?;
        if self.subscription_identifiers.len() > 1
            && !P::SubscriptionIdentifier.may_repeat_in(scope.packet())
        {
            return Err(EncodeError::InvalidPropertyValue(P::SubscriptionIdentifier));
        }
        for &v in &self.subscription_identifiers {
            if v == 0 || v > wire::VARINT_MAX {
                return Err(EncodeError::InvalidPropertyValue(P::SubscriptionIdentifier));
            }
            w.id(P::SubscriptionIdentifier)?;
            wire::put_varint(w.out, v as usize)?;
        }
        w.u32(P::SessionExpiryInterval, self.session_expiry_interval)?;
        w.str(
            P::AssignedClientIdentifier,
            self.assigned_client_identifier.as_deref(),
        )?;
        w.u16(P::ServerKeepAlive, self.server_keep_alive)?;
        w.str(
            P::AuthenticationMethod,
            self.authentication_method.as_deref(),
        )?;
        w.bin(P::AuthenticationData, self.authentication_data.as_deref())?;
        w.flag(
            P::RequestProblemInformation,
            self.request_problem_information,
        )?;
        w.u32(P::WillDelayInterval, self.will_delay_interval)?;
        w.flag(
            P::RequestResponseInformation,
            self.request_response_information,
        )?;
        w.str(P::ResponseInformation, self.response_information.as_deref())?;
        w.str(P::ServerReference, self.server_reference.as_deref())?;
        w.str(P::ReasonString, self.reason_string.as_deref())?;
        w.non_zero_u16(P::ReceiveMaximum, self.receive_maximum)?;
        w.u16(P::TopicAliasMaximum, self.topic_alias_maximum)?;
        w.non_zero_u16(P::TopicAlias, self.topic_alias)?;
        if let Some(qos) = self.maximum_qos {
            if qos == QoS::ExactlyOnce {
                return Err(EncodeError::InvalidPropertyValue(P::MaximumQoS));
            }
            w.id(P::MaximumQoS)?;
            w.out.push(qos as u8);
        }
        w.flag(P::RetainAvailable, self.retain_available)?;
        for (k, v) in &self.user_properties {
            w.id(P::UserProperty)?;
            wire::put_str(w.out, k)?;
            wire::put_str(w.out, v)?;
        }
        if self.maximum_packet_size == Some(0) {
            return Err(EncodeError::InvalidPropertyValue(P::MaximumPacketSize));
        }
        w.u32(P::MaximumPacketSize, self.maximum_packet_size)?;
        w.flag(
            P::WildcardSubscriptionAvailable,
            self.wildcard_subscription_available,
        )?;
        w.flag(
            P::SubscriptionIdentifierAvailable,
            self.subscription_identifier_available,
        )?;
        w.flag(
            P::SharedSubscriptionAvailable,
            self.shared_subscription_available,
        )?;
        Ok(())
    }
}

/// Writes one property at a time after checking it is allowed where it goes.
struct Writer<'a> {
    out: &'a mut Vec<u8>,
    scope: Scope,
}

impl Writer<'_> {
    fn id(&mut self, id: PropertyId) -> Result<(), EncodeError> {
        if !id.allowed(self.scope) {
            return Err(EncodeError::PropertyNotAllowed {
                property: id,
                packet: self.scope.packet(),
            });
        }
        self.out.push(id as u8);
        Ok(())
    }

    fn u16(&mut self, id: PropertyId, v: Option<u16>) -> Result<(), EncodeError> {
        if let Some(v) = v {
            self.id(id)?;
            wire::put_u16(self.out, v);
        }
        Ok(())
    }

    fn non_zero_u16(&mut self, id: PropertyId, v: Option<u16>) -> Result<(), EncodeError> {
        if v == Some(0) {
            return Err(EncodeError::InvalidPropertyValue(id));
        }
        self.u16(id, v)
    }

    fn u32(&mut self, id: PropertyId, v: Option<u32>) -> Result<(), EncodeError> {
        if let Some(v) = v {
            self.id(id)?;
            wire::put_u32(self.out, v);
        }
        Ok(())
    }

    fn flag(&mut self, id: PropertyId, v: Option<bool>) -> Result<(), EncodeError> {
        if let Some(v) = v {
            self.id(id)?;
            self.out.push(u8::from(v));
        }
        Ok(())
    }

    fn str(&mut self, id: PropertyId, v: Option<&str>) -> Result<(), EncodeError> {
        if let Some(v) = v {
            self.id(id)?;
            wire::put_str(self.out, v)?;
        }
        Ok(())
    }

    fn bin(&mut self, id: PropertyId, v: Option<&[u8]>) -> Result<(), EncodeError> {
        if let Some(v) = v {
            self.id(id)?;
            wire::put_binary(self.out, v)?;
        }
        Ok(())
    }
}
