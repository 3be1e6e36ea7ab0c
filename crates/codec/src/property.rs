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
    ($($(#[$doc:meta])* $name:ident = $value:literal, $kind:ident, [$($scope:ident),*];)*) => {
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
                // A table, not a `match`: the match compiles to a jump table
                // with an arm per property.
                const BY_ID: [Option<PropertyId>; 0x2B] = {
                    let mut t = [None; 0x2B];
                    $(t[$value] = Some(PropertyId::$name);)*
                    t
                };
                if value < BY_ID.len() as u32 {
                    // `get` is not const; the bound is checked just above.
                    #[allow(clippy::indexing_slicing)]
                    BY_ID[value as usize]
                } else {
                    None
                }
            }

            /// Bit set of the scopes that may carry this property.
            const fn scopes(self) -> u16 {
                match self {
                    $(Self::$name => 0 $(| scope_bit!($scope))*,)*
                }
            }

            /// How the value is written on the wire.
            const fn kind(self) -> Kind {
                match self {
                    $(Self::$name => Kind::$kind,)*
                }
            }
        }

        /// Every property, in identifier order: the order they are encoded in.
        const ALL: &[PropertyId] = &[$(PropertyId::$name,)*];
    };
}

/// A property's wire type (section 2.2.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Byte,
    Two,
    Four,
    VarInt,
    Str,
    Bin,
    Pair,
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
    PayloadFormatIndicator = 0x01, Byte, [Publish, Will];
    /// Message Expiry Interval (Four Byte Integer).
    MessageExpiryInterval = 0x02, Four, [Publish, Will];
    /// Content Type (UTF-8 String).
    ContentType = 0x03, Str, [Publish, Will];
    /// Response Topic (UTF-8 String).
    ResponseTopic = 0x08, Str, [Publish, Will];
    /// Correlation Data (Binary Data).
    CorrelationData = 0x09, Bin, [Publish, Will];
    /// Subscription Identifier (Variable Byte Integer).
    SubscriptionIdentifier = 0x0B, VarInt, [Publish, Subscribe];
    /// Session Expiry Interval (Four Byte Integer).
    SessionExpiryInterval = 0x11, Four, [Connect, ConnAck, Disconnect];
    /// Assigned Client Identifier (UTF-8 String).
    AssignedClientIdentifier = 0x12, Str, [ConnAck];
    /// Server Keep Alive (Two Byte Integer).
    ServerKeepAlive = 0x13, Two, [ConnAck];
    /// Authentication Method (UTF-8 String).
    AuthenticationMethod = 0x15, Str, [Connect, ConnAck, Auth];
    /// Authentication Data (Binary Data).
    AuthenticationData = 0x16, Bin, [Connect, ConnAck, Auth];
    /// Request Problem Information (Byte).
    RequestProblemInformation = 0x17, Byte, [Connect];
    /// Will Delay Interval (Four Byte Integer).
    WillDelayInterval = 0x18, Four, [Will];
    /// Request Response Information (Byte).
    RequestResponseInformation = 0x19, Byte, [Connect];
    /// Response Information (UTF-8 String).
    ResponseInformation = 0x1A, Str, [ConnAck];
    /// Server Reference (UTF-8 String).
    ServerReference = 0x1C, Str, [ConnAck, Disconnect];
    /// Reason String (UTF-8 String).
    ReasonString = 0x1F, Str, [ConnAck, PubAck, PubRec, PubRel, PubComp, SubAck, UnsubAck, Disconnect, Auth];
    /// Receive Maximum (Two Byte Integer).
    ReceiveMaximum = 0x21, Two, [Connect, ConnAck];
    /// Topic Alias Maximum (Two Byte Integer).
    TopicAliasMaximum = 0x22, Two, [Connect, ConnAck];
    /// Topic Alias (Two Byte Integer).
    TopicAlias = 0x23, Two, [Publish];
    /// Maximum QoS (Byte).
    MaximumQoS = 0x24, Byte, [ConnAck];
    /// Retain Available (Byte).
    RetainAvailable = 0x25, Byte, [ConnAck];
    /// User Property (UTF-8 String Pair).
    UserProperty = 0x26, Pair, [Connect, ConnAck, Publish, Will, PubAck, PubRec, PubRel, PubComp, Subscribe, SubAck, Unsubscribe, UnsubAck, Disconnect, Auth];
    /// Maximum Packet Size (Four Byte Integer).
    MaximumPacketSize = 0x27, Four, [Connect, ConnAck];
    /// Wildcard Subscription Available (Byte).
    WildcardSubscriptionAvailable = 0x28, Byte, [ConnAck];
    /// Subscription Identifier Available (Byte).
    SubscriptionIdentifierAvailable = 0x29, Byte, [ConnAck];
    /// Shared Subscription Available (Byte).
    SharedSubscriptionAvailable = 0x2A, Byte, [ConnAck];
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// The bytes these properties were decoded from; not a property.
    pub received: Received,
}

/// The wire form decoded properties came from, Property Length first,
/// sharing memory with the received packet: a client hands it on (to
/// JavaScript, say) without encoding the properties again. Empty for
/// properties built in code. Only the codec sets it, and it does not
/// follow changes to the fields (a client resolving a Topic Alias takes
/// the alias but the bytes keep it). Never compared (`Properties` are
/// equal by their fields) and never encoded ([`Properties::encode_list`]
/// writes the fields).
#[derive(Clone, Default)]
pub struct Received(Option<Bytes>);

impl Received {
    /// The bytes as received; `None` unless decoded.
    #[must_use]
    pub fn bytes(&self) -> Option<&Bytes> {
        self.0.as_ref()
    }
}

impl PartialEq for Received {
    /// Always: the same properties are equal however they were written.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Received {}

impl core::fmt::Debug for Received {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Received({:?} bytes)", self.0.as_ref().map(Bytes::len))
    }
}

impl Default for Properties {
    // Out of line: inlined, its field stores repeat in every decoder.
    #[inline(never)]
    fn default() -> Self {
        Self {
            payload_format_indicator: None,
            message_expiry_interval: None,
            content_type: None,
            response_topic: None,
            correlation_data: None,
            subscription_identifiers: Vec::new(),
            session_expiry_interval: None,
            assigned_client_identifier: None,
            server_keep_alive: None,
            authentication_method: None,
            authentication_data: None,
            request_problem_information: None,
            will_delay_interval: None,
            request_response_information: None,
            response_information: None,
            server_reference: None,
            reason_string: None,
            receive_maximum: None,
            topic_alias_maximum: None,
            topic_alias: None,
            maximum_qos: None,
            retain_available: None,
            user_properties: Vec::new(),
            maximum_packet_size: None,
            wildcard_subscription_available: None,
            subscription_identifier_available: None,
            shared_subscription_available: None,
            received: Received(None),
        }
    }
}

/// A property value to encode, by wire type: integers in their width,
/// strings as their bytes.
#[derive(Clone, Copy)]
enum Value<'a> {
    Byte(u8),
    Two(u16),
    Four(u32),
    Bytes(&'a [u8]),
}

impl Value<'_> {
    /// An integer value widened, to check it; `None` for bytes.
    fn int(self) -> Option<u32> {
        match self {
            Self::Byte(v) => Some(v.into()),
            Self::Two(v) => Some(v.into()),
            Self::Four(v) => Some(v),
            Self::Bytes(_) => None,
        }
    }

    /// Bytes of the value on the wire.
    fn len(self) -> usize {
        match self {
            Self::Byte(_) => 1,
            Self::Two(_) => 2,
            Self::Four(_) => 4,
            Self::Bytes(b) => wire::prefixed_len(b.len()),
        }
    }
}

impl PropertyId {
    /// Whether an integer value is valid: Bytes are 0 or 1 (flags, Payload
    /// Format Indicator, Maximum QoS), a Subscription Identifier is
    /// 1..=268,435,455, and Receive Maximum, Topic Alias and Maximum Packet
    /// Size are never 0.
    const fn accepts(self, v: u32) -> bool {
        match self.kind() {
            Kind::Byte => v <= 1,
            Kind::VarInt => v != 0 && v <= wire::VARINT_MAX,
            Kind::Two | Kind::Four => {
                v != 0
                    || !matches!(
                        self,
                        Self::ReceiveMaximum | Self::TopicAlias | Self::MaximumPacketSize
                    )
            }
            Kind::Str | Kind::Bin | Kind::Pair => false,
        }
    }
}

impl Properties {
    /// Whether no property is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        // Each property set adds at least its identifier byte. (Cheaper,
        // and far less code, than comparing with `Properties::default()`.)
        self.content_len() == 0
    }

    /// Reads a Property Length and the properties it covers, allowed in
    /// `packet` (`None`: Will Properties), and nothing after them.
    pub fn decode_list(buf: Bytes, packet: Option<PacketType>) -> Result<Self, DecodeError> {
        let mut r = Reader::new(buf);
        let p = Self::decode(&mut r, packet.map_or(Scope::Will, Scope::Packet))?;
        r.finish()?;
        Ok(p)
    }

    /// Writes the Property Length and the properties, as allowed in
    /// `packet` (`None`: Will Properties); the inverse of [`Self::decode_list`].
    /// On error `out` is unchanged.
    pub fn encode_list(
        &self,
        packet: Option<PacketType>,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        self.encode(packet.map_or(Scope::Will, Scope::Packet), out)
    }

    /// Reads a Property Length and the properties it covers.
    pub(crate) fn decode(r: &mut Reader, scope: Scope) -> Result<Self, DecodeError> {
        let mut list = r.varint_prefixed()?;
        let mut p = Self::default();
        let mut seen: u64 = 0;
        while !list.is_empty() {
            let raw = list.varint()?;
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
            p.decode_one(&mut list, id)?;
        }
        p.received = Received(Some(list.into_bytes()));
        Ok(p)
    }

    /// Reads one value by its wire type, then stores it: one read per wire
    /// type rather than one per property keeps this small.
    fn decode_one(&mut self, r: &mut Reader, id: PropertyId) -> Result<(), DecodeError> {
        use PropertyId as P;
        let v = match id.kind() {
            Kind::Byte => u32::from(r.u8()?),
            Kind::Two => u32::from(r.u16()?),
            Kind::Four => r.u32()?,
            Kind::VarInt => r.varint()?,
            Kind::Bin => {
                let b = r.binary()?;
                if let Some(field) = self.binary_mut(id) {
                    *field = Some(b);
                }
                return Ok(());
            }
            Kind::Str => {
                let s = r.string()?;
                if id == P::ResponseTopic {
                    let topic =
                        TopicName::new(s).map_err(|_| DecodeError::InvalidPropertyValue(id))?;
                    self.response_topic = Some(topic);
                } else {
                    if let Some(field) = self.string_mut(id) {
                        *field = Some(s);
                    }
                }
                return Ok(());
            }
            Kind::Pair => {
                let key = r.string()?;
                let value = r.string()?;
                self.user_properties.push((key, value));
                return Ok(());
            }
        };
        // [MQTT-3.3.2-8]: a Topic Alias of 0 is not permitted.
        if id == P::TopicAlias && v == 0 {
            return Err(DecodeError::TopicAliasZero);
        }
        if !id.accepts(v) {
            return Err(DecodeError::InvalidPropertyValue(id));
        }
        self.set_int(id, v);
        Ok(())
    }

    /// The field of a UTF-8 String property other than Response Topic;
    /// `None` for any other property (`every_property_has_its_field`).
    fn string_mut(&mut self, id: PropertyId) -> Option<&mut Option<String>> {
        use PropertyId as P;
        match id {
            P::ContentType => Some(&mut self.content_type),
            P::AssignedClientIdentifier => Some(&mut self.assigned_client_identifier),
            P::AuthenticationMethod => Some(&mut self.authentication_method),
            P::ResponseInformation => Some(&mut self.response_information),
            P::ServerReference => Some(&mut self.server_reference),
            P::ReasonString => Some(&mut self.reason_string),
            P::PayloadFormatIndicator
            | P::MessageExpiryInterval
            | P::ResponseTopic
            | P::CorrelationData
            | P::SubscriptionIdentifier
            | P::SessionExpiryInterval
            | P::ServerKeepAlive
            | P::AuthenticationData
            | P::RequestProblemInformation
            | P::WillDelayInterval
            | P::RequestResponseInformation
            | P::ReceiveMaximum
            | P::TopicAliasMaximum
            | P::TopicAlias
            | P::MaximumQoS
            | P::RetainAvailable
            | P::UserProperty
            | P::MaximumPacketSize
            | P::WildcardSubscriptionAvailable
            | P::SubscriptionIdentifierAvailable
            | P::SharedSubscriptionAvailable => None,
        }
    }

    /// The field of a Binary Data property; `None` for any other property
    /// (`every_property_has_its_field`).
    fn binary_mut(&mut self, id: PropertyId) -> Option<&mut Option<Bytes>> {
        use PropertyId as P;
        match id {
            P::CorrelationData => Some(&mut self.correlation_data),
            P::AuthenticationData => Some(&mut self.authentication_data),
            P::PayloadFormatIndicator
            | P::MessageExpiryInterval
            | P::ContentType
            | P::ResponseTopic
            | P::SubscriptionIdentifier
            | P::SessionExpiryInterval
            | P::AssignedClientIdentifier
            | P::ServerKeepAlive
            | P::AuthenticationMethod
            | P::RequestProblemInformation
            | P::WillDelayInterval
            | P::RequestResponseInformation
            | P::ResponseInformation
            | P::ServerReference
            | P::ReasonString
            | P::ReceiveMaximum
            | P::TopicAliasMaximum
            | P::TopicAlias
            | P::MaximumQoS
            | P::RetainAvailable
            | P::UserProperty
            | P::MaximumPacketSize
            | P::WildcardSubscriptionAvailable
            | P::SubscriptionIdentifierAvailable
            | P::SharedSubscriptionAvailable => None,
        }
    }

    /// Stores an integer property `accepts` let through (so a Byte is 0 or
    /// 1). Not called for other properties (`kind` says which are integers;
    /// `every_property_has_its_field` checks the two agree).
    fn set_int(&mut self, id: PropertyId, v: u32) {
        use PropertyId as P;
        let flag = Some(v != 0);
        // Read as a Two Byte Integer, so it fits.
        let two = Some(v as u16);
        match id {
            P::PayloadFormatIndicator => {
                self.payload_format_indicator = Some(if v == 0 {
                    PayloadFormatIndicator::Unspecified
                } else {
                    PayloadFormatIndicator::Utf8
                });
            }
            P::MessageExpiryInterval => self.message_expiry_interval = Some(v),
            P::SubscriptionIdentifier => self.subscription_identifiers.push(v),
            P::SessionExpiryInterval => self.session_expiry_interval = Some(v),
            P::ServerKeepAlive => self.server_keep_alive = two,
            P::RequestProblemInformation => self.request_problem_information = flag,
            P::WillDelayInterval => self.will_delay_interval = Some(v),
            P::RequestResponseInformation => self.request_response_information = flag,
            P::ReceiveMaximum => self.receive_maximum = two,
            P::TopicAliasMaximum => self.topic_alias_maximum = two,
            P::TopicAlias => self.topic_alias = two,
            P::MaximumQoS => {
                self.maximum_qos = Some(if v == 0 {
                    QoS::AtMostOnce
                } else {
                    QoS::AtLeastOnce
                });
            }
            P::RetainAvailable => self.retain_available = flag,
            P::MaximumPacketSize => self.maximum_packet_size = Some(v),
            P::WildcardSubscriptionAvailable => self.wildcard_subscription_available = flag,
            P::SubscriptionIdentifierAvailable => self.subscription_identifier_available = flag,
            P::SharedSubscriptionAvailable => self.shared_subscription_available = flag,
            P::ContentType
            | P::ResponseTopic
            | P::CorrelationData
            | P::AssignedClientIdentifier
            | P::AuthenticationMethod
            | P::AuthenticationData
            | P::ResponseInformation
            | P::ServerReference
            | P::ReasonString
            | P::UserProperty => {}
        }
    }

    /// The value of a property that appears at most once, if set.
    fn value(&self, id: PropertyId) -> Option<Value<'_>> {
        use PropertyId as P;
        let four = |v: Option<u32>| v.map(Value::Four);
        let two = |v: Option<u16>| v.map(Value::Two);
        let flag = |v: Option<bool>| v.map(|v| Value::Byte(v.into()));
        fn s(v: &Option<String>) -> Option<Value<'_>> {
            v.as_deref().map(|s| Value::Bytes(s.as_bytes()))
        }
        fn b(v: &Option<Bytes>) -> Option<Value<'_>> {
            v.as_deref().map(Value::Bytes)
        }
        match id {
            P::PayloadFormatIndicator => {
                self.payload_format_indicator.map(|v| Value::Byte(v as u8))
            }
            P::MessageExpiryInterval => four(self.message_expiry_interval),
            P::ContentType => s(&self.content_type),
            P::ResponseTopic => self
                .response_topic
                .as_ref()
                .map(|t| Value::Bytes(t.as_str().as_bytes())),
            P::CorrelationData => b(&self.correlation_data),
            P::SessionExpiryInterval => four(self.session_expiry_interval),
            P::AssignedClientIdentifier => s(&self.assigned_client_identifier),
            P::ServerKeepAlive => two(self.server_keep_alive),
            P::AuthenticationMethod => s(&self.authentication_method),
            P::AuthenticationData => b(&self.authentication_data),
            P::RequestProblemInformation => flag(self.request_problem_information),
            P::WillDelayInterval => four(self.will_delay_interval),
            P::RequestResponseInformation => flag(self.request_response_information),
            P::ResponseInformation => s(&self.response_information),
            P::ServerReference => s(&self.server_reference),
            P::ReasonString => s(&self.reason_string),
            P::ReceiveMaximum => two(self.receive_maximum),
            P::TopicAliasMaximum => two(self.topic_alias_maximum),
            P::TopicAlias => two(self.topic_alias),
            P::MaximumQoS => self.maximum_qos.map(|q| Value::Byte(q as u8)),
            P::RetainAvailable => flag(self.retain_available),
            P::MaximumPacketSize => four(self.maximum_packet_size),
            P::WildcardSubscriptionAvailable => flag(self.wildcard_subscription_available),
            P::SubscriptionIdentifierAvailable => flag(self.subscription_identifier_available),
            P::SharedSubscriptionAvailable => flag(self.shared_subscription_available),
            // Repeatable: see `content_len` and `write`.
            P::SubscriptionIdentifier | P::UserProperty => None,
        }
    }

    /// Bytes of the properties themselves, without the Property Length.
    pub(crate) fn content_len(&self) -> usize {
        let mut len = 0;
        for &id in ALL {
            len += self.value(id).map_or(0, |v| 1 + v.len());
        }
        len + self
            .subscription_identifiers
            .iter()
            .map(|&v| 1 + wire::varint_len(v as usize))
            .sum::<usize>()
            + self
                .user_properties
                .iter()
                .map(|(k, v)| 1 + wire::prefixed_len(k.len()) + wire::prefixed_len(v.len()))
                .sum::<usize>()
    }

    /// Bytes of the Property Length and the properties.
    pub(crate) fn encoded_len(&self) -> usize {
        let len = self.content_len();
        wire::varint_len(len) + len
    }

    /// Writes the Property Length and the properties in identifier order;
    /// on error `out` is unchanged.
    pub(crate) fn encode(&self, scope: Scope, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        let result = self.write(scope, out);
        if result.is_err() {
            out.truncate(start);
        }
        debug_assert!(result.is_err() || out.len() - start == self.encoded_len());
        result
    }

    fn write(&self, scope: Scope, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        use PropertyId as P;
        wire::put_varint(out, self.content_len())?;
        // Each property's value is checked before whether `scope` allows it.
        let id_ok = |id: PropertyId, out: &mut Vec<u8>| {
            if !id.allowed(scope) {
                return Err(EncodeError::PropertyNotAllowed {
                    property: id,
                    packet: scope.packet(),
                });
            }
            out.push(id as u8);
            Ok(())
        };
        for &id in ALL {
            match id {
                P::SubscriptionIdentifier => {
                    if self.subscription_identifiers.len() > 1 && !id.may_repeat_in(scope.packet())
                    {
                        return Err(EncodeError::InvalidPropertyValue(id));
                    }
                    for &v in &self.subscription_identifiers {
                        if !id.accepts(v) {
                            return Err(EncodeError::InvalidPropertyValue(id));
                        }
                        id_ok(id, out)?;
                        wire::put_varint(out, v as usize)?;
                    }
                }
                P::UserProperty => {
                    for (k, v) in &self.user_properties {
                        id_ok(id, out)?;
                        wire::put_str(out, k)?;
                        wire::put_str(out, v)?;
                    }
                }
                _ => {
                    let Some(value) = self.value(id) else {
                        continue;
                    };
                    if value.int().is_some_and(|v| !id.accepts(v)) {
                        return Err(EncodeError::InvalidPropertyValue(id));
                    }
                    id_ok(id, out)?;
                    match value {
                        Value::Byte(v) => out.push(v),
                        Value::Two(v) => out.extend_from_slice(&v.to_be_bytes()),
                        Value::Four(v) => out.extend_from_slice(&v.to_be_bytes()),
                        Value::Bytes(b) => {
                            if id.kind() == Kind::Str && b.contains(&0) {
                                return Err(EncodeError::NullCharacter);
                            }
                            wire::put_binary(out, b)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ProtocolVersion;
    use alloc::vec;
    use PacketType as T;

    /// The wire type table (`kind`) and the fields agree: each property
    /// decodes into its own field, so none is dropped or lands in another's.
    #[test]
    fn every_property_has_its_field() {
        let bytes = |p: &Properties, id| match p.value(id) {
            Some(Value::Bytes(b)) => Some(b.to_vec()),
            _ => None,
        };
        for &id in ALL {
            let mut p = Properties::default();
            match id.kind() {
                Kind::Str if id == PropertyId::ResponseTopic => continue,
                Kind::Str => {
                    *p.string_mut(id).unwrap() = Some("x".into());
                    assert_eq!(bytes(&p, id), Some(b"x".to_vec()), "{id:?}");
                }
                Kind::Bin => {
                    *p.binary_mut(id).unwrap() = Some(Bytes::from_static(b"x"));
                    assert_eq!(bytes(&p, id), Some(b"x".to_vec()), "{id:?}");
                }
                Kind::Byte | Kind::Two | Kind::Four | Kind::VarInt => {
                    assert!(p.string_mut(id).is_none() && p.binary_mut(id).is_none());
                    p.set_int(id, 1);
                    if id == PropertyId::SubscriptionIdentifier {
                        assert_eq!(p.subscription_identifiers, [1]);
                    } else {
                        assert_eq!(p.value(id).and_then(Value::int), Some(1), "{id:?}");
                    }
                }
                Kind::Pair => assert_eq!(id, PropertyId::UserProperty),
            }
        }
    }

    /// Decoded properties keep their wire form, Property Length first,
    /// as a slice of the packet (no copy), in the order the sender wrote
    /// them: a User Property ahead of Content Type stays there, where
    /// encoding writes identifier order. The order of User Properties is
    /// the sender's [MQTT-3.3.2-18]. The kept bytes change neither
    /// equality nor what is encoded.
    #[test]
    fn decoded_properties_keep_their_wire_form() {
        #[rustfmt::skip]
        let list = [
            0x0B, // Property Length
            0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // User Property k=v
            0x03, 0x00, 0x01, b't', // Content Type "t"
        ];
        let mut body = vec![0xAA];
        body.extend_from_slice(&list);
        body.push(0xBB);
        let body = Bytes::from(body);
        let mut r = Reader::new(body.clone());
        assert_eq!(r.u8(), Ok(0xAA));
        let decoded = Properties::decode(&mut r, Scope::Packet(T::Publish)).unwrap();
        assert_eq!(r.u8(), Ok(0xBB), "decoding stops after the list");
        let kept = decoded.received.bytes().unwrap();
        assert_eq!(kept[..], list);
        assert_eq!(kept.as_ptr(), body[1..].as_ptr(), "a slice, not a copy");

        let built = Properties {
            content_type: Some("t".into()),
            user_properties: vec![("k".into(), "v".into())],
            ..Properties::default()
        };
        assert!(built.received.bytes().is_none());
        assert_eq!(decoded, built);
        let (mut from_decoded, mut from_built) = (Vec::new(), Vec::new());
        decoded
            .encode_list(Some(T::Publish), &mut from_decoded)
            .unwrap();
        built
            .encode_list(Some(T::Publish), &mut from_built)
            .unwrap();
        assert_eq!(from_decoded, from_built);
        assert_ne!(from_decoded[..], list, "encoding writes identifier order");
        // An empty list keeps its Property Length; 3.1.1 has none to keep.
        let empty = Properties::decode_list(Bytes::from_static(&[0]), None).unwrap();
        assert_eq!(empty.received.bytes().map(|b| &b[..]), Some(&[0][..]));
        assert_eq!(empty, Properties::default());
    }

    type Set = fn(&mut Properties);

    #[test]
    fn encode_list_is_the_inverse_of_decode_list() {
        let p = Properties {
            reason_string: Some("gone".into()),
            server_reference: Some("other:1883".into()),
            user_properties: vec![("k".into(), "v".into())],
            ..Properties::default()
        };
        let mut out = Vec::new();
        p.encode_list(Some(T::Disconnect), &mut out).unwrap();
        assert_eq!(out[0] as usize, out.len() - 1, "Property Length first");
        assert_eq!(
            Properties::decode_list(out.into(), Some(T::Disconnect)).unwrap(),
            p
        );
        // Not allowed in the packet: refused, nothing written.
        let mut out = vec![7];
        assert!(p.encode_list(Some(T::Publish), &mut out).is_err());
        assert_eq!(out, [7]);
    }

    /// Table 2-4 of section 2.2.2.2, written out independently of
    /// `property_ids!`: identifier, whether Will Properties may carry it, and
    /// the packets that may.
    #[rustfmt::skip]
    const TABLE_2_4: [(u8, bool, &[PacketType]); 27] = [
        (0x01, true, &[T::Publish]),
        (0x02, true, &[T::Publish]),
        (0x03, true, &[T::Publish]),
        (0x08, true, &[T::Publish]),
        (0x09, true, &[T::Publish]),
        (0x0B, false, &[T::Publish, T::Subscribe]),
        (0x11, false, &[T::Connect, T::ConnAck, T::Disconnect]),
        (0x12, false, &[T::ConnAck]),
        (0x13, false, &[T::ConnAck]),
        (0x15, false, &[T::Connect, T::ConnAck, T::Auth]),
        (0x16, false, &[T::Connect, T::ConnAck, T::Auth]),
        (0x17, false, &[T::Connect]),
        (0x18, true, &[]),
        (0x19, false, &[T::Connect]),
        (0x1A, false, &[T::ConnAck]),
        (0x1C, false, &[T::ConnAck, T::Disconnect]),
        (0x1F, false, &[T::ConnAck, T::PubAck, T::PubRec, T::PubRel, T::PubComp, T::SubAck,
                        T::UnsubAck, T::Disconnect, T::Auth]),
        (0x21, false, &[T::Connect, T::ConnAck]),
        (0x22, false, &[T::Connect, T::ConnAck]),
        (0x23, false, &[T::Publish]),
        (0x24, false, &[T::ConnAck]),
        (0x25, false, &[T::ConnAck]),
        (0x26, true, &[T::Connect, T::ConnAck, T::Publish, T::PubAck, T::PubRec, T::PubRel,
                       T::PubComp, T::Subscribe, T::SubAck, T::Unsubscribe, T::UnsubAck,
                       T::Disconnect, T::Auth]),
        (0x27, false, &[T::Connect, T::ConnAck]),
        (0x28, false, &[T::ConnAck]),
        (0x29, false, &[T::ConnAck]),
        (0x2A, false, &[T::ConnAck]),
    ];

    /// One value of every property: identifier and value bytes, and the field it sets.
    #[rustfmt::skip]
    fn samples() -> [(PropertyId, &'static [u8], Set); 27] {
        use PropertyId as P;
        [
            (P::PayloadFormatIndicator, &[0x01, 0x01],
                |p| p.payload_format_indicator = Some(PayloadFormatIndicator::Utf8)),
            (P::MessageExpiryInterval, &[0x02, 0x00, 0x00, 0x0E, 0x10],
                |p| p.message_expiry_interval = Some(3600)),
            (P::ContentType, &[0x03, 0x00, 0x03, b't', b'x', b't'],
                |p| p.content_type = Some("txt".into())),
            (P::ResponseTopic, &[0x08, 0x00, 0x03, b'r', b'/', b't'],
                |p| p.response_topic = Some(TopicName::new("r/t").unwrap())),
            (P::CorrelationData, &[0x09, 0x00, 0x02, 0xDE, 0xAD],
                |p| p.correlation_data = Some(Bytes::from_static(&[0xDE, 0xAD]))),
            (P::SubscriptionIdentifier, &[0x0B, 0x80, 0x01],
                |p| p.subscription_identifiers.push(128)),
            (P::SessionExpiryInterval, &[0x11, 0xFF, 0xFF, 0xFF, 0xFF],
                |p| p.session_expiry_interval = Some(u32::MAX)),
            (P::AssignedClientIdentifier, &[0x12, 0x00, 0x02, b'i', b'd'],
                |p| p.assigned_client_identifier = Some("id".into())),
            (P::ServerKeepAlive, &[0x13, 0x00, 0x3C], |p| p.server_keep_alive = Some(60)),
            (P::AuthenticationMethod, &[0x15, 0x00, 0x01, b'm'],
                |p| p.authentication_method = Some("m".into())),
            (P::AuthenticationData, &[0x16, 0x00, 0x01, 0x00],
                |p| p.authentication_data = Some(Bytes::from_static(&[0]))),
            (P::RequestProblemInformation, &[0x17, 0x00],
                |p| p.request_problem_information = Some(false)),
            (P::WillDelayInterval, &[0x18, 0x00, 0x00, 0x00, 0x05],
                |p| p.will_delay_interval = Some(5)),
            (P::RequestResponseInformation, &[0x19, 0x01],
                |p| p.request_response_information = Some(true)),
            (P::ResponseInformation, &[0x1A, 0x00, 0x01, b'x'],
                |p| p.response_information = Some("x".into())),
            (P::ServerReference, &[0x1C, 0x00, 0x01, b's'],
                |p| p.server_reference = Some("s".into())),
            (P::ReasonString, &[0x1F, 0x00, 0x00], |p| p.reason_string = Some(String::new())),
            (P::ReceiveMaximum, &[0x21, 0xFF, 0xFF], |p| p.receive_maximum = Some(u16::MAX)),
            (P::TopicAliasMaximum, &[0x22, 0x00, 0x00], |p| p.topic_alias_maximum = Some(0)),
            (P::TopicAlias, &[0x23, 0x00, 0x01], |p| p.topic_alias = Some(1)),
            (P::MaximumQoS, &[0x24, 0x01], |p| p.maximum_qos = Some(QoS::AtLeastOnce)),
            (P::RetainAvailable, &[0x25, 0x00], |p| p.retain_available = Some(false)),
            (P::UserProperty, &[0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v'],
                |p| p.user_properties.push(("k".into(), "v".into()))),
            (P::MaximumPacketSize, &[0x27, 0x00, 0x00, 0x01, 0x00],
                |p| p.maximum_packet_size = Some(256)),
            (P::WildcardSubscriptionAvailable, &[0x28, 0x01],
                |p| p.wildcard_subscription_available = Some(true)),
            (P::SubscriptionIdentifierAvailable, &[0x29, 0x00],
                |p| p.subscription_identifier_available = Some(false)),
            (P::SharedSubscriptionAvailable, &[0x2A, 0x01],
                |p| p.shared_subscription_available = Some(true)),
        ]
    }

    /// Will Properties, then every packet type.
    fn scopes() -> Vec<Scope> {
        let packets = (1..16).filter_map(|n| PacketType::from_nibble(n, ProtocolVersion::V5));
        core::iter::once(Scope::Will)
            .chain(packets.map(Scope::Packet))
            .collect()
    }

    /// Whether table 2-4 lets `scope` carry property `id`.
    fn spec_allows(id: PropertyId, scope: Scope) -> bool {
        let (_, will, packets) = TABLE_2_4.iter().find(|row| row.0 == id as u8).unwrap();
        match scope {
            Scope::Will => *will,
            Scope::Packet(p) => packets.contains(&p),
        }
    }

    fn props(set: Set) -> Properties {
        let mut p = Properties::default();
        set(&mut p);
        p
    }

    /// Decodes `bytes` (Property Length included), which must all be consumed.
    fn decode(bytes: &[u8], scope: Scope) -> Result<Properties, DecodeError> {
        let mut r = Reader::new(Bytes::copy_from_slice(bytes));
        let result = Properties::decode(&mut r, scope);
        assert!(result.is_err() || r.is_empty(), "{bytes:02X?} not consumed");
        result
    }

    /// Encodes after a guard byte; on error the guard must be all there is.
    fn encode(p: &Properties, scope: Scope) -> Result<Vec<u8>, EncodeError> {
        let mut out = vec![0xEE];
        let result = p.encode(scope, &mut out);
        if result.is_err() {
            assert_eq!(out, [0xEE], "output changed by {p:?}");
        }
        result.map(|()| out.split_off(1))
    }

    fn with_length(content: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        wire::put_varint(&mut out, content.len()).unwrap();
        out.extend_from_slice(content);
        out
    }

    #[test]
    fn identifiers_and_scopes_follow_table_2_4() {
        for raw in 0..0x4000 {
            let row = TABLE_2_4.iter().find(|row| u32::from(row.0) == raw);
            let id = PropertyId::from_u32(raw);
            assert_eq!(id.map(|id| u32::from(id as u8)), row.map(|_| raw));
            let (Some(id), Some((_, will, packets))) = (id, row) else {
                continue;
            };
            assert_eq!(id.is_will_property(), *will, "{id:?}");
            for scope in scopes() {
                if let Scope::Packet(p) = scope {
                    assert_eq!(id.is_allowed_in(p), packets.contains(&p), "{id:?} in {p:?}");
                }
            }
        }
    }

    #[test]
    fn every_property_in_every_scope() {
        assert_eq!(samples().len(), TABLE_2_4.len());
        for (id, bytes, set) in samples() {
            let single = props(set);
            let encoded = with_length(bytes);
            assert_eq!(single.content_len(), bytes.len(), "{id:?}");
            assert_eq!(single.encoded_len(), encoded.len(), "{id:?}");
            for scope in scopes() {
                if spec_allows(id, scope) {
                    assert_eq!(decode(&encoded, scope), Ok(single.clone()), "{id:?}");
                    assert_eq!(encode(&single, scope), Ok(encoded.clone()), "{id:?}");
                    continue;
                }
                // Section 2.2.2.2: an identifier not valid for the packet is malformed.
                let packet = scope.packet();
                let err = DecodeError::PropertyNotAllowed {
                    property: id,
                    packet,
                };
                assert_eq!(err.reason_code(), crate::ReasonCode::MalformedPacket);
                assert_eq!(decode(&encoded, scope), Err(err));
                let err = EncodeError::PropertyNotAllowed {
                    property: id,
                    packet,
                };
                assert_eq!(encode(&single, scope), Err(err));
            }
        }
    }

    #[test]
    fn all_allowed_properties_of_each_scope_round_trip() {
        // A second User Property makes the Property Length two bytes long.
        let long: &[u8] = &[&[0x26, 0x00, 0x01, b'l', 0x00, 0x96][..], &[b'x'; 150]].concat();
        for scope in scopes() {
            let mut content = Vec::new();
            let mut expected = Properties::default();
            for (id, bytes, set) in samples() {
                if !spec_allows(id, scope) {
                    continue;
                }
                content.extend_from_slice(bytes);
                set(&mut expected);
                if id == PropertyId::UserProperty {
                    content.extend_from_slice(long);
                    expected.user_properties.push(("l".into(), "x".repeat(150)));
                }
            }
            let encoded = with_length(&content);
            assert_eq!(decode(&encoded, scope), Ok(expected.clone()), "{scope:?}");
            assert_eq!(encode(&expected, scope), Ok(encoded.clone()), "{scope:?}");
            assert_eq!(expected.content_len(), content.len());
            assert_eq!(expected.encoded_len(), encoded.len());
        }
    }

    #[test]
    fn every_field_set_counts_every_byte() {
        let mut all = Properties::default();
        let mut len = 0;
        for (_, bytes, set) in samples() {
            set(&mut all);
            len += bytes.len();
        }
        assert_eq!(len, 99);
        // 0B FF FF FF 7F, then 26 00 02 61 62 00 14 and 20 bytes: the
        // Property Length now takes two bytes.
        all.subscription_identifiers.push(268_435_455);
        all.user_properties.push(("ab".into(), "x".repeat(20)));
        assert_eq!(all.content_len(), 99 + 5 + 27);
        assert_eq!(all.encoded_len(), 2 + 99 + 5 + 27);
        assert!(!all.is_empty() && Properties::default().is_empty());
    }

    #[test]
    fn unknown_identifiers_are_malformed() {
        let publish = Scope::Packet(T::Publish);
        for raw in 0..0x80u8 {
            if PropertyId::from_u32(raw.into()).is_none() {
                let err = DecodeError::UnknownProperty(raw.into());
                assert_eq!(decode(&[0x02, raw, 0x00], publish), Err(err));
                assert_eq!(err.reason_code(), crate::ReasonCode::MalformedPacket);
            }
        }
        let cases: [(&[u8], _); 4] = [
            (&[0x01, 0x04], DecodeError::UnknownProperty(0x04)),
            (&[0x01, 0x7F], DecodeError::UnknownProperty(0x7F)),
            // The identifier is a Variable Byte Integer: 80 01 is 128.
            (&[0x02, 0x80, 0x01], DecodeError::UnknownProperty(128)),
            // 81 00 is 0x01 written in two bytes [MQTT-1.5.5-1].
            (&[0x03, 0x81, 0x00, 0x01], DecodeError::VarIntNotMinimal),
        ];
        for (bytes, err) in cases {
            assert_eq!(decode(bytes, publish), Err(err));
        }
    }

    #[test]
    fn only_user_property_and_publish_subscription_ids_repeat() {
        for (id, bytes, set) in samples() {
            let twice = with_length(&[bytes, bytes].concat());
            for scope in scopes().into_iter().filter(|&s| spec_allows(id, s)) {
                // Section 3.3.2.3.8: one Subscription Identifier per matching
                // subscription in PUBLISH; otherwise "It is a Protocol Error
                // to include ... more than once" (section 2.2.2.2 and each
                // property's description).
                let repeats = id == PropertyId::UserProperty
                    || (id == PropertyId::SubscriptionIdentifier
                        && scope == Scope::Packet(T::Publish));
                let result = decode(&twice, scope);
                if repeats {
                    let mut expected = props(set);
                    set(&mut expected);
                    assert_eq!(result, Ok(expected.clone()));
                    assert_eq!(encode(&expected, scope), Ok(twice.clone()));
                } else {
                    let err = DecodeError::DuplicateProperty(id);
                    assert_eq!(err.reason_code(), crate::ReasonCode::ProtocolError);
                    assert_eq!(result, Err(err), "{id:?} in {scope:?}");
                }
            }
        }
    }

    #[test]
    fn user_properties_keep_their_order() {
        // [MQTT-3.3.2-17] [MQTT-3.3.2-18]: order kept, duplicate keys allowed.
        #[rustfmt::skip]
        let bytes = [
            0x15,
            0x26, 0x00, 0x01, b'b', 0x00, 0x01, b'1',
            0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'2',
            0x26, 0x00, 0x01, b'b', 0x00, 0x01, b'3',
        ];
        let pairs = [("b", "1"), ("a", "2"), ("b", "3")];
        let expected = Properties {
            user_properties: pairs.map(|(k, v)| (k.into(), v.into())).to_vec(),
            ..Properties::default()
        };
        let scope = Scope::Packet(T::Publish);
        assert_eq!(decode(&bytes, scope), Ok(expected.clone()));
        assert_eq!(encode(&expected, scope), Ok(bytes.to_vec()));
    }

    #[test]
    fn property_length_bounds_the_properties() {
        let connect = Scope::Packet(T::Connect);
        let cases: [&[u8]; 4] = [
            // Property Length 5 with three bytes left.
            &[0x05, 0x1F, 0x00, 0x01],
            // Receive Maximum cut by the Property Length, though bytes follow.
            &[0x02, 0x21, 0x00, 0x05],
            // Property Length cut short, or absent.
            &[0x80],
            &[],
        ];
        for bytes in cases {
            let mut r = Reader::new(Bytes::copy_from_slice(bytes));
            assert_eq!(
                Properties::decode(&mut r, connect),
                Err(DecodeError::UnexpectedEnd)
            );
        }
        // Decoding stops at the end of the Property Length.
        let mut r = Reader::new(Bytes::from_static(&[0x02, 0x25, 0x01, 0xAA]));
        let p = Properties::decode(&mut r, Scope::Packet(T::ConnAck)).unwrap();
        assert_eq!((p.retain_available, r.remaining()), (Some(true), 1));
    }

    #[test]
    fn values_out_of_range() {
        use PropertyId as P;
        let [connect, connack, publish, subscribe, puback] =
            [T::Connect, T::ConnAck, T::Publish, T::Subscribe, T::PubAck].map(Scope::Packet);
        let invalid = DecodeError::InvalidPropertyValue;
        #[rustfmt::skip]
        let cases: [(Scope, &[u8], DecodeError, u8); 16] = [
            (publish, &[0x02, 0x01, 0x02], invalid(P::PayloadFormatIndicator), 0x82),
            (Scope::Will, &[0x02, 0x01, 0xFF], invalid(P::PayloadFormatIndicator), 0x82),
            (connect, &[0x02, 0x17, 0x02], invalid(P::RequestProblemInformation), 0x82),
            (connect, &[0x02, 0x19, 0x02], invalid(P::RequestResponseInformation), 0x82),
            (connack, &[0x02, 0x24, 0x02], invalid(P::MaximumQoS), 0x82),
            (connack, &[0x02, 0x25, 0x02], invalid(P::RetainAvailable), 0x82),
            (connack, &[0x02, 0x28, 0x02], invalid(P::WildcardSubscriptionAvailable), 0x82),
            (connack, &[0x02, 0x29, 0x02], invalid(P::SubscriptionIdentifierAvailable), 0x82),
            (connack, &[0x02, 0x2A, 0x02], invalid(P::SharedSubscriptionAvailable), 0x82),
            (connect, &[0x03, 0x21, 0x00, 0x00], invalid(P::ReceiveMaximum), 0x82),
            (connack, &[0x05, 0x27, 0x00, 0x00, 0x00, 0x00], invalid(P::MaximumPacketSize), 0x82),
            (subscribe, &[0x02, 0x0B, 0x00], invalid(P::SubscriptionIdentifier), 0x82),
            // [MQTT-3.3.2-8]: Topic Alias 0 is answered with 0x94.
            (publish, &[0x03, 0x23, 0x00, 0x00], DecodeError::TopicAliasZero, 0x94),
            // [MQTT-3.3.2-14]: Response Topic is a topic name, no wildcards.
            (publish, &[0x04, 0x08, 0x00, 0x01, b'#'], invalid(P::ResponseTopic), 0x82),
            // [MQTT-1.5.4-1] [MQTT-1.5.4-2]
            (puback, &[0x04, 0x1F, 0x00, 0x01, 0xFF], DecodeError::InvalidUtf8, 0x81),
            (puback, &[0x04, 0x1F, 0x00, 0x01, 0x00], DecodeError::NullCharacter, 0x81),
        ];
        for (scope, bytes, err, code) in cases {
            assert_eq!(decode(bytes, scope), Err(err), "{bytes:02X?}");
            assert_eq!(u8::from(err.reason_code()), code);
        }
        // The edges of the valid ranges.
        #[rustfmt::skip]
        let valid: [(Scope, &[u8]); 6] = [
            (publish, &[0x02, 0x01, 0x00]),
            (connack, &[0x02, 0x24, 0x00]),
            (connect, &[0x03, 0x21, 0x00, 0x01]),
            (connack, &[0x05, 0x27, 0xFF, 0xFF, 0xFF, 0xFF]),
            (publish, &[0x03, 0x23, 0xFF, 0xFF]),
            (subscribe, &[0x05, 0x0B, 0xFF, 0xFF, 0xFF, 0x7F]),
        ];
        for (scope, bytes) in valid {
            let p = decode(bytes, scope).unwrap();
            assert_eq!(encode(&p, scope), Ok(bytes.to_vec()));
        }
    }

    #[test]
    fn encode_errors_leave_the_output_unchanged() {
        use PropertyId::{self as P, SubscriptionIdentifier as SubId};
        let [connack, publish, subscribe] =
            [T::ConnAck, T::Publish, T::Subscribe].map(Scope::Packet);
        let invalid = EncodeError::InvalidPropertyValue;
        let not_allowed = |property, packet| EncodeError::PropertyNotAllowed { property, packet };
        #[rustfmt::skip]
        let cases: [(Scope, Set, EncodeError); 12] = [
            (publish, |p| p.reason_string = Some("r".into()),
                not_allowed(P::ReasonString, T::Publish)),
            // Will Properties are named as CONNECT's.
            (Scope::Will, |p| p.session_expiry_interval = Some(1),
                not_allowed(P::SessionExpiryInterval, T::Connect)),
            (connack, |p| p.will_delay_interval = Some(1),
                not_allowed(P::WillDelayInterval, T::ConnAck)),
            (connack, |p| p.receive_maximum = Some(0), invalid(P::ReceiveMaximum)),
            (connack, |p| p.maximum_qos = Some(QoS::ExactlyOnce), invalid(P::MaximumQoS)),
            (connack, |p| p.maximum_packet_size = Some(0), invalid(P::MaximumPacketSize)),
            (publish, |p| p.topic_alias = Some(0), invalid(P::TopicAlias)),
            (subscribe, |p| p.subscription_identifiers = vec![0], invalid(SubId)),
            (publish, |p| p.subscription_identifiers = vec![1, 268_435_456],
                invalid(SubId)),
            (subscribe, |p| p.subscription_identifiers = vec![1, 2], invalid(SubId)),
            (publish, |p| p.content_type = Some("a\0".into()), EncodeError::NullCharacter),
            (publish, |p| p.correlation_data = Some(Bytes::from(vec![0; 65_536])),
                EncodeError::FieldTooLong),
        ];
        for (scope, set, err) in cases {
            assert_eq!(encode(&props(set), scope), Err(err));
        }
    }
}
