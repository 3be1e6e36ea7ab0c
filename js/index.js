// wasmqtt: MQTT 5.0 for the browser. A thin typed layer over the wasm client.
import initWasm, { WasmClient } from '../pkg/wasmqtt.js';
import { MqttError, bytes, connectArgs, publishArgs, subscribeArgs, endArgs } from './options.js';

export { MqttError };

let wasmReady;

/** Loads the wasm module once; `connect` calls it for you. */
export function init(moduleOrPath) {
  wasmReady ??= initWasm({
    module_or_path: moduleOrPath ?? new URL('../pkg/wasmqtt_bg.wasm', import.meta.url),
  });
  return wasmReady;
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

/** An MQTT connection. Events: connect, message, reconnecting, reconnect, offline, close, disconnect, error, end, auth. */
export class MqttClient {
  #inner = null;
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
    const hooks = {
      emit: (name, a, b) => this.emit(name, a, b),
      message: (topic, payload, packet, filters) => this.#dispatch(topic, payload, packet, filters),
      MqttError,
      credentials: options?.credentials,
    };
    this.#ready = optionsError ? Promise.reject(optionsError) : init().then(
      () => {
        this.#inner = new WasmClient(String(url), ...args, hooks);
        this.#watchEnvironment();
      },
      (e) => { throw asMqttError(e, 'INIT_FAILED', 'cannot load the wasm module'); },
    );
    // Option errors surface as an `error` event and reject every call.
    this.#ready.catch((e) => queueMicrotask(() => this.emit('error', e)));
  }

  get connected() { return this.#inner?.connected ?? false; }
  get clientId() { return this.#inner?.clientId; }
  /** The server's limits from CONNACK. */
  get server() { return this.#inner?.server; }
  /** Traffic counters: bytes, messages, in flight, queued, reconnects, round-trip time. */
  get metrics() { return this.#inner?.metrics; }

  on(event, listener) {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
    return this;
  }

  off(event, listener) {
    const set = this.#listeners.get(event);
    if (set) {
      // A `once` listener is registered wrapped; `off` takes either.
      for (const l of set) if (l === listener || l.listener === listener) set.delete(l);
    }
    return this;
  }

  once(event, listener) {
    const wrapped = (...args) => { this.off(event, wrapped); listener(...args); };
    wrapped.listener = listener;
    return this.on(event, wrapped);
  }

  emit(event, ...args) {
    const set = this.#listeners.get(event);
    if (!set || set.size === 0) {
      // An unheard error is still worth a line in the console.
      if (event === 'error') console.warn('wasmqtt:', args[0]);
      return false;
    }
    for (const listener of [...set]) {
      try { listener(...args); } catch (e) { queueMicrotask(() => { throw e; }); }
    }
    return true;
  }

  async publish(topic, payload, options) {
    await this.#ready;
    return this.#inner.publish(topic, bytes(payload ?? '', 'payload'), ...publishArgs(options));
  }

  /** Publishes with a Response Topic and Correlation Data; resolves with the response. */
  async request(topic, payload, options) {
    await this.#ready;
    return this.#inner.publish(topic, bytes(payload ?? '', 'payload'), ...publishArgs(options, true));
  }

  /**
   * subscribe('a/+'), subscribe(['a', 'b'], { qos: 1 }), subscribe('a/#', opts, handler).
   * Resolves with one result per filter: { topic, qos } or { topic, reasonCode } on failure.
   */
  async subscribe(filters, options, handler) {
    if (typeof options === 'function') [options, handler] = [undefined, options];
    const list = filterList(filters);
    await this.#ready;
    if (handler) for (const f of list) this.#addHandler(f, handler);
    try {
      const codes = await this.#inner.subscribe(list, ...subscribeArgs(options));
      return list.map((topic, i) => codes[i] < 0x80
        ? { topic, qos: codes[i] }
        : { topic, reasonCode: codes[i] });
    } catch (e) {
      if (handler) for (const f of list) this.#removeHandler(f, handler);
      throw e;
    }
  }

  async unsubscribe(filters) {
    const list = filterList(filters);
    await this.#ready;
    for (const f of list) this.#handlers.delete(f);
    return this.#inner.unsubscribe(list);
  }

  /**
   * Subscribes and yields messages: for await (const m of client.messages('sensor/+/temp')).
   * Leaving the loop unsubscribes.
   */
  messages(filter, options) {
    const queue = [];
    let wake = null;
    let done = false;
    const handler = (topic, payload, packet) => {
      queue.push({ topic, payload, packet });
      wake?.();
    };
    const subscribed = this.subscribe(filter, options, handler);
    // A failed subscribe is reported by next(); unawaited, it is not an unhandled rejection.
    subscribed.catch(() => {});
    const client = this;
    return {
      [Symbol.asyncIterator]() { return this; },
      async next() {
        await subscribed;
        while (!done && queue.length === 0) await new Promise((r) => (wake = r));
        wake = null;
        return done && queue.length === 0 ? { done: true, value: undefined } : { done: false, value: queue.shift() };
      },
      async return() {
        done = true;
        wake?.();
        client.#removeHandler(filter, handler);
        if (!client.#handlers.has(filter)) await client.unsubscribe(filter).catch(() => {});
        return { done: true, value: undefined };
      },
    };
  }

  /** Answers an `auth` challenge (enhanced authentication) or starts re-authentication. */
  async auth(data) {
    await this.#ready;
    this.#inner.auth(bytes(data, 'data'));
  }

  /** Disconnects once in-flight messages are settled (at once with force). */
  async end(force = false, options) {
    if (typeof force === 'object') [force, options] = [false, force];
    await this.#ready.catch(() => {});
    if (!this.#inner) return;
    await this.#inner.end(Boolean(force), ...endArgs(options));
    this.#unwatch?.();
  }

  endAsync(force, options) { return this.end(force, options); }

  #addHandler(filter, handler) {
    let set = this.#handlers.get(filter);
    if (!set) this.#handlers.set(filter, (set = new Set()));
    set.add(handler);
  }

  #removeHandler(filter, handler) {
    const set = this.#handlers.get(filter);
    set?.delete(handler);
    if (set?.size === 0) this.#handlers.delete(filter);
  }

  #dispatch(topic, payload, packet, filters) {
    packet.payload = payload;
    this.emit('message', topic, payload, packet);
    for (const f of filters) {
      const set = this.#handlers.get(f);
      if (set) for (const h of [...set]) {
        try { h(topic, payload, packet); } catch (e) { queueMicrotask(() => { throw e; }); }
      }
    }
  }

  #unwatch = null;

  // Reconnect at once when the network or the tab comes back.
  #watchEnvironment() {
    const wake = () => this.#inner?.wake();
    const onVisible = () => { if (globalThis.document?.visibilityState === 'visible') wake(); };
    globalThis.addEventListener?.('online', wake);
    globalThis.document?.addEventListener?.('visibilitychange', onVisible);
    this.#unwatch = () => {
      globalThis.removeEventListener?.('online', wake);
      globalThis.document?.removeEventListener?.('visibilitychange', onVisible);
    };
  }
}

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
