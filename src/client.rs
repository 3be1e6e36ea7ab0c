//! The `WasmClient` class the JS wrapper builds its `MqttClient` on.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasmqtt_codec::{
    Auth, Disconnect, PacketType, Properties, Publish, QoS, ReasonCode, Subscription, TopicName,
};
use wasmqtt_session::Session;

use crate::convert;
use crate::driver::{now, with_driver, Driver, Hooks, Shared};
use crate::error::{topic_problem, Error};
use crate::options;

/// One MQTT connection, reconnecting as configured.
#[wasm_bindgen]
pub struct WasmClient {
    driver: Shared,
}

fn function(hooks: &JsValue, name: &str) -> Option<Function> {
    Reflect::get(hooks, &JsValue::from_str(name))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
}

#[wasm_bindgen]
impl WasmClient {
    /// Starts connecting to `url`. `options` is what `connectArgs` in
    /// `js/options.js` makes of the URL and the options (it checks both);
    /// `hooks` holds `emit`, `message`, `MqttError` and optionally
    /// `credentials`.
    #[wasm_bindgen(constructor)]
    pub fn new(url: String, options: Array, hooks: JsValue) -> Result<WasmClient, JsValue> {
        let (Some(emit), Some(message), Some(error_class)) = (
            function(&hooks, "emit"),
            function(&hooks, "message"),
            function(&hooks, "MqttError"),
        ) else {
            return Err(JsValue::from(js_sys::TypeError::new(
                "hooks are incomplete",
            )));
        };
        let hooks = Hooks {
            emit,
            message,
            credentials: function(&hooks, "credentials"),
            error_class,
        };
        let options = match options::connect(&options) {
            Ok(o) => o,
            Err(e) => return Err(e.to_js(&hooks.error_class)),
        };
        let driver = Driver::new(Session::new(options), url, hooks);
        with_driver(&driver, Driver::open);
        Ok(Self { driver })
    }

    /// Publishes; settles on PUBACK/PUBCOMP (QoS 0: when written to the
    /// socket). With a `timeout` (ms) of 0 or more, publishes a request and
    /// resolves with the response message. The options come from
    /// `publishArgs` in `js/options.js`; `properties` in their wire form.
    pub fn publish(
        &self,
        topic: &str,
        payload: Vec<u8>,
        qos: u8,
        retain: bool,
        properties: Vec<u8>,
        timeout: f64,
    ) -> Promise {
        self.command(|d| {
            let publish = Publish {
                qos: options::qos(qos),
                retain,
                topic: TopicName::new(topic)
                    .map_err(|e| Error::new("INVALID_TOPIC", topic_problem(e)))?,
                properties: options::properties(properties, Some(PacketType::Publish))?,
                payload: payload.into(),
                ..Publish::default()
            };
            if timeout >= 0.0 {
                let token = d.session.request(now(), publish, timeout as u64)?;
                return Ok(d.promise_for_request(token));
            }
            let qos = publish.qos;
            let token = d.session.publish(now(), publish)?;
            Ok(if qos == QoS::AtMostOnce && d.session.is_connected() {
                // Settled when the bytes reach the socket, for backpressure.
                d.promise_on_flush()
            } else {
                d.promise_for(token)
            })
        })
    }

    /// Subscribes to `filters` (an array of strings) with the options
    /// byte of SUBSCRIBE; resolves with the reason code of each.
    pub fn subscribe(&self, filters: Array, options: u8, properties: Vec<u8>) -> Promise {
        self.command(|d| {
            let options = options::subscription(options);
            let properties = options::properties(properties, Some(PacketType::Subscribe))?;
            let subscriptions = filters
                .iter()
                .map(|filter| Subscription {
                    filter: filter.as_string().unwrap_or_default(),
                    options,
                })
                .collect();
            let token = d.session.subscribe(now(), subscriptions, properties)?;
            Ok(d.promise_for(token))
        })
    }

    /// Unsubscribes from `filters`; resolves with the reason code of each.
    pub fn unsubscribe(&self, filters: Array) -> Promise {
        self.command(|d| {
            let filters = filters
                .iter()
                .map(|f| f.as_string().unwrap_or_default())
                .collect();
            let token = d
                .session
                .unsubscribe(now(), filters, Properties::default())?;
            Ok(d.promise_for(token))
        })
    }

    /// Answers an AUTH challenge or starts re-authentication.
    pub fn auth(&self, data: Option<Vec<u8>>) -> Result<(), JsValue> {
        with_driver(&self.driver, |d| {
            let mut auth = Auth::default();
            auth.properties.authentication_data = data.map(Into::into);
            // Answering the server's challenge, not starting over.
            if core::mem::take(&mut d.auth_challenge) {
                auth.reason_code = ReasonCode::ContinueAuthentication;
            }
            d.session
                .auth(now(), auth)
                .map_err(|e| d.error(&Error::from(e)))
        })
    }

    /// Sends DISCONNECT with `reason_code` and `properties` (from `endArgs`
    /// in `js/options.js`) and stops, once in-flight messages are settled
    /// (at once with `force`). Resolves when done.
    pub fn end(&self, force: bool, reason_code: u8, properties: Vec<u8>) -> Promise {
        with_driver(&self.driver, |d| {
            // Ending twice is harmless.
            if d.is_ended() {
                return Promise::resolve(&JsValue::UNDEFINED);
            }
            Self::end_with(d, force, reason_code, properties)
                .unwrap_or_else(|e| Promise::reject(&d.error(&e)))
        })
    }

    fn end_with(
        d: &mut Driver,
        force: bool,
        reason_code: u8,
        properties: Vec<u8>,
    ) -> Result<Promise, Error> {
        let reason = ReasonCode::from_u8(reason_code)
            .filter(|r| r.is_valid_for(PacketType::Disconnect))
            .ok_or_else(|| Error::options("reasonCode", "is not a DISCONNECT reason code"))?;
        let mut properties = options::properties(properties, Some(PacketType::Disconnect))?;
        let expiry = properties.session_expiry_interval.take();
        // What the codec would refuse (a reason code MQTT 3.1.1 lacks …) is refused now.
        let probe = Disconnect {
            reason_code: reason,
            properties: properties.clone(),
        };
        probe
            .encode(d.session.protocol_version(), &mut Vec::new())
            .map_err(|e| Error::encode_options(&e))?;
        let connect_expiry = d.session.options().properties.session_expiry_interval;
        // [MQTT-3.14.2-2]: a session that ends with the connection cannot be extended.
        if connect_expiry.unwrap_or(0) == 0 && expiry.is_some_and(|e| e > 0) {
            return Err(Error::options(
                "sessionExpiryInterval",
                "cannot be set when connected with 0",
            ));
        }
        let promise = d.promise_on_end();
        let finish = move |d: &mut Driver| {
            // Checked above; should it fail anyway, a plain DISCONNECT
            // still ends the session.
            if d.session
                .disconnect(now(), reason, expiry, properties)
                .is_err()
            {
                let _ =
                    d.session
                        .disconnect(now(), ReasonCode::Success, None, Properties::default());
            }
            d.mark_ended();
        };
        if force {
            finish(d);
        } else {
            d.end_when_idle(Box::new(finish));
        }
        Ok(promise)
    }

    /// Whether the connection is up.
    #[wasm_bindgen(getter)]
    pub fn connected(&self) -> bool {
        // Getters never panic, even if called back from inside the client.
        self.driver
            .try_borrow()
            .is_ok_and(|d| d.session.is_connected())
    }

    /// The Client Identifier, including one the server assigned.
    #[wasm_bindgen(getter, js_name = clientId)]
    pub fn client_id(&self) -> String {
        self.driver
            .try_borrow()
            .map(|d| d.session.options().client_id.clone())
            .unwrap_or_default()
    }

    /// The server's limits and features from CONNACK.
    #[wasm_bindgen(getter)]
    pub fn server(&self) -> JsValue {
        self.driver
            .try_borrow()
            .map_or(JsValue::UNDEFINED, |d| convert::server(d.session.server()))
    }

    /// Traffic and health counters.
    #[wasm_bindgen(getter)]
    pub fn metrics(&self) -> JsValue {
        self.driver.try_borrow().map_or(JsValue::UNDEFINED, |d| {
            convert::metrics(&d.session.metrics())
        })
    }

    /// Runs pending timers now: after the tab or the network comes back.
    pub fn wake(&self) {
        with_driver(&self.driver, |d| {
            d.session.reconnect_now(now());
            d.on_timer();
        });
    }

    fn command(&self, f: impl FnOnce(&mut Driver) -> Result<Promise, Error>) -> Promise {
        with_driver(&self.driver, |d| {
            if d.is_ended() {
                return Promise::reject(
                    &d.error(&Error::new("CLIENT_ENDED", "the client was ended")),
                );
            }
            if d.is_stopped() {
                return Promise::reject(&d.error(&Error::new(
                    "NOT_CONNECTED",
                    "the connection ended and will not be retried",
                )));
            }
            f(d).unwrap_or_else(|e| Promise::reject(&d.error(&e)))
        })
    }
}
