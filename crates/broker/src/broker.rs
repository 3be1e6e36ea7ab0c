//! The running broker: listeners, shared state, shutdown.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::DuplexStream;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::auth::Access;
use crate::config::Config;
use crate::connection;
use crate::session::Control;
use crate::state::{State, Stats};
use crate::transport::{accept_ws, LocalTransport, TcpTransport, Transport};

/// What every connection task shares.
#[derive(Debug)]
pub struct Shared {
    /// The configuration.
    pub config: Config,
    /// Credentials and ACL.
    pub access: Access,
    /// Sessions, subscriptions and retained messages.
    state: Mutex<State>,
    /// Counters.
    pub stats: Stats,
    /// When the broker started.
    pub started: Instant,
    /// Source of connection ids and assigned client ids.
    next_id: AtomicU64,
    /// Open connections (before and after CONNECT).
    pub connections: AtomicUsize,
    /// Most open connections since memory was last given back.
    pub connections_peak: AtomicUsize,
    /// Set to `true` to stop.
    pub shutdown: watch::Receiver<bool>,
}

impl Shared {
    /// Locks the state. A panic while it was held leaves it usable: every
    /// update to it is a single step that cannot be half-done.
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A number unique within this broker run.
    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// A started broker.
pub struct Broker {
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
    /// Bound TCP listener addresses.
    pub tcp: Vec<SocketAddr>,
    /// Bound WebSocket listener addresses.
    pub ws: Vec<SocketAddr>,
}

impl Broker {
    /// Binds every listener in `config` and starts accepting.
    pub async fn start(config: Config) -> io::Result<Self> {
        let access = Access::load(&config)?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(config.limits.max_queued_messages)),
            access,
            stats: Stats::default(),
            started: Instant::now(),
            next_id: AtomicU64::new(1),
            connections: AtomicUsize::new(0),
            connections_peak: AtomicUsize::new(0),
            shutdown: shutdown_rx,
            config,
        });
        let mut tasks = JoinSet::new();
        let mut tcp = Vec::new();
        let mut ws = Vec::new();
        for (addrs, bound, websocket) in [
            (shared.config.tcp.clone(), &mut tcp, false),
            (shared.config.ws.clone(), &mut ws, true),
        ] {
            for addr in addrs {
                let listener = TcpListener::bind(addr).await?;
                bound.push(listener.local_addr()?);
                tasks.spawn(accept_loop(Arc::clone(&shared), listener, websocket));
            }
        }
        tasks.spawn(crate::reclaim::run(Arc::clone(&shared)));
        if shared.config.sys_interval > 0 {
            tasks.spawn(crate::sys::run(Arc::clone(&shared)));
        }
        info!(?tcp, ?ws, "listening");
        Ok(Self {
            shared,
            shutdown,
            tasks,
            tcp,
            ws,
        })
    }

    /// The shared state, for embedding and tests.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Opens an in-process connection and returns the client's end: bytes
    /// written to it are read as from a TCP client at 127.0.0.1. It counts
    /// against `max_connections` like any other; `None` past the limit.
    pub fn connect_local(&self) -> Option<DuplexStream> {
        let shared = Arc::clone(&self.shared);
        let open = shared.connections.fetch_add(1, Ordering::Relaxed);
        if open >= shared.config.limits.max_connections {
            shared.connections.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        let max = shared.config.limits.max_packet_size as usize;
        let (client, server) = tokio::io::duplex(max.clamp(4096, 64 * 1024));
        let peer = SocketAddr::from(([127, 0, 0, 1], 0));
        tokio::spawn(async move {
            let transport = Transport::Local(LocalTransport::new(server));
            connection::run(Arc::clone(&shared), transport, peer).await;
            shared.connections.fetch_sub(1, Ordering::Relaxed);
        });
        Some(client)
    }

    /// Sends DISCONNECT 0x8B to every client, publishes their wills and stops.
    pub async fn shutdown(mut self) {
        self.shutdown.send_replace(true);
        {
            let state = self.shared.state();
            for session in state.sessions.values() {
                if let Some(link) = &session.link {
                    link.control.send(Control::Shutdown).ok();
                }
            }
        }
        // Connection tasks finish on their own once told; wait for them briefly.
        for _ in 0..100 {
            if self.shared.connections.load(Ordering::Relaxed) == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.tasks.shutdown().await;
    }
}

async fn accept_loop(shared: Arc<Shared>, listener: TcpListener, websocket: bool) {
    let mut stop = shared.shutdown.clone();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors, say: back off instead of spinning.
                warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let max = shared.config.limits.max_connections;
        // Counted here, not in the task, so a burst cannot pass the limit.
        let open = shared.connections.fetch_add(1, Ordering::Relaxed);
        if open >= max {
            shared.connections.fetch_sub(1, Ordering::Relaxed);
            debug!(%peer, "connection limit reached");
            continue;
        }
        shared
            .connections_peak
            .fetch_max(open + 1, Ordering::Relaxed);
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let transport = if websocket {
                // Room for a packet a little over the limit, so that it is
                // refused with DISCONNECT 0x95 rather than a WebSocket error.
                let max_message = (shared.config.limits.max_packet_size as usize)
                    .saturating_mul(2)
                    .max(1024);
                let timeout = Duration::from_secs(shared.config.limits.connect_timeout);
                let mut stop = shared.shutdown.clone();
                // The handshake counts against the connect timeout.
                let handshake = tokio::select! {
                    // Boxed: it would otherwise size every connection's task.
                    h = tokio::time::timeout(timeout, Box::pin(accept_ws(stream, max_message))) => h.ok(),
                    _ = stop.changed() => None,
                };
                match handshake {
                    Some(Ok(ws)) => Some(Transport::Ws(Box::new(ws))),
                    Some(Err(e)) => {
                        debug!(%peer, error = %e, "websocket handshake failed");
                        None
                    }
                    None => {
                        debug!(%peer, "websocket handshake timed out");
                        None
                    }
                }
            } else {
                Some(Transport::Tcp(TcpTransport::new(stream)))
            };
            if let Some(transport) = transport {
                connection::run(Arc::clone(&shared), transport, peer).await;
            }
            shared.connections.fetch_sub(1, Ordering::Relaxed);
        });
    }
}
