//! Broker configuration: a TOML file, overridden by command-line flags.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

/// Everything the broker can be configured with.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Plain TCP listeners (port 0 lets the OS choose).
    pub tcp: Vec<SocketAddr>,
    /// WebSocket listeners, serving paths `/mqtt` and `/`.
    pub ws: Vec<SocketAddr>,
    /// Whether clients without credentials may connect.
    pub allow_anonymous: bool,
    /// Password file: `user:$argon2id$...` or `user:scram-sha-256:...` lines (see auth/password.rs).
    pub password_file: Option<PathBuf>,
    /// ACL file: per-user topic patterns for publish and subscribe.
    pub acl_file: Option<PathBuf>,
    /// Limits the broker enforces and announces in CONNACK.
    pub limits: Limits,
    /// Turns on the `$control/...` fault-injection topics used by end-to-end tests.
    pub test_control: bool,
    /// With a password file, the user allowed to publish to `$control/...`
    /// (besides users the ACL grants write access to it).
    pub test_control_user: Option<String>,
    /// Seconds between `$SYS/broker/...` updates (0 turns them off).
    pub sys_interval: u64,
}

/// Limits, announced in CONNACK where the protocol has a property for them.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Maximum Packet Size we accept.
    pub max_packet_size: u32,
    /// Receive Maximum: QoS 1/2 publishes a client may have unacknowledged.
    pub receive_maximum: u16,
    /// Topic Alias Maximum we accept from clients.
    pub topic_alias_maximum: u16,
    /// Server Keep Alive to impose, if any.
    pub server_keep_alive: Option<u16>,
    /// Longest Session Expiry Interval granted, in seconds.
    pub max_session_expiry: u32,
    /// Most simultaneous connections.
    pub max_connections: usize,
    /// Most messages queued for one session (offline or over its Receive Maximum).
    pub max_queued_messages: usize,
    /// Seconds a new connection has to send CONNECT.
    pub connect_timeout: u64,
    /// Password checks (Argon2 hashes) run at once; 0: one per core.
    pub max_concurrent_logins: usize,
    /// Milliseconds a CONNECT waits for a password check to start before it
    /// is refused with 0x89 Server busy.
    pub login_wait_ms: u64,
    /// Failed password checks from one address (IPv6: one /64) before it
    /// is refused with 0x9F Connection rate exceeded for a back-off (1 s,
    /// doubling up to 64 s); 0 turns the back-off off.
    pub login_failures_before_backoff: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            tcp: Vec::new(),
            ws: Vec::new(),
            allow_anonymous: true,
            password_file: None,
            acl_file: None,
            limits: Limits::default(),
            test_control: false,
            test_control_user: None,
            sys_interval: 10,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_packet_size: 1 << 20,
            receive_maximum: 1024,
            topic_alias_maximum: 64,
            server_keep_alive: None,
            max_session_expiry: 24 * 3600,
            max_connections: 10_000,
            max_queued_messages: 10_000,
            connect_timeout: 10,
            max_concurrent_logins: 0,
            login_wait_ms: 2000,
            login_failures_before_backoff: 5,
        }
    }
}
