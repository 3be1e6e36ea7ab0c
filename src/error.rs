//! Failures on their way to JS, where they become `MqttError`s with
//! `code` and `reasonCode`.
//!
//! Messages are put together from static strings: formatting machinery
//! (`core::fmt`, the `Display` impls of the session's errors) would cost
//! more of the wasm than all of this.

use alloc::string::String;
use wasmqtt_codec::{EncodeError, TopicError};
use wasmqtt_session::{ConnectionError, ProtocolError, PublishError, UsageError};

use crate::events::Out;

/// A failure on its way to JS.
#[derive(Debug, Clone)]
pub(crate) struct Error {
    /// Stable machine-readable code, e.g. `QUEUE_FULL`.
    pub(crate) code: &'static str,
    /// The MQTT reason code involved, if any.
    pub(crate) reason_code: Option<u8>,
    pub(crate) message: String,
    /// JS appends ": " and the reason code's description (the texts live
    /// in `js/bridge.js`, not in the wasm).
    pub(crate) describe: bool,
}

impl Error {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason_code: None,
            message: message.into(),
            describe: false,
        }
    }

    pub(crate) fn options(field: &str, problem: &str) -> Self {
        Self::new(
            "INVALID_OPTIONS",
            concat(&["invalid option ", field, ": ", problem]),
        )
    }

    /// Options making a packet the codec refuses.
    pub(crate) fn encode_options(e: &EncodeError) -> Self {
        Self::new(
            "INVALID_OPTIONS",
            concat(&["cannot encode packet: ", encode_problem(e)]),
        )
    }

    /// The error record `js/bridge.js` turns into an `MqttError`: code,
    /// reason code (0xFF: none), whether to describe it, message.
    pub(crate) fn write(&self, out: &mut Out) {
        out.str(self.code)
            .u8(self.reason_code.unwrap_or(0xFF))
            .u8(self.describe.into())
            .str(&self.message);
    }
}

fn concat(parts: &[&str]) -> String {
    let mut s = String::new();
    for part in parts {
        s.push_str(part);
    }
    s
}

/// Appends `n` in decimal.
fn push_number(s: &mut String, n: u64) {
    let mut div = 1;
    while n / div >= 10 {
        div *= 10;
    }
    while div > 0 {
        s.push(char::from(b'0' + (n / div % 10) as u8));
        div /= 10;
    }
}

/// `before`, `n`, `after`.
fn with_number(before: &str, n: u64, after: &str) -> String {
    let mut s = String::from(before);
    push_number(&mut s, n);
    s.push_str(after);
    s
}

/// Why a topic was refused.
pub(crate) fn topic_problem(e: TopicError) -> &'static str {
    match e {
        TopicError::Empty => "topic is empty",
        TopicError::TooLong => "topic is longer than 65535 bytes",
        TopicError::NullCharacter => "topic contains a null character",
        TopicError::WildcardInName => "topic name contains a wildcard",
        TopicError::MisplacedMultiLevelWildcard => "'#' is not the whole last level",
        TopicError::MisplacedSingleLevelWildcard => "'+' is not a whole level",
        TopicError::InvalidShareName => "invalid share name",
        TopicError::EmptySharedFilter => "shared subscription has no topic filter",
        _ => "invalid topic",
    }
}

fn encode_problem(e: &EncodeError) -> &'static str {
    match e {
        EncodeError::FieldTooLong => "field is longer than 65535 bytes",
        EncodeError::NullCharacter => "string contains the null character",
        EncodeError::PacketTooLarge => "packet is larger than the protocol allows",
        EncodeError::PropertyNotAllowed { .. } => "a property is not allowed in this packet",
        EncodeError::InvalidPropertyValue(_) => "a property value is out of range",
        EncodeError::InvalidReasonCode { .. } => "reason code is not valid in this packet",
        EncodeError::NotInVersion(_) => "reason code has no MQTT 3.1.1 equivalent",
        EncodeError::PacketNotInVersion(_) => "packet does not exist in MQTT 3.1.1",
        EncodeError::Topic(t) => topic_problem(*t),
        EncodeError::EmptyTopicWithoutAlias => "empty topic name without a topic alias",
        EncodeError::NoTopicFilters(_) => "at least one topic filter is needed",
        EncodeError::NoLocalOnSharedSubscription => "no local option on a shared subscription",
        EncodeError::PasswordWithoutUserName => "password without user name",
        _ => "invalid packet",
    }
}

fn usage_message(e: &UsageError) -> String {
    let fixed = match e {
        UsageError::InvalidTopic(t) => return concat(&["invalid topic name: ", topic_problem(*t)]),
        UsageError::InvalidFilter(t) => {
            return concat(&["invalid topic filter: ", topic_problem(*t)])
        }
        UsageError::Encode(e) => return concat(&["cannot encode packet: ", encode_problem(e)]),
        UsageError::QoSNotSupported { max } => {
            return with_number("server accepts at most QoS ", *max as u64, "")
        }
        UsageError::PacketTooLarge { size, max } => {
            let mut s = with_number(
                "packet of ",
                *size as u64,
                " bytes exceeds the server maximum of ",
            );
            push_number(&mut s, u64::from(*max));
            return s;
        }
        UsageError::QueueFull { limit } => {
            return with_number("queue is full (", *limit as u64, " messages)")
        }
        UsageError::NoFilters => "at least one topic filter is needed",
        UsageError::RetainNotSupported => "server does not support retained messages",
        UsageError::WildcardNotSupported => "server does not support wildcard subscriptions",
        UsageError::SharedNotSupported => "server does not support shared subscriptions",
        UsageError::SubscriptionIdentifierNotSupported => {
            "server does not support subscription identifiers"
        }
        UsageError::NotConnected => "not connected",
        UsageError::AlreadyConnected => "already connected",
        UsageError::NotInV311 => "not available in MQTT 3.1.1",
        UsageError::NoAuthenticationMethod => "no authentication method configured",
        _ => "invalid argument",
    };
    String::from(fixed)
}

fn protocol_message(e: &ProtocolError) -> String {
    let fixed = match e {
        // Described from the reason code, in JS.
        ProtocolError::Decode(_) => "",
        ProtocolError::UnexpectedPacket(_) => "unexpected packet",
        ProtocolError::ReceiveMaximumExceeded => "server exceeded our receive maximum",
        ProtocolError::TopicAliasInvalid(a) => {
            return with_number("invalid topic alias ", u64::from(*a), "")
        }
        ProtocolError::TopicAliasUnknown(a) => {
            return with_number("unknown topic alias ", u64::from(*a), "")
        }
        ProtocolError::UnknownPacketId(id) => {
            return with_number(
                "acknowledgement for unknown packet identifier ",
                u64::from(*id),
                "",
            )
        }
        ProtocolError::ReasonCodeCount { expected, got } => {
            let mut s = with_number("acknowledgement has ", *got as u64, " reason codes for ");
            push_number(&mut s, *expected as u64);
            s.push_str(" filters");
            return s;
        }
        _ => "protocol violation",
    };
    String::from(fixed)
}

fn connection_message(e: &ConnectionError) -> String {
    let fixed = match e {
        ConnectionError::Refused { .. } => "connection refused",
        ConnectionError::ServerDisconnected { .. } => "disconnected by server",
        ConnectionError::Protocol(ProtocolError::Decode(_)) => "protocol error",
        ConnectionError::Protocol(p) => {
            let mut s = String::from("protocol error: ");
            s.push_str(&protocol_message(p));
            return s;
        }
        ConnectionError::ConnectTimeout => "no CONNACK within the connect timeout",
        ConnectionError::KeepAliveTimeout => "keep alive timeout",
        ConnectionError::ConnectionLost => "connection lost",
        _ => "disconnected",
    };
    String::from(fixed)
}

impl From<UsageError> for Error {
    fn from(e: UsageError) -> Self {
        let code = match e {
            UsageError::InvalidTopic(_) => "INVALID_TOPIC",
            UsageError::InvalidFilter(_) | UsageError::NoFilters => "INVALID_FILTER",
            UsageError::QoSNotSupported { .. } => "QOS_NOT_SUPPORTED",
            UsageError::RetainNotSupported => "RETAIN_NOT_SUPPORTED",
            UsageError::WildcardNotSupported
            | UsageError::SharedNotSupported
            | UsageError::SubscriptionIdentifierNotSupported => "NOT_SUPPORTED",
            UsageError::PacketTooLarge { .. } => "PACKET_TOO_LARGE",
            UsageError::QueueFull { .. } => "QUEUE_FULL",
            UsageError::NotConnected => "NOT_CONNECTED",
            UsageError::NotInV311 => "NOT_IN_MQTT_3_1_1",
            _ => "INVALID_ARGUMENT",
        };
        Self::new(code, usage_message(&e))
    }
}

impl From<&ConnectionError> for Error {
    fn from(e: &ConnectionError) -> Self {
        let code = match e {
            ConnectionError::Refused { .. } => "CONNECTION_REFUSED",
            ConnectionError::ServerDisconnected { .. } => "SERVER_DISCONNECTED",
            ConnectionError::Protocol(_) => "PROTOCOL_ERROR",
            ConnectionError::ConnectTimeout => "CONNECT_TIMEOUT",
            ConnectionError::KeepAliveTimeout => "KEEPALIVE_TIMEOUT",
            ConnectionError::ConnectionLost => "CONNECTION_LOST",
            _ => "DISCONNECTED",
        };
        Self {
            code,
            reason_code: e.reason_code().map(u8::from),
            message: connection_message(e),
            describe: matches!(
                e,
                ConnectionError::Refused { .. }
                    | ConnectionError::ServerDisconnected { .. }
                    | ConnectionError::Protocol(ProtocolError::Decode(_))
            ),
        }
    }
}

impl From<PublishError> for Error {
    fn from(e: PublishError) -> Self {
        match e {
            PublishError::Rejected { reason_code, .. } => Self {
                code: "REJECTED",
                reason_code: Some(u8::from(reason_code)),
                message: String::from("rejected by server"),
                describe: true,
            },
            PublishError::Expired => {
                Self::new("EXPIRED", "message expired before it could be sent")
            }
            PublishError::SessionLost => Self::new(
                "SESSION_LOST",
                "session lost before the message was acknowledged",
            ),
            PublishError::Usage(u) => Error::from(u),
            _ => Self::new("FAILED", "the message could not be sent"),
        }
    }
}
