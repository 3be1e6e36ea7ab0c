//! Failures on their way to JS, where they become `MqttError`s with
//! `code` and `reasonCode`.
//!
//! The wasm names a failure by number and hands over the values in it;
//! `js/bridge.js` (`FAILURES`, `DETAILS`) holds each one's code and message,
//! so no text and no formatting is built here. `failures_match_js` checks
//! that both sides number them alike.

use alloc::string::String;
use wasmqtt_codec::{EncodeError, TopicError};
use wasmqtt_session::{ConnectionError, ProtocolError, PublishError, UsageError};

use crate::events::Out;

/// Every failure the client reports, numbered as `FAILURES` in
/// `js/bridge.js`, which gives each its `code` and message. Append only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Failure {
    InvalidTopic,
    InvalidFilter,
    NoFilters,
    Encode,
    EncodeOptions,
    QoSNotSupported,
    PacketTooLarge,
    QueueFull,
    RetainNotSupported,
    WildcardNotSupported,
    SharedNotSupported,
    SubscriptionIdentifierNotSupported,
    NotConnected,
    AlreadyConnected,
    NotInV311,
    NoAuthenticationMethod,
    InvalidArgument,
    WillTopic,
    DisconnectReasonCode,
    ExpiryAfterZero,
    InvalidProperties,
    Refused,
    ServerDisconnected,
    Malformed,
    UnexpectedPacket,
    ReceiveMaximumExceeded,
    TopicAliasInvalid,
    TopicAliasUnknown,
    UnknownPacketId,
    ReasonCodeCount,
    SessionPresentInvalid,
    SessionExpiryFromServer,
    ProtocolViolation,
    ConnectTimeout,
    KeepAliveTimeout,
    ConnectionLost,
    Disconnected,
    Rejected,
    Expired,
    SessionLost,
    PublishFailed,
    ClientEnded,
    Stopped,
    ConnectFailed,
    SocketFailed,
    CredentialsFailed,
    SubscriptionLost,
    RequestTimeout,
}

/// A failure on its way to JS: which one, and the values its message
/// shows.
#[derive(Debug, Clone)]
pub(crate) struct Error {
    failure: Failure,
    /// The MQTT reason code involved, if any.
    pub(crate) reason_code: Option<u8>,
    /// Why a topic or packet was refused: an index into `DETAILS`.
    detail: u8,
    numbers: [u32; 2],
    /// A URL, a filter, or what a JS call threw.
    pub(crate) text: String,
    /// The session's typed error this one came from, for the Rust API.
    #[cfg(feature = "rust-api")]
    pub(crate) source: Option<Source>,
}

/// A session error kept whole for the Rust API (`crate::api::Error`).
#[cfg(feature = "rust-api")]
#[derive(Debug, Clone)]
pub(crate) enum Source {
    Usage(UsageError),
    Publish(PublishError),
    Connection(ConnectionError),
    Encode(EncodeError),
}

impl Error {
    pub(crate) fn new(failure: Failure) -> Self {
        Self {
            failure,
            reason_code: None,
            detail: 0,
            numbers: [0; 2],
            text: String::new(),
            #[cfg(feature = "rust-api")]
            source: None,
        }
    }

    /// Which failure this is.
    #[cfg(any(test, feature = "rust-api"))]
    pub(crate) fn failure(&self) -> Failure {
        self.failure
    }

    #[cfg(feature = "rust-api")]
    fn with_source(self, source: Source) -> Self {
        Self {
            source: Some(source),
            ..self
        }
    }

    pub(crate) fn with_text(failure: Failure, text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::new(failure)
        }
    }

    fn with_numbers(failure: Failure, a: usize, b: usize) -> Self {
        let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        Self {
            numbers: [n(a), n(b)],
            ..Self::new(failure)
        }
    }

    /// A topic or filter the codec refused.
    pub(crate) fn topic(failure: Failure, e: TopicError) -> Self {
        Self {
            detail: topic_detail(e),
            ..Self::new(failure)
        }
    }

    /// A packet the codec refused to encode.
    pub(crate) fn encode(failure: Failure, e: &EncodeError) -> Self {
        let error = Self {
            detail: encode_detail(e),
            ..Self::new(failure)
        };
        #[cfg(feature = "rust-api")]
        return error.with_source(Source::Encode(e.clone()));
        #[cfg(not(feature = "rust-api"))]
        error
    }

    /// The error record `js/bridge.js` turns into an `MqttError`: failure,
    /// reason code (0xFF: none), detail, two numbers, text.
    pub(crate) fn write(&self, out: &mut Out) {
        out.u8(self.failure as u8)
            .u8(self.reason_code.unwrap_or(0xFF))
            .u8(self.detail)
            .u32(self.numbers[0])
            .u32(self.numbers[1])
            .str(&self.text);
    }
}

/// Why a topic was refused: `DETAILS` 0 to 8 in `js/bridge.js`.
fn topic_detail(e: TopicError) -> u8 {
    match e {
        TopicError::Empty => 0,
        TopicError::TooLong => 1,
        TopicError::NullCharacter => 2,
        TopicError::WildcardInName => 3,
        TopicError::MisplacedMultiLevelWildcard => 4,
        TopicError::MisplacedSingleLevelWildcard => 5,
        TopicError::InvalidShareName => 6,
        TopicError::EmptySharedFilter => 7,
        _ => 8,
    }
}

/// Why a packet was not encoded: `DETAILS` 9 to 21 (a topic: 0 to 8).
fn encode_detail(e: &EncodeError) -> u8 {
    match e {
        EncodeError::Topic(t) => topic_detail(*t),
        EncodeError::FieldTooLong => 9,
        EncodeError::NullCharacter => 10,
        EncodeError::PacketTooLarge => 11,
        EncodeError::PropertyNotAllowed { .. } => 12,
        EncodeError::InvalidPropertyValue(_) => 13,
        EncodeError::InvalidReasonCode { .. } => 14,
        EncodeError::NotInVersion(_) => 15,
        EncodeError::PacketNotInVersion(_) => 16,
        EncodeError::EmptyTopicWithoutAlias => 17,
        EncodeError::NoTopicFilters(_) => 18,
        EncodeError::NoLocalOnSharedSubscription => 19,
        EncodeError::PasswordWithoutUserName => 20,
        _ => 21,
    }
}

impl From<UsageError> for Error {
    fn from(e: UsageError) -> Self {
        #[cfg(feature = "rust-api")]
        return Self::usage(e.clone()).with_source(Source::Usage(e));
        #[cfg(not(feature = "rust-api"))]
        Self::usage(e)
    }
}

impl Error {
    fn usage(e: UsageError) -> Self {
        let failure = match e {
            UsageError::InvalidTopic(t) => return Self::topic(Failure::InvalidTopic, t),
            UsageError::InvalidFilter(t) => return Self::topic(Failure::InvalidFilter, t),
            UsageError::Encode(e) => return Self::encode(Failure::Encode, &e),
            UsageError::QoSNotSupported { max } => {
                return Self::with_numbers(Failure::QoSNotSupported, max as usize, 0)
            }
            UsageError::PacketTooLarge { size, max } => {
                return Self::with_numbers(Failure::PacketTooLarge, size, max as usize)
            }
            UsageError::QueueFull { limit } => {
                return Self::with_numbers(Failure::QueueFull, limit, 0)
            }
            UsageError::NoFilters => Failure::NoFilters,
            UsageError::RetainNotSupported => Failure::RetainNotSupported,
            UsageError::WildcardNotSupported => Failure::WildcardNotSupported,
            UsageError::SharedNotSupported => Failure::SharedNotSupported,
            UsageError::SubscriptionIdentifierNotSupported => {
                Failure::SubscriptionIdentifierNotSupported
            }
            UsageError::NotConnected => Failure::NotConnected,
            UsageError::AlreadyConnected => Failure::AlreadyConnected,
            UsageError::NotInV311 => Failure::NotInV311,
            UsageError::NoAuthenticationMethod => Failure::NoAuthenticationMethod,
            UsageError::SessionExpiryAfterZero => Failure::ExpiryAfterZero,
            _ => Failure::InvalidArgument,
        };
        Self::new(failure)
    }
}

fn protocol(e: &ProtocolError) -> Error {
    let failure = match e {
        ProtocolError::Decode(_) => Failure::Malformed,
        ProtocolError::UnexpectedPacket(_) => Failure::UnexpectedPacket,
        ProtocolError::ReceiveMaximumExceeded => Failure::ReceiveMaximumExceeded,
        ProtocolError::TopicAliasInvalid(a) => {
            return Error::with_numbers(Failure::TopicAliasInvalid, usize::from(*a), 0)
        }
        ProtocolError::TopicAliasUnknown(a) => {
            return Error::with_numbers(Failure::TopicAliasUnknown, usize::from(*a), 0)
        }
        ProtocolError::UnknownPacketId(id) => {
            return Error::with_numbers(Failure::UnknownPacketId, usize::from(*id), 0)
        }
        ProtocolError::ReasonCodeCount { expected, got } => {
            return Error::with_numbers(Failure::ReasonCodeCount, *got, *expected)
        }
        ProtocolError::SessionPresentInvalid => Failure::SessionPresentInvalid,
        ProtocolError::SessionExpiryFromServer => Failure::SessionExpiryFromServer,
        _ => Failure::ProtocolViolation,
    };
    Error::new(failure)
}

impl From<&ConnectionError> for Error {
    fn from(e: &ConnectionError) -> Self {
        #[cfg(feature = "rust-api")]
        return Self::connection(e).with_source(Source::Connection(e.clone()));
        #[cfg(not(feature = "rust-api"))]
        Self::connection(e)
    }
}

impl Error {
    fn connection(e: &ConnectionError) -> Self {
        let mut error = match e {
            ConnectionError::Refused { .. } => Self::new(Failure::Refused),
            ConnectionError::ServerDisconnected { .. } => Self::new(Failure::ServerDisconnected),
            ConnectionError::Protocol(p) => protocol(p),
            ConnectionError::ConnectTimeout => Self::new(Failure::ConnectTimeout),
            ConnectionError::KeepAliveTimeout => Self::new(Failure::KeepAliveTimeout),
            ConnectionError::ConnectionLost => Self::new(Failure::ConnectionLost),
            _ => Self::new(Failure::Disconnected),
        };
        error.reason_code = e.reason_code().map(u8::from);
        error
    }
}

impl From<PublishError> for Error {
    fn from(e: PublishError) -> Self {
        #[cfg(feature = "rust-api")]
        return Self::publish(e.clone()).with_source(Source::Publish(e));
        #[cfg(not(feature = "rust-api"))]
        Self::publish(e)
    }
}

impl Error {
    fn publish(e: PublishError) -> Self {
        match e {
            PublishError::Rejected { reason_code, .. } => Self {
                reason_code: Some(u8::from(reason_code)),
                ..Self::new(Failure::Rejected)
            },
            PublishError::Expired => Self::new(Failure::Expired),
            PublishError::SessionLost => Self::new(Failure::SessionLost),
            PublishError::Usage(u) => Error::from(u),
            _ => Self::new(Failure::PublishFailed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every failure in order, with its code and how many of its values
    /// the message shows: what `FAILURES` in `js/bridge.js` must say.
    const ALL: &[(Failure, &str)] = &[
        (Failure::InvalidTopic, "INVALID_TOPIC"),
        (Failure::InvalidFilter, "INVALID_FILTER"),
        (Failure::NoFilters, "INVALID_FILTER"),
        (Failure::Encode, "INVALID_ARGUMENT"),
        (Failure::EncodeOptions, "INVALID_OPTIONS"),
        (Failure::QoSNotSupported, "QOS_NOT_SUPPORTED"),
        (Failure::PacketTooLarge, "PACKET_TOO_LARGE"),
        (Failure::QueueFull, "QUEUE_FULL"),
        (Failure::RetainNotSupported, "RETAIN_NOT_SUPPORTED"),
        (Failure::WildcardNotSupported, "NOT_SUPPORTED"),
        (Failure::SharedNotSupported, "NOT_SUPPORTED"),
        (Failure::SubscriptionIdentifierNotSupported, "NOT_SUPPORTED"),
        (Failure::NotConnected, "NOT_CONNECTED"),
        (Failure::AlreadyConnected, "INVALID_ARGUMENT"),
        (Failure::NotInV311, "NOT_IN_MQTT_3_1_1"),
        (Failure::NoAuthenticationMethod, "INVALID_ARGUMENT"),
        (Failure::InvalidArgument, "INVALID_ARGUMENT"),
        (Failure::WillTopic, "INVALID_OPTIONS"),
        (Failure::DisconnectReasonCode, "INVALID_OPTIONS"),
        (Failure::ExpiryAfterZero, "INVALID_OPTIONS"),
        (Failure::InvalidProperties, "INVALID_OPTIONS"),
        (Failure::Refused, "CONNECTION_REFUSED"),
        (Failure::ServerDisconnected, "SERVER_DISCONNECTED"),
        (Failure::Malformed, "PROTOCOL_ERROR"),
        (Failure::UnexpectedPacket, "PROTOCOL_ERROR"),
        (Failure::ReceiveMaximumExceeded, "PROTOCOL_ERROR"),
        (Failure::TopicAliasInvalid, "PROTOCOL_ERROR"),
        (Failure::TopicAliasUnknown, "PROTOCOL_ERROR"),
        (Failure::UnknownPacketId, "PROTOCOL_ERROR"),
        (Failure::ReasonCodeCount, "PROTOCOL_ERROR"),
        (Failure::SessionPresentInvalid, "PROTOCOL_ERROR"),
        (Failure::SessionExpiryFromServer, "PROTOCOL_ERROR"),
        (Failure::ProtocolViolation, "PROTOCOL_ERROR"),
        (Failure::ConnectTimeout, "CONNECT_TIMEOUT"),
        (Failure::KeepAliveTimeout, "KEEPALIVE_TIMEOUT"),
        (Failure::ConnectionLost, "CONNECTION_LOST"),
        (Failure::Disconnected, "DISCONNECTED"),
        (Failure::Rejected, "REJECTED"),
        (Failure::Expired, "EXPIRED"),
        (Failure::SessionLost, "SESSION_LOST"),
        (Failure::PublishFailed, "FAILED"),
        (Failure::ClientEnded, "CLIENT_ENDED"),
        (Failure::Stopped, "NOT_CONNECTED"),
        (Failure::ConnectFailed, "CONNECT_FAILED"),
        (Failure::SocketFailed, "CONNECT_FAILED"),
        (Failure::CredentialsFailed, "CREDENTIALS_FAILED"),
        (Failure::SubscriptionLost, "SUBSCRIPTION_LOST"),
        (Failure::RequestTimeout, "REQUEST_TIMEOUT"),
    ];

    /// The string literals (quoted with ' or ") of the JS array that
    /// starts with `const NAME = [`.
    fn js_array(source: &str, name: &str) -> Vec<String> {
        let start = source.find(&format!("const {name} = [")).expect(name);
        let body = &source[start..];
        let mut chars = body[..body.find("];").expect("end of array")].chars();
        let mut items = Vec::new();
        while let Some(c) = chars.next() {
            if c == '\'' || c == '"' {
                items.push(chars.by_ref().take_while(|&d| d != c).collect());
            }
        }
        items
    }

    #[test]
    fn failures_match_js() {
        let js = js_array(include_str!("../js/bridge.js"), "FAILURES");
        assert_eq!(js.len(), ALL.len(), "FAILURES in js/bridge.js: {js:?}");
        for (i, (failure, code)) in ALL.iter().enumerate() {
            assert_eq!(*failure as usize, i, "{failure:?} is out of order in ALL");
            let (js_code, message) = js[i].split_once(' ').expect("code and message");
            assert_eq!(js_code, *code, "FAILURES[{i}] ({failure:?}): {message}");
        }
    }

    #[test]
    fn details_match_js() {
        let js = js_array(include_str!("../js/bridge.js"), "DETAILS");
        assert_eq!(js.len(), 22, "DETAILS in js/bridge.js: {js:?}");
        assert_eq!(
            js[usize::from(topic_detail(TopicError::EmptySharedFilter))],
            "shared subscription has no topic filter"
        );
        assert_eq!(
            js[usize::from(encode_detail(&EncodeError::PasswordWithoutUserName))],
            "password without user name"
        );
        assert_eq!(
            js[usize::from(encode_detail(&EncodeError::Topic(TopicError::Empty)))],
            "topic is empty"
        );
    }
}
