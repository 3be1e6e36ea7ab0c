//! One client connection: CONNECT, then packets in and deliveries out
//! until it closes. Each packet kind is handled in its own file.

mod alias;
mod connect;
mod control;
mod credentials;
mod deliver;
mod enhanced_auth;
mod publish;
mod subscribe;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;
use tracing::debug;
use wasmqtt_codec::{
    Decoder, Disconnect, Packet, PacketType, ProtocolVersion, ReasonCode, TopicName,
};

use crate::broker::Shared;
use crate::session::{Control, Session};
use crate::state::State;
use crate::transport::Transport;

/// How a connection ended, which decides what happens to the will.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// DISCONNECT 0x00 from the client: the will is discarded [MQTT-3.1.2-10].
    Normal,
    /// DISCONNECT with any other reason code (0x04 Disconnect with Will
    /// Message, or an error) from the client: the will is published
    /// [MQTT-3.1.2-8] [MQTT-3.14.4-3].
    WithWill,
    /// Anything else (socket closed, keep-alive, protocol error, takeover,
    /// shutdown): the will is published [MQTT-3.1.2-8].
    Abnormal,
}

/// A connection after CONNECT was accepted.
pub(crate) struct Connection {
    shared: Arc<Shared>,
    transport: Transport,
    peer: SocketAddr,
    id: u64,
    version: ProtocolVersion,
    decoder: Decoder,
    tx: Vec<u8>,
    client_id: Arc<str>,
    username: Option<String>,
    /// Close when nothing arrives for this long (1.5 x Keep Alive).
    idle_limit: Option<Duration>,
    last_received: Instant,
    notify: Arc<Notify>,
    control: mpsc::UnboundedReceiver<Control>,
    /// The client's Receive Maximum and Maximum Packet Size.
    client_receive_maximum: u16,
    client_maximum_packet_size: u32,
    /// Topic aliases we set on what we send.
    aliases_out: alias::OutgoingAliases,
    /// Topic aliases the client set, index alias - 1; grown on use up to
    /// our Topic Alias Maximum.
    aliases: Vec<Option<TopicName>>,
    /// Session Expiry Interval from CONNECT.
    connect_session_expiry: u32,
    /// Test control: do not acknowledge the client's publishes.
    withhold_acks: bool,
    /// Enhanced authentication: the method in use, re-authentication.
    auth: enhanced_auth::AuthState,
}

/// Output buffer capacity kept between writes.
const TX_KEEP: usize = 16 * 1024;

/// Most chunks handled between two writes.
const MAX_BURST: usize = 64;

/// Serves one accepted transport until it closes.
pub(crate) async fn run(shared: Arc<Shared>, transport: Transport, peer: SocketAddr) {
    // CONNECT handling (decoding, authentication, timeouts) is the largest
    // state of this task but lasts a moment: boxed, it is allocated only
    // while it runs, and the task an idle connection keeps stays small.
    let Some(mut conn) = Box::pin(connect::accept(shared, transport, peer)).await else {
        return;
    };
    let end = conn.serve().await;
    conn.detach(end);
    conn.transport.close(&conn.shared.shutdown).await;
}

impl Connection {
    /// The main loop: returns how the connection ended.
    async fn serve(&mut self) -> End {
        let mut shutdown = self.shared.shutdown.clone();
        // Packets that arrived in the same read as CONNECT.
        if let Some(end) = self.receive(&[]) {
            self.flush().await.ok();
            return end;
        }
        loop {
            self.drain();
            if let Err(end) = self.flush().await {
                return end;
            }
            let deadline = self.idle_limit.map(|d| self.last_received + d);
            let sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                // Commands first: once taken over, nothing more is handled.
                biased;
                Some(cmd) = self.control.recv() => {
                    if let Some(end) = self.on_control(cmd) {
                        self.flush().await.ok();
                        return end;
                    }
                }
                chunk = self.transport.recv() => {
                    if let Some(end) = self.receive_burst(chunk) {
                        self.flush().await.ok();
                        return end;
                    }
                }
                () = self.notify.notified() => {}
                () = sleep => {
                    // [MQTT-3.1.2-22]: 1.5 x Keep Alive without a packet.
                    self.send_disconnect(ReasonCode::KeepAliveTimeout);
                    self.flush().await.ok();
                    return End::Abnormal;
                }
                _ = shutdown.changed() => {
                    self.send_disconnect(ReasonCode::ServerShuttingDown);
                    self.flush().await.ok();
                    return End::Abnormal;
                }
            }
        }
    }

    /// Handles a received chunk and every further one already buffered, so
    /// a burst of frames (one PUBLISH per WebSocket frame is common) is
    /// answered with one write instead of one per frame.
    fn receive_burst(&mut self, first: std::io::Result<Option<Vec<u8>>>) -> Option<End> {
        let mut chunk = first;
        for handled in 1..=MAX_BURST {
            match chunk {
                Ok(Some(bytes)) => {
                    if let Some(end) = self.receive(&bytes) {
                        return Some(end);
                    }
                }
                Ok(None) | Err(_) => return Some(End::Abnormal),
            }
            // Never take a chunk that this call will not handle.
            if handled == MAX_BURST {
                break;
            }
            // `recv` is cancel-safe: a pending read is dropped without loss.
            match self.transport.recv().now_or_never() {
                Some(next) => chunk = next,
                None => break,
            }
        }
        None
    }

    /// Decodes and handles what arrived; `Some` ends the connection.
    fn receive(&mut self, bytes: &[u8]) -> Option<End> {
        self.last_received = Instant::now();
        crate::state::Stats::add(&self.shared.stats.bytes_received, bytes.len() as u64);
        self.decoder.feed(bytes);
        loop {
            match self.decoder.next_packet() {
                Ok(Some(packet)) => {
                    if let Some(end) = self.handle(packet) {
                        return Some(end);
                    }
                }
                Ok(None) => return None,
                Err(e) => {
                    debug!(client = %self.client_id, error = %e, "malformed packet");
                    self.send_disconnect(e.reason_code());
                    return Some(End::Abnormal);
                }
            }
        }
    }

    fn handle(&mut self, packet: Packet) -> Option<End> {
        match packet {
            Packet::Publish(p) => return self.on_publish(p),
            Packet::PubAck(p) => self.on_puback(p.packet_id),
            Packet::PubRec(p) => self.on_pubrec(p),
            Packet::PubRel(p) => self.on_pubrel(p.packet_id),
            Packet::PubComp(p) => self.on_pubcomp(p.packet_id),
            Packet::Subscribe(p) => self.on_subscribe(p),
            Packet::Unsubscribe(p) => self.on_unsubscribe(p),
            Packet::PingReq => self.encode(&Packet::PingResp),
            Packet::Disconnect(p) => return Some(self.on_disconnect(p)),
            Packet::Auth(p) => return self.on_auth(p),
            // [MQTT-3.1.0-2]: a second CONNECT is a Protocol Error; so is
            // anything only a server sends.
            other => {
                debug!(client = %self.client_id, packet = ?other.packet_type(), "unexpected packet");
                self.send_disconnect(ReasonCode::ProtocolError);
                return Some(End::Abnormal);
            }
        }
        None
    }

    fn on_disconnect(&mut self, disconnect: Disconnect) -> End {
        if let Some(expiry) = disconnect.properties.session_expiry_interval {
            // Not from 0 to non-zero: a Protocol Error (section 3.14.2.2.2).
            if self.connect_session_expiry == 0 && expiry > 0 {
                self.send_disconnect(ReasonCode::ProtocolError);
                return End::Abnormal;
            }
            let max = self.shared.config.limits.max_session_expiry;
            let shared = Arc::clone(&self.shared);
            let mut state = shared.state();
            if let Some(s) = self.session(&mut state) {
                s.expiry_interval = expiry.min(max);
            }
        }
        // [MQTT-3.14.4-3]: only Normal disconnection (0x00) discards the will.
        if disconnect.reason_code == ReasonCode::Success {
            End::Normal
        } else {
            End::WithWill
        }
    }

    /// This connection's session, unless another connection took it over.
    fn session<'a>(&self, state: &'a mut State) -> Option<&'a mut Session> {
        state
            .sessions
            .get_mut(&self.client_id)
            .filter(|s| s.link.as_ref().is_some_and(|l| l.connection == self.id))
    }

    /// Appends a packet to the output; encoding our own packets cannot fail
    /// except for a bug, which is logged rather than crashing the broker.
    fn encode(&mut self, packet: &Packet) {
        if let Err(e) = packet.encode(self.version, &mut self.tx) {
            tracing::error!(error = %e, "cannot encode {:?}", packet.packet_type());
        }
    }

    /// Queues DISCONNECT with `reason_code` (MQTT 5.0 only; 3.1.1 just closes).
    /// A code DISCONNECT cannot carry becomes Protocol Error.
    fn send_disconnect(&mut self, reason_code: ReasonCode) {
        if self.version == ProtocolVersion::V5 {
            let reason_code = if reason_code.is_valid_for(PacketType::Disconnect) {
                reason_code
            } else {
                ReasonCode::ProtocolError
            };
            self.encode(&Packet::Disconnect(Disconnect::new(reason_code)));
        }
    }

    async fn flush(&mut self) -> Result<(), End> {
        if self.tx.is_empty() {
            return Ok(());
        }
        crate::state::Stats::add(&self.shared.stats.bytes_sent, self.tx.len() as u64);
        let result = self.transport.send(&self.tx).await;
        self.tx.clear();
        // A burst's worth of output is not kept for an idle connection.
        if self.tx.capacity() > TX_KEEP {
            self.tx = Vec::new();
        }
        result.map_err(|_| End::Abnormal)
    }

    /// Detaches from the session: wills, session expiry.
    fn detach(&mut self, end: End) {
        use crate::lifecycle::{expire_later, route_will, will_delay, will_later};
        let shared = Arc::clone(&self.shared);
        let mut state = shared.state();
        // Taken over: the new connection owns the session now.
        let Some(session) = self.session(&mut state) else {
            return;
        };
        crate::state::Stats::add_signed(&shared.stats.clients_connected, -1);
        session.link = None;
        session.generation = shared.next_id();
        let generation = session.generation;
        let expiry = session.expiry_interval;
        // [MQTT-3.1.2-8] [MQTT-3.1.2-10]
        let will = session.will.take().filter(|_| end != End::Normal);
        debug!(client = %self.client_id, peer = %self.peer, ?end, "closed");
        let client = Arc::clone(&self.client_id);
        let mut due = None;
        if let Some(will) = will {
            // The will waits for its delay or the end of the session,
            // whichever comes first [MQTT-3.1.3-9].
            let delay = will_delay(&will);
            if delay == 0 || expiry == 0 {
                due = Some(will);
            } else {
                session.delayed_will = Some(will);
                if delay < expiry {
                    will_later(Arc::clone(&shared), Arc::clone(&client), generation, delay);
                }
            }
        }
        if expiry == 0 {
            state.remove_session(&client);
        } else if expiry != u32::MAX {
            // When it fires it also publishes a will still waiting.
            expire_later(Arc::clone(&shared), Arc::clone(&client), generation, expiry);
        }
        drop(state);
        if let Some(will) = due {
            route_will(&shared, client, will);
        }
    }
}
