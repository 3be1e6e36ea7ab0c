//! What the session reports to its driver.

use alloc::string::String;
use alloc::vec::Vec;
use wasmqtt_codec::{Auth, ConnAck, Properties, Publish, ReasonCode};

use crate::error::{ConnectionError, UsageError};
use crate::Millis;

/// Identifies one command (publish, subscribe, unsubscribe, request) in later events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Token(pub(crate) u64);

impl Token {
    /// The token as a number, unique within the session.
    #[must_use]
    pub fn get(self) -> u64 {
        self.0
    }
}

/// Why a publish did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// The server answered PUBACK or PUBREC with a failure reason code.
    #[error("rejected by server: {reason_code}")]
    Rejected {
        /// The reason code (0x80 or above).
        reason_code: ReasonCode,
        /// The server's Reason String.
        reason_string: Option<String>,
    },
    /// The Message Expiry Interval ran out while the message waited.
    #[error("message expired before it could be sent")]
    Expired,
    /// The server lost our session and re-sending was turned off.
    #[error("session lost before the message was acknowledged")]
    SessionLost,
    /// The message no longer fits the server's limits after a reconnect.
    #[error("{0}")]
    Usage(UsageError),
}

/// Something the driver should act on or pass to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// CONNACK accepted the connection; see [`crate::Session::server`] for the limits.
    Connected(ConnAck),
    /// An application message arrived (Topic Alias resolved).
    Message(Publish),
    /// A publish completed: handed to the transport (QoS 0), acknowledged
    /// (QoS 1 PUBACK, QoS 2 PUBCOMP) with this success reason code, or failed.
    /// Not for the publish of a `request`: that ends in [`Event::Response`],
    /// [`Event::RequestTimeout`] or [`Event::RequestFailed`].
    Published {
        /// The token `publish` returned.
        token: Token,
        /// The outcome.
        result: Result<ReasonCode, PublishError>,
    },
    /// SUBACK: one reason code per filter, in order. A SUBSCRIBE that
    /// waited and no longer fits the Maximum Packet Size of a new CONNACK
    /// is not sent: every filter gets Packet too large (0x95).
    Subscribed {
        /// The token `subscribe` returned.
        token: Token,
        /// Granted QoS or failure, per filter.
        reason_codes: Vec<ReasonCode>,
        /// SUBACK properties (Reason String, User Properties).
        properties: Properties,
    },
    /// UNSUBACK: one reason code per filter, in order (Success in MQTT
    /// 3.1.1). Packet too large (0x95) for every filter, as for
    /// `Subscribed`, when it no longer fits and was not sent.
    Unsubscribed {
        /// The token `unsubscribe` returned.
        token: Token,
        /// Outcome per filter.
        reason_codes: Vec<ReasonCode>,
        /// UNSUBACK properties.
        properties: Properties,
    },
    /// A subscription restored after the server lost our session was
    /// refused (or too large for its Maximum Packet Size to send).
    SubscriptionLost {
        /// The filter.
        filter: String,
        /// The SUBACK reason code.
        reason_code: ReasonCode,
    },
    /// The server sent AUTH: a challenge to answer with `auth` (Continue
    /// authentication) or the end of a re-authentication (Success).
    Auth(Auth),
    /// The response to a `request`.
    Response {
        /// The token `request` returned.
        token: Token,
        /// The response message.
        message: Publish,
    },
    /// No response to a `request` in time.
    RequestTimeout {
        /// The token `request` returned.
        token: Token,
    },
    /// The publish of a `request` failed: no response will come.
    RequestFailed {
        /// The token `request` returned.
        token: Token,
        /// Why the publish failed.
        error: PublishError,
    },
    /// The connection ended; close the transport if it is still open.
    Disconnected(ConnectionError),
    /// Follows the [`Event::Disconnected`] after which no reconnect comes
    /// (refused, not retryable, reconnect off, out of attempts): until the
    /// driver calls `connect` again, nothing waiting will complete. Not
    /// after the application's own `disconnect`.
    GaveUp,
    /// A reconnect will be due after `delay`.
    ReconnectScheduled {
        /// Attempt number, from 1.
        attempt: u32,
        /// Delay before the attempt.
        delay: Millis,
    },
    /// Open a new transport now and call `connect` once it is open.
    Reconnect {
        /// Attempt number, from 1.
        attempt: u32,
    },
}
