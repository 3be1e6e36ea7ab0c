//! The connection's WebSocket (the browser's, or any with its API). JS
//! makes it and owns its event handlers (`socket` in `js/bridge.js`), which
//! call `WasmClient::{opened, receive, closed}`: one call into the wasm per
//! frame, whose bytes JS wrote into wasm memory (`WasmClient::inbox`).
//! Dropping it has JS detach those handlers and close it.

use js_sys::Function;
use wasm_bindgen::prelude::*;
use web_sys::WebSocket;

/// Frames carry at most this many bytes: a burst published in one task
/// leaves as several frames, so the broker starts forwarding the first
/// while the rest is still on its way. Only what exceeds it is cut, and
/// then possibly inside a packet: a receiver must not assume packets are
/// aligned on frames [MQTT-6.0.0-2] (mosquitto 2.0 and wasmqtt-broker are
/// tested with a 200 KB PUBLISH cut this way).
const MAX_FRAME: usize = 16 * 1024;

/// What a socket tells its owner besides its frames, which go to the
/// session (`WasmClient::receive`).
pub(crate) trait SocketEvents {
    fn on_open(&mut self);
    fn on_close(&mut self);
}

pub(crate) struct Socket {
    ws: WebSocket,
    /// `socket` of `js/bridge.js`: `socket(ws)` detaches and closes `ws`.
    hook: Function,
}

impl Socket {
    /// Opens one with `hook()`.
    pub(crate) fn open(hook: &Function) -> Result<Self, JsValue> {
        Ok(Self {
            ws: hook
                .call1(&JsValue::NULL, &JsValue::UNDEFINED)?
                .unchecked_into(),
            hook: hook.clone(),
        })
    }

    /// Bytes queued by the browser and not yet sent.
    pub(crate) fn buffered(&self) -> u32 {
        self.ws.buffered_amount()
    }

    pub(crate) fn send(&self, bytes: &[u8]) -> Result<(), JsValue> {
        for frame in bytes.chunks(MAX_FRAME) {
            self.ws.send_with_u8_array(frame)?;
        }
        Ok(())
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        // Queued frames are still sent before the close frame.
        let _ = self.hook.call1(&JsValue::NULL, &self.ws);
    }
}
