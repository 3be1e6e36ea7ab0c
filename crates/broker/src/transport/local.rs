//! An in-process byte pipe, for clients in the same program (embedding,
//! and tests that run on tokio's paused clock: no kernel is involved, so
//! nothing arrives behind the clock's back).

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// Bytes read at a time.
const READ: usize = 4 * 1024;

/// The broker's end of an in-process connection.
pub struct LocalTransport {
    stream: DuplexStream,
}

impl LocalTransport {
    /// Wraps the broker's end of a pipe.
    pub fn new(stream: DuplexStream) -> Self {
        Self { stream }
    }

    /// Cancel-safe: `read_buf` reads nothing unless it completes.
    pub(super) async fn recv(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut buf = Vec::with_capacity(READ);
        let n = self.stream.read_buf(&mut buf).await?;
        Ok((n > 0).then_some(buf))
    }

    pub(super) async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await
    }

    pub(super) async fn close(&mut self) {
        self.stream.shutdown().await.ok();
    }
}
