//! The Rust API's WebSocket hook: what `socket` in `js/bridge.js` does for
//! the JS façade. Called with nothing, it opens a WebSocket to the URL
//! (subprotocol `mqtt` [MQTT-6.0.0-3], binary frames) whose events drive
//! the client; called with a socket the driver is done with, it detaches
//! that socket's handlers and closes it.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, MessageEvent, WebSocket};

use super::listener::Tap;
use crate::driver::{with_driver, Driver};
use crate::js::{now, Callback};
use crate::socket::SocketEvents;

/// `() => WebSocket`, `(ws) => ()`.
pub(crate) type SocketHook = Closure<dyn FnMut(JsValue) -> Result<JsValue, JsValue>>;

/// The driver, once it exists (the hook is made first).
pub(crate) type Slot = Rc<RefCell<Weak<RefCell<Driver<Tap>>>>>;

/// Runs `event` on the driver, if it is still there.
fn deliver(slot: &Slot, event: impl FnOnce(&mut Driver<Tap>)) {
    let driver = slot.borrow().upgrade();
    if let Some(driver) = driver {
        with_driver(&driver, event);
    }
}

fn detach(ws: &WebSocket) {
    ws.set_onopen(None);
    ws.set_onmessage(None);
    ws.set_onclose(None);
    // Queued frames are still sent before the close frame.
    let _ = ws.close();
}

pub(crate) fn hook(url: String, slot: Slot) -> SocketHook {
    // Each open socket with its handlers, which live as long as it is attached.
    let mut open: Vec<(WebSocket, [Callback; 3])> = Vec::new();
    Closure::new(move |old: JsValue| {
        if let Some(old) = old.dyn_ref::<WebSocket>() {
            detach(old);
            open.retain(|(ws, _)| ws != old);
            return Ok(JsValue::UNDEFINED);
        }
        let ws = WebSocket::new_with_str(&url, "mqtt")?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let s = slot.clone();
        let on_open = Callback::new(move |_| deliver(&s, |d| d.on_open()));
        let s = slot.clone();
        let mut frame = Vec::new();
        let on_message = Callback::new(move |e: JsValue| {
            // Text frames are not MQTT [MQTT-6.0.0-1]: ignored.
            let data = e.unchecked_into::<MessageEvent>().data();
            if let Some(buffer) = data.dyn_ref::<ArrayBuffer>() {
                frame.clear();
                frame.extend_from_slice(&Uint8Array::new(buffer).to_vec());
                deliver(&s, |d| d.session.handle_bytes(now(), &frame));
            }
        });
        let s = slot.clone();
        // `error` is always followed by `close`, which is where the driver reacts.
        let on_close = Callback::new(move |_| deliver(&s, |d| d.on_close()));
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        open.push((ws.clone(), [on_open, on_message, on_close]));
        Ok(ws.into())
    })
}
