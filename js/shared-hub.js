// The one connection behind the tabs of shared mode: runs in the
// SharedWorker (js/shared-worker.js), or in the leader tab where there is
// none (js/shared-leader.js). It holds the core client, counts which tabs
// hold each topic filter (one SUBSCRIBE per filter; UNSUBSCRIBE when the
// last tab lets go), and gives each tab the messages its own filters
// matched. Which filters a message matched is the session's answer (the
// core client's per-subscription handlers), not decided here.
import { connect } from './index.js';
import { errorFromWire, errorToWire, tabLock } from './shared-wire.js';

const EVENTS = ['connect', 'reconnecting', 'reconnect', 'offline', 'close', 'disconnect', 'error', 'auth',
  'freeze', 'resume'];

/** How often tabs get fresh `metrics` (ms). */
const STATE_EVERY = 1000;

/** How long a tab has to answer for credentials (ms). */
const CREDENTIALS_WAIT = 30_000;

export class Hub {
  #send;
  #idle;
  #gone;
  #client = null;
  #key;
  #connack;
  #epoch = Math.random().toString(36).slice(2);
  /** Tab id -> { subs: Set of filters, creds: whether it has a provider }. */
  #tabs = new Map();
  /** Filter -> { tabs: Set of tab ids, done: promise of its SUBACK result, retained: Map topic -> packet }. */
  #filters = new Map();
  /** Per filter, the tail of its subscribe/unsubscribe chain. */
  #busy = new Map();
  /** This turn's messages: { packet, filters } in arrival order. */
  #batch = [];
  #asks = new Map();
  #asked = 0;
  #timer;

  /**
   * `send(to, message)`: to a tab id, or '*' for every tab; `gone(id)`: a
   * tab left; `idle()`: the last tab left.
   */
  constructor(send, gone, idle) {
    this.#send = send;
    this.#gone = gone;
    this.#idle = idle;
  }

  get epoch() { return this.#epoch; }

  /** A message from a tab. */
  receive(m) {
    if (m.t === 'hello') return this.#hello(m);
    const tab = this.#tabs.get(m.from);
    if (!tab) return undefined;
    if (m.t === 'call') return this.#call(m.from, m.n, m.op, m.a);
    if (m.t === 'creds') return this.#asks.get(m.n)?.(m);
    if (m.t === 'bye') {
      this.#send(m.from, { t: 'reply', n: m.n, ok: true });
      return this.#leave(m.from);
    }
    return undefined;
  }

  #state() {
    const c = this.#client;
    return { connected: c?.connected ?? false, clientId: c?.clientId, server: c?.server, metrics: c?.metrics };
  }

  #hello({ from, url, options, key, creds, subs }) {
    if (this.#client && key !== this.#key) {
      this.#send(from, { t: 'refused', e: errorToWire({ code: 'SHARED_OPTIONS_MISMATCH',
        message: 'shared connection: this tab asks for other connection options (URL, client id, will, '
          + 'credentials …) than the tab that opened it; tabs of one URL must pass the same options' }) });
      this.#gone(from);
      return;
    }
    const known = this.#tabs.get(from);
    if (!known) {
      this.#tabs.set(from, { subs: new Set(), creds });
      // Granted once the tab's own lock is gone: it ended, closed or crashed.
      navigator.locks.request(tabLock(from), () => this.#leave(from));
    }
    if (!this.#client) this.#open(url, options, key);
    this.#send(from, { t: 'welcome', epoch: this.#epoch, state: this.#state() });
    if (this.#client.connected && this.#connack) this.#send(from, { t: 'event', name: 'connect', a: this.#connack });
    // A tab that comes back to a new hub (after a takeover) brings what it held.
    for (const [filter, o] of subs ?? []) this.#subscribe(from, filter, o).catch(() => {});
  }

  #open(url, options, key) {
    this.#key = key;
    const anyCreds = [...this.#tabs.values()].some((t) => t.creds);
    this.#client = connect(url, { ...options, ...(anyCreds && { credentials: () => this.#credentials() }) });
    for (const name of EVENTS) {
      this.#client.on(name, (a) => {
        if (name === 'connect') this.#connack = a;
        this.#send('*', { t: 'event', name, a: name === 'error' ? errorToWire(a) : a, state: this.#state() });
      });
    }
    this.#timer = setInterval(() => this.#send('*', { t: 'state', state: this.#state() }), STATE_EVERY);
  }

  /** Asks the oldest tab that has a credentials provider. */
  #credentials() {
    const id = [...this.#tabs].find(([, t]) => t.creds)?.[0];
    if (!id) return Promise.resolve(undefined);
    const n = ++this.#asked;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.#asks.get(n)?.({ ok: false, v: { message: 'the tab did not answer' } }),
        CREDENTIALS_WAIT);
      this.#asks.set(n, (m) => {
        this.#asks.delete(n);
        clearTimeout(timer);
        if (m.ok) resolve(m.v);
        else reject(errorFromWire(m.v));
      });
      this.#send(id, { t: 'creds', n });
    });
  }

  async #call(from, n, op, a) {
    let reply;
    try {
      const c = this.#client;
      const v = op === 'publish' ? await c.publish(...a)
        : op === 'request' ? await c.request(...a)
          : op === 'subscribe' ? await this.#subscribe(from, ...a)
            : op === 'unsubscribe' ? await this.#unsubscribe(from, a[0])
              : await c.auth(a[0]);
      reply = { ok: true, v };
    } catch (e) {
      reply = { ok: false, v: errorToWire(e) };
    }
    if (this.#tabs.has(from)) this.#send(from, { t: 'reply', n, ...reply });
  }

  /** Runs `fn` after what is already under way for `filter`. */
  #serial(filter, fn) {
    const run = (this.#busy.get(filter) ?? Promise.resolve()).then(fn);
    const tail = run.catch(() => {});
    this.#busy.set(filter, tail);
    tail.then(() => { if (this.#busy.get(filter) === tail) this.#busy.delete(filter); });
    return run;
  }

  /** One filter of one tab: a SUBSCRIBE only for the first tab that holds it. */
  #subscribe(from, filter, options) {
    return this.#serial(filter, async () => {
      const tab = this.#tabs.get(from);
      if (!tab) throw errorToWire({ code: 'CLIENT_ENDED', message: 'the tab has ended' });
      let f = this.#filters.get(filter);
      if (f) {
        if (!tab.subs.has(filter) && options?.rh !== 2) this.#replay(from, filter, f.retained);
      } else {
        // Held before the SUBACK: retained messages can come in its frame.
        f = { tabs: new Set(), retained: new Map() };
        this.#filters.set(filter, f);
        f.done = this.#client.subscribe(filter, { ...options, handler: (_t, _p, packet) => this.#route(filter, packet) })
          .then(([r]) => {
            if (r.reasonCode !== undefined) this.#filters.delete(filter);
            return r;
          }, (e) => {
            this.#filters.delete(filter);
            throw e;
          });
      }
      f.tabs.add(from);
      tab.subs.add(filter);
      try {
        return [await f.done];
      } catch (e) {
        tab.subs.delete(filter);
        throw e;
      }
    });
  }

  /** An UNSUBSCRIBE only when no other tab holds the filter; else reason code 0 at once. */
  #unsubscribe(from, filters) {
    return Promise.all((typeof filters === 'string' ? [filters] : filters).map((filter) => this.#serial(filter, () => {
      this.#tabs.get(from)?.subs.delete(filter);
      const f = this.#filters.get(filter);
      if (!f?.tabs.delete(from) || f.tabs.size > 0) return 0;
      this.#filters.delete(filter);
      return this.#client.unsubscribe(filter).then(([code]) => code);
    })));
  }

  #route(filter, packet) {
    let last = this.#batch.at(-1);
    if (last?.packet !== packet) {
      // The payload is a view into the frame's buffer, which structured
      // cloning would copy whole: one copy of the message's own bytes.
      last = { packet, wire: { ...packet, payload: packet.payload.slice() }, filters: [] };
      if (this.#batch.push(last) === 1) queueMicrotask(() => this.#flush());
    }
    last.filters.push(filter);
    const retained = this.#filters.get(filter)?.retained;
    if (retained && (packet.retain || retained.has(packet.topic))) {
      if (packet.retain && packet.payload.length === 0) retained.delete(packet.topic);
      else retained.set(packet.topic, last.wire);
    }
  }

  /** One message per tab per turn, with what its own filters matched. */
  #flush() {
    const batch = this.#batch;
    this.#batch = [];
    for (const [id, tab] of this.#tabs) {
      const m = [];
      for (const { wire, filters } of batch) {
        const mine = filters.filter((f) => tab.subs.has(f));
        if (mine.length) m.push([wire, mine]);
      }
      if (m.length) this.#send(id, { t: 'msgs', m });
    }
  }

  /** A tab joining a filter others hold gets what was retained on it (see README, shared mode). */
  #replay(id, filter, retained) {
    if (retained.size) {
      this.#send(id, { t: 'msgs', m: [...retained.values()].map((w) => [{ ...w, retain: true }, [filter]]) });
    }
  }

  /** A tab is gone: what it alone held is unsubscribed; the last one ends the connection. */
  async #leave(id) {
    const tab = this.#tabs.get(id);
    if (!tab) return;
    this.#tabs.delete(id);
    this.#gone(id);
    if (this.#tabs.size === 0) {
      this.close();
      return;
    }
    await this.#unsubscribe(id, [...tab.subs]).catch(() => {});
  }

  /** Ends the connection (once in-flight messages are settled) and stops. */
  close() {
    clearInterval(this.#timer);
    const client = this.#client;
    this.#tabs.clear();
    // What the ending connection still reports has no one to go to (and
    // a leader's channel is being closed).
    this.#send = () => {};
    this.#idle();
    return client?.end().catch(() => {});
  }
}
