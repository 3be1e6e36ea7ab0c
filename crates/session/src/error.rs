//! Errors, grouped by who is at fault.

use alloc::string::String;
use wasmqtt_codec::{DecodeError, EncodeError, PacketType, QoS, ReasonCode, TopicError};

/// The caller asked for something the session cannot do. Never disconnects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsageError {
    /// The topic name is not valid.
    #[error("invalid topic name: {0}")]
    InvalidTopic(TopicError),
    /// A topic filter is not valid.
    #[error("invalid topic filter: {0}")]
    InvalidFilter(TopicError),
    /// SUBSCRIBE or UNSUBSCRIBE without a topic filter.
    #[error("at least one topic filter is needed")]
    NoFilters,
    /// The QoS is above the server's Maximum QoS.
    #[error("server accepts at most QoS {max:?}")]
    QoSNotSupported {
        /// The server's Maximum QoS.
        max: QoS,
    },
    /// The server does not support retained messages.
    #[error("server does not support retained messages")]
    RetainNotSupported,
    /// The server does not support wildcard subscriptions.
    #[error("server does not support wildcard subscriptions")]
    WildcardNotSupported,
    /// The server does not support shared subscriptions.
    #[error("server does not support shared subscriptions")]
    SharedNotSupported,
    /// The server does not support Subscription Identifiers.
    #[error("server does not support subscription identifiers")]
    SubscriptionIdentifierNotSupported,
    /// The packet would exceed the server's Maximum Packet Size.
    #[error("packet of {size} bytes exceeds the server maximum of {max}")]
    PacketTooLarge {
        /// Encoded size of the packet.
        size: usize,
        /// The server's Maximum Packet Size.
        max: u32,
    },
    /// The offline queue is full.
    #[error("queue is full ({limit} messages)")]
    QueueFull {
        /// The configured limit.
        limit: usize,
    },
    /// No connection is up and the operation cannot wait for one.
    #[error("not connected")]
    NotConnected,
    /// `connect` while a connection is already being set up or is up.
    #[error("already connected")]
    AlreadyConnected,
    /// The feature does not exist in MQTT 3.1.1.
    #[error("not available in MQTT 3.1.1")]
    NotInV311,
    /// `auth` without an Authentication Method in the options.
    #[error("no authentication method configured")]
    NoAuthenticationMethod,
    /// DISCONNECT with a non-zero Session Expiry Interval after 0 (or
    /// none) in CONNECT (section 3.14.2.2.2).
    #[error("session expiry interval cannot be set when it was 0 at connect")]
    SessionExpiryAfterZero,
    /// The packet cannot be encoded as built.
    #[error("cannot encode packet: {0}")]
    Encode(EncodeError),
}

/// The broker broke a protocol rule; the session sends DISCONNECT with
/// [`ProtocolError::reason_code`] and closes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// Bytes that are not a valid packet.
    #[error("{0}")]
    Decode(DecodeError),
    /// A packet a server may not send, or not at this point.
    #[error("unexpected {0:?} packet")]
    UnexpectedPacket(PacketType),
    /// More unacknowledged QoS 2 PUBLISH than our Receive Maximum [MQTT-3.3.4-9].
    #[error("server exceeded our receive maximum")]
    ReceiveMaximumExceeded,
    /// A Topic Alias of 0 or above our Topic Alias Maximum [MQTT-3.3.2-10].
    #[error("invalid topic alias {0}")]
    TopicAliasInvalid(u16),
    /// A Topic Alias that was never mapped on this connection [MQTT-3.3.2-12].
    #[error("unknown topic alias {0}")]
    TopicAliasUnknown(u16),
    /// An acknowledgement for a Packet Identifier not in use.
    #[error("acknowledgement for unknown packet identifier {0}")]
    UnknownPacketId(u16),
    /// CONNACK with Session Present set where no session can exist: on a
    /// refusal [MQTT-3.2.2-6], or after Clean Start [MQTT-3.2.2-4].
    #[error("session present where no session can exist")]
    SessionPresentInvalid,
    /// DISCONNECT from the server with a Session Expiry Interval [MQTT-3.14.2-2].
    #[error("server sent a session expiry interval in DISCONNECT")]
    SessionExpiryFromServer,
    /// SUBACK or UNSUBACK with a different number of reason codes than filters sent.
    #[error("acknowledgement has {got} reason codes for {expected} filters")]
    ReasonCodeCount {
        /// Filters sent.
        expected: usize,
        /// Reason codes received.
        got: usize,
    },
}

impl ProtocolError {
    /// The reason code to send in DISCONNECT.
    #[must_use]
    pub fn reason_code(&self) -> ReasonCode {
        match self {
            Self::Decode(e) => e.reason_code(),
            Self::ReceiveMaximumExceeded => ReasonCode::ReceiveMaximumExceeded,
            Self::TopicAliasInvalid(_) => ReasonCode::TopicAliasInvalid,
            Self::UnexpectedPacket(_)
            | Self::TopicAliasUnknown(_)
            | Self::UnknownPacketId(_)
            | Self::SessionPresentInvalid
            | Self::SessionExpiryFromServer
            | Self::ReasonCodeCount { .. } => ReasonCode::ProtocolError,
        }
    }
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The server refused the connection in CONNACK.
    #[error("connection refused: {reason_code}")]
    Refused {
        /// The CONNACK reason code.
        reason_code: ReasonCode,
        /// The server's Reason String.
        reason_string: Option<String>,
        /// The server to use instead (with 0x9C Use another server or 0x9D Server moved).
        server_reference: Option<String>,
    },
    /// The server sent DISCONNECT.
    #[error("disconnected by server: {reason_code}")]
    ServerDisconnected {
        /// The DISCONNECT reason code.
        reason_code: ReasonCode,
        /// The server's Reason String.
        reason_string: Option<String>,
        /// The server to use instead (with 0x9C Use another server or 0x9D Server moved).
        server_reference: Option<String>,
    },
    /// The server broke the protocol; we sent DISCONNECT with its reason code.
    #[error("protocol error: {0}")]
    Protocol(ProtocolError),
    /// No CONNACK within the connect timeout.
    #[error("no CONNACK within the connect timeout")]
    ConnectTimeout,
    /// Nothing heard from the server in time after a PINGREQ.
    #[error("keep alive timeout")]
    KeepAliveTimeout,
    /// The transport closed under the session.
    #[error("connection lost")]
    ConnectionLost,
    /// We ended the connection with DISCONNECT.
    #[error("disconnected")]
    Disconnected,
}

impl ConnectionError {
    /// The reason code the server sent or that we sent, if any.
    #[must_use]
    pub fn reason_code(&self) -> Option<ReasonCode> {
        match self {
            Self::Refused { reason_code, .. } | Self::ServerDisconnected { reason_code, .. } => {
                Some(*reason_code)
            }
            Self::Protocol(e) => Some(e.reason_code()),
            Self::ConnectTimeout
            | Self::KeepAliveTimeout
            | Self::ConnectionLost
            | Self::Disconnected => None,
        }
    }

    /// The server named in a redirect (0x9C Use another server, 0x9D Server moved).
    #[must_use]
    pub fn redirect(&self) -> Option<&str> {
        match self {
            Self::Refused {
                reason_code: ReasonCode::UseAnotherServer | ReasonCode::ServerMoved,
                server_reference,
                ..
            }
            | Self::ServerDisconnected {
                reason_code: ReasonCode::UseAnotherServer | ReasonCode::ServerMoved,
                server_reference,
                ..
            } => server_reference.as_deref(),
            Self::Refused { .. }
            | Self::ServerDisconnected { .. }
            | Self::Protocol(_)
            | Self::ConnectTimeout
            | Self::KeepAliveTimeout
            | Self::ConnectionLost
            | Self::Disconnected => None,
        }
    }

    /// Whether reconnecting can help: not after our own DISCONNECT, nor
    /// after a refusal that will repeat (bad credentials, banned, not authorized …).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Disconnected => false,
            // Another connection with our client id took over; reconnecting
            // would only take it back and start a fight.
            Self::ServerDisconnected {
                reason_code: ReasonCode::SessionTakenOver,
                ..
            } => false,
            Self::Refused { reason_code, .. } => matches!(
                reason_code,
                ReasonCode::ServerUnavailable
                    | ReasonCode::ServerBusy
                    | ReasonCode::ConnectionRateExceeded
                    | ReasonCode::UnspecifiedError
                    | ReasonCode::ImplementationSpecificError
                    | ReasonCode::QuotaExceeded
                    | ReasonCode::UseAnotherServer
                    | ReasonCode::ServerMoved
            ),
            Self::ServerDisconnected { .. }
            | Self::Protocol(_)
            | Self::ConnectTimeout
            | Self::KeepAliveTimeout
            | Self::ConnectionLost => true,
        }
    }
}
