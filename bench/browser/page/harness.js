// In-page half of the benchmark. The runner (run.mjs) calls
//   bench.setup(params)  connect, subscribe, warm up (not measured)
//   bench.measure()      the measured part; returns numbers
//   bench.teardown()
// with a fresh page per run. Each client is wrapped by an adapter in
// clients/*.js exposing open(url, clientId, onMessage(payloadLength)) ->
// { receiveMaximum, subscribe, publish, publishMany?, end }.

const now = () => performance.now();

// A macrotask yield that is not clamped like nested setTimeout(0), and that
// queues behind WebSocket message tasks instead of jumping ahead of them
// (scheduler.yield would).
const channel = new MessageChannel();
const resumes = [];
channel.port1.onmessage = () => resumes.shift()();
const yieldTask = () => new Promise((r) => { resumes.push(r); channel.port2.postMessage(0); });

/** The current measurement's message handler: every client calls through here. */
let S = { onMessage() {} };
const onMessage = (len) => S.onMessage(len);

let CHUNK = 100; // publishes per macrotask (and per frame for the raw publisher)
const STALL_MS = 5000; // no progress this long: give up and report what arrived

let params = null;
let adapter = null;
const clients = [];
let sub = null;
let pub = null;
let topic = '';
/** What the subscriber subscribes to: the topic, or all of `topics`. */
let filter = '';
/** What the publisher publishes to: the topic, or (`params.topics`) that many, in turn. */
let topics = '';
let payload = null;

function makePayload(size) {
  const p = new Uint8Array(size);
  // Random bytes (getRandomValues fills at most 64 KiB per call).
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(p.subarray(i, Math.min(size, i + 65536)));
  return p;
}

async function open(role, handler, using = adapter) {
  const id = `${params.client}-${role}-${params.runId}`;
  const c = await using.open(params.url, id, handler, params);
  clients.push(c);
  return c;
}

/**
 * Publishes `n` messages from `pub`, keeping at most `pubWindow` unacknowledged
 * (QoS 0: not yet flushed) and at most `e2eWindow` not yet received by the
 * subscriber, `CHUNK` per macrotask. Resolves with timings.
 */
async function pump(n, qos, pubWindow, e2eWindow) {
  const s = { n, sent: 0, acked: 0, received: 0, bytes: 0, errors: 0, lastError: null,
    tLast: 0, tAcked: 0, waiting: null, stalled: false };
  const room = () => Math.min(CHUNK, n - s.sent, pubWindow - (s.sent - s.acked), e2eWindow - (s.sent - s.received));
  // Resume publishing once half a chunk (or half a window) fits again.
  const enough = Math.max(1, Math.min(CHUNK >> 1, pubWindow >> 1, e2eWindow >> 1));
  const finished = () => s.received >= n && s.acked >= n;
  const wake = () => {
    if (finished() || (s.sent < n && room() >= Math.min(enough, n - s.sent))) {
      const w = s.waiting;
      s.waiting = null;
      w();
    }
  };
  s.onMessage = (len) => {
    s.received++;
    s.bytes += len;
    if (s.received === n) s.tLast = now();
    if (s.waiting) wake();
  };
  const onAck = () => {
    s.acked++;
    if (s.acked === n) s.tAcked = now();
    if (s.waiting) wake();
  };
  const onErr = (e) => {
    s.errors++;
    s.lastError = String(e?.message ?? e);
    onAck();
  };
  S = s;
  const t0 = now();
  let progress = t0;
  let seen = 0;
  while (!finished()) {
    const k = room();
    if (k > 0) {
      if (pub.publishMany) {
        pub.publishMany(topics, payload, qos, k, qos ? onAck : null);
        if (!qos) { s.acked += k; if (s.acked === n) s.tAcked = now(); }
      } else {
        for (let j = 0; j < k; j++) pub.publish(topic, payload, qos).then(onAck, onErr);
      }
      s.sent += k;
      await yieldTask();
    } else {
      let timer;
      await new Promise((r) => { s.waiting = r; timer = setTimeout(r, 1000); });
      clearTimeout(timer);
      s.waiting = null;
    }
    const t = now();
    if (s.received + s.acked !== seen) { seen = s.received + s.acked; progress = t; }
    else if (t - progress > STALL_MS) { s.stalled = true; break; }
  }
  S = { onMessage() {} };
  const frames = sub.frames;
  // When something is stuck, say what the clients think.
  const clientStats = s.stalled ? { pub: pub.stats?.(), sub: sub.stats?.() } : undefined;
  const tRecv = s.received >= n ? s.tLast : progress;
  const tDone = Math.max(tRecv, s.tAcked || progress);
  return {
    n, sent: s.sent, received: s.received, acked: s.acked, bytes: s.bytes, errors: s.errors, frames, clientStats,
    lastError: s.lastError, stalled: s.stalled,
    ms: tRecv - t0,
    msAllDone: tDone - t0,
    rate: s.received / ((tRecv - t0) / 1000),
    rateAllDone: Math.min(s.received, s.acked) / ((tDone - t0) / 1000),
    mbPerSec: s.bytes / 1e6 / ((tRecv - t0) / 1000),
  };
}

async function roundTrips(count, qos) {
  const out = [];
  let resolve = null;
  S = { onMessage() { const r = resolve; resolve = null; r?.(); } };
  for (let i = 0; i < count; i++) {
    let timer;
    const got = new Promise((r) => {
      resolve = () => r(true);
      timer = setTimeout(() => r(false), STALL_MS);
    });
    const t = now();
    pub.publish(topic, payload, qos).catch(() => {});
    const ok = await got;
    const dt = now() - t;
    clearTimeout(timer);
    if (!ok) throw new Error(`round trip ${i} timed out`);
    out.push(dt);
  }
  S = { onMessage() {} };
  return out;
}

function percentile(xs, p) {
  const v = [...xs].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))];
}

let fanIn = null;

window.bench = {
  async setup(p) {
    params = p;
    CHUNK = p.chunk ?? 100;
    adapter = await import(`/clients/${p.client}.js`);
    topic = `bench/${p.runId}/t`;
    if (p.topics && p.publisher !== 'raw') throw new Error('many topics: only the raw publisher takes a list');
    filter = p.topics ? `${topic}/+` : topic;
    topics = p.topics ? Array.from({ length: p.topics }, (_, i) => `${topic}/${i}`) : topic;
    payload = makePayload(p.size);
    const t0 = now();
    if (p.kind === 'rtt') {
      pub = sub = await open('rtt', onMessage);
      await sub.subscribe(topic, p.qos);
      await roundTrips(p.warmup, p.qos);
    } else {
      sub = await open('sub', onMessage);
      await sub.subscribe(filter, p.qos);
      // 'raw': the floor's batched publisher, the same for every subscriber, so
      // the rate measures the subscriber's receive path. 'own': the client
      // under test publishes too.
      pub = p.publisher === 'raw'
        ? await open('pub', () => {}, await import('/clients/floor.js'))
        : await open('pub', () => {});
      const warm = await pump(p.warmup, p.qos, Math.min(p.pubWindow, pub.receiveMaximum), p.e2eWindow);
      if (warm.received < p.warmup) throw new Error(`warm-up lost messages: ${JSON.stringify(warm)}`);
      if (p.kind === 'fanin') {
        await pub.end();
        clients.splice(clients.indexOf(pub), 1);
        pub = null;
      }
    }
    return { setupMs: now() - t0, receiveMaximum: (pub ?? sub).receiveMaximum };
  },

  /** Fan-in: start counting; the runner then starts the native publishers. */
  arm() {
    const n = params.n;
    const s = { received: 0, bytes: 0, tFirst: 0, tLast: 0, tEvent: 0, done: null };
    s.finished = new Promise((r) => (s.done = r));
    s.onMessage = (len) => {
      if (s.received++ === 0) s.tFirst = now();
      s.bytes += len;
      if (s.received === n) { s.tLast = now(); s.done(); }
    };
    S = fanIn = s;
  },

  async measure() {
    const p = params;
    if (p.kind === 'rtt') {
      const xs = await roundTrips(p.n, p.qos);
      return { n: xs.length, p50: percentile(xs, 50), p99: percentile(xs, 99), mean: xs.reduce((a, b) => a + b, 0) / xs.length, max: Math.max(...xs) };
    }
    if (p.kind === 'fanin') {
      const s = fanIn;
      let last = -1;
      let lastChange = now();
      // Done when all arrived, or nothing new for STALL_MS.
      while (s.received < p.n) {
        const r = await Promise.race([s.finished.then(() => true), new Promise((res) => setTimeout(() => res(false), 250))]);
        if (r) break;
        if (s.received !== last) { last = s.received; lastChange = now(); }
        else if (now() - lastChange > STALL_MS) break;
      }
      S = { onMessage() {} };
      const end = s.received >= p.n ? s.tLast : lastChange;
      const secs = (end - s.tFirst) / 1000;
      return { n: p.n, received: s.received, bytes: s.bytes, stalled: s.received < p.n,
        ms: end - s.tFirst, rate: (s.received - 1) / secs, mbPerSec: s.bytes / 1e6 / secs };
    }
    return pump(p.n, p.qos, Math.min(p.pubWindow, pub.receiveMaximum), p.e2eWindow);
  },

  wasmMemory() {
    return adapter.wasmMemory();
  },

  async teardown() {
    await Promise.all(clients.map((c) => Promise.race([c.end(), new Promise((r) => setTimeout(r, 1000))]).catch(() => {})));
    clients.length = 0;
  },
};
