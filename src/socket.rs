//! A WebSocket (the browser's, or any with its API): binary frames; its
//! event handlers live exactly as long as this value, and dropping it
//! closes it. JS makes it, so the subprotocol and the implementation are
//! chosen there.

use alloc::vec::Vec;
use js_sys::{ArrayBuffer, Function, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, MessageEvent, WebSocket};

use crate::js::Callback;

/// What a socket tells its owner.
pub(crate) trait SocketEvents {
    fn on_open(&mut self);
    fn on_bytes(&mut self, bytes: &[u8]);
    fn on_close(&mut self);
}

pub(crate) struct Socket {
    ws: WebSocket,
    _on_open: Callback,
    _on_message: Callback,
    _on_close: Callback,
}

impl Socket {
    /// Opens one with `make()`; `deliver` runs each event against the owner.
    pub(crate) fn open(
        make: &Function,
        deliver: impl Fn(&dyn Fn(&mut dyn SocketEvents)) + Clone + 'static,
    ) -> Result<Self, JsValue> {
        // `call1` rather than `call0`: the client imports that one already.
        let ws: WebSocket = make
            .call1(&JsValue::NULL, &JsValue::UNDEFINED)?
            .unchecked_into();
        ws.set_binary_type(BinaryType::Arraybuffer);
        let d = deliver.clone();
        let on_open = Callback::new(move |_| d(&|s| s.on_open()));
        let d = deliver.clone();
        let mut scratch = Vec::new();
        let on_message = Callback::new(move |e: JsValue| {
            // Text frames are not MQTT [MQTT-6.0.0-1]; they are ignored.
            let e: MessageEvent = e.unchecked_into();
            if let Ok(buf) = e.data().dyn_into::<ArrayBuffer>() {
                let view = Uint8Array::new(&buf);
                scratch.resize(view.length() as usize, 0);
                view.copy_to(&mut scratch);
                d(&|s| s.on_bytes(&scratch));
            }
        });
        // `error` is always followed by `close`, which is where we react.
        let d = deliver;
        let on_close = Callback::new(move |_| d(&|s| s.on_close()));
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Self {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        })
    }

    pub(crate) fn is_open(&self) -> bool {
        self.ws.ready_state() == WebSocket::OPEN
    }

    /// Bytes queued by the browser and not yet sent.
    pub(crate) fn buffered(&self) -> u32 {
        self.ws.buffered_amount()
    }

    pub(crate) fn send(&self, bytes: &[u8]) -> Result<(), JsValue> {
        self.ws.send_with_u8_array(bytes)
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        // Queued frames are still sent before the close frame.
        self.ws.close().ok();
    }
}
