//! A small tokio driver for a [`Session`] over TCP.
//!
//! The session does no I/O; this loop does it for one connection, in the
//! order the session's doc comment asks for:
//!
//! 1. after every input or command, write what [`Session::poll_transmit`]
//!    gives as one `write_all`;
//! 2. hand out [`Session::poll_event`] results one at a time, opening a new
//!    TCP connection when the session asks for a reconnect;
//! 3. sleep until the earliest of [`Session::poll_timeout`], a socket read
//!    and the caller's own deadline, and feed what woke it back in
//!    ([`Session::handle_bytes`], [`Session::handle_timeout`] or
//!    [`Session::handle_connection_lost`]).

use std::future::Future;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use wasmqtt_codec::{Properties, ReasonCode};
use wasmqtt_session::{Event, Millis, Options, Session};

/// How long opening the TCP connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What woke [`Link::next`].
#[derive(Debug)]
// Returned once per wake-up and matched at once, never stored: boxing the
// event would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Wake {
    /// The session reported something.
    Event(Event),
    /// The caller's deadline came.
    Deadline,
    /// The caller's stop future completed.
    Stopped,
}

/// One client connection: a session, its TCP stream and its clock.
#[derive(Debug)]
pub struct Link {
    session: Session,
    broker: String,
    stream: Option<TcpStream>,
    origin: Instant,
    out: Vec<u8>,
    input: Vec<u8>,
}

impl Link {
    /// A link that will connect to `broker` (`host:port`) with `options`
    /// once [`Link::open`] is called.
    #[must_use]
    pub fn new(broker: impl Into<String>, options: Options) -> Self {
        Self {
            session: Session::new(options),
            broker: broker.into(),
            stream: None,
            origin: Instant::now(),
            out: Vec::new(),
            input: vec![0; 16 * 1024],
        }
    }

    /// Milliseconds on the session's clock.
    #[must_use]
    pub fn now(&self) -> Millis {
        Millis::try_from(self.origin.elapsed().as_millis()).unwrap_or(Millis::MAX)
    }

    /// The session, for commands (`publish`, `subscribe`, `request` …) and
    /// state. What a command queues is written on the next [`Link::next`].
    pub fn session(&mut self) -> &mut Session {
        &mut self.session
    }

    /// Whether a TCP stream is open (it may still be waiting for CONNACK).
    #[must_use]
    pub fn has_transport(&self) -> bool {
        self.stream.is_some()
    }

    /// Opens the TCP connection and sends CONNECT; a failure to connect is
    /// reported to the session as a lost connection (it then schedules a
    /// reconnect, or gives up, as its options say).
    pub async fn open(&mut self) {
        self.stream = None;
        // Bounded, so an unroutable address cannot stall the caller's loop.
        let connect = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&self.broker));
        match connect.await {
            Ok(Ok(stream)) => {
                stream.set_nodelay(true).ok();
                self.stream = Some(stream);
                if self.session.connect(self.now()).is_err() {
                    // Already connecting or connected: nothing to send.
                    self.stream = None;
                }
            }
            Ok(Err(_)) | Err(_) => self.session.handle_connection_lost(self.now()),
        }
    }

    /// Drives the connection until the session has an event, `until`
    /// passes, or `stop` completes, whichever comes first.
    pub async fn next(&mut self, until: Option<Instant>, stop: impl Future<Output = ()>) -> Wake {
        tokio::pin!(stop);
        loop {
            self.flush().await;
            if let Some(event) = self.session.poll_event() {
                match &event {
                    Event::Disconnected(_) => self.stream = None,
                    Event::Reconnect { .. } => self.open().await,
                    _ => {}
                }
                return Wake::Event(event);
            }
            let timer = self
                .session
                .poll_timeout()
                .map(|at| self.origin + Duration::from_millis(at));
            let wake_at = match (timer, until) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let stream = &mut self.stream;
            let input = &mut self.input;
            let read = async {
                match stream.as_mut() {
                    Some(s) => s.read(input).await,
                    None => std::future::pending().await,
                }
            };
            let sleep = async {
                match wake_at {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                () = &mut stop => return Wake::Stopped,
                read = read => match read {
                    Ok(0) | Err(_) => {
                        self.stream = None;
                        self.session.handle_connection_lost(self.now());
                    }
                    Ok(n) => {
                        let now = self.now();
                        self.session.handle_bytes(now, &self.input[..n]);
                    }
                },
                () = sleep => {
                    let now = Instant::now();
                    if timer.is_some_and(|t| t <= now) {
                        self.session.handle_timeout(self.now());
                    } else if until.is_some_and(|u| u <= now) {
                        return Wake::Deadline;
                    }
                }
            }
        }
    }

    /// Drops the TCP stream without DISCONNECT, as a crash or a pulled
    /// cable would: the broker sees the socket close and publishes the
    /// Will Message. The session is left as it was; discard the link.
    pub fn kill(&mut self) {
        self.stream = None;
    }

    /// Sends DISCONNECT with `reason_code` (0x04 makes the broker publish
    /// the Will Message) and closes the stream.
    pub async fn disconnect(&mut self, reason_code: ReasonCode) {
        let now = self.now();
        if self
            .session
            .disconnect(now, reason_code, None, Properties::default())
            .is_ok()
        {
            self.flush().await;
        }
        if let Some(mut stream) = self.stream.take() {
            stream.shutdown().await.ok();
        }
    }

    async fn flush(&mut self) {
        if !self.session.poll_transmit(&mut self.out) {
            return;
        }
        let failed = match self.stream.as_mut() {
            Some(stream) => stream.write_all(&self.out).await.is_err(),
            // Nothing to write to: the session learns of it when the
            // stream's loss is reported.
            None => false,
        };
        self.out.clear();
        if failed {
            self.stream = None;
            self.session.handle_connection_lost(self.now());
        }
    }
}
