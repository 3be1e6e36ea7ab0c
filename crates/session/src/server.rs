//! What CONNACK told us about the server, with the spec's defaults.

use alloc::string::String;
use wasmqtt_codec::{ConnAck, QoS};

/// The server's limits and features, from the last CONNACK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLimits {
    /// Receive Maximum: QoS 1/2 publishes we may have unacknowledged (default 65,535).
    pub receive_maximum: u16,
    /// Maximum QoS (default 2).
    pub maximum_qos: QoS,
    /// Retain Available (default true).
    pub retain_available: bool,
    /// Maximum Packet Size (default: no limit beyond the protocol's).
    pub maximum_packet_size: Option<u32>,
    /// Topic Alias Maximum (default 0: no aliases).
    pub topic_alias_maximum: u16,
    /// Wildcard Subscription Available (default true).
    pub wildcard_subscription_available: bool,
    /// Subscription Identifiers Available (default true).
    pub subscription_identifier_available: bool,
    /// Shared Subscription Available (default true).
    pub shared_subscription_available: bool,
    /// Server Keep Alive, when the server overrides ours.
    pub server_keep_alive: Option<u16>,
    /// Response Information, when we asked for it.
    pub response_information: Option<String>,
    /// Assigned Client Identifier, when we sent an empty one.
    pub assigned_client_identifier: Option<String>,
    /// Session Expiry Interval the server chose, if it overrode ours.
    pub session_expiry_interval: Option<u32>,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            receive_maximum: u16::MAX,
            maximum_qos: QoS::ExactlyOnce,
            retain_available: true,
            maximum_packet_size: None,
            topic_alias_maximum: 0,
            wildcard_subscription_available: true,
            subscription_identifier_available: true,
            shared_subscription_available: true,
            server_keep_alive: None,
            response_information: None,
            assigned_client_identifier: None,
            session_expiry_interval: None,
        }
    }
}

impl ServerLimits {
    pub(crate) fn from_connack(connack: &ConnAck) -> Self {
        let p = &connack.properties;
        let d = Self::default();
        Self {
            receive_maximum: p.receive_maximum.unwrap_or(d.receive_maximum),
            maximum_qos: p.maximum_qos.unwrap_or(d.maximum_qos),
            retain_available: p.retain_available.unwrap_or(d.retain_available),
            maximum_packet_size: p.maximum_packet_size,
            topic_alias_maximum: p.topic_alias_maximum.unwrap_or(0),
            wildcard_subscription_available: p.wildcard_subscription_available.unwrap_or(true),
            subscription_identifier_available: p.subscription_identifier_available.unwrap_or(true),
            shared_subscription_available: p.shared_subscription_available.unwrap_or(true),
            server_keep_alive: p.server_keep_alive,
            response_information: p.response_information.clone(),
            assigned_client_identifier: p.assigned_client_identifier.clone(),
            session_expiry_interval: p.session_expiry_interval,
        }
    }
}
