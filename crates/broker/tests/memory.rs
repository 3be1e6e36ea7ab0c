//! What an idle connection costs the broker in heap, and that it is given
//! back when the connection closes. The broker runs on a thread of its own
//! whose allocations a counting allocator tracks; the clients run on the
//! test's thread and are not counted. Real sockets and the real clock:
//! the cost measured is that of TCP and WebSocket connections.
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use common::{connect, WAIT};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use wasmqtt_broker::{Broker, Config, Shared};
use wasmqtt_codec::{decode_packet, Packet, ProtocolVersion};

struct Counting;

thread_local! {
    static TRACKED: Cell<bool> = const { Cell::new(false) };
}

/// Heap bytes allocated and not freed by tracked threads.
static LIVE: AtomicIsize = AtomicIsize::new(0);

fn track(delta: isize) {
    if TRACKED.try_with(Cell::get).unwrap_or(false) {
        LIVE.fetch_add(delta, Ordering::Relaxed);
    }
}

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        track(layout.size() as isize);
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        track(layout.size() as isize);
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        track(-(layout.size() as isize));
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        track(new_size as isize - layout.size() as isize);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Connections opened per measurement.
const N: usize = 200;

/// Starts a broker on its own tracked thread; returns its addresses and
/// state, and a sender that stops it.
fn broker_thread() -> (
    SocketAddr,
    SocketAddr,
    Arc<Shared>,
    tokio::sync::oneshot::Sender<()>,
) {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        TRACKED.with(|t| t.set(true));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let config = Config {
                tcp: vec![SocketAddr::from(([127, 0, 0, 1], 0))],
                ws: vec![SocketAddr::from(([127, 0, 0, 1], 0))],
                sys_interval: 0,
                ..Config::default()
            };
            let broker = Broker::start(config).await.unwrap();
            ready_tx
                .send((broker.tcp[0], broker.ws[0], Arc::clone(broker.shared())))
                .unwrap();
            // Serve until told to stop (or the test is gone).
            stop_rx.await.ok();
            broker.shutdown().await;
        });
    });
    let (tcp, ws, shared) = ready_rx.recv_timeout(WAIT).unwrap();
    (tcp, ws, shared, stop_tx)
}

fn connect_bytes(i: usize) -> Vec<u8> {
    let mut out = Vec::new();
    Packet::Connect(connect(&format!("idle-{i}")))
        .encode(ProtocolVersion::V5, &mut out)
        .unwrap();
    out
}

fn is_connack(buf: &mut BytesMut) -> bool {
    matches!(
        decode_packet(buf, ProtocolVersion::V5, u32::MAX),
        Ok(Some(Packet::ConnAck(_)))
    )
}

async fn idle_tcp(addr: SocketAddr, i: usize) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&connect_bytes(i)).await.unwrap();
    let mut buf = BytesMut::new();
    while !is_connack(&mut buf) {
        assert!(s.read_buf(&mut buf).await.unwrap() > 0, "closed");
    }
    s
}

type WsClient = tokio_tungstenite::WebSocketStream<TcpStream>;

async fn idle_ws(addr: SocketAddr, i: usize) -> WsClient {
    let mut request = format!("ws://{addr}/mqtt").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("mqtt"));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(request, tcp, Some(config))
        .await
        .unwrap();
    ws.send(Message::binary(connect_bytes(i))).await.unwrap();
    let mut buf = BytesMut::new();
    while !is_connack(&mut buf) {
        match ws.next().await {
            Some(Ok(Message::Binary(b))) => buf.extend_from_slice(&b),
            other => panic!("expected CONNACK, got {other:?}"),
        }
    }
    ws
}

/// Waits (bounded) until the broker counts `n` open connections. Real
/// time: the cost measured is that of TCP and WebSocket connections, so
/// these are real sockets, and the count has no change notification.
async fn connections_become(shared: &Shared, n: usize) {
    tokio::time::timeout(WAIT, async {
        while shared.connections.load(Ordering::Relaxed) != n {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("connection count in time");
}

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// Opens `N` idle connections with `open`, then closes them; returns the
/// broker heap per open connection and what was left after they closed.
async fn measure<C, F>(shared: &Shared, open: impl Fn(usize) -> F) -> (isize, isize)
where
    F: std::future::Future<Output = C>,
{
    connections_become(shared, 0).await;
    let before = live();
    let mut held = Vec::with_capacity(N);
    for i in 0..N {
        held.push(open(i).await);
    }
    connections_become(shared, N).await;
    let per_connection = (live() - before) / N as isize;
    drop(held);
    connections_become(shared, 0).await;
    (per_connection, live() - before)
}

#[tokio::test]
async fn idle_connections_cost_little_and_give_it_back() {
    let (tcp, ws, shared, stop) = broker_thread();
    // A first round sizes the tables that keep their capacity (sessions,
    // I/O registrations); the second is measured.
    measure(&shared, |i| idle_tcp(tcp, i)).await;
    let (per, left) = measure(&shared, |i| idle_tcp(tcp, i)).await;
    eprintln!("tcp: {per} bytes per connection, {left} left after close");
    assert!(per <= 8 * 1024, "{per} bytes per idle TCP connection");
    assert!(left < 16 * 1024, "{left} bytes left after closing");

    measure(&shared, |i| idle_ws(ws, N + i)).await;
    let (per, left) = measure(&shared, |i| idle_ws(ws, N + i)).await;
    eprintln!("ws: {per} bytes per connection, {left} left after close");
    assert!(
        per <= 16 * 1024,
        "{per} bytes per idle WebSocket connection"
    );
    assert!(left < 16 * 1024, "{left} bytes left after closing");
    stop.send(()).ok();
}
