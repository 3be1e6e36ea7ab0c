// wasmqtt: MQTT 5.0 for the browser. A thin typed layer over the wasm client.
// `#wasm`: the core wasm and its glue, or with the `wasmqtt-store` condition
// the store's (package.json "imports").
import { WasmClient, initSync, wasmUrl } from '#wasm';
import { Connection } from './bridge.js';
import { watchEnvironment } from './lifecycle.js';
import { messageIterator } from './messages.js';
import { MqttError, bytes, read, connectArgs, publishArgs, subscribeArgs, endArgs } from './options.js';

export { MqttError };

// Whether this build carries the session store (`wasmqtt/store`): its
// bundle is built with `--define:globalThis.WASMQTT_STORE=true`, the core
// one with `false`, which drops the store's code (scripts/build-wasm.sh).
const STORE = globalThis.WASMQTT_STORE === true;

let wasmReady;
/** The wasm's memory, once loaded: frames are written and records read there. */
let memory;

/**
 * Loads the wasm module once; `connect` calls it for you. `source`: where
 * the wasm is (a URL) or what it is (bytes, a Response, a
 * WebAssembly.Module, or a promise of one); by default `wasmqtt_bg.wasm`
 * beside this module.
 */
export function init(source) {
  wasmReady ??= (async () => {
    // Under the Vite dev server, dependency pre-bundling moves this module
    // into node_modules/.vite/deps/ but not the wasm (vitejs/vite#8427),
    // and asking there gets index.html: the package's own copy is in
    // node_modules/wasmqtt/pkg/.
    let s = await (source ?? wasmUrl.href.replace(/\.vite\/deps\//, 'wasmqtt/pkg/'));
    if (typeof s === 'string' || s instanceof URL) s = await fetchWasm(s);
    if (s.arrayBuffer) s = await s.arrayBuffer();
    ({ memory } = initSync({ module: s instanceof WebAssembly.Module ? s : await WebAssembly.compile(s) }));
  })();
  return wasmReady;
}

/** The bytes at `url`; what came back instead, in the error. */
async function fetchWasm(url) {
  let got;
  try {
    const r = await fetch(url);
    got = `${r.status} ${r.headers.get('content-type')}`;
    if (r.ok && !got.includes('text/html')) return r;
  } catch (e) {
    got = e.message;
  }
  throw new MqttError(`cannot load the wasm module from ${url}: got ${got}`, 'INIT_FAILED');
}

/** A payload (or any bytes) as UTF-8 text. */
export const text = (payload) => decoder.decode(payload);

/** A payload parsed as JSON (UTF-8). */
export const json = (payload) => JSON.parse(text(payload));

const decoder = new TextDecoder();

/**
 * MQTT.js-style completion callback: `callback(error)` or
 * `callback(null, result)`, besides the promise.
 */
function settle(promise, callback) {
  if (callback) promise.then((v) => callback(null, v), callback);
  return promise;
}

/** A filter or a list of filters, as an array of strings. */
function filterList(filters) {
  const list = typeof filters === 'string' ? [filters] : filters;
  if (!Array.isArray(list) || list.length === 0 || !list.every((f) => typeof f === 'string')) {
    throw new MqttError('invalid topic filter: expected a string or a non-empty array of strings', 'INVALID_FILTER');
  }
  return list;
}

/** Failures that do not come from the wasm side still reach callers as MqttError. */
function asMqttError(e, code, what) {
  if (e instanceof MqttError) return e;
  const error = new MqttError(`${what}: ${e?.message ?? e}`, code);
  error.cause = e;
  return error;
}

const NONE = [];

/** Calls each listener with a message; an exception in one must not stop the others. */
function callAll(list, topic, payload, packet) {
  for (const listener of list) {
    try { listener(topic, payload, packet); } catch (e) { queueMicrotask(() => { throw e; }); }
  }
}

/** An MQTT connection. Events: connect, message, reconnecting, reconnect, offline, close, disconnect, error, end, auth. */
export class MqttClient {
  #conn;
  #ready;
  #listeners = new Map();
  #handlers = new Map();

  constructor(url, options) {
    // Bad options never throw here: like every failure to start, they
    // surface as an `error` event and reject every call.
    let args;
    let optionsError;
    try {
      args = connectArgs(String(url), options);
    } catch (e) {
      optionsError = e;
    }
    this.#conn = new Connection({
      emit: (name, a) => (a === undefined ? this.emit(name) : this.emit(name, a)),
      message: (topic, payload, packet, filters) => this.#dispatch(topic, payload, packet, filters),
      MqttError,
      url: String(url),
      clientId: options?.clientId,
      credentials: options?.credentials,
      WebSocket: options?.WebSocket,
      // `wasmqtt/store` only (STORE: the core bundle leaves it out): the
      // store reads what it kept before the client starts, restores it
      // into the new wasm client and writes the session's journal.
      ...(STORE && { store: options?.store }),
    });
    const loaded = STORE && options?.store
      ? init().then(() => options.store.open(this, options, MqttError)) : undefined;
    this.#ready = optionsError ? Promise.reject(optionsError) : (loaded ?? init()).then(
      () => {
        this.#conn.start((...hooks) => new WasmClient(String(url), ...args, ...hooks), memory);
        this.#watchEnvironment();
      },
      (e) => { throw asMqttError(e, 'INIT_FAILED', 'cannot load the wasm module'); },
    );
    // Option errors surface as an `error` event and reject every call.
    this.#ready.catch((e) => queueMicrotask(() => this.emit('error', e)));
  }

  get connected() { return this.#conn.connected; }
  get clientId() { return this.#conn.clientId; }
  /** The server's limits from CONNACK. */
  get server() { return this.#conn.server; }
  /** Traffic counters: bytes, messages, in flight, queued, reconnects, round-trip time. */
  get metrics() { return this.#conn.metrics; }

  // Listener lists are replaced, never changed, so `emit` walks them
  // without copying.
  on(event, listener) {
    const list = this.#listeners.get(event) ?? [];
    if (!list.includes(listener)) this.#listeners.set(event, [...list, listener]);
    return this;
  }

  off(event, listener) {
    const list = this.#listeners.get(event);
    // A `once` listener is registered wrapped; `off` takes either.
    if (list) this.#listeners.set(event, list.filter((l) => l !== listener && l.listener !== listener));
    return this;
  }

  once(event, listener) {
    const wrapped = (...args) => { this.off(event, wrapped); listener(...args); };
    wrapped.listener = listener;
    return this.on(event, wrapped);
  }

  removeAllListeners(event) {
    if (event === undefined) this.#listeners.clear();
    else this.#listeners.delete(event);
    return this;
  }

  listenerCount(event) {
    return this.#listeners.get(event)?.length ?? 0;
  }

  emit(event, ...args) {
    const list = this.#listeners.get(event);
    if (!list?.length) {
      // An unheard error is still worth a line in the console.
      if (event === 'error') console.warn('wasmqtt:', args[0]);
      return false;
    }
    for (const listener of list) {
      try { listener(...args); } catch (e) { queueMicrotask(() => { throw e; }); }
    }
    return true;
  }

  /** Resolves with the PUBACK/PUBREC reason code (QoS 1/2), or undefined (QoS 0: once written). */
  publish(topic, payload, options, callback) {
    if (typeof options === 'function') [options, callback] = [undefined, options];
    return settle(this.#ready.then(() => this.#conn.publish(topic, bytes(payload ?? '', 'payload'),
      ...publishArgs(options))), callback);
  }

  /** Publishes with a Response Topic and Correlation Data; resolves with the response. */
  async request(topic, payload, options) {
    await this.#ready;
    return this.#conn.publish(topic, bytes(payload ?? '', 'payload'), ...publishArgs(options, true));
  }

  /**
   * subscribe('a/+'), subscribe(['a', 'b'], { qos: 1 }), subscribe({ a: { qos: 1 } }),
   * subscribe('a/#', { handler }). Resolves with one result per filter:
   * { topic, qos } or { topic, reasonCode } on failure; a function argument is
   * an MQTT.js-style callback(error, results).
   */
  subscribe(filters, options, callback) {
    if (typeof options === 'function') [options, callback] = [undefined, options];
    // The object form: one SUBSCRIBE per filter, each with its own options.
    const done = filters && typeof filters === 'object' && !Array.isArray(filters)
      ? Promise.all(Object.entries(filters).map(([f, o]) => this.#subscribe(f, { ...options, ...o })))
        .then((r) => r.flat())
      : this.#subscribe(filters, options);
    return settle(done, callback);
  }

  async #subscribe(filters, options) {
    const list = filterList(filters);
    const handler = options?.handler;
    await this.#ready;
    if (handler) for (const f of list) this.#addHandler(f, handler);
    try {
      const codes = await this.#conn.subscribe(list, ...subscribeArgs(options));
      return list.map((topic, i) => codes[i] < 0x80
        ? { topic, qos: codes[i] }
        : { topic, reasonCode: codes[i] });
    } catch (e) {
      if (handler) for (const f of list) this.#removeHandler(f, handler);
      throw e;
    }
  }

  /** Resolves with the UNSUBACK reason code of each filter. */
  unsubscribe(filters, options, callback) {
    if (typeof options === 'function') [options, callback] = [undefined, options];
    return settle((async () => {
      const list = filterList(filters);
      read(options, '', {});
      await this.#ready;
      for (const f of list) this.#handlers.delete(f);
      return this.#conn.unsubscribe(list);
    })(), callback);
  }

  /**
   * Subscribes and yields messages: for await (const m of client.messages('sensor/+/temp')).
   * Leaving the loop unsubscribes.
   */
  messages(filter, options) {
    return messageIterator(
      (handler) => this.#subscribe(filter, { ...options, handler }),
      async (handler) => {
        this.#removeHandler(filter, handler);
        if (!this.#handlers.has(filter)) await this.unsubscribe(filter).catch(() => {});
      },
    );
  }

  /** Answers an `auth` challenge (enhanced authentication) or starts re-authentication. */
  async auth(data) {
    await this.#ready;
    return this.#conn.auth(bytes(data, 'data'));
  }

  /**
   * Disconnects once in-flight messages are settled (at once with force).
   * As in MQTT.js, each argument may be left out: end(), end(true),
   * end({ reasonCode }), end(callback), end(false, {}, callback).
   */
  end(...args) {
    const callback = typeof args.at(-1) === 'function' ? args.pop() : undefined;
    const [force, options] = typeof args[0] === 'object' ? [false, args[0]] : args;
    return settle((async () => {
      if (await this.#ready.then(() => false, () => true)) return;
      await this.#conn.end(Boolean(force), ...endArgs(options));
      this.#unwatch?.();
    })(), callback);
  }

  // Handler lists, like listener lists, are replaced, never changed.
  #addHandler(filter, handler) {
    const list = this.#handlers.get(filter) ?? NONE;
    if (!list.includes(handler)) this.#handlers.set(filter, [...list, handler]);
  }

  #removeHandler(filter, handler) {
    const list = (this.#handlers.get(filter) ?? NONE).filter((h) => h !== handler);
    if (list.length) this.#handlers.set(filter, list);
    else this.#handlers.delete(filter);
  }

  // Runs for every message: no arguments array, no copy of the lists.
  #dispatch(topic, payload, packet, filters) {
    callAll(this.#listeners.get('message') ?? NONE, topic, payload, packet);
    for (const f of filters) callAll(this.#handlers.get(f) ?? NONE, topic, payload, packet);
  }

  #unwatch = null;

  // Network, visibility and freezing: see lifecycle.js.
  #watchEnvironment() {
    this.#unwatch = watchEnvironment(this.#conn, this);
  }
}

// MQTT.js's names for the same methods (all of them return promises).
const methods = MqttClient.prototype;
for (const m of ['publish', 'subscribe', 'unsubscribe', 'end']) methods[`${m}Async`] = methods[m];
methods.addListener = methods.on;
methods.removeListener = methods.off;

/** Starts connecting and returns the client at once; bad options are an `error` event, never a throw. */
export function connect(url, options) {
  return new MqttClient(url, options);
}

/** Resolves with the client on CONNACK; rejects (and ends it) on the first error. */
export function connectAsync(url, options) {
  const client = connect(url, options);
  return new Promise((resolve, reject) => {
    const onConnect = () => { client.off('error', onError); resolve(client); };
    const onError = (e) => { client.off('connect', onConnect); client.end(true).finally(() => reject(e)); };
    client.once('connect', onConnect);
    client.once('error', onError);
  });
}

/** `import mqtt from 'wasmqtt'`, as with MQTT.js. */
export default { connect, connectAsync, init, text, json, MqttClient, MqttError };
