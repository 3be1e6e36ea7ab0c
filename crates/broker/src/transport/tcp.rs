//! Plain TCP.

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A TCP connection.
pub struct TcpTransport {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl TcpTransport {
    /// Wraps an accepted stream.
    pub fn new(stream: TcpStream) -> Self {
        // Small packets (acks, pings) should not wait for Nagle.
        stream.set_nodelay(true).ok();
        Self {
            stream,
            buf: vec![0; 64 * 1024],
        }
    }

    pub(super) async fn recv(&mut self) -> io::Result<Option<Vec<u8>>> {
        let n = self.stream.read(&mut self.buf).await?;
        Ok((n > 0).then(|| self.buf[..n].to_vec()))
    }

    pub(super) async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await
    }

    pub(super) async fn close(&mut self) {
        self.stream.shutdown().await.ok();
    }
}
