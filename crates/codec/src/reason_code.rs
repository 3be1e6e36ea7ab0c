//! MQTT 5.0 reason codes (section 2.4) and the set each packet may carry.

use crate::packet::PacketType;

macro_rules! reason_codes {
    ($($(#[$doc:meta])* $name:ident = $value:literal, $text:literal, [$($packet:ident),*];)*) => {
        /// A Reason Code: the outcome of an operation (MQTT 5.0 section 2.4).
        ///
        /// Values below 0x80 report success, 0x80 and above report failure.
        /// The value 0x00 is called Success, Normal disconnection or Granted
        /// QoS 0 depending on the packet; see the associated constants.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        #[non_exhaustive]
        #[repr(u8)]
        pub enum ReasonCode {
            $($(#[$doc])* $name = $value,)*
        }

        impl ReasonCode {
            /// The reason code for a byte, or `None` if MQTT 5.0 defines none.
            #[must_use]
            pub const fn from_u8(value: u8) -> Option<Self> {
                match value {
                    $($value => Some(Self::$name),)*
                    _ => None,
                }
            }

            /// Whether `packet` may carry this reason code.
            #[must_use]
            pub const fn is_valid_for(self, packet: PacketType) -> bool {
                let mask: u16 = match self {
                    $(Self::$name => 0 $(| (1 << PacketType::$packet as u16))*,)*
                };
                mask & (1 << packet as u16) != 0
            }

            /// The spec's short description, for logs and error messages.
            #[must_use]
            pub const fn description(self) -> &'static str {
                match self {
                    $(Self::$name => $text,)*
                }
            }
        }
    };
}

reason_codes! {
    /// Success; also Normal disconnection and Granted QoS 0.
    #[default]
    Success = 0x00, "success", [ConnAck, PubAck, PubRec, PubRel, PubComp, SubAck, UnsubAck, Disconnect, Auth];
    /// Granted QoS 1.
    GrantedQoS1 = 0x01, "granted QoS 1", [SubAck];
    /// Granted QoS 2.
    GrantedQoS2 = 0x02, "granted QoS 2", [SubAck];
    /// Disconnect with Will Message.
    DisconnectWithWillMessage = 0x04, "disconnect with will message", [Disconnect];
    /// No matching subscribers.
    NoMatchingSubscribers = 0x10, "no matching subscribers", [PubAck, PubRec];
    /// No subscription existed.
    NoSubscriptionExisted = 0x11, "no subscription existed", [UnsubAck];
    /// Continue authentication.
    ContinueAuthentication = 0x18, "continue authentication", [Auth];
    /// Re-authenticate.
    ReAuthenticate = 0x19, "re-authenticate", [Auth];
    /// Unspecified error.
    UnspecifiedError = 0x80, "unspecified error", [ConnAck, PubAck, PubRec, SubAck, UnsubAck, Disconnect];
    /// Malformed Packet.
    MalformedPacket = 0x81, "malformed packet", [ConnAck, Disconnect];
    /// Protocol Error.
    ProtocolError = 0x82, "protocol error", [ConnAck, Disconnect];
    /// Implementation specific error.
    ImplementationSpecificError = 0x83, "implementation specific error", [ConnAck, PubAck, PubRec, SubAck, UnsubAck, Disconnect];
    /// Unsupported Protocol Version.
    UnsupportedProtocolVersion = 0x84, "unsupported protocol version", [ConnAck];
    /// Client Identifier not valid.
    ClientIdentifierNotValid = 0x85, "client identifier not valid", [ConnAck];
    /// Bad User Name or Password.
    BadUserNameOrPassword = 0x86, "bad user name or password", [ConnAck];
    /// Not authorized.
    NotAuthorized = 0x87, "not authorized", [ConnAck, PubAck, PubRec, SubAck, UnsubAck, Disconnect];
    /// Server unavailable.
    ServerUnavailable = 0x88, "server unavailable", [ConnAck];
    /// Server busy.
    ServerBusy = 0x89, "server busy", [ConnAck, Disconnect];
    /// Banned.
    Banned = 0x8A, "banned", [ConnAck];
    /// Server shutting down.
    ServerShuttingDown = 0x8B, "server shutting down", [Disconnect];
    /// Bad authentication method.
    BadAuthenticationMethod = 0x8C, "bad authentication method", [ConnAck, Disconnect];
    /// Keep Alive timeout.
    KeepAliveTimeout = 0x8D, "keep alive timeout", [Disconnect];
    /// Session taken over.
    SessionTakenOver = 0x8E, "session taken over", [Disconnect];
    /// Topic Filter invalid.
    TopicFilterInvalid = 0x8F, "topic filter invalid", [SubAck, UnsubAck, Disconnect];
    /// Topic Name invalid.
    TopicNameInvalid = 0x90, "topic name invalid", [ConnAck, PubAck, PubRec, Disconnect];
    /// Packet Identifier in use.
    PacketIdentifierInUse = 0x91, "packet identifier in use", [PubAck, PubRec, SubAck, UnsubAck];
    /// Packet Identifier not found.
    PacketIdentifierNotFound = 0x92, "packet identifier not found", [PubRel, PubComp];
    /// Receive Maximum exceeded.
    ReceiveMaximumExceeded = 0x93, "receive maximum exceeded", [Disconnect];
    /// Topic Alias invalid.
    TopicAliasInvalid = 0x94, "topic alias invalid", [Disconnect];
    /// Packet too large.
    PacketTooLarge = 0x95, "packet too large", [ConnAck, Disconnect];
    /// Message rate too high.
    MessageRateTooHigh = 0x96, "message rate too high", [Disconnect];
    /// Quota exceeded.
    QuotaExceeded = 0x97, "quota exceeded", [ConnAck, PubAck, PubRec, SubAck, Disconnect];
    /// Administrative action.
    AdministrativeAction = 0x98, "administrative action", [Disconnect];
    /// Payload format invalid.
    PayloadFormatInvalid = 0x99, "payload format invalid", [ConnAck, PubAck, PubRec, Disconnect];
    /// Retain not supported.
    RetainNotSupported = 0x9A, "retain not supported", [ConnAck, Disconnect];
    /// QoS not supported.
    QoSNotSupported = 0x9B, "QoS not supported", [ConnAck, Disconnect];
    /// Use another server.
    UseAnotherServer = 0x9C, "use another server", [ConnAck, Disconnect];
    /// Server moved.
    ServerMoved = 0x9D, "server moved", [ConnAck, Disconnect];
    /// Shared Subscriptions not supported.
    SharedSubscriptionsNotSupported = 0x9E, "shared subscriptions not supported", [SubAck, Disconnect];
    /// Connection rate exceeded.
    ConnectionRateExceeded = 0x9F, "connection rate exceeded", [ConnAck, Disconnect];
    /// Maximum connect time.
    MaximumConnectTime = 0xA0, "maximum connect time", [Disconnect];
    /// Subscription Identifiers not supported.
    SubscriptionIdentifiersNotSupported = 0xA1, "subscription identifiers not supported", [SubAck, Disconnect];
    /// Wildcard Subscriptions not supported.
    WildcardSubscriptionsNotSupported = 0xA2, "wildcard subscriptions not supported", [SubAck, Disconnect];
}

impl ReasonCode {
    /// 0x00 as DISCONNECT calls it.
    pub const NORMAL_DISCONNECTION: Self = Self::Success;
    /// 0x00 as SUBACK calls it.
    pub const GRANTED_QOS_0: Self = Self::Success;

    /// Whether this code reports a failure (0x80 and above).
    #[must_use]
    pub const fn is_error(self) -> bool {
        self as u8 >= 0x80
    }
}

impl From<ReasonCode> for u8 {
    fn from(code: ReasonCode) -> u8 {
        code as u8
    }
}

impl core::fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.description())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_round_trips_or_is_unknown() {
        let mut known = 0;
        for b in 0..=255u8 {
            if let Some(code) = ReasonCode::from_u8(b) {
                assert_eq!(u8::from(code), b);
                known += 1;
            }
        }
        // 43 distinct values are defined in MQTT 5.0 section 2.4.
        assert_eq!(known, 43);
        assert_eq!(ReasonCode::from_u8(0x03), None);
        assert_eq!(ReasonCode::from_u8(0xA3), None);
    }

    #[test]
    fn packet_sets_follow_the_spec_tables() {
        use PacketType::*;
        let count = |p: PacketType| {
            (0..=255u8)
                .filter_map(ReasonCode::from_u8)
                .filter(|c| c.is_valid_for(p))
                .count()
        };
        // Sizes of the tables in sections 3.2.2.2, 3.4.2.1, 3.5.2.1, 3.6.2.1,
        // 3.7.2.1, 3.9.3, 3.11.3, 3.14.2.1 and 3.15.2.1.
        assert_eq!(count(ConnAck), 22);
        assert_eq!(count(PubAck), 9);
        assert_eq!(count(PubRec), 9);
        assert_eq!(count(PubRel), 2);
        assert_eq!(count(PubComp), 2);
        assert_eq!(count(SubAck), 12);
        assert_eq!(count(UnsubAck), 7);
        assert_eq!(count(Disconnect), 30);
        assert_eq!(count(Auth), 3);
        assert_eq!(count(Connect), 0);
        assert_eq!(count(Publish), 0);
        assert!(ReasonCode::GrantedQoS2.is_valid_for(SubAck));
        assert!(!ReasonCode::GrantedQoS2.is_valid_for(PubAck));
        assert!(ReasonCode::ReceiveMaximumExceeded.is_valid_for(Disconnect));
        assert!(!ReasonCode::ReceiveMaximumExceeded.is_valid_for(ConnAck));
    }

    #[test]
    fn is_valid_for_matches_every_spec_table_exactly() {
        use PacketType::*;
        // Written out independently of `reason_codes!`.
        #[rustfmt::skip]
        let tables: [(PacketType, &[u8]); 9] = [
            // Section 3.2.2.2.
            (ConnAck, &[0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A,
                        0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F]),
            // Sections 3.4.2.1 and 3.5.2.1.
            (PubAck, &[0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]),
            (PubRec, &[0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]),
            // Sections 3.6.2.1 and 3.7.2.1.
            (PubRel, &[0x00, 0x92]),
            (PubComp, &[0x00, 0x92]),
            // Section 3.9.3.
            (SubAck, &[0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2]),
            // Section 3.11.3.
            (UnsubAck, &[0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91]),
            // Section 3.14.2.1, plus 0x8C (Bad authentication method): the
            // table there omits it, but Table 2-6 in section 2.4 lists it for
            // CONNACK and DISCONNECT, so a receiver accepts it.
            (Disconnect, &[0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8C, 0x8D,
                           0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A,
                           0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2]),
            // Section 3.15.2.1.
            (Auth, &[0x00, 0x18, 0x19]),
        ];
        let mut pairs = 0;
        for code in (0..=255).filter_map(ReasonCode::from_u8) {
            for nibble in 1..16 {
                let packet = PacketType::from_nibble(nibble, crate::ProtocolVersion::V5).unwrap();
                let listed = tables
                    .iter()
                    .any(|(p, codes)| *p == packet && codes.contains(&u8::from(code)));
                assert_eq!(code.is_valid_for(packet), listed, "{code:?} in {packet:?}");
                pairs += usize::from(listed);
            }
        }
        // Every listed code is defined, so each was checked above.
        assert_eq!(pairs, tables.iter().map(|(_, codes)| codes.len()).sum());
    }

    #[test]
    fn names_and_descriptions() {
        assert_eq!(ReasonCode::NORMAL_DISCONNECTION as u8, 0x00);
        assert_eq!(ReasonCode::GRANTED_QOS_0 as u8, 0x00);
        assert_eq!(ReasonCode::default(), ReasonCode::Success);
        assert_eq!(
            alloc::format!("{}", ReasonCode::QuotaExceeded),
            "quota exceeded"
        );
        assert_eq!(
            ReasonCode::QoSNotSupported.description(),
            "QoS not supported"
        );
    }

    #[test]
    fn errors_start_at_0x80() {
        assert!(!ReasonCode::NoMatchingSubscribers.is_error());
        assert!(ReasonCode::UnspecifiedError.is_error());
        assert!(ReasonCode::WildcardSubscriptionsNotSupported.is_error());
    }
}
