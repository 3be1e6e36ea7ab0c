//! One client connection: CONNECT, then packets in and deliveries out
//! until it closes. Each packet kind is handled in its own file.

mod connect;
mod control;
mod deliver;
mod publish;
mod subscribe;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, Notify};
use tracing::debug;
use wasmqtt_codec::{Decoder, Disconnect, Packet, ProtocolVersion, ReasonCode, TopicName};

use crate::broker::Shared;
use crate::session::Control;
use crate::transport::Transport;

/// How a connection ended, which decides what happens to the will.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// DISCONNECT 0x00 from the client: the will is discarded [MQTT-3.1.2-10].
    Normal,
    /// DISCONNECT 0x04 from the client: the will is published.
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
    /// Topic aliases the client set, index alias - 1.
    aliases: Vec<Option<TopicName>>,
    /// Session Expiry Interval from CONNECT.
    connect_session_expiry: u32,
    /// Test control: do not acknowledge the client's publishes.
    withhold_acks: bool,
}

/// Serves one accepted transport until it closes.
pub(crate) async fn run(shared: Arc<Shared>, transport: Transport, peer: SocketAddr) {
    let Some(mut conn) = connect::accept(shared, transport, peer).await else {
        return;
    };
    let end = conn.serve().await;
    conn.detach(end);
    conn.transport.close().await;
}

impl Connection {
    /// The main loop: returns how the connection ended.
    async fn serve(&mut self) -> End {
        let mut shutdown = self.shared.shutdown.clone();
        loop {
            self.drain();
            if let Err(end) = self.flush().await {
                return end;
            }
            let deadline = self
                .idle_limit
                .map(|d| tokio::time::Instant::from_std(self.last_received + d));
            let sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                chunk = self.transport.recv() => match chunk {
                    Ok(Some(bytes)) => {
                        if let Some(end) = self.receive(&bytes) {
                            self.flush().await.ok();
                            return end;
                        }
                    }
                    Ok(None) | Err(_) => return End::Abnormal,
                },
                () = self.notify.notified() => {}
                Some(cmd) = self.control.recv() => {
                    if let Some(end) = self.on_control(cmd) {
                        self.flush().await.ok();
                        return end;
                    }
                }
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
            // [MQTT-3.1.0-2]: a second CONNECT is a Protocol Error; so is
            // anything only a server sends, and AUTH without a method in use.
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
            // [MQTT-3.14.2-2]: not from 0 to non-zero.
            if self.connect_session_expiry == 0 && expiry > 0 {
                self.send_disconnect(ReasonCode::ProtocolError);
                return End::Abnormal;
            }
            let max = self.shared.config.limits.max_session_expiry;
            let mut state = self.shared.state();
            if let Some(s) = state.sessions.get_mut(&self.client_id) {
                s.expiry_interval = expiry.min(max);
            }
        }
        if disconnect.reason_code == ReasonCode::DisconnectWithWillMessage {
            End::WithWill
        } else {
            End::Normal
        }
    }

    /// Appends a packet to the output; encoding our own packets cannot fail
    /// except for a bug, which is logged rather than crashing the broker.
    fn encode(&mut self, packet: &Packet) {
        if let Err(e) = packet.encode(self.version, &mut self.tx) {
            tracing::error!(error = %e, "cannot encode {:?}", packet.packet_type());
        }
    }

    /// Queues DISCONNECT with `reason_code` (MQTT 5.0 only; 3.1.1 just closes).
    fn send_disconnect(&mut self, reason_code: ReasonCode) {
        if self.version == ProtocolVersion::V5 {
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
        result.map_err(|_| End::Abnormal)
    }

    /// Detaches from the session: wills, session expiry.
    fn detach(&mut self, end: End) {
        let shared = Arc::clone(&self.shared);
        let mut state = shared.state();
        let Some(session) = state.sessions.get_mut(&self.client_id) else {
            return;
        };
        if session.link.as_ref().map(|l| l.connection) != Some(self.id) {
            // Taken over: the new connection owns the session now.
            return;
        }
        crate::state::Stats::add_signed(&shared.stats.clients_connected, -1);
        session.link = None;
        session.generation += 1;
        let generation = session.generation;
        let expiry = session.expiry_interval;
        let will = session.will.take().filter(|_| end != End::Normal);
        debug!(client = %self.client_id, peer = %self.peer, ?end, "closed");
        if expiry == 0 {
            state.remove_session(&self.client_id);
        } else if expiry != u32::MAX {
            crate::lifecycle::expire_later(
                Arc::clone(&shared),
                Arc::clone(&self.client_id),
                generation,
                expiry,
            );
        }
        drop(state);
        if let Some(will) = will {
            crate::lifecycle::publish_will(
                shared,
                Arc::clone(&self.client_id),
                will,
                generation,
                expiry,
            );
        }
    }
}
