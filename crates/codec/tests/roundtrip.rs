//! `decode(encode(p)) == p` for every packet type in both versions, and for
//! every property in every packet that may carry it.

mod common;

use common::*;
use proptest::prelude::*;
use wasmqtt_codec::{
    Auth, EncodeError, Packet, PacketType, Properties, PropertyId, ProtocolVersion, ReasonCode,
    TopicFilter, TopicName,
};

/// One round-trip property per packet type and version.
macro_rules! round_trips {
    ($($name:ident: $t:ident [$($v:ident),+];)*) => {
        $(mod $name {
            use super::*;
            proptest! {
                $(
                    #[test]
                    #[allow(non_snake_case)]
                    fn $v(p in packet_of(PacketType::$t, ProtocolVersion::$v)) {
                        round_trip(&p, ProtocolVersion::$v);
                    }
                )+
            }
        })*
    };
}

round_trips! {
    connect: Connect [V5, V311];
    connack: ConnAck [V5, V311];
    publish: Publish [V5, V311];
    puback: PubAck [V5, V311];
    pubrec: PubRec [V5, V311];
    pubrel: PubRel [V5, V311];
    pubcomp: PubComp [V5, V311];
    subscribe: Subscribe [V5, V311];
    suback: SubAck [V5, V311];
    unsubscribe: Unsubscribe [V5, V311];
    unsuback: UnsubAck [V5, V311];
    pingreq: PingReq [V5, V311];
    pingresp: PingResp [V5, V311];
    disconnect: Disconnect [V5, V311];
    auth: Auth [V5];
}

/// Random subsets of the properties a scope allows round-trip in MQTT 5.0;
/// MQTT 3.1.1 drops them, producing the bytes of the property-free packet.
macro_rules! property_round_trips {
    ($($name:ident: $scope:expr;)*) => {
        proptest! {
            $(
                #[test]
                fn $name(props in properties(V5, $scope)) {
                    round_trip(&carrier($scope, props.clone()), V5);
                    if $scope != Scope::Packet(PacketType::Auth) {
                        prop_assert_eq!(
                            encode(&v311_carrier($scope, props), V311),
                            encode(&v311_carrier($scope, Properties::default()), V311)
                        );
                    }
                }
            )*
        }
    };
}

/// [`carrier`], with CONNECT speaking MQTT 3.1.1.
fn v311_carrier(scope: Scope, props: Properties) -> Packet {
    let mut p = carrier(scope, props);
    if let Packet::Connect(c) = &mut p {
        c.protocol_version = V311;
    }
    p
}

property_round_trips! {
    properties_connect: Scope::Packet(PacketType::Connect);
    properties_will: Scope::Will;
    properties_connack: Scope::Packet(PacketType::ConnAck);
    properties_publish: Scope::Packet(PacketType::Publish);
    properties_puback: Scope::Packet(PacketType::PubAck);
    properties_pubrec: Scope::Packet(PacketType::PubRec);
    properties_pubrel: Scope::Packet(PacketType::PubRel);
    properties_pubcomp: Scope::Packet(PacketType::PubComp);
    properties_subscribe: Scope::Packet(PacketType::Subscribe);
    properties_suback: Scope::Packet(PacketType::SubAck);
    properties_unsubscribe: Scope::Packet(PacketType::Unsubscribe);
    properties_unsuback: Scope::Packet(PacketType::UnsubAck);
    properties_disconnect: Scope::Packet(PacketType::Disconnect);
    properties_auth: Scope::Packet(PacketType::Auth);
}

#[test]
fn property_scopes_cover_every_packet_with_properties() {
    // The macro above lists 14 scopes: every packet but PINGREQ/PINGRESP, and the will.
    assert_eq!(Scope::all().len(), 14);
    assert!(!Scope::all().contains(&Scope::Packet(PacketType::PingReq)));
}

#[test]
fn every_property_round_trips_in_every_scope_that_allows_it() {
    let mut seen = Vec::new();
    for scope in Scope::all() {
        let props = restrict(all_properties(), scope);
        let allowed: Vec<_> = property_ids()
            .into_iter()
            .filter(|&id| scope.allows(id))
            .collect();
        assert_eq!(set_properties(&props), allowed, "{scope:?}");
        round_trip(&carrier(scope, props), V5);
        seen.extend(allowed);
    }
    seen.sort();
    seen.dedup();
    // Section 2.2.2.2 defines 27 properties; each appears in some scope.
    assert_eq!(seen, property_ids());
    assert_eq!(seen.len(), 27);
}

#[test]
fn properties_are_refused_where_not_allowed() {
    for scope in Scope::all() {
        for id in property_ids().into_iter().filter(|&id| !scope.allows(id)) {
            let mut props = all_properties();
            // One identifier: several would fail the multiplicity check first.
            props.subscription_identifiers.truncate(1);
            for other in property_ids().into_iter().filter(|&o| o != id) {
                clear_property(&mut props, other);
            }
            let mut out = vec![1, 2, 3];
            assert_eq!(
                carrier(scope, props).encode(V5, &mut out),
                Err(EncodeError::PropertyNotAllowed {
                    property: id,
                    packet: scope.packet(),
                }),
                "{id:?} in {scope:?}"
            );
            assert_eq!(out, [1, 2, 3], "failed encode changed the buffer");
        }
    }
}

#[test]
fn subscribe_carries_at_most_one_subscription_identifier() {
    let scope = Scope::Packet(PacketType::Subscribe);
    assert!(!PropertyId::SubscriptionIdentifier.may_repeat_in(PacketType::Subscribe));
    assert!(PropertyId::SubscriptionIdentifier.may_repeat_in(PacketType::Publish));
    let props = Properties {
        subscription_identifiers: vec![1, 2],
        ..Properties::default()
    };
    assert_eq!(
        carrier(scope, props).encode(V5, &mut Vec::new()),
        Err(EncodeError::InvalidPropertyValue(
            PropertyId::SubscriptionIdentifier
        ))
    );
}

#[test]
fn out_of_range_property_values_are_refused() {
    let publish = Scope::Packet(PacketType::Publish);
    let connack = Scope::Packet(PacketType::ConnAck);
    let cases = [
        (
            publish,
            Properties {
                subscription_identifiers: vec![0],
                ..Properties::default()
            },
            PropertyId::SubscriptionIdentifier,
        ),
        (
            publish,
            Properties {
                subscription_identifiers: vec![MAX_SUBSCRIPTION_ID + 1],
                ..Properties::default()
            },
            PropertyId::SubscriptionIdentifier,
        ),
        // [MQTT-3.3.2-8]: a Topic Alias of 0 is not permitted.
        (
            publish,
            Properties {
                topic_alias: Some(0),
                ..Properties::default()
            },
            PropertyId::TopicAlias,
        ),
        (
            connack,
            Properties {
                receive_maximum: Some(0),
                ..Properties::default()
            },
            PropertyId::ReceiveMaximum,
        ),
        (
            connack,
            Properties {
                maximum_packet_size: Some(0),
                ..Properties::default()
            },
            PropertyId::MaximumPacketSize,
        ),
        (
            connack,
            Properties {
                maximum_qos: Some(wasmqtt_codec::QoS::ExactlyOnce),
                ..Properties::default()
            },
            PropertyId::MaximumQoS,
        ),
    ];
    for (scope, props, id) in cases {
        assert_eq!(
            carrier(scope, props).encode(V5, &mut Vec::new()),
            Err(EncodeError::InvalidPropertyValue(id))
        );
    }
}

#[test]
fn auth_does_not_exist_in_v311() {
    let mut out = vec![9];
    assert_eq!(
        Packet::Auth(Auth::default()).encode(V311, &mut out),
        Err(EncodeError::PacketNotInVersion(PacketType::Auth))
    );
    assert_eq!(out, [9]);
    assert!(!packet_types(V311).contains(&PacketType::Auth));
    assert_eq!(packet_types(V5).len(), 15);
}

#[test]
fn v311_cannot_express_failure_acknowledgements() {
    let id = wasmqtt_codec::PacketId::new(1).unwrap();
    for t in [PacketType::PubAck, PacketType::PubRec] {
        let p = ack(t, id, ReasonCode::UnspecifiedError, Properties::default());
        assert_eq!(
            p.encode(V311, &mut Vec::new()),
            Err(EncodeError::NotInVersion(ReasonCode::UnspecifiedError))
        );
        round_trip(&p, V5);
    }
}

proptest! {
    /// The generators themselves only build valid topics.
    #[test]
    fn generated_topics_are_valid(name in topic_name(), filter in topic_filter()) {
        prop_assert_eq!(TopicName::new(name.as_str()), Ok(name.clone()));
        prop_assert!(!name.as_str().contains(['+', '#', '\0']));
        let parsed = TopicFilter::new(filter.as_str()).unwrap();
        prop_assert_eq!(parsed.is_shared(), filter.starts_with("$share/"));
    }

    /// Reason codes survive the trip wherever the packet allows them.
    #[test]
    fn every_valid_reason_code_round_trips(
        t in proptest::sample::select(vec![
            PacketType::ConnAck, PacketType::PubAck, PacketType::PubRec, PacketType::PubRel,
            PacketType::PubComp, PacketType::SubAck, PacketType::UnsubAck,
            PacketType::Disconnect, PacketType::Auth,
        ]),
        index in any::<proptest::sample::Index>(),
        v5 in any::<bool>(),
    ) {
        let version = if v5 || t == PacketType::Auth { V5 } else { V311 };
        let codes = reason_codes(t, version);
        let code = *index.get(&codes);
        prop_assert!(code.is_valid_for(t));
        let mut p = carrier(Scope::Packet(t), Properties::default());
        match &mut p {
            Packet::ConnAck(c) => c.reason_code = code,
            Packet::SubAck(s) => s.reason_codes = vec![code, ReasonCode::Success],
            Packet::UnsubAck(u) if version == V5 => u.reason_codes = vec![code],
            Packet::UnsubAck(u) => u.reason_codes.clear(),
            Packet::Disconnect(d) => d.reason_code = code,
            Packet::Auth(a) => a.reason_code = code,
            other => *other = ack(t, wasmqtt_codec::PacketId::new(9).unwrap(), code, Properties::default()),
        }
        round_trip(&p, version);
    }
}
