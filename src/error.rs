//! Failures as JS `MqttError` objects with `code` and `reasonCode`.

use js_sys::{Array, Function, Reflect};
use wasm_bindgen::JsValue;
use wasmqtt_session::{ConnectionError, PublishError, UsageError};

/// A failure on its way to JS.
#[derive(Debug, Clone)]
pub(crate) struct Error {
    /// Stable machine-readable code, e.g. `QUEUE_FULL`.
    pub(crate) code: &'static str,
    /// The MQTT reason code involved, if any.
    pub(crate) reason_code: Option<u8>,
    pub(crate) message: String,
}

impl Error {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason_code: None,
            message: message.into(),
        }
    }

    pub(crate) fn options(field: &str, problem: &str) -> Self {
        let mut message = String::from("invalid option ");
        message.push_str(field);
        message.push_str(": ");
        message.push_str(problem);
        Self::new("INVALID_OPTIONS", message)
    }

    /// Builds `new MqttError(message, code, reasonCode)` with the wrapper's class.
    pub(crate) fn to_js(&self, class: &Function) -> JsValue {
        let args = Array::of3(
            &JsValue::from_str(&self.message),
            &JsValue::from_str(self.code),
            &self.reason_code.map_or(JsValue::UNDEFINED, JsValue::from),
        );
        Reflect::construct(class, &args).unwrap_or_else(|e| e)
    }
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
        Self::new(code, e.to_string())
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
            message: e.to_string(),
        }
    }
}

impl From<PublishError> for Error {
    fn from(e: PublishError) -> Self {
        let (code, reason_code) = match &e {
            PublishError::Rejected { reason_code, .. } => {
                ("REJECTED", Some(u8::from(*reason_code)))
            }
            PublishError::Expired => ("EXPIRED", None),
            PublishError::SessionLost => ("SESSION_LOST", None),
            PublishError::Usage(u) => (Error::from(u.clone()).code, None),
            _ => ("FAILED", None),
        };
        Self {
            code,
            reason_code,
            message: e.to_string(),
        }
    }
}
