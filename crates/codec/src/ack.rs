//! The layout PUBACK, PUBREC, PUBREL and PUBCOMP share (sections 3.4 to 3.7):
//! a Packet Identifier, then in MQTT 5.0 an optional Reason Code and properties.

use alloc::vec::Vec;
use bytes::Bytes;

use crate::connect::check_auth_data;
use crate::error::{DecodeError, EncodeError};
use crate::packet::{encode_packet, PacketType};
use crate::property::{Properties, Scope};
use crate::reason_code::ReasonCode;
use crate::types::{PacketId, ProtocolVersion};
use crate::wire::{self, Reader};

pub(crate) fn decode(
    packet: PacketType,
    body: Bytes,
    version: ProtocolVersion,
) -> Result<(PacketId, ReasonCode, Properties), DecodeError> {
    let (id, reason_code, properties) = decode_tail(packet, body, version)?;
    // `decode_tail` refused a zero Packet Identifier already.
    let packet_id = PacketId::new(id).ok_or(DecodeError::ZeroPacketId)?;
    Ok((packet_id, reason_code, properties))
}

/// `code` as a Reason Code `packet` may carry.
pub(crate) fn reason_code(code: u8, packet: PacketType) -> Result<ReasonCode, DecodeError> {
    ReasonCode::from_u8(code)
        .filter(|c| c.is_valid_for(packet))
        .ok_or(DecodeError::InvalidReasonCode { code, packet })
}

/// The body of the packets that end with an optional Reason Code and
/// optional properties: the four acknowledgements above (after their
/// Packet Identifier, returned as read), DISCONNECT and AUTH (0 for the
/// identifier they do not have). One decoder for all six keeps the client
/// small.
pub(crate) fn decode_tail(
    packet: PacketType,
    body: Bytes,
    version: ProtocolVersion,
) -> Result<(u16, ReasonCode, Properties), DecodeError> {
    let mut r = Reader::new(body);
    let mut id = 0;
    if matches!(
        packet,
        PacketType::PubAck | PacketType::PubRec | PacketType::PubRel | PacketType::PubComp
    ) {
        id = r.u16()?;
        if id == 0 {
            return Err(DecodeError::ZeroPacketId);
        }
    }
    let mut reason_code = ReasonCode::Success;
    let mut properties = Properties::default();
    // Remaining Length 2 (0 without an identifier) means Success with no
    // properties (3.4.2.1, 3.14.2.1, 3.15.2.1). AUTH exists only in MQTT 5.0.
    if version == ProtocolVersion::V5 && !r.is_empty() {
        reason_code = self::reason_code(r.u8()?, packet)?;
        // One byte more means no Property Length either (3.4.2.2.1,
        // 3.14.2.2.1), except in AUTH, which always has one (3.15.2.2.1).
        if packet == PacketType::Auth || !r.is_empty() {
            properties = Properties::decode(&mut r, Scope::Packet(packet))?;
        }
        if packet == PacketType::Auth {
            check_auth_data(&properties).map_err(DecodeError::InvalidPropertyValue)?;
        }
    }
    r.finish()?;
    Ok((id, reason_code, properties))
}

/// Body length of the packets `decode_tail` reads: the Packet Identifier
/// (`has_id`), then a Reason Code unless it is Success with no properties,
/// then properties unless there are none (AUTH has them whenever it has a
/// Reason Code, 3.15.2.2.1). MQTT 3.1.1 has only the identifier.
pub(crate) fn body_len(
    packet: PacketType,
    has_id: bool,
    reason_code: ReasonCode,
    properties: &Properties,
    version: ProtocolVersion,
) -> usize {
    let base = if has_id { 2 } else { 0 };
    if version == ProtocolVersion::V311 {
        base
    } else if !properties.is_empty() {
        base + 1 + properties.encoded_len()
    } else if reason_code == ReasonCode::Success {
        base
    } else if packet == PacketType::Auth {
        base + 1 + properties.encoded_len()
    } else {
        base + 1
    }
}

/// Encodes the packets `decode_tail` reads (PUBACK, PUBREC, PUBREL,
/// PUBCOMP with `packet_id`, DISCONNECT and AUTH without): one encoder for
/// all six.
pub(crate) fn encode(
    packet: PacketType,
    packet_id: Option<PacketId>,
    reason_code: ReasonCode,
    properties: &Properties,
    version: ProtocolVersion,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let v311 = version == ProtocolVersion::V311;
    if v311 && packet == PacketType::Auth {
        return Err(EncodeError::PacketNotInVersion(packet));
    }
    if !reason_code.is_valid_for(packet) {
        return Err(EncodeError::InvalidReasonCode {
            code: reason_code,
            packet,
        });
    }
    // MQTT 3.1.1 acknowledgements cannot report a failure, and its
    // DISCONNECT carries no reason at all.
    if v311
        && (reason_code.is_error()
            || (packet == PacketType::Disconnect && reason_code != ReasonCode::Success))
    {
        return Err(EncodeError::NotInVersion(reason_code));
    }
    if packet == PacketType::Auth {
        check_auth_data(properties).map_err(EncodeError::InvalidPropertyValue)?;
    }
    let base = if packet_id.is_some() { 2 } else { 0 };
    let len = body_len(
        packet,
        packet_id.is_some(),
        reason_code,
        properties,
        version,
    );
    let first = (packet as u8) << 4 | packet.required_flags();
    encode_packet(out, first, len, |out| {
        if let Some(id) = packet_id {
            wire::put_u16(out, id.get());
        }
        if len > base {
            out.push(reason_code as u8);
        }
        if len > base + 1 {
            properties.encode(Scope::Packet(packet), out)?;
        }
        Ok(())
    })
}

/// Defines one of the four acknowledgement packets over the shared layout.
macro_rules! ack_packet {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            /// Packet Identifier of the PUBLISH (or PUBREC) acknowledged.
            pub packet_id: $crate::types::PacketId,
            /// Reason Code; always Success in MQTT 3.1.1.
            pub reason_code: $crate::reason_code::ReasonCode,
            /// Properties (MQTT 5.0 only).
            pub properties: $crate::property::Properties,
        }

        impl $name {
            /// A successful acknowledgement without properties.
            #[must_use]
            pub fn new(packet_id: $crate::types::PacketId) -> Self {
                Self {
                    packet_id,
                    reason_code: $crate::reason_code::ReasonCode::Success,
                    properties: $crate::property::Properties::default(),
                }
            }

            /// Decodes the packet body.
            pub fn decode(
                body: bytes::Bytes,
                version: $crate::types::ProtocolVersion,
            ) -> Result<Self, $crate::error::DecodeError> {
                let (packet_id, reason_code, properties) =
                    $crate::ack::decode($crate::packet::PacketType::$name, body, version)?;
                Ok(Self { packet_id, reason_code, properties })
            }

            /// Total encoded size, fixed header included.
            #[must_use]
            pub fn encoded_len(&self, version: $crate::types::ProtocolVersion) -> usize {
                $crate::packet::total_len($crate::ack::body_len(
                    $crate::packet::PacketType::$name,
                    true,
                    self.reason_code,
                    &self.properties,
                    version,
                ))
            }

            /// Appends the packet; on error `out` is unchanged.
            pub fn encode(
                &self,
                version: $crate::types::ProtocolVersion,
                out: &mut alloc::vec::Vec<u8>,
            ) -> Result<(), $crate::error::EncodeError> {
                $crate::ack::encode(
                    $crate::packet::PacketType::$name,
                    Some(self.packet_id),
                    self.reason_code,
                    &self.properties,
                    version,
                    out,
                )
            }
        }
    };
}
pub(crate) use ack_packet;

/// Helpers shared by the packet tests of this crate, then the tests of the
/// layout the four acknowledgements share.
#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::packet::Packet;
    use crate::property::PropertyId;
    use crate::{PubAck, PubComp, PubRec, PubRel};
    use alloc::{string::String, vec, vec::Vec};

    pub(crate) use crate::types::ProtocolVersion::{V311, V5};

    pub(crate) fn pid(n: u16) -> PacketId {
        PacketId::new(n).unwrap()
    }

    /// Reason String "r" and User Property ("k", "v"): 11 bytes on the wire,
    /// `1F 00 01 72 26 00 01 6B 00 01 76`.
    pub(crate) fn reason_and_user() -> Properties {
        Properties {
            reason_string: Some("r".into()),
            user_properties: vec![("k".into(), "v".into())],
            ..Properties::default()
        }
    }

    /// The first byte and body of a whole packet, checking its Remaining Length.
    fn split(bytes: &[u8]) -> (u8, Bytes) {
        let (len, n) = wire::decode_varint(&bytes[1..]).unwrap().unwrap();
        let body = &bytes[1 + n..];
        assert_eq!(len as usize, body.len(), "Remaining Length of {bytes:02X?}");
        (bytes[0], Bytes::copy_from_slice(body))
    }

    /// `bytes` decodes to `packet`, `packet` encodes to `bytes`, and
    /// `encoded_len` is their length.
    pub(crate) fn assert_vector(packet: &Packet, version: ProtocolVersion, bytes: &[u8]) {
        let (first, body) = split(bytes);
        let decoded = Packet::decode(first, body, version);
        assert_eq!(decoded.as_ref(), Ok(packet), "decoding {bytes:02X?}");
        let mut out = vec![0xEE];
        packet.encode(version, &mut out).unwrap();
        assert_eq!(out[1..], *bytes, "encoding {packet:?}");
        assert_eq!(packet.encoded_len(version), bytes.len());
    }

    /// Decoding `bytes` fails with `err`, whose reason code is `code`.
    pub(crate) fn assert_decode_err(
        bytes: &[u8],
        version: ProtocolVersion,
        err: DecodeError,
        code: u8,
    ) {
        let (first, body) = split(bytes);
        assert_eq!(
            Packet::decode(first, body, version),
            Err(err),
            "decoding {bytes:02X?}"
        );
        assert_eq!(u8::from(err.reason_code()), code, "reason code of {err:?}");
    }

    /// Encoding fails with `err` and leaves the output as it was.
    pub(crate) fn assert_encode_err(packet: &Packet, version: ProtocolVersion, err: EncodeError) {
        let mut out = vec![0xEE, 0xFF];
        assert_eq!(packet.encode(version, &mut out), Err(err), "{packet:?}");
        assert_eq!(out, [0xEE, 0xFF], "output changed by {packet:?}");
    }

    /// `bytes` decodes, and with any other fixed header flags it is
    /// malformed [MQTT-2.1.3-1].
    pub(crate) fn assert_only_flags(bytes: &[u8], version: ProtocolVersion) {
        let (first, body) = split(bytes);
        let packet = PacketType::from_nibble(first >> 4, version).unwrap();
        for flags in 0..16 {
            let result = Packet::decode(first & 0xF0 | flags, body.clone(), version);
            if flags == first & 0x0F {
                assert!(result.is_ok(), "{bytes:02X?}: {result:?}");
            } else {
                assert_eq!(result, Err(DecodeError::InvalidFlags { packet, flags }));
            }
        }
        assert_eq!(
            DecodeError::InvalidFlags { packet, flags: 0 }.reason_code(),
            ReasonCode::MalformedPacket
        );
    }

    const ACKS: [(u8, PacketType); 4] = [
        (0x40, PacketType::PubAck),
        (0x50, PacketType::PubRec),
        (0x62, PacketType::PubRel),
        (0x70, PacketType::PubComp),
    ];

    fn ack(packet: PacketType, id: u16, code: ReasonCode, properties: Properties) -> Packet {
        let (packet_id, reason_code) = (pid(id), code);
        match packet {
            PacketType::PubAck => Packet::PubAck(PubAck {
                packet_id,
                reason_code,
                properties,
            }),
            PacketType::PubRec => Packet::PubRec(PubRec {
                packet_id,
                reason_code,
                properties,
            }),
            PacketType::PubRel => Packet::PubRel(PubRel {
                packet_id,
                reason_code,
                properties,
            }),
            _ => Packet::PubComp(PubComp {
                packet_id,
                reason_code,
                properties,
            }),
        }
    }

    #[test]
    fn zero_packet_id_is_a_protocol_error() {
        // [MQTT-2.2.1-3]
        for (first, _) in ACKS {
            for version in [V5, V311] {
                let e = DecodeError::ZeroPacketId;
                assert_decode_err(&[first, 0x02, 0x00, 0x00], version, e, 0x82);
            }
            let e = DecodeError::ZeroPacketId;
            assert_decode_err(&[first, 0x03, 0x00, 0x00, 0x00], V5, e, 0x82);
        }
    }

    #[test]
    fn decode_accepts_exactly_the_codes_of_the_packet() {
        // Which codes each packet allows is checked against the spec tables
        // in reason_code.rs; here, that decoding follows `is_valid_for`.
        for (first, packet) in ACKS {
            for code in 0..=255 {
                let bytes = [first, 0x03, 0x00, 0x01, code];
                match ReasonCode::from_u8(code).filter(|c| c.is_valid_for(packet)) {
                    // Success at Remaining Length 3 re-encodes as 2: see below.
                    Some(ReasonCode::Success) => {}
                    Some(c) => {
                        let p = ack(packet, 1, c, Properties::default());
                        assert_vector(&p, V5, &bytes);
                    }
                    None => {
                        let e = DecodeError::InvalidReasonCode { code, packet };
                        assert_decode_err(&bytes, V5, e, 0x81);
                    }
                }
            }
        }
    }

    #[test]
    fn malformed_bodies_are_rejected() {
        use DecodeError as E;
        let not_allowed = |packet| E::PropertyNotAllowed {
            property: PropertyId::TopicAlias,
            packet,
        };
        for (first, packet) in ACKS {
            let cases: [(&[u8], _, _, u8); 8] = [
                // Remaining Length 0 and 1: no whole Packet Identifier.
                (&[first, 0x00], V5, E::UnexpectedEnd, 0x81),
                (&[first, 0x01, 0x00], V311, E::UnexpectedEnd, 0x81),
                // MQTT 3.1.1: the Remaining Length is exactly 2.
                (
                    &[first, 0x03, 0x00, 0x01, 0x00],
                    V311,
                    E::TrailingBytes,
                    0x81,
                ),
                // Property Length 2 with one byte left.
                (
                    &[first, 0x05, 0x00, 0x01, 0x00, 0x02, 0x1F],
                    V5,
                    E::UnexpectedEnd,
                    0x81,
                ),
                // A byte after an empty property list.
                (
                    &[first, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00],
                    V5,
                    E::TrailingBytes,
                    0x81,
                ),
                // Topic Alias is a PUBLISH property (section 2.2.2.2).
                (
                    &[first, 0x07, 0x00, 0x01, 0x00, 0x03, 0x23, 0x00, 0x01],
                    V5,
                    not_allowed(packet),
                    0x81,
                ),
                // Reason String twice (e.g. section 3.4.2.2.2).
                (
                    &[
                        first, 0x0C, 0x00, 0x01, 0x00, 0x08, 0x1F, 0x00, 0x01, b'a', 0x1F, 0x00,
                        0x01, b'b',
                    ],
                    V5,
                    E::DuplicateProperty(PropertyId::ReasonString),
                    0x82,
                ),
                // A Reason String that is not UTF-8 [MQTT-1.5.4-1].
                (
                    &[first, 0x08, 0x00, 0x01, 0x00, 0x04, 0x1F, 0x00, 0x01, 0xFF],
                    V5,
                    E::InvalidUtf8,
                    0x81,
                ),
            ];
            for (bytes, version, err, code) in cases {
                assert_decode_err(bytes, version, err, code);
            }
        }
    }

    #[test]
    fn non_minimal_forms_decode_and_encode_minimally() {
        for (first, packet) in ACKS {
            let minimal = ack(packet, 7, ReasonCode::Success, Properties::default());
            // Remaining Length 3 with Success, and 4 with an empty property list.
            for bytes in [
                &[first, 0x03, 0x00, 0x07, 0x00][..],
                &[first, 0x04, 0x00, 0x07, 0x00, 0x00],
            ] {
                let decoded = Packet::decode(first, Bytes::copy_from_slice(&bytes[2..]), V5);
                assert_eq!(decoded.as_ref(), Ok(&minimal));
            }
            assert_vector(&minimal, V5, &[first, 0x02, 0x00, 0x07]);
        }
    }

    #[test]
    fn v311_sends_only_the_packet_id() {
        // A success code other than 0x00 and the properties have no 3.1.1 form.
        let p = ack(
            PacketType::PubAck,
            9,
            ReasonCode::NoMatchingSubscribers,
            reason_and_user(),
        );
        let mut out = Vec::new();
        p.encode(V311, &mut out).unwrap();
        assert_eq!(out, [0x40, 0x02, 0x00, 0x09]);
        assert_eq!(p.encoded_len(V311), 4);
    }

    #[test]
    fn encode_errors_leave_the_output_unchanged() {
        use ReasonCode as R;
        let long = Properties {
            reason_string: Some(String::from_utf8(vec![b'a'; 65_536]).unwrap()),
            ..Properties::default()
        };
        let nul = Properties {
            user_properties: vec![("k".into(), "v\0".into())],
            ..Properties::default()
        };
        let alias = Properties {
            topic_alias: Some(3),
            ..Properties::default()
        };
        let empty = Properties::default;
        let invalid = |code, packet| EncodeError::InvalidReasonCode { code, packet };
        let cases = [
            (
                PacketType::PubAck,
                R::PacketIdentifierNotFound,
                empty(),
                V5,
                invalid(R::PacketIdentifierNotFound, PacketType::PubAck),
            ),
            (
                PacketType::PubRec,
                R::ProtocolError,
                empty(),
                V5,
                invalid(R::ProtocolError, PacketType::PubRec),
            ),
            (
                PacketType::PubRel,
                R::NoMatchingSubscribers,
                empty(),
                V5,
                invalid(R::NoMatchingSubscribers, PacketType::PubRel),
            ),
            (
                PacketType::PubComp,
                R::UnspecifiedError,
                empty(),
                V311,
                invalid(R::UnspecifiedError, PacketType::PubComp),
            ),
            // MQTT 3.1.1 acknowledgements cannot carry a failure.
            (
                PacketType::PubAck,
                R::QuotaExceeded,
                empty(),
                V311,
                EncodeError::NotInVersion(R::QuotaExceeded),
            ),
            (
                PacketType::PubRel,
                R::PacketIdentifierNotFound,
                empty(),
                V311,
                EncodeError::NotInVersion(R::PacketIdentifierNotFound),
            ),
            (
                PacketType::PubAck,
                R::Success,
                alias,
                V5,
                EncodeError::PropertyNotAllowed {
                    property: PropertyId::TopicAlias,
                    packet: PacketType::PubAck,
                },
            ),
            (
                PacketType::PubRec,
                R::Success,
                long,
                V5,
                EncodeError::FieldTooLong,
            ),
            (
                PacketType::PubComp,
                R::Success,
                nul,
                V5,
                EncodeError::NullCharacter,
            ),
        ];
        for (packet, code, properties, version, err) in cases {
            assert_encode_err(&ack(packet, 1, code, properties), version, err);
        }
    }
}
