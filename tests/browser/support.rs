//! Helpers for the browser tests: a client whose events and messages are
//! recorded, waits with deadlines, and the broker's `$control` topics.
#![allow(dead_code)]

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use gloo_timers::future::TimeoutFuture;
use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasmqtt::WasmClient;

// The wrapper's option checking and packing: `WasmClient` takes options
// in the form these give, as `js/index.js` hands them over.
#[wasm_bindgen(module = "/js/options.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = connectArgs)]
    fn connect_args(url: &str, options: &JsValue) -> Result<Array, JsValue>;
    #[wasm_bindgen(catch, js_name = publishArgs)]
    fn publish_args(options: &JsValue, request: bool) -> Result<Array, JsValue>;
    #[wasm_bindgen(catch, js_name = subscribeArgs)]
    fn subscribe_args(options: &JsValue) -> Result<Array, JsValue>;
    #[wasm_bindgen(catch, js_name = endArgs)]
    fn end_args(options: &JsValue) -> Result<Array, JsValue>;
}

// What `js/index.js` builds its client on: the wasm client's records
// turned into events and promises.
#[wasm_bindgen(module = "/js/bridge.js")]
extern "C" {
    pub type Connection;
    #[wasm_bindgen(constructor)]
    fn new(hooks: &JsValue) -> Connection;
    #[wasm_bindgen(method, catch)]
    fn start(this: &Connection, create: &Function, memory: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, getter)]
    fn connected(this: &Connection) -> bool;
    #[wasm_bindgen(method, getter, js_name = clientId)]
    fn client_id(this: &Connection) -> Option<String>;
    #[wasm_bindgen(method, getter)]
    fn server(this: &Connection) -> JsValue;
    #[wasm_bindgen(method, getter)]
    fn metrics(this: &Connection) -> JsValue;
    #[wasm_bindgen(method)]
    fn wake(this: &Connection);
    #[wasm_bindgen(method)]
    fn publish(
        this: &Connection,
        topic: &str,
        payload: &Uint8Array,
        qos: u8,
        retain: bool,
        properties: &Uint8Array,
        timeout: &JsValue,
    ) -> Promise;
    #[wasm_bindgen(method)]
    fn subscribe(
        this: &Connection,
        filters: Array,
        options: u8,
        properties: &Uint8Array,
    ) -> Promise;
    #[wasm_bindgen(method)]
    fn unsubscribe(this: &Connection, filters: Array) -> Promise;
    #[wasm_bindgen(method, js_name = end)]
    fn end_with(
        this: &Connection,
        force: bool,
        reason_code: u8,
        properties: &Uint8Array,
    ) -> Promise;
}

/// A `WasmClient` behind `js/bridge.js`, taking plain option objects, as
/// `MqttClient` in `js/index.js` does: they go through `js/options.js`
/// first, and a bad one rejects with its `MqttError`.
pub struct Client(pub Connection);

fn u8_at(a: &Array, i: u32) -> u8 {
    a.get(i).as_f64().unwrap_or(0.0) as u8
}

// Byte arguments go to JS as copies: the client allocates in this same
// wasm memory, and a view into it would not survive that.
fn bytes_at(a: &Array, i: u32) -> Uint8Array {
    Uint8Array::from(&to_bytes(&a.get(i))[..])
}

fn strings(filters: Vec<String>) -> Array {
    filters.iter().map(|f| JsValue::from_str(f)).collect()
}

impl Client {
    fn send(&self, topic: &str, payload: Vec<u8>, options: JsValue, request: bool) -> Promise {
        match publish_args(&options, request) {
            Ok(a) => self.0.publish(
                topic,
                &Uint8Array::from(&payload[..]),
                u8_at(&a, 0),
                a.get(1).is_truthy(),
                &bytes_at(&a, 2),
                &a.get(3),
            ),
            Err(e) => Promise::reject(&e),
        }
    }

    pub fn publish(&self, topic: &str, payload: Vec<u8>, options: JsValue) -> Promise {
        self.send(topic, payload, options, false)
    }

    pub fn request(&self, topic: &str, payload: Vec<u8>, options: JsValue) -> Promise {
        self.send(topic, payload, options, true)
    }

    pub fn subscribe(&self, filters: Vec<String>, options: JsValue) -> Promise {
        match subscribe_args(&options) {
            Ok(a) => self
                .0
                .subscribe(strings(filters), u8_at(&a, 0), &bytes_at(&a, 1)),
            Err(e) => Promise::reject(&e),
        }
    }

    pub fn unsubscribe(&self, filters: Vec<String>) -> Promise {
        self.0.unsubscribe(strings(filters))
    }

    pub fn end(&self, force: bool, options: JsValue) -> Promise {
        match end_args(&options) {
            Ok(a) => self.0.end_with(force, u8_at(&a, 0), &bytes_at(&a, 1)),
            Err(e) => Promise::reject(&e),
        }
    }

    pub fn connected(&self) -> bool {
        self.0.connected()
    }

    pub fn client_id(&self) -> String {
        self.0.client_id().unwrap_or_default()
    }

    pub fn server(&self) -> JsValue {
        self.0.server()
    }

    pub fn metrics(&self) -> JsValue {
        self.0.metrics()
    }

    pub fn wake(&self) {
        self.0.wake();
    }
}

/// How long to wait for something that should happen.
pub const WAIT_MS: u32 = 5_000;

// The URLs are baked in at compile time by scripts/browser-test.sh, which
// starts the brokers first; without them the tests cannot run at all.
macro_rules! env_url {
    ($name:literal) => {
        option_env!($name)
            .unwrap_or_else(|| {
                panic!(concat!(
                    $name,
                    " is not set: run through scripts/browser-test.sh, which starts the brokers"
                ))
            })
            .to_owned()
    };
}

/// wasmqtt-broker, with `--test-control`.
pub fn broker() -> String {
    env_url!("WASMQTT_BROKER_WS")
}

/// wasmqtt-broker with `--no-anonymous` and one user.
pub fn auth_broker() -> String {
    env_url!("WASMQTT_BROKER_AUTH_WS")
}

/// The user name and password the auth broker knows.
pub fn auth_user() -> (String, String) {
    (
        env_url!("WASMQTT_AUTH_USER"),
        env_url!("WASMQTT_AUTH_PASSWORD"),
    )
}

/// A WebSocket URL pointing at wasmqtt-broker's plain TCP listener: a
/// server that is there but does not speak WebSocket.
pub fn not_websocket() -> String {
    let tcp = env_url!("WASMQTT_BROKER_TCP");
    let mut url = String::from("ws://");
    url.push_str(&tcp);
    url.push_str("/mqtt");
    url
}

pub fn mosquitto() -> String {
    env_url!("WASMQTT_MOSQUITTO_WS")
}

/// A name no other test uses (a random part, as the page runs tests one
/// after another against the same brokers).
pub fn unique(prefix: &str) -> String {
    let r = (js_sys::Math::random() * 1e9) as u64;
    format!("{prefix}-{r}")
}

/// A topic no other test uses.
pub fn topic(prefix: &str) -> String {
    format!("test/{}", unique(prefix))
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
pub fn bytes(v: &[u8]) -> JsValue {
    Uint8Array::from(v).into()
}
pub fn arr(values: &[JsValue]) -> JsValue {
    values.iter().collect::<Array>().into()
}
/// `[[k, v], ...]`, the form user properties take.
pub fn pairs(list: &[(&str, &str)]) -> JsValue {
    list.iter()
        .map(|(k, v)| JsValue::from(Array::of2(&s(k), &s(v))))
        .collect::<Array>()
        .into()
}

pub fn obj(fields: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in fields {
        Reflect::set(&o, &JsValue::from_str(k), v).expect("set a field");
    }
    o.into()
}

pub fn get(o: &JsValue, key: &str) -> JsValue {
    Reflect::get(o, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A field as a number (NaN when absent).
pub fn num(o: &JsValue, key: &str) -> f64 {
    get(o, key).as_f64().unwrap_or(f64::NAN)
}

pub fn string(o: &JsValue, key: &str) -> Option<String> {
    get(o, key).as_string()
}

pub fn to_bytes(v: &JsValue) -> Vec<u8> {
    v.dyn_ref::<Uint8Array>()
        .map(Uint8Array::to_vec)
        .unwrap_or_default()
}

/// `[[k, v], ...]` back into Rust.
pub fn from_pairs(v: &JsValue) -> Vec<(String, String)> {
    // Received User Properties are `{ key: value }`, a repeated key's
    // values as an array.
    // The object has no prototype, so it is not `instanceof Object`.
    if !v.is_object() {
        return Vec::new();
    }
    Object::entries(v.unchecked_ref())
        .iter()
        .flat_map(|entry| {
            let entry = Array::from(&entry);
            let key = entry.get(0).as_string().unwrap_or_default();
            let value = entry.get(1);
            let values: Vec<JsValue> = if Array::is_array(&value) {
                Array::from(&value).iter().collect()
            } else {
                vec![value]
            };
            values
                .into_iter()
                .map(move |v| (key.clone(), v.as_string().unwrap_or_default()))
        })
        .collect()
}

/// Waits until `check` returns `Some`, polling every 5 ms, for at most
/// `WAIT_MS`; panics naming `what` (and what `describe` says) if it never does.
pub async fn wait_for<T>(
    what: &str,
    mut check: impl FnMut() -> Option<T>,
    describe: impl Fn() -> String,
) -> T {
    let deadline = js_sys::Date::now() + f64::from(WAIT_MS);
    loop {
        if let Some(v) = check() {
            return v;
        }
        if js_sys::Date::now() > deadline {
            panic!("timed out waiting for {what}; {}", describe());
        }
        TimeoutFuture::new(5).await;
    }
}

/// Awaits a promise, failing the test if it does not settle within `WAIT_MS`.
pub async fn settle(what: &str, promise: js_sys::Promise) -> Result<JsValue, JsValue> {
    let slot: Rc<RefCell<Option<Result<JsValue, JsValue>>>> = Rc::default();
    let s2 = slot.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let r = JsFuture::from(promise).await;
        *s2.borrow_mut() = Some(r);
    });
    wait_for(
        &format!("{what} to settle"),
        || slot.borrow_mut().take(),
        String::new,
    )
    .await
}

/// Runs `f`, expecting it to finish within `WAIT_MS`.
pub async fn within<T: 'static>(what: &str, f: impl Future<Output = T> + 'static) -> T {
    let slot: Rc<RefCell<Option<T>>> = Rc::default();
    let s2 = slot.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let v = f.await;
        *s2.borrow_mut() = Some(v);
    });
    wait_for(what, || slot.borrow_mut().take(), String::new).await
}

type Log<T> = Rc<RefCell<Vec<T>>>;
type Callback = Closure<dyn FnMut(JsValue, JsValue, JsValue, JsValue)>;

/// A received message as the `message` hook got it.
#[derive(Debug, Clone)]
pub struct Received {
    pub topic: String,
    pub payload: Vec<u8>,
    pub packet: JsValue,
    /// The subscriptions it was dispatched to.
    pub filters: Vec<String>,
}

impl Received {
    pub fn qos(&self) -> f64 {
        num(&self.packet, "qos")
    }
    pub fn retain(&self) -> bool {
        get(&self.packet, "retain").as_bool().unwrap_or(false)
    }
    pub fn dup(&self) -> bool {
        get(&self.packet, "dup").as_bool().unwrap_or(false)
    }
    pub fn properties(&self) -> JsValue {
        get(&self.packet, "properties")
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }
}

/// A `WasmClient` with recorded events and messages. Dropping it ends the
/// client at once, so a failed test does not leave it reconnecting.
pub struct TestClient {
    pub client: Client,
    /// Every event as (name, first argument), in order; `event` takes them out.
    events: Log<(String, JsValue)>,
    /// Names of every event ever emitted, in order (never taken out).
    history: Log<String>,
    messages: Log<Received>,
    _closures: Vec<Callback>,
}

/// The `MqttError` class stand-in: an `Error` with `code` and `reasonCode`.
pub fn error_class() -> Function {
    Function::new_with_args(
        "message, code, reasonCode",
        "const e = new Error(message); e.code = code; e.reasonCode = reasonCode; return e;",
    )
}

impl TestClient {
    /// Creates the client (it starts connecting); panics on bad options.
    pub fn new(url: &str, options: JsValue) -> Self {
        Self::try_new(url, options).unwrap_or_else(|e| panic!("client refused options: {e:?}"))
    }

    /// Creates a client and waits for its `connect` event.
    pub async fn connect(url: &str, options: JsValue) -> Self {
        let c = Self::new(url, options);
        c.event("connect").await;
        c
    }

    pub fn try_new(url: &str, options: JsValue) -> Result<Self, JsValue> {
        Self::with_hooks(url, options, &[])
    }

    /// A client with extra hooks (e.g. `credentials`).
    pub fn with_hooks(
        url: &str,
        options: JsValue,
        extra: &[(&str, JsValue)],
    ) -> Result<Self, JsValue> {
        let events: Log<(String, JsValue)> = Rc::default();
        let history: Log<String> = Rc::default();
        let messages: Log<Received> = Rc::default();
        let (e, h) = (events.clone(), history.clone());
        let emit = Closure::<dyn FnMut(JsValue, JsValue, JsValue, JsValue)>::new(
            move |name: JsValue, a, _b, _c| {
                let name = name.as_string().unwrap_or_default();
                h.borrow_mut().push(name.clone());
                e.borrow_mut().push((name, a));
            },
        );
        let m = messages.clone();
        let message = Closure::<dyn FnMut(JsValue, JsValue, JsValue, JsValue)>::new(
            move |topic: JsValue, payload: JsValue, packet, filters: JsValue| {
                let filters = Array::from(&filters)
                    .iter()
                    .filter_map(|f| f.as_string())
                    .collect();
                m.borrow_mut().push(Received {
                    topic: topic.as_string().unwrap_or_default(),
                    payload: to_bytes(&payload),
                    packet,
                    filters,
                });
            },
        );
        let mut hooks = vec![
            ("emit", emit.as_ref().clone()),
            ("message", message.as_ref().clone()),
            ("MqttError", error_class().into()),
            ("url", s(url)),
        ];
        hooks.extend(extra.iter().cloned());
        let record = Uint8Array::new(&connect_args(url, &options)?.get(0)).to_vec();
        let connection = Connection::new(&obj(&hooks));
        let url = url.to_owned();
        let create = Closure::once_into_js(
            move |events: Function,
                  credentials: Option<Function>,
                  socket: Function|
                  -> Result<JsValue, JsValue> {
                WasmClient::new(url.as_str().into(), &record, events, credentials, socket)
                    .map(JsValue::from)
            },
        );
        connection.start(create.unchecked_ref(), &wasm_bindgen::memory())?;
        let client = Client(connection);
        Ok(Self {
            client,
            events,
            history,
            messages,
            _closures: vec![emit, message],
        })
    }

    fn names(&self) -> String {
        format!("events so far: {:?}", self.history.borrow())
    }

    /// Waits for the next event named `name` and takes it out of the log.
    pub async fn event(&self, name: &str) -> JsValue {
        wait_for(
            &format!("a {name} event"),
            || {
                let mut log = self.events.borrow_mut();
                let i = log.iter().position(|(n, _)| n == name)?;
                Some(log.remove(i).1)
            },
            || self.names(),
        )
        .await
    }

    /// Names of all events emitted so far, in order.
    pub fn history(&self) -> Vec<String> {
        self.history.borrow().clone()
    }

    /// How many events named `name` were emitted so far.
    pub fn count(&self, name: &str) -> usize {
        self.history.borrow().iter().filter(|n| *n == name).count()
    }

    /// Waits for the next received message.
    pub async fn message(&self) -> Received {
        wait_for(
            "a message",
            || {
                let mut m = self.messages.borrow_mut();
                (!m.is_empty()).then(|| m.remove(0))
            },
            || self.names(),
        )
        .await
    }

    /// Waits for the next message on `topic`, dropping others before it.
    pub async fn message_on(&self, topic: &str) -> Received {
        loop {
            let m = self.message().await;
            if m.topic == topic {
                return m;
            }
        }
    }

    /// Messages received and not yet taken.
    pub fn pending_messages(&self) -> Vec<Received> {
        self.messages.borrow().clone()
    }

    pub async fn publish(
        &self,
        topic: &str,
        payload: &[u8],
        options: JsValue,
    ) -> Result<JsValue, JsValue> {
        settle(
            &format!("publish to {topic}"),
            self.client.publish(topic, payload.to_vec(), options),
        )
        .await
    }

    pub async fn subscribe(&self, filter: &str, options: JsValue) -> Result<Vec<u8>, JsValue> {
        let codes = settle(
            &format!("subscribe to {filter}"),
            self.client.subscribe(vec![filter.to_owned()], options),
        )
        .await?;
        Ok(Array::from(&codes)
            .iter()
            .map(|c| c.as_f64().unwrap_or(-1.0) as u8)
            .collect())
    }

    /// Subscribes and checks the broker granted `qos`.
    pub async fn subscribe_ok(&self, filter: &str, options: JsValue, qos: u8) {
        let codes = self.subscribe(filter, options).await.expect("subscribed");
        assert_eq!(codes, vec![qos], "SUBACK for {filter}");
    }

    pub async fn unsubscribe(&self, filter: &str) -> Result<Vec<u8>, JsValue> {
        let codes = settle(
            &format!("unsubscribe from {filter}"),
            self.client.unsubscribe(vec![filter.to_owned()]),
        )
        .await?;
        Ok(Array::from(&codes)
            .iter()
            .map(|c| c.as_f64().unwrap_or(-1.0) as u8)
            .collect())
    }

    /// Publishes a `$control/{verb}/{client}` command to wasmqtt-broker
    /// (QoS 1: the broker has taken it when this returns).
    pub async fn control(&self, verb: &str, client: &str, payload: &[u8]) {
        self.publish(
            &format!("$control/{verb}/{client}"),
            payload,
            obj(&[("qos", n(1.0))]),
        )
        .await
        .expect("control command accepted");
    }

    /// Ends the client gracefully and waits for that to finish.
    pub async fn end(&self) {
        settle("end", self.client.end(false, JsValue::UNDEFINED))
            .await
            .ok();
    }

    pub fn metrics(&self) -> JsValue {
        self.client.metrics()
    }
}

impl Drop for TestClient {
    fn drop(&mut self) {
        // Settles at once (or rejects if it already ended): nothing to wait for.
        let _ = self.client.end(true, JsValue::UNDEFINED);
    }
}
