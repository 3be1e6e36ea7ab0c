// wasmqtt/shared: one MQTT connection per origin and broker URL, shared by
// every open tab. Each tab's client is a proxy with the core client's API;
// the connection and session live in a SharedWorker (js/shared-worker.js),
// or, where there is none, in a leader tab (js/shared-leader.js).
import { MqttError, text, json } from './index.js';
import { leaderLink } from './shared-leader.js';
import { messageIterator } from './messages.js';
import { errorFromWire, errorToWire, optionsKey, tabLock } from './shared-wire.js';

export { MqttError, text, json };

/** How long `end()` waits for the hub to let this tab go (ms). */
const BYE_WAIT = 5000;

/**
 * A link to the SharedWorker; `receive(message)` gets what its hub says to
 * this tab. `failed()`: the worker's script did not load (blocked by a
 * Content-Security-Policy, or not beside this module, as under some dev
 * servers); every tab of the page then fails alike and uses a leader tab.
 */
function workerLink(url, receive, failed) {
  const worker = new SharedWorker(new URL('./shared-worker.js', import.meta.url),
    { type: 'module', name: `wasmqtt ${url}` });
  worker.onerror = failed;
  worker.port.onmessage = ({ data }) => receive(data);
  return { post: (m) => worker.port.postMessage(m), close: () => worker.port.close() };
}

function settle(promise, callback) {
  if (callback) promise.then((v) => callback(null, v), callback);
  return promise;
}

const invalid = (message, code = 'INVALID_OPTIONS') => new MqttError(message, code);

/** A tab's view of the shared connection; the same API as the core `MqttClient`. */
export class SharedClient {
  #id = crypto.randomUUID();
  #hello;
  #credentials;
  #link = null;
  #release = null;
  #epoch = null;
  #refused = null;
  #ended = false;
  #state = { connected: false };
  #listeners = new Map();
  #handlers = new Map();
  /** Filters this tab holds, with their options: brought to a new leader. */
  #subs = new Map();
  #calls = new Map();
  #n = 0;

  constructor(url, options) {
    url = String(url);
    const { credentials, ...rest } = options ?? {};
    this.#credentials = credentials;
    try {
      if (rest.WebSocket !== undefined) throw invalid('invalid option WebSocket: not available in shared mode');
      if (credentials !== undefined && typeof credentials !== 'function') {
        throw invalid('invalid option credentials: must be a function');
      }
      this.#hello = { t: 'hello', from: this.#id, url, options: rest, key: optionsKey(url, options), creds: !!credentials };
      structuredClone(rest);
    } catch (e) {
      this.#refuse(e instanceof MqttError ? e : invalid(`invalid options: ${e.message}`));
      return;
    }
    this.#start(url);
  }

  async #start(url) {
    // The hub watches this lock to learn when the tab closes or crashes,
    // so it is held before the hub hears of the tab.
    await new Promise((granted) => navigator.locks.request(tabLock(this.#id), () => {
      granted();
      return new Promise((r) => { this.#release = r; });
    }));
    if (this.#ended) {
      this.#release();
      return;
    }
    const receive = (m) => this.#receive(m);
    const leader = () => {
      this.#link?.close();
      this.#link = leaderLink(url, this.#id, receive);
      this.#link.post({ ...this.#hello, subs: [] });
    };
    if (typeof SharedWorker !== 'function') return leader();
    this.#link = workerLink(url, receive, () => { if (!this.#epoch && !this.#ended) leader(); });
    this.#link.post({ ...this.#hello, subs: [] });
    return undefined;
  }

  get connected() { return this.#state.connected; }
  get clientId() { return this.#state.clientId; }
  get server() { return this.#state.server; }
  /** The shared connection's counters, as of at most a second ago. */
  get metrics() { return this.#state.metrics; }

  #receive(m) {
    if (this.#refused || (this.#ended && m.t !== 'reply')) return;
    if (m.state) this.#state = m.state;
    switch (m.t) {
      case 'welcome': this.#welcome(m.epoch); break;
      case 'leader':
        // A new leader after a takeover: join it with what this tab holds.
        if (m.epoch !== this.#epoch) {
          this.#epoch = null;
          this.#link.post({ ...this.#hello, subs: [...this.#subs] });
        }
        break;
      case 'refused': this.#refuse(errorFromWire(m.e)); break;
      case 'reply': {
        const call = this.#calls.get(m.n);
        this.#calls.delete(m.n);
        if (m.ok) call?.resolve(m.v);
        else call?.reject(errorFromWire(m.v));
        break;
      }
      case 'msgs': for (const [packet, filters] of m.m) this.#dispatch(packet, filters); break;
      case 'creds': this.#answerCredentials(m.n); break;
      case 'event': this.emit(m.name, m.name === 'error' ? errorFromWire(m.a) : m.a); break;
      default:
    }
  }

  async #answerCredentials(n) {
    try {
      const v = await this.#credentials();
      this.#link.post({ from: this.#id, t: 'creds', n, ok: true, v });
    } catch (e) {
      this.#link.post({ from: this.#id, t: 'creds', n, ok: false, v: errorToWire(e) });
    }
  }

  /**
   * Sends what waited for a hub. Calls the previous leader took and never
   * answered: subscribes and unsubscribes are made again, QoS 1/2 publishes
   * are sent again and announced by a `resend` event (the broker may see
   * them twice: at least once), and the rest (QoS 0 publishes, requests,
   * auth) reject with SHARED_LEADER_LOST, as they may or may not have gone.
   */
  #welcome(epoch) {
    this.#epoch = epoch;
    for (const [n, call] of this.#calls) {
      if (call.sent === epoch) continue;
      const again = call.sent !== null;
      const publish = call.op === 'publish';
      const qos = publish ? call.a[2]?.qos ?? 0 : 0;
      if (again && (publish ? qos === 0 : !['subscribe', 'unsubscribe'].includes(call.op))) {
        this.#calls.delete(n);
        call.reject(new MqttError(`the leader tab closed with this ${call.op} in flight; it may or may not have been sent`,
          'SHARED_LEADER_LOST'));
        continue;
      }
      if (again && publish) this.emit('resend', { topic: call.a[0], qos });
      this.#post(n, call);
    }
  }

  #post(n, call) {
    call.sent = this.#epoch;
    this.#link.post({ from: this.#id, t: 'call', n, op: call.op, a: call.a });
  }

  #refuse(error) {
    this.#refused = error;
    // Out of the hub's tabs, and never the next leader with other options.
    this.#release?.();
    this.#link?.close();
    for (const call of this.#calls.values()) call.reject(error);
    this.#calls.clear();
    queueMicrotask(() => this.emit('error', error));
  }

  #call(op, a) {
    if (this.#refused) return Promise.reject(this.#refused);
    if (this.#ended) return Promise.reject(new MqttError('client has ended', 'CLIENT_ENDED'));
    try {
      structuredClone(a);
    } catch (e) {
      return Promise.reject(invalid(`invalid argument: ${e.message}`, 'INVALID_ARGUMENT'));
    }
    return new Promise((resolve, reject) => {
      const n = ++this.#n;
      const call = { op, a, resolve, reject, sent: null };
      this.#calls.set(n, call);
      if (this.#epoch) this.#post(n, call);
    });
  }

  on(event, listener) {
    const list = this.#listeners.get(event) ?? [];
    if (!list.includes(listener)) this.#listeners.set(event, [...list, listener]);
    return this;
  }

  off(event, listener) {
    const list = this.#listeners.get(event);
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

  listenerCount(event) { return this.#listeners.get(event)?.length ?? 0; }

  emit(event, ...args) {
    const list = this.#listeners.get(event);
    if (!list?.length) {
      if (event === 'error') console.warn('wasmqtt:', args[0]);
      return false;
    }
    for (const listener of list) {
      try { listener(...args); } catch (e) { queueMicrotask(() => { throw e; }); }
    }
    return true;
  }

  #dispatch(packet, filters) {
    const { topic, payload } = packet;
    this.emit('message', topic, payload, packet);
    for (const f of filters) {
      for (const h of this.#handlers.get(f) ?? []) {
        try { h(topic, payload, packet); } catch (e) { queueMicrotask(() => { throw e; }); }
      }
    }
  }

  publish(topic, payload, options, callback) {
    if (typeof options === 'function') [options, callback] = [undefined, options];
    return settle(this.#call('publish', [topic, payload ?? '', options]), callback);
  }

  request(topic, payload, options) {
    return this.#call('request', [topic, payload ?? '', options]);
  }

  /** As the core client's; one SUBSCRIBE per filter, and only for the first tab holding it. */
  subscribe(filters, options, callback) {
    if (typeof options === 'function') [options, callback] = [undefined, options];
    let list;
    if (filters && typeof filters === 'object' && !Array.isArray(filters)) {
      list = Object.entries(filters).map(([f, o]) => [f, { ...options, ...o }]);
    } else {
      list = (typeof filters === 'string' ? [filters] : filters ?? []).map((f) => [f, options]);
    }
    const done = list.length && list.every(([f]) => typeof f === 'string')
      ? Promise.all(list.map(([f, o]) => this.#subscribe(f, o))).then((r) => r.flat())
      : Promise.reject(invalid('invalid topic filter: expected a string or a non-empty array of strings',
        'INVALID_FILTER'));
    return settle(done, callback);
  }

  async #subscribe(filter, options) {
    const { handler, ...rest } = options ?? {};
    if (handler) this.#handlers.set(filter, [...(this.#handlers.get(filter) ?? []), handler]);
    let r;
    try {
      r = await this.#call('subscribe', [filter, rest]);
    } catch (e) {
      if (handler) this.#removeHandler(filter, handler);
      throw e;
    }
    if (r[0].reasonCode === undefined) this.#subs.set(filter, rest);
    else if (handler) this.#removeHandler(filter, handler);
    return r;
  }

  #removeHandler(filter, handler) {
    const list = (this.#handlers.get(filter) ?? []).filter((h) => h !== handler);
    if (list.length) this.#handlers.set(filter, list);
    else this.#handlers.delete(filter);
  }

  /** Reason code 0 at once while other tabs still hold a filter; the broker's UNSUBACK code for the last. */
  unsubscribe(filters, options, callback) {
    if (typeof options === 'function') [options, callback] = [undefined, options];
    const list = typeof filters === 'string' ? [filters] : filters;
    for (const f of Array.isArray(list) ? list : []) {
      this.#handlers.delete(f);
      this.#subs.delete(f);
    }
    return settle(this.#call('unsubscribe', [list]), callback);
  }

  messages(filter, options) {
    return messageIterator(
      (handler) => this.#subscribe(filter, { ...options, handler }),
      async (handler) => {
        this.#removeHandler(filter, handler);
        if (!this.#handlers.has(filter)) await this.unsubscribe(filter).catch(() => {});
      },
    );
  }

  auth(data) {
    return this.#call('auth', [data]);
  }

  /**
   * Detaches this tab: what it alone held is unsubscribed, and the
   * connection ends with the last tab (`force` and the DISCONNECT options
   * apply only then, and are the hub's defaults).
   */
  end(...args) {
    const callback = typeof args.at(-1) === 'function' ? args.pop() : undefined;
    return settle((async () => {
      if (this.#ended) return;
      if (this.#epoch) {
        const bye = new Promise((resolve) => {
          const n = ++this.#n;
          this.#calls.set(n, { resolve, reject: resolve });
          this.#link.post({ from: this.#id, t: 'bye', n });
        });
        await Promise.race([bye, new Promise((r) => setTimeout(r, BYE_WAIT))]);
      }
      this.#ended = true;
      for (const call of this.#calls.values()) call.reject(new MqttError('client has ended', 'CLIENT_ENDED'));
      this.#calls.clear();
      this.#release?.();
      await this.#link?.close();
      this.#state = { ...this.#state, connected: false };
      this.emit('end');
    })(), callback);
  }
}

const methods = SharedClient.prototype;
for (const m of ['publish', 'subscribe', 'unsubscribe', 'end']) methods[`${m}Async`] = methods[m];
methods.addListener = methods.on;
methods.removeListener = methods.off;

/** Joins (or opens) the connection to `url` shared by this origin's tabs; never throws. */
export function connect(url, options) {
  return new SharedClient(url, options);
}

/** Resolves with the client once the shared connection is up; rejects (and ends it) on the first error. */
export function connectAsync(url, options) {
  const client = connect(url, options);
  return new Promise((resolve, reject) => {
    const onConnect = () => { client.off('error', onError); resolve(client); };
    const onError = (e) => { client.off('connect', onConnect); client.end().finally(() => reject(e)); };
    client.once('connect', onConnect);
    client.once('error', onError);
  });
}

export default { connect, connectAsync, text, json, SharedClient, MqttError };
