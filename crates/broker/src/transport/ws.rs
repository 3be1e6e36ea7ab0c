//! WebSocket: subprotocol `mqtt` (or `mqttv3.1`), binary frames only,
//! paths `/mqtt` and `/`.

use std::io;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

const SUBPROTOCOLS: [&str; 2] = ["mqtt", "mqttv3.1"];

/// Bytes tungstenite reads at a time.
const READ_BUFFER: usize = 4 * 1024;

/// A WebSocket connection carrying MQTT.
pub struct WsTransport {
    ws: WebSocketStream<TcpStream>,
}

/// Performs the WebSocket handshake on an accepted TCP stream.
// The handshake callback's error type is fixed by tungstenite.
#[allow(clippy::result_large_err)]
pub async fn accept(stream: TcpStream, max_message: usize) -> io::Result<WsTransport> {
    stream.set_nodelay(true).ok();
    let callback = |request: &Request, mut response: Response| -> Result<Response, ErrorResponse> {
        let path = request.uri().path();
        if path != "/mqtt" && path != "/" {
            return Err(reject(StatusCode::NOT_FOUND));
        }
        let offered: Vec<&str> = request
            .headers()
            .get_all("Sec-WebSocket-Protocol")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(',').map(str::trim))
            .collect();
        // [MQTT-6.0.0-4]: "mqtt" when offered; "mqttv3.1" for older clients.
        let chosen = SUBPROTOCOLS.into_iter().find(|p| offered.contains(p));
        match chosen {
            Some(p) => {
                response.headers_mut().insert(
                    "Sec-WebSocket-Protocol",
                    HeaderValue::from_str(p).map_err(|_| reject(StatusCode::BAD_REQUEST))?,
                );
                Ok(response)
            }
            // [MQTT-6.0.0-3]: the client must offer "mqtt".
            None => Err(reject(StatusCode::BAD_REQUEST)),
        }
    };
    // tungstenite's defaults keep 128 KiB read and write buffers per
    // connection. A small read buffer (it grows for a larger frame) and no
    // write buffering (each send is one whole MQTT batch) keep an idle
    // connection small; the write buffer is still bounded if writes fail.
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(max_message.saturating_add(READ_BUFFER))
        .max_message_size(Some(max_message))
        .max_frame_size(Some(max_message));
    let ws = tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(config))
        .await
        .map_err(io::Error::other)?;
    Ok(WsTransport { ws })
}

fn reject(status: StatusCode) -> ErrorResponse {
    let mut response = ErrorResponse::new(None);
    *response.status_mut() = status;
    response
}

impl WsTransport {
    pub(super) async fn recv(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            match self.ws.next().await {
                None | Some(Ok(Message::Close(_))) => return Ok(None),
                Some(Ok(Message::Binary(data))) => return Ok(Some(data.into())),
                // [MQTT-6.0.0-1]: a text frame closes the connection.
                Some(Ok(Message::Text(_))) => {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "text frame"))
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(io::Error::other(e)),
            }
        }
    }

    pub(super) async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.ws
            .send(Message::binary(bytes.to_vec()))
            .await
            .map_err(io::Error::other)
    }

    pub(super) async fn close(&mut self) {
        self.ws.close(None).await.ok();
    }
}
