//! Byte transports: plain TCP and WebSocket. They only move bytes.

mod tcp;
mod ws;

pub use tcp::TcpTransport;
pub use ws::{accept as accept_ws, WsTransport};

use std::io;

/// A connection's byte stream, whatever carries it.
pub enum Transport {
    /// Plain TCP.
    Tcp(TcpTransport),
    /// WebSocket binary frames.
    Ws(Box<WsTransport>),
}

impl Transport {
    /// The next chunk of bytes; `Ok(None)` when the peer closed. Cancel-safe.
    pub async fn recv(&mut self) -> io::Result<Option<Vec<u8>>> {
        match self {
            Self::Tcp(t) => t.recv().await,
            Self::Ws(t) => t.recv().await,
        }
    }

    /// Sends `bytes` (one WebSocket frame).
    pub async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Self::Tcp(t) => t.send(bytes).await,
            Self::Ws(t) => t.send(bytes).await,
        }
    }

    /// Closes the connection politely.
    pub async fn close(&mut self) {
        match self {
            Self::Tcp(t) => t.close().await,
            Self::Ws(t) => t.close().await,
        }
    }
}
