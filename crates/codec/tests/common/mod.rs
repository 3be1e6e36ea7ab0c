//! Shared by the integration tests: proptest strategies that build only
//! valid packets for a protocol version, and encode/decode helpers.
//!
//! Values are limited to what the version can express, so that
//! `decode(encode(p)) == p` holds exactly: MQTT 3.1.1 has no properties,
//! no AUTH, no failure codes in acknowledgements, and subscription options
//! carry only the QoS.

// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use bytes::{Bytes, BytesMut};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use wasmqtt_codec::{
    decode_packet, Auth, ConnAck, Connect, DecodeError, Decoder, Disconnect, EncodeError, Packet,
    PacketId, PacketType, PayloadFormatIndicator, Properties, PropertyId, ProtocolVersion, PubAck,
    PubComp, PubRec, PubRel, Publish, QoS, ReasonCode, Received, RetainHandling, SubAck, Subscribe,
    Subscription, SubscriptionOptions, TopicFilter, TopicName, UnsubAck, Unsubscribe, Will,
};

pub use ProtocolVersion::{V311, V5};

/// Both protocol versions.
pub const VERSIONS: [ProtocolVersion; 2] = [V5, V311];

/// Largest Subscription Identifier [MQTT-3.8.2.1.2]: the Variable Byte Integer maximum.
pub const MAX_SUBSCRIPTION_ID: u32 = 268_435_455;

// ---------------------------------------------------------------------------
// Wire helpers
// ---------------------------------------------------------------------------

/// `value` as a minimal Variable Byte Integer (section 1.5.5).
pub fn varint(value: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut v = value;
    loop {
        let byte = (v % 128) as u8;
        v /= 128;
        out.push(if v > 0 { byte | 0x80 } else { byte });
        if v == 0 {
            return out;
        }
    }
}

/// The Remaining Length and the fixed header's size, if `bytes` starts
/// with a complete fixed header.
pub fn try_fixed_header(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut value = 0;
    for (i, &b) in bytes.iter().skip(1).take(4).enumerate() {
        value |= usize::from(b & 0x7F) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 2));
        }
    }
    None
}

/// The Remaining Length and the fixed header's size of an encoded packet.
pub fn fixed_header(bytes: &[u8]) -> (usize, usize) {
    try_fixed_header(bytes).unwrap_or_else(|| panic!("no fixed header in {bytes:02x?}"))
}

/// Encodes `packet`, checking that `encode` appends exactly `encoded_len`
/// bytes after what the buffer already held.
pub fn encode(packet: &Packet, version: ProtocolVersion) -> Vec<u8> {
    let prefix = [0xA5, 0x5A];
    let mut out = prefix.to_vec();
    if let Err(e) = packet.encode(version, &mut out) {
        panic!("{packet:?} does not encode as {version:?}: {e}");
    }
    assert_eq!(&out[..2], &prefix, "encode overwrote the buffer");
    let bytes = out.split_off(2);
    assert_eq!(
        bytes.len(),
        packet.encoded_len(version),
        "encoded_len of {packet:?}"
    );
    let (remaining, header) = fixed_header(&bytes);
    assert_eq!(header + remaining, bytes.len(), "remaining length");
    assert_eq!(bytes[0] >> 4, packet.packet_type() as u8, "packet type");
    bytes
}

/// Decodes one whole packet from `bytes`, which must be consumed entirely.
pub fn decode_one(bytes: &[u8], version: ProtocolVersion) -> Packet {
    let mut buf = BytesMut::from(bytes);
    let packet = decode_packet(&mut buf, version, u32::MAX)
        .unwrap_or_else(|e| panic!("{bytes:02x?} does not decode: {e:?}"))
        .unwrap_or_else(|| panic!("{bytes:02x?} is incomplete"));
    assert!(buf.is_empty(), "{} bytes left over", buf.len());
    packet
}

/// `decode(encode(packet)) == packet`, with exact length accounting.
pub fn round_trip(packet: &Packet, version: ProtocolVersion) -> Vec<u8> {
    let bytes = encode(packet, version);
    assert_eq!(&decode_one(&bytes, version), packet, "bytes: {bytes:02x?}");
    bytes
}

/// Re-encodes a packet that was decoded from arbitrary bytes.
///
/// It must round-trip, with one documented exception: SUBSCRIBE and
/// UNSUBSCRIBE keep topic filters as received, and encoding refuses an
/// invalid one without writing anything.
pub fn check_reencode(packet: &Packet, version: ProtocolVersion) {
    let filters: Vec<&str> = match packet {
        Packet::Subscribe(p) => p.subscriptions.iter().map(|s| s.filter.as_str()).collect(),
        Packet::Unsubscribe(p) => p.filters.iter().map(String::as_str).collect(),
        _ => Vec::new(),
    };
    if let Some(invalid) = filters.iter().find_map(|f| TopicFilter::validate(f).err()) {
        let mut out = Vec::new();
        assert_eq!(
            packet.encode(version, &mut out),
            Err(EncodeError::Topic(invalid))
        );
        assert!(out.is_empty(), "failed encode wrote {out:02x?}");
    } else {
        round_trip(packet, version);
    }
}

/// What a [`Decoder`] yields from a byte stream, up to the first error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    pub packets: Vec<Packet>,
    pub error: Option<DecodeError>,
    pub buffered: usize,
}

/// Feeds `bytes` to a fresh [`Decoder`] in pieces of the given sizes
/// (cycled; 0 is read as 1), draining packets after every piece.
pub fn decode_stream(
    version: ProtocolVersion,
    max_packet_size: u32,
    bytes: &[u8],
    sizes: &[usize],
) -> Stream {
    let mut decoder = Decoder::new(version, max_packet_size);
    let mut packets = Vec::new();
    let mut rest = bytes;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, tail) = rest.split_at(size.clamp(1, rest.len()));
        rest = tail;
        decoder.feed(piece);
        loop {
            match decoder.next_packet() {
                Ok(Some(p)) => packets.push(p),
                Ok(None) => break,
                Err(e) => {
                    return Stream {
                        packets,
                        error: Some(e),
                        buffered: decoder.buffered(),
                    }
                }
            }
        }
    }
    Stream {
        packets,
        error: None,
        buffered: decoder.buffered(),
    }
}

// ---------------------------------------------------------------------------
// Properties: scopes and the field of each identifier
// ---------------------------------------------------------------------------

/// Where a property list sits: a packet, or CONNECT's Will Properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Packet(PacketType),
    Will,
}

impl Scope {
    pub fn allows(self, id: PropertyId) -> bool {
        match self {
            Self::Packet(t) => id.is_allowed_in(t),
            Self::Will => id.is_will_property(),
        }
    }

    /// The packet an encode or decode error names.
    pub fn packet(self) -> PacketType {
        match self {
            Self::Packet(t) => t,
            Self::Will => PacketType::Connect,
        }
    }

    /// Every scope that may carry at least one property.
    pub fn all() -> Vec<Self> {
        packet_types(V5)
            .into_iter()
            .map(Self::Packet)
            .chain([Self::Will])
            .filter(|s| property_ids().into_iter().any(|id| s.allows(id)))
            .collect()
    }
}

/// Every property identifier MQTT 5.0 defines.
pub fn property_ids() -> Vec<PropertyId> {
    (0..0x80).filter_map(PropertyId::from_u32).collect()
}

/// Unsets property `id`.
pub fn clear_property(p: &mut Properties, id: PropertyId) {
    use PropertyId as P;
    match id {
        P::PayloadFormatIndicator => p.payload_format_indicator = None,
        P::MessageExpiryInterval => p.message_expiry_interval = None,
        P::ContentType => p.content_type = None,
        P::ResponseTopic => p.response_topic = None,
        P::CorrelationData => p.correlation_data = None,
        P::SubscriptionIdentifier => p.subscription_identifiers.clear(),
        P::SessionExpiryInterval => p.session_expiry_interval = None,
        P::AssignedClientIdentifier => p.assigned_client_identifier = None,
        P::ServerKeepAlive => p.server_keep_alive = None,
        P::AuthenticationMethod => p.authentication_method = None,
        P::AuthenticationData => p.authentication_data = None,
        P::RequestProblemInformation => p.request_problem_information = None,
        P::WillDelayInterval => p.will_delay_interval = None,
        P::RequestResponseInformation => p.request_response_information = None,
        P::ResponseInformation => p.response_information = None,
        P::ServerReference => p.server_reference = None,
        P::ReasonString => p.reason_string = None,
        P::ReceiveMaximum => p.receive_maximum = None,
        P::TopicAliasMaximum => p.topic_alias_maximum = None,
        P::TopicAlias => p.topic_alias = None,
        P::MaximumQoS => p.maximum_qos = None,
        P::RetainAvailable => p.retain_available = None,
        P::UserProperty => p.user_properties.clear(),
        P::MaximumPacketSize => p.maximum_packet_size = None,
        P::WildcardSubscriptionAvailable => p.wildcard_subscription_available = None,
        P::SubscriptionIdentifierAvailable => p.subscription_identifier_available = None,
        P::SharedSubscriptionAvailable => p.shared_subscription_available = None,
        other => panic!("no field for {other:?}"),
    }
}

/// Whether property `id` is set.
pub fn has_property(p: &Properties, id: PropertyId) -> bool {
    let mut q = p.clone();
    clear_property(&mut q, id);
    q != *p
}

/// The identifiers of the properties set in `p`.
pub fn set_properties(p: &Properties) -> Vec<PropertyId> {
    property_ids()
        .into_iter()
        .filter(|&id| has_property(p, id))
        .collect()
}

/// `p` cut down to what `scope` may carry, with every cross-field rule kept.
pub fn restrict(mut p: Properties, scope: Scope) -> Properties {
    for id in property_ids() {
        if !scope.allows(id) {
            clear_property(&mut p, id);
        }
    }
    if !PropertyId::SubscriptionIdentifier.may_repeat_in(scope.packet()) {
        p.subscription_identifiers.truncate(1);
    }
    // Authentication Data without an Authentication Method is a Protocol
    // Error (sections 3.1.2.11.10, 3.2.2.3.18, 3.15.2.2.3).
    if p.authentication_method.is_none() {
        p.authentication_data = None;
    }
    p
}

/// Every property set, to a value that exercises its encoding: multi-byte
/// strings, repeated entries, the largest Subscription Identifier.
pub fn all_properties() -> Properties {
    Properties {
        payload_format_indicator: Some(PayloadFormatIndicator::Utf8),
        message_expiry_interval: Some(u32::MAX),
        content_type: Some("text/plain; charset=ü".into()),
        response_topic: Some(TopicName::new("reply/é/𪛔").unwrap()),
        correlation_data: Some(Bytes::from_static(&[0, 1, 0xFF])),
        subscription_identifiers: vec![MAX_SUBSCRIPTION_ID, 1, 128],
        session_expiry_interval: Some(0xFFFF_FFFF),
        assigned_client_identifier: Some("auto-\u{FEFF}".into()),
        server_keep_alive: Some(0),
        authentication_method: Some("SCRAM-SHA-1".into()),
        authentication_data: Some(Bytes::from_static(b"\x00nonce")),
        request_problem_information: Some(false),
        will_delay_interval: Some(30),
        request_response_information: Some(true),
        response_information: Some("resp/".into()),
        server_reference: Some("other.example:1883".into()),
        reason_string: Some("because 🦀".into()),
        receive_maximum: Some(u16::MAX),
        topic_alias_maximum: Some(0),
        topic_alias: Some(1),
        maximum_qos: Some(QoS::AtLeastOnce),
        retain_available: Some(true),
        user_properties: vec![
            ("k".into(), "v".into()),
            ("k".into(), "v2".into()),
            (String::new(), "ключ".into()),
        ],
        maximum_packet_size: Some(1),
        wildcard_subscription_available: Some(false),
        subscription_identifier_available: Some(true),
        shared_subscription_available: Some(false),
        // Not a property: only decoding sets it.
        received: Received::default(),
    }
}

/// The smallest valid packet of the scope's type that carries `properties`.
pub fn carrier(scope: Scope, properties: Properties) -> Packet {
    let id = PacketId::new(7).unwrap();
    let topic = TopicName::new("t").unwrap();
    let t = match scope {
        Scope::Will => {
            return Packet::Connect(Connect {
                will: Some(Will {
                    topic,
                    payload: Bytes::new(),
                    qos: QoS::AtMostOnce,
                    retain: false,
                    properties,
                }),
                ..Connect::default()
            })
        }
        Scope::Packet(t) => t,
    };
    match t {
        PacketType::Connect => Packet::Connect(Connect {
            properties,
            ..Connect::default()
        }),
        PacketType::ConnAck => Packet::ConnAck(ConnAck {
            properties,
            ..ConnAck::default()
        }),
        PacketType::Publish => Packet::Publish(Publish {
            topic,
            properties,
            ..Publish::default()
        }),
        PacketType::Subscribe => Packet::Subscribe(Subscribe {
            packet_id: id,
            properties,
            subscriptions: vec![Subscription {
                filter: "a/#".into(),
                options: SubscriptionOptions::default(),
            }],
        }),
        PacketType::SubAck => Packet::SubAck(SubAck {
            packet_id: id,
            properties,
            reason_codes: vec![ReasonCode::Success],
        }),
        PacketType::Unsubscribe => Packet::Unsubscribe(Unsubscribe {
            packet_id: id,
            properties,
            filters: vec!["a/+".into()],
        }),
        PacketType::UnsubAck => Packet::UnsubAck(UnsubAck {
            packet_id: id,
            properties,
            reason_codes: vec![ReasonCode::Success],
        }),
        PacketType::Disconnect => Packet::Disconnect(Disconnect {
            reason_code: ReasonCode::Success,
            properties,
        }),
        PacketType::Auth => Packet::Auth(Auth {
            reason_code: ReasonCode::Success,
            properties,
        }),
        t => ack(t, id, ReasonCode::Success, properties),
    }
}

/// PUBACK, PUBREC, PUBREL or PUBCOMP.
pub fn ack(
    t: PacketType,
    packet_id: PacketId,
    reason_code: ReasonCode,
    properties: Properties,
) -> Packet {
    macro_rules! ack {
        ($ty:ident) => {
            Packet::$ty($ty {
                packet_id,
                reason_code,
                properties,
            })
        };
    }
    match t {
        PacketType::PubAck => ack!(PubAck),
        PacketType::PubRec => ack!(PubRec),
        PacketType::PubRel => ack!(PubRel),
        PacketType::PubComp => ack!(PubComp),
        other => panic!("{other:?} is not an acknowledgement"),
    }
}

// ---------------------------------------------------------------------------
// Strategies: primitive values
// ---------------------------------------------------------------------------

/// Every packet type that exists in `version`.
pub fn packet_types(version: ProtocolVersion) -> Vec<PacketType> {
    (0..16)
        .filter_map(|n| PacketType::from_nibble(n, version))
        .collect()
}

/// Reason codes `t` can carry in `version` without loss.
pub fn reason_codes(t: PacketType, version: ProtocolVersion) -> Vec<ReasonCode> {
    use ReasonCode as R;
    if version == V5 {
        return (0..=255)
            .filter_map(ReasonCode::from_u8)
            .filter(|c| c.is_valid_for(t))
            .collect();
    }
    match t {
        // The six Connect Return Codes of 3.1.1 (section 3.2.2.3 of 3.1.1).
        PacketType::ConnAck => vec![
            R::Success,
            R::UnsupportedProtocolVersion,
            R::ClientIdentifierNotValid,
            R::ServerUnavailable,
            R::BadUserNameOrPassword,
            R::NotAuthorized,
        ],
        // 0x00-0x02 and the single failure code 0x80.
        PacketType::SubAck => vec![
            R::Success,
            R::GrantedQoS1,
            R::GrantedQoS2,
            R::UnspecifiedError,
        ],
        _ => vec![R::Success],
    }
}

pub fn qos() -> impl Strategy<Value = QoS> + Clone {
    select(vec![QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce])
}

pub fn packet_id() -> impl Strategy<Value = PacketId> + Clone {
    (1..=u16::MAX).prop_map(|v| PacketId::new(v).unwrap())
}

/// Valid UTF-8 strings without U+0000, often with multi-byte characters.
pub fn text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => "[a-zA-Z0-9 _./-]{0,12}",
        3 => "[^\\x00]{0,12}",
        1 => Just("\u{FEFF}bom".to_owned()),
        1 => Just("A\u{2A6D4}".to_owned()),
    ]
    .boxed()
}

pub fn binary() -> impl Strategy<Value = Bytes> + Clone {
    vec(any::<u8>(), 0..24).prop_map(Bytes::from)
}

/// A payload: random bytes or UTF-8 text.
pub fn payload() -> BoxedStrategy<Bytes> {
    prop_oneof![
        vec(any::<u8>(), 0..64).prop_map(Bytes::from),
        text().prop_map(Bytes::from),
    ]
    .boxed()
}

/// One topic level without wildcards or separators.
fn level() -> BoxedStrategy<String> {
    prop_oneof![
        4 => "[a-z0-9$_-]{0,6}",
        1 => "[^+#/\\x00]{1,4}",
    ]
    .boxed()
}

pub fn topic_name() -> BoxedStrategy<TopicName> {
    prop_oneof![
        8 => vec(level(), 1..5).prop_map(|l| l.join("/")),
        1 => Just("$SYS/broker/load".to_owned()),
        1 => Just("/".to_owned()),
    ]
    .prop_map(|t| TopicName::new(if t.is_empty() { "x".into() } else { t }).unwrap())
    .boxed()
}

/// Valid topic filters: wildcards as whole levels, `#` last, and shared
/// subscriptions `$share/{ShareName}/{filter}`.
pub fn topic_filter() -> BoxedStrategy<String> {
    let levels = vec(prop_oneof![3 => level(), 1 => Just("+".to_owned())], 0..4);
    let share = option::weighted(0.2, "[a-z0-9]{1,4}|[^/+#\\x00]{1,3}");
    (levels, any::<bool>(), share)
        .prop_map(|(mut levels, hash, share)| {
            if hash || levels.is_empty() {
                levels.push("#".into());
            }
            let filter = levels.join("/");
            share.map_or(filter.clone(), |s| format!("$share/{s}/{filter}"))
        })
        // A first level "$share" could make the text look shared.
        .prop_filter("invalid filter", |f| TopicFilter::validate(f).is_ok())
        .boxed()
}

/// A Subscription Identifier, biased to Variable Byte Integer boundaries.
pub fn subscription_id() -> BoxedStrategy<u32> {
    prop_oneof![
        select(vec![
            1,
            127,
            128,
            16_383,
            16_384,
            2_097_151,
            2_097_152,
            MAX_SUBSCRIPTION_ID
        ]),
        1..=MAX_SUBSCRIPTION_ID,
    ]
    .boxed()
}

// ---------------------------------------------------------------------------
// Strategies: properties
// ---------------------------------------------------------------------------

fn opt<S: Strategy>(s: S) -> option::OptionStrategy<S> {
    option::of(s)
}

/// A random subset of every property, each value in its valid range.
pub fn any_properties() -> BoxedStrategy<Properties> {
    let flag = || opt(any::<bool>());
    let first = (
        opt(select(vec![
            PayloadFormatIndicator::Unspecified,
            PayloadFormatIndicator::Utf8,
        ])),
        opt(any::<u32>()),
        opt(text()),
        opt(topic_name()),
        opt(binary()),
        vec(subscription_id(), 0..3),
        opt(any::<u32>()),
        opt(text()),
        opt(any::<u16>()),
    );
    let second = (
        opt(text()),
        opt(binary()),
        flag(),
        opt(any::<u32>()),
        flag(),
        opt(text()),
        opt(text()),
        opt(text()),
        opt(1..=u16::MAX),
    );
    let third = (
        opt(any::<u16>()),
        opt(1..=u16::MAX),
        opt(select(vec![QoS::AtMostOnce, QoS::AtLeastOnce])),
        flag(),
        vec((text(), text()), 0..3),
        opt(1..=u32::MAX),
        flag(),
        flag(),
        flag(),
    );
    (first, second, third)
        .prop_map(|(a, b, c)| Properties {
            payload_format_indicator: a.0,
            message_expiry_interval: a.1,
            content_type: a.2,
            response_topic: a.3,
            correlation_data: a.4,
            subscription_identifiers: a.5,
            session_expiry_interval: a.6,
            assigned_client_identifier: a.7,
            server_keep_alive: a.8,
            authentication_method: b.0,
            authentication_data: b.1,
            request_problem_information: b.2,
            will_delay_interval: b.3,
            request_response_information: b.4,
            response_information: b.5,
            server_reference: b.6,
            reason_string: b.7,
            receive_maximum: b.8,
            topic_alias_maximum: c.0,
            topic_alias: c.1,
            maximum_qos: c.2,
            retain_available: c.3,
            user_properties: c.4,
            maximum_packet_size: c.5,
            wildcard_subscription_available: c.6,
            subscription_identifier_available: c.7,
            shared_subscription_available: c.8,
            received: Received::default(),
        })
        .boxed()
}

/// Valid properties for `scope`; always empty in MQTT 3.1.1.
pub fn properties(version: ProtocolVersion, scope: Scope) -> BoxedStrategy<Properties> {
    if version == V5 {
        any_properties()
            .prop_map(move |p| restrict(p, scope))
            .boxed()
    } else {
        Just(Properties::default()).boxed()
    }
}

/// Drops a UTF-8 Payload Format Indicator if the payload is not UTF-8
/// [MQTT-3.3.2-4].
fn fit_payload_format(properties: &mut Properties, payload: &Bytes) {
    if core::str::from_utf8(payload).is_err() {
        properties.payload_format_indicator = properties
            .payload_format_indicator
            .map(|_| PayloadFormatIndicator::Unspecified);
    }
}

// ---------------------------------------------------------------------------
// Strategies: packets
// ---------------------------------------------------------------------------

fn will(version: ProtocolVersion) -> impl Strategy<Value = Will> {
    (
        topic_name(),
        payload(),
        qos(),
        any::<bool>(),
        properties(version, Scope::Will),
    )
        .prop_map(|(topic, payload, qos, retain, mut properties)| {
            fit_payload_format(&mut properties, &payload);
            Will {
                topic,
                payload,
                qos,
                retain,
                properties,
            }
        })
}

pub fn connect(version: ProtocolVersion) -> impl Strategy<Value = Connect> {
    (
        any::<bool>(),
        any::<u16>(),
        properties(version, Scope::Packet(PacketType::Connect)),
        text(),
        opt(will(version)),
        opt(text()),
        opt(binary()),
    )
        .prop_map(
            move |(clean_start, keep_alive, properties, client_id, will, username, password)| {
                // 3.1.1 has no password without a user name [MQTT-3.1.2-22],
                // and an empty Client Identifier needs Clean Session [MQTT-3.1.3-7].
                let v311 = version == V311;
                Connect {
                    protocol_version: version,
                    clean_start: clean_start || (v311 && client_id.is_empty()),
                    keep_alive,
                    properties,
                    client_id,
                    will,
                    password: password.filter(|_| !v311 || username.is_some()),
                    username,
                }
            },
        )
}

pub fn connack(version: ProtocolVersion) -> impl Strategy<Value = ConnAck> {
    let t = PacketType::ConnAck;
    (
        any::<bool>(),
        select(reason_codes(t, version)),
        properties(version, Scope::Packet(t)),
    )
        .prop_map(|(session_present, reason_code, properties)| ConnAck {
            // Session Present is 0 with a failure code [MQTT-3.2.2-6].
            session_present: session_present && !reason_code.is_error(),
            reason_code,
            properties,
        })
}

pub fn publish(version: ProtocolVersion) -> impl Strategy<Value = Publish> {
    (
        qos(),
        any::<bool>(),
        any::<bool>(),
        topic_name(),
        any::<bool>(),
        packet_id(),
        properties(version, Scope::Packet(PacketType::Publish)),
        payload(),
    )
        .prop_map(
            |(qos, dup, retain, topic, alias_only, id, mut properties, payload)| {
                fit_payload_format(&mut properties, &payload);
                let at_most_once = qos == QoS::AtMostOnce;
                // An empty Topic Name needs a Topic Alias [MQTT-3.3.2-1].
                let alias_only = alias_only && properties.topic_alias.is_some();
                Publish {
                    dup: dup && !at_most_once,
                    qos,
                    retain,
                    topic: if alias_only {
                        TopicName::default()
                    } else {
                        topic
                    },
                    packet_id: (!at_most_once).then_some(id),
                    properties,
                    payload,
                }
            },
        )
}

fn subscription(version: ProtocolVersion) -> impl Strategy<Value = Subscription> {
    let handling = select(vec![
        RetainHandling::SendAtSubscribe,
        RetainHandling::SendAtSubscribeIfNew,
        RetainHandling::DoNotSend,
    ]);
    (
        topic_filter(),
        qos(),
        any::<bool>(),
        any::<bool>(),
        handling,
    )
        .prop_map(move |(filter, qos, no_local, rap, retain_handling)| {
            let v5 = version == V5;
            // No Local on a shared subscription is a Protocol Error [MQTT-3.8.3-4].
            let shared = filter.starts_with("$share/");
            Subscription {
                options: SubscriptionOptions {
                    qos,
                    no_local: v5 && no_local && !shared,
                    retain_as_published: v5 && rap,
                    retain_handling: if v5 {
                        retain_handling
                    } else {
                        RetainHandling::SendAtSubscribe
                    },
                },
                filter,
            }
        })
}

/// A valid packet of type `t` for `version`.
pub fn packet_of(t: PacketType, version: ProtocolVersion) -> BoxedStrategy<Packet> {
    let props = properties(version, Scope::Packet(t));
    let codes = || select(reason_codes(t, version));
    match t {
        PacketType::Connect => connect(version).prop_map(Packet::Connect).boxed(),
        PacketType::ConnAck => connack(version).prop_map(Packet::ConnAck).boxed(),
        PacketType::Publish => publish(version).prop_map(Packet::Publish).boxed(),
        PacketType::PubAck | PacketType::PubRec | PacketType::PubRel | PacketType::PubComp => {
            (packet_id(), codes(), props)
                .prop_map(move |(id, code, props)| ack(t, id, code, props))
                .boxed()
        }
        PacketType::Subscribe => (packet_id(), props, vec(subscription(version), 1..4))
            .prop_map(|(packet_id, properties, subscriptions)| {
                Packet::Subscribe(Subscribe {
                    packet_id,
                    properties,
                    subscriptions,
                })
            })
            .boxed(),
        PacketType::SubAck => (packet_id(), props, vec(codes(), 1..5))
            .prop_map(|(packet_id, properties, reason_codes)| {
                Packet::SubAck(SubAck {
                    packet_id,
                    properties,
                    reason_codes,
                })
            })
            .boxed(),
        PacketType::Unsubscribe => (packet_id(), props, vec(topic_filter(), 1..4))
            .prop_map(|(packet_id, properties, filters)| {
                Packet::Unsubscribe(Unsubscribe {
                    packet_id,
                    properties,
                    filters,
                })
            })
            .boxed(),
        PacketType::UnsubAck => {
            // 3.1.1 UNSUBACK has no reason codes.
            let count = if version == V5 { 1..5 } else { 0..1 };
            (packet_id(), props, vec(codes(), count))
                .prop_map(|(packet_id, properties, reason_codes)| {
                    Packet::UnsubAck(UnsubAck {
                        packet_id,
                        properties,
                        reason_codes,
                    })
                })
                .boxed()
        }
        PacketType::PingReq => Just(Packet::PingReq).boxed(),
        PacketType::PingResp => Just(Packet::PingResp).boxed(),
        PacketType::Disconnect => (codes(), props)
            .prop_map(|(reason_code, properties)| {
                Packet::Disconnect(Disconnect {
                    reason_code,
                    properties,
                })
            })
            .boxed(),
        PacketType::Auth => {
            assert_eq!(version, V5, "AUTH does not exist in MQTT 3.1.1");
            (codes(), props)
                .prop_map(|(reason_code, properties)| {
                    Packet::Auth(Auth {
                        reason_code,
                        properties,
                    })
                })
                .boxed()
        }
        other => panic!("no strategy for {other:?}"),
    }
}

/// A valid packet of any type that exists in `version`.
pub fn packet(version: ProtocolVersion) -> BoxedStrategy<Packet> {
    select(packet_types(version))
        .prop_flat_map(move |t| packet_of(t, version))
        .boxed()
}

/// A version and a valid packet for it.
pub fn versioned_packet() -> BoxedStrategy<(ProtocolVersion, Packet)> {
    select(VERSIONS.to_vec())
        .prop_flat_map(|v| (Just(v), packet(v)))
        .boxed()
}
