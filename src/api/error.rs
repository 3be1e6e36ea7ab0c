//! The Rust API's error: the session's typed errors, and the few failures
//! only the browser layer knows (a WebSocket that never opened, a
//! credentials provider that failed, a client that ended).

use std::fmt;

use wasmqtt_codec::{EncodeError, TopicError};
use wasmqtt_session::{ConnectionError, PublishError, UsageError};

use crate::error::{Error as Failed, Failure, Source};

/// Why a call failed or a connection went down, grouped by who is at fault.
///
/// ```
/// use wasmqtt::{Error, session::UsageError};
///
/// fn explain(e: &Error) -> &'static str {
///     match e {
///         Error::Usage(UsageError::QueueFull { .. }) => "slow down",
///         Error::Usage(_) | Error::Options(_) => "a bug in this page",
///         Error::Publish(_) => "the broker refused the message",
///         Error::Connection(_) | Error::ConnectFailed { .. } => "the network or the broker",
///         _ => "something else",
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The call asked for something the session cannot do (an invalid
    /// topic, more than the server allows, a full queue …). Never
    /// disconnects.
    Usage(UsageError),
    /// The options make a packet the codec refuses (a Will topic with a
    /// wildcard, a string over 65,535 bytes, a password without a user name
    /// in MQTT 3.1.1 …).
    Options(EncodeError),
    /// The broker refused a publish, or it could not be delivered.
    Publish(PublishError),
    /// The broker refused a subscription, with the SUBACK reason code
    /// (0x80 or above: Not authorized, Topic Filter invalid …).
    Refused {
        /// The SUBACK reason code.
        reason_code: wasmqtt_codec::ReasonCode,
    },
    /// The connection ended: refused in CONNACK, disconnected by the
    /// server, a protocol error, a timeout, or the transport closed.
    Connection(ConnectionError),
    /// The WebSocket to `url` closed before it opened: nothing listens
    /// there, the path is wrong, or the server refused the subprotocol
    /// `mqtt`. Browsers do not say which.
    ConnectFailed {
        /// The broker's URL.
        url: String,
    },
    /// The browser refused to create the WebSocket (an invalid URL, a
    /// page's Content-Security-Policy …), with what it threw.
    Socket(String),
    /// The credentials provider failed, with its message.
    Credentials(String),
    /// No response to a request in time.
    RequestTimeout,
    /// The client ended (`end()`, or every handle dropped).
    Ended,
    /// The connection is down for good: refused, out of reconnect
    /// attempts, or reconnecting was turned off.
    Stopped,
}

impl Error {
    /// The MQTT reason code involved, if any (from CONNACK, DISCONNECT,
    /// PUBACK/PUBREC, or the one we disconnected with).
    #[must_use]
    pub fn reason_code(&self) -> Option<wasmqtt_codec::ReasonCode> {
        match self {
            Self::Connection(e) => e.reason_code(),
            Self::Publish(PublishError::Rejected { reason_code, .. })
            | Self::Refused { reason_code } => Some(*reason_code),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(e) => e.fmt(f),
            Self::Options(e) => write!(f, "invalid options: {e}"),
            Self::Publish(e) => e.fmt(f),
            Self::Refused { reason_code } => write!(f, "subscription refused: {reason_code}"),
            Self::Connection(e) => e.fmt(f),
            Self::ConnectFailed { url } => write!(f, "cannot connect to {url}"),
            Self::Socket(e) => write!(f, "cannot open the WebSocket: {e}"),
            Self::Credentials(e) => write!(f, "credentials provider failed: {e}"),
            Self::RequestTimeout => f.write_str("no response in time"),
            Self::Ended => f.write_str("the client has ended"),
            Self::Stopped => f.write_str("not connected, and no reconnect is coming"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Usage(e) => Some(e),
            Self::Options(e) => Some(e),
            Self::Publish(e) => Some(e),
            Self::Connection(e) => Some(e),
            _ => None,
        }
    }
}

impl From<UsageError> for Error {
    fn from(e: UsageError) -> Self {
        Self::Usage(e)
    }
}

/// An invalid topic name given to the Rust API.
pub(crate) fn topic(e: TopicError) -> Error {
    Error::Usage(UsageError::InvalidTopic(e))
}

impl From<&Failed> for Error {
    /// The driver's failure, typed again: the session's error it came
    /// from, or the browser layer's own.
    fn from(e: &Failed) -> Self {
        match &e.source {
            Some(Source::Usage(u)) => return Self::Usage(u.clone()),
            Some(Source::Publish(p)) => return Self::Publish(p.clone()),
            Some(Source::Connection(c)) => return Self::Connection(c.clone()),
            Some(Source::Encode(c)) => return Self::Options(c.clone()),
            None => {}
        }
        match e.failure() {
            Failure::ConnectFailed => Self::ConnectFailed {
                url: e.text.clone(),
            },
            Failure::SocketFailed => Self::Socket(e.text.clone()),
            Failure::CredentialsFailed => Self::Credentials(e.text.clone()),
            Failure::RequestTimeout => Self::RequestTimeout,
            Failure::ClientEnded => Self::Ended,
            Failure::Stopped => Self::Stopped,
            // The Rust API types its arguments before the driver sees them:
            // what is left is a session error that lost its source.
            _ => Self::Connection(ConnectionError::Disconnected),
        }
    }
}
