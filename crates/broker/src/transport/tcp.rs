//! Plain TCP.
//!
//! No read buffer is kept between reads: an idle connection holds only its
//! socket. Each read waits for readiness, then reads into a fresh buffer
//! that becomes the chunk handed to the caller. Its size adapts: it doubles
//! (up to [`MAX_READ`]) while reads fill it and halves (down to
//! [`MIN_READ`]) when they use less than a quarter of it, so bulk transfers
//! get large reads and chatty ones small allocations.

use std::io;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Smallest read.
const MIN_READ: usize = 2 * 1024;
/// Largest read.
const MAX_READ: usize = 64 * 1024;

/// A TCP connection.
pub struct TcpTransport {
    stream: TcpStream,
    read_size: usize,
}

impl TcpTransport {
    /// Wraps an accepted stream.
    pub fn new(stream: TcpStream) -> Self {
        // Small packets (acks, pings) should not wait for Nagle.
        stream.set_nodelay(true).ok();
        Self {
            stream,
            read_size: MIN_READ,
        }
    }

    /// Cancel-safe: waiting for readiness loses nothing, and the read
    /// itself does not wait.
    pub(super) async fn recv(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            self.stream.readable().await?;
            let mut buf = Vec::with_capacity(self.read_size);
            match self.stream.try_read_buf(&mut buf) {
                Ok(0) => return Ok(None),
                Ok(n) => {
                    self.read_size = next_read_size(self.read_size, n);
                    return Ok(Some(buf));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
    }

    pub(super) async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await
    }

    pub(super) async fn close(&mut self) {
        self.stream.shutdown().await.ok();
    }
}

/// The size of the next read after one of `size` returned `n` bytes.
fn next_read_size(size: usize, n: usize) -> usize {
    if n >= size {
        (size * 2).min(MAX_READ)
    } else if n < size / 4 {
        (size / 2).max(MIN_READ)
    } else {
        size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_size_grows_when_full_and_shrinks_when_mostly_empty() {
        let mut size = MIN_READ;
        for _ in 0..10 {
            size = next_read_size(size, size);
        }
        assert_eq!(size, MAX_READ);
        assert_eq!(next_read_size(MAX_READ, MAX_READ / 2), MAX_READ);
        for _ in 0..10 {
            size = next_read_size(size, 10);
        }
        assert_eq!(size, MIN_READ);
    }
}
