//! Byte transports: plain TCP and WebSocket. They only move bytes.

mod local;
mod tcp;
mod ws;

pub use local::LocalTransport;
pub use tcp::TcpTransport;
pub use ws::{accept as accept_ws, WsTransport};

use std::io;
use std::time::Duration;

use tokio::sync::watch;

/// How long a closing connection keeps reading the peer's last bytes.
const LINGER: Duration = Duration::from_secs(2);

/// A connection's byte stream, whatever carries it.
pub enum Transport {
    /// Plain TCP.
    Tcp(TcpTransport),
    /// WebSocket binary frames.
    Ws(Box<WsTransport>),
    /// An in-process pipe.
    Local(LocalTransport),
}

impl Transport {
    /// The next chunk of bytes; `Ok(None)` when the peer closed. Cancel-safe.
    pub async fn recv(&mut self) -> io::Result<Option<Vec<u8>>> {
        match self {
            Self::Tcp(t) => t.recv().await,
            Self::Ws(t) => t.recv().await,
            Self::Local(t) => t.recv().await,
        }
    }

    /// Sends `bytes` (one WebSocket frame).
    pub async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Self::Tcp(t) => t.send(bytes).await,
            Self::Ws(t) => t.send(bytes).await,
            Self::Local(t) => t.send(bytes).await,
        }
    }

    /// Closes the connection politely: ends our side, then reads and
    /// discards what the peer still sends for a moment. Closing with unread
    /// input makes the kernel send a reset, which destroys a DISCONNECT
    /// (e.g. 0x95 for a packet whose body is still arriving) before the
    /// peer reads it.
    /// Once the broker is shutting down (`shutdown` true, or becoming true
    /// while it waits) it returns at once.
    pub async fn close(&mut self, shutdown: &watch::Receiver<bool>) {
        match self {
            Self::Tcp(t) => t.close().await,
            Self::Ws(t) => t.close().await,
            Self::Local(t) => t.close().await,
        }
        let mut shutdown = shutdown.clone();
        if *shutdown.borrow_and_update() {
            return;
        }
        let drain = async { while let Ok(Some(_)) = self.recv().await {} };
        tokio::select! {
            _ = tokio::time::timeout(LINGER, drain) => {}
            _ = shutdown.changed() => {}
        }
    }
}
