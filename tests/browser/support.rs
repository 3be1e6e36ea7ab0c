//! Helpers for the browser tests: a client whose events are recorded.
#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::future::TimeoutFuture;
use js_sys::{Array, Function, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasmqtt::WasmClient;

/// How long to wait for something that should happen.
const WAIT_MS: u32 = 5_000;

// The URLs are baked in at compile time by scripts/browser-test.sh, which
// starts the brokers first; without them the tests cannot run at all.
#[allow(clippy::option_env_unwrap)]
pub fn broker() -> String {
    option_env!("WASMQTT_BROKER_WS")
        .expect("run through scripts/browser-test.sh, which starts the brokers")
        .to_owned()
}

#[allow(clippy::option_env_unwrap)]
pub fn mosquitto() -> String {
    option_env!("WASMQTT_MOSQUITTO_WS")
        .expect("run through scripts/browser-test.sh, which starts the brokers")
        .to_owned()
}

/// A topic no other test uses.
pub fn unique(prefix: &str) -> String {
    let r = (js_sys::Math::random() * 1e9) as u64;
    format!("test/{prefix}/{r}")
}

pub fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}
pub fn n(v: f64) -> JsValue {
    JsValue::from_f64(v)
}
pub fn b(v: bool) -> JsValue {
    JsValue::from_bool(v)
}

pub fn obj(fields: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in fields {
        Reflect::set(&o, &JsValue::from_str(k), v).unwrap();
    }
    o.into()
}

pub fn get(o: &JsValue, key: &str) -> JsValue {
    Reflect::get(o, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

type Log<T> = Rc<RefCell<Vec<T>>>;
type Callback = Closure<dyn FnMut(JsValue, JsValue, JsValue, JsValue)>;

pub struct TestClient {
    pub client: WasmClient,
    events: Log<(String, JsValue)>,
    messages: Log<(String, Vec<u8>, JsValue, Vec<String>)>,
    _closures: Vec<Callback>,
}

impl TestClient {
    pub async fn connect(url: String, options: JsValue) -> Self {
        let events: Log<(String, JsValue)> = Rc::default();
        let messages: Log<(String, Vec<u8>, JsValue, Vec<String>)> = Rc::default();
        let e = events.clone();
        let emit = Closure::<dyn FnMut(JsValue, JsValue, JsValue, JsValue)>::new(
            move |name: JsValue, a, _b, _c| {
                e.borrow_mut()
                    .push((name.as_string().unwrap_or_default(), a));
            },
        );
        let m = messages.clone();
        let message = Closure::<dyn FnMut(JsValue, JsValue, JsValue, JsValue)>::new(
            move |topic: JsValue, payload: JsValue, packet, filters: JsValue| {
                let filters = Array::from(&filters)
                    .iter()
                    .filter_map(|f| f.as_string())
                    .collect();
                m.borrow_mut().push((
                    topic.as_string().unwrap_or_default(),
                    Uint8Array::from(payload).to_vec(),
                    packet,
                    filters,
                ));
            },
        );
        let error_class = Function::new_with_args(
            "message, code, reasonCode",
            "const e = new Error(message); e.code = code; e.reasonCode = reasonCode; return e;",
        );
        let hooks = obj(&[
            ("emit", emit.as_ref().clone()),
            ("message", message.as_ref().clone()),
            ("MqttError", error_class.into()),
        ]);
        let client = WasmClient::new(url, options, hooks).expect("valid options");
        Self {
            client,
            events,
            messages,
            _closures: vec![emit, message],
        }
    }

    /// Waits for the next event named `name` and removes it from the log.
    pub async fn event(&self, name: &str) -> JsValue {
        for _ in 0..WAIT_MS / 10 {
            let found = {
                let mut log = self.events.borrow_mut();
                log.iter()
                    .position(|(n, _)| n == name)
                    .map(|i| log.remove(i).1)
            };
            if let Some(v) = found {
                return v;
            }
            TimeoutFuture::new(10).await;
        }
        panic!(
            "no {name} event; saw {:?}",
            self.events
                .borrow()
                .iter()
                .map(|e| e.0.clone())
                .collect::<Vec<_>>()
        );
    }

    /// Waits for the next received message.
    pub async fn message(&self) -> (String, Vec<u8>, JsValue) {
        let (t, p, packet, _) = self.message_with_filters().await;
        (t, p, packet)
    }

    pub async fn message_with_filters(&self) -> (String, Vec<u8>, JsValue, Vec<String>) {
        for _ in 0..WAIT_MS / 10 {
            if !self.messages.borrow().is_empty() {
                return self.messages.borrow_mut().remove(0);
            }
            TimeoutFuture::new(10).await;
        }
        panic!("no message arrived");
    }

    /// Whether a message arrives within `ms`.
    pub async fn no_message_within(&self, ms: u32) -> bool {
        TimeoutFuture::new(ms).await;
        self.messages.borrow().is_empty()
    }

    pub async fn publish(
        &self,
        topic: &str,
        payload: &[u8],
        options: JsValue,
    ) -> Result<JsValue, JsValue> {
        JsFuture::from(self.client.publish(topic, payload.to_vec(), options)).await
    }

    pub async fn subscribe(&self, filter: &str, options: JsValue) -> Result<Vec<u8>, JsValue> {
        let codes = JsFuture::from(self.client.subscribe(vec![filter.to_owned()], options)).await?;
        Ok(Array::from(&codes)
            .iter()
            .map(|c| c.as_f64().unwrap_or(-1.0) as u8)
            .collect())
    }

    pub async fn end(&self) {
        JsFuture::from(self.client.end(false, JsValue::UNDEFINED))
            .await
            .ok();
    }
}
