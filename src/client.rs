//! The `WasmClient` class the JS wrapper builds its `MqttClient` on.

use alloc::string::String;
use alloc::vec::Vec;
use js_sys::{Array, Function, Uint8Array};
use wasm_bindgen::prelude::*;
use wasmqtt_codec::{Auth, PacketType, Publish, ReasonCode, Subscription, TopicName};
use wasmqtt_session::Session;

use crate::driver::{with_driver, Driver, Shared};
use crate::error::{Error, Failure};
use crate::events::Out;
use crate::js::now;
use crate::options;
use crate::records::Records;
use crate::socket::SocketEvents;
use crate::transport::Hooks;

/// One MQTT connection, reconnecting as configured. Commands take an id
/// from JS and settle through the records of `events.rs`.
#[wasm_bindgen]
pub struct WasmClient {
    pub(crate) driver: Shared,
}

/// The filters of a JS array of strings (`filterList` in `js/index.js`
/// checked them); anything else becomes an empty filter, which the session
/// refuses.
fn filters(list: &Array) -> Vec<String> {
    list.iter()
        .map(|f| f.as_string().unwrap_or_default())
        .collect()
}

#[wasm_bindgen]
impl WasmClient {
    /// Starts connecting to `url`. `options` is the record `connectArgs`
    /// in `js/options.js` makes of the options (it checks them and the URL);
    /// `events` takes the records of each turn; `credentials`, if given,
    /// is called before each connect; `socket()` opens a WebSocket to `url`.
    /// Options the codec refuses throw an
    /// error record (a `Uint8Array`).
    #[wasm_bindgen(constructor)]
    pub fn new(
        url: JsValue,
        options: &[u8],
        events: Function,
        credentials: Option<Function>,
        socket: Function,
    ) -> Result<WasmClient, JsValue> {
        let hooks = Hooks {
            credentials,
            socket,
        };
        let options = match options::connect(options) {
            Ok(o) => o,
            Err(e) => {
                let mut out = Out::default();
                e.write(&mut out);
                return Err(Uint8Array::from(&out.0[..]).into());
            }
        };
        let driver = Driver::new(
            Session::new(options),
            url,
            hooks,
            Records::new(events.unchecked_into()),
        );
        with_driver(&driver, Driver::open);
        Ok(Self { driver })
    }

    /// Publishes; settles on PUBACK/PUBCOMP (QoS 0: when written to the
    /// socket). With a `timeout` (ms), publishes a request and resolves
    /// with the response message. The options come from
    /// `publishArgs` in `js/options.js`; `properties` in their wire form.
    #[allow(clippy::too_many_arguments)]
    pub fn publish(
        &self,
        id: u32,
        topic: &str,
        payload: Vec<u8>,
        qos: u8,
        retain: bool,
        properties: Vec<u8>,
        timeout: Option<f64>,
    ) {
        self.command(id, |d| {
            let publish = Publish {
                qos: options::qos(qos),
                retain,
                topic: TopicName::new(topic).map_err(|e| Error::topic(Failure::InvalidTopic, e))?,
                properties: options::properties(properties, Some(PacketType::Publish))?,
                payload: payload.into(),
                ..Publish::default()
            };
            d.publish(id, publish, timeout.map(|t| t as u64))
        });
    }

    /// Subscribes to `list` (an array of strings) with the options byte of
    /// SUBSCRIBE; resolves with the reason code of each.
    pub fn subscribe(&self, id: u32, list: Array, options: u8, properties: Vec<u8>) {
        self.command(id, |d| {
            let options = options::subscription(options);
            let properties = options::properties(properties, Some(PacketType::Subscribe))?;
            let subscriptions = filters(&list)
                .into_iter()
                .map(|filter| Subscription { filter, options })
                .collect();
            d.subscribe(id, subscriptions, properties)
        });
    }

    /// Unsubscribes from `list` (an array of strings); resolves with the
    /// reason code of each.
    pub fn unsubscribe(&self, id: u32, list: Array) {
        self.command(id, |d| d.unsubscribe(id, filters(&list)));
    }

    /// Answers an AUTH challenge or starts re-authentication.
    pub fn auth(&self, id: u32, data: Option<Vec<u8>>) {
        self.command(id, |d| {
            // The session answers a challenge or starts re-authentication.
            let mut auth = Auth::default();
            auth.properties.authentication_data = data.map(Into::into);
            d.session.auth(now(), auth)?;
            d.done(id);
            Ok(())
        });
    }

    /// Sends DISCONNECT with `reason_code` and `properties` (from `endArgs`
    /// in `js/options.js`) and stops, once in-flight messages are settled
    /// (at once with `force`). Resolves when done.
    pub fn end(&self, id: u32, force: bool, reason_code: u8, properties: Vec<u8>) {
        with_driver(&self.driver, |d| {
            d.end(id, force, || {
                let reason = ReasonCode::from_u8(reason_code)
                    .filter(|r| r.is_valid_for(PacketType::Disconnect))
                    .ok_or_else(|| Error::new(Failure::DisconnectReasonCode))?;
                let properties = options::properties(properties, Some(PacketType::Disconnect))?;
                Ok((reason, properties))
            });
        });
    }

    /// The current WebSocket opened.
    pub fn opened(&self) {
        with_driver(&self.driver, |d| d.on_open());
    }

    /// Where JS writes a received frame of up to `len` bytes before
    /// `receive`: an address in wasm memory, the same for every frame until
    /// one needs more room (no allocation, no copy through the glue).
    pub fn inbox(&self, len: usize) -> *mut u8 {
        self.driver.borrow_mut().output.inbox(len)
    }

    /// A binary frame of `len` bytes, written to the inbox, arrived on the
    /// current WebSocket at `time` (the event's `timeStamp`, on the clock of
    /// `performance.now()`; text frames are not MQTT [MQTT-6.0.0-1], JS
    /// drops them).
    pub fn receive(&self, len: usize, time: f64) {
        with_driver(&self.driver, |d| {
            let frame = d.output.frame(len);
            d.session.handle_bytes(time as u64, frame);
        });
    }

    /// The current WebSocket closed, or failed to open.
    pub fn closed(&self) {
        with_driver(&self.driver, |d| d.on_close());
    }

    /// Traffic and health counters, in the order `js/bridge.js` reads
    /// them (round-trip time NaN when not measured yet), written to wasm
    /// memory for JS to read there: their address (null if busy).
    pub fn metrics(&self) -> *const f64 {
        // JS numbers hold integers exactly up to 2^53.
        self.driver
            .try_borrow_mut()
            .map_or(core::ptr::null(), |mut d| {
                let m = d.session.metrics();
                d.output.metrics = [
                    m.bytes_in as f64,
                    m.bytes_out as f64,
                    m.packets_in as f64,
                    m.packets_out as f64,
                    m.messages_in as f64,
                    m.messages_out as f64,
                    m.in_flight as f64,
                    m.queued as f64,
                    m.reconnects as f64,
                    m.round_trip_time.map_or(f64::NAN, |t| t as f64),
                ];
                d.output.metrics.as_ptr()
            })
    }

    /// Runs pending timers now: after the tab or the network comes back.
    /// With `freeze`, the page is being frozen (tab freezing, back/forward
    /// cache) instead: the connection, which a frozen page could not keep,
    /// is closed as lost; the session resumes with the `wake` after it thaws.
    pub fn wake(&self, freeze: bool) {
        with_driver(&self.driver, |d| {
            if freeze {
                return d.freeze();
            }
            d.wake();
        });
    }

    fn command(&self, id: u32, f: impl FnOnce(&mut Driver) -> Result<(), Error>) {
        with_driver(&self.driver, |d| d.command(id, f));
    }
}
