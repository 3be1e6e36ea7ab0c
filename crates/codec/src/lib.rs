//! Strict MQTT 5.0 and 3.1.1 packet codec.
//!
//! Every control packet of both versions, properties, reason codes, topic
//! names and filters, and a streaming [`Decoder`] that accepts any chunking
//! of the byte stream. Nothing here does I/O or reads a clock; the client
//! session engine and the broker share it.
//!
//! Decoding never panics: bytes from the network are untrusted, and every
//! way they can be wrong is a [`DecodeError`] that names the
//! [`ReasonCode`] to send back. Encoding a packet the caller built wrongly
//! is an [`EncodeError`] and leaves the output buffer as it was.
#![no_std]
#![forbid(unsafe_code)]
// Bytes from the peer must never panic the process: no unwrap, expect,
// panic or unchecked indexing outside tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]
#![warn(missing_docs)]

extern crate alloc;

mod error;
mod property;
mod reason_code;
mod types;
mod wire;

pub mod topic;

mod ack;
mod auth;
mod connack;
mod connect;
mod decoder;
mod disconnect;
mod packet;
mod ping;
mod puback;
mod pubcomp;
mod publish;
mod pubrec;
mod pubrel;
mod suback;
mod subscribe;
mod unsuback;
mod unsubscribe;

pub use auth::Auth;
pub use connack::ConnAck;
pub use connect::{Connect, Will};
pub use decoder::{decode_packet, Decoder};
pub use disconnect::Disconnect;
pub use error::{DecodeError, EncodeError};
pub use packet::{Packet, PacketType};
pub use property::{PayloadFormatIndicator, Properties, PropertyId, Received};
pub use puback::PubAck;
pub use pubcomp::PubComp;
pub use publish::Publish;
pub use pubrec::PubRec;
pub use pubrel::PubRel;
pub use reason_code::ReasonCode;
pub use suback::SubAck;
pub use subscribe::{RetainHandling, Subscribe, Subscription, SubscriptionOptions};
pub use topic::{TopicError, TopicFilter, TopicName};
pub use types::{PacketId, ProtocolVersion, QoS};
pub use unsuback::UnsubAck;
pub use unsubscribe::Unsubscribe;
pub use wire::decode_string;

/// The largest Remaining Length a fixed header can express (268,435,455).
pub const MAX_REMAINING_LENGTH: usize = 268_435_455;

/// The largest packet, fixed header included, the protocol can express.
pub const MAX_PACKET_SIZE: u32 = 268_435_460;
