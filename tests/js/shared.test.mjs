// Shared mode (wasmqtt/shared) in Chromium: tabs of one origin share one
// MQTT connection through a SharedWorker, or, with SharedWorker taken
// away, through a leader tab over BroadcastChannel. The broker is reached
// through a relay that counts the WebSocket connections and the packets
// the browser sends (tests/js/support/relay.mjs).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

import { brokers, launch } from './support/browser.mjs';
import { packetRelay } from './support/relay.mjs';
import { serve } from './support/server.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const env = brokers();
let browser;
let server;

before(async () => {
  [browser, server] = await Promise.all([launch(), serve(root)]);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Polls `check` until it returns a truthy value; fails naming `what` after `ms`. */
async function until(check, what, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A tab of the shared-mode fixture page in `context`, recording its errors. */
async function tab(context) {
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push(`console: ${m.text()}`); });
  await page.goto(`${server.url}/tests/js/fixtures/shared.html`);
  await page.waitForFunction(() => window.shared && window.h);
  return page;
}

const count = (relay, type) => relay.packets.filter((p) => p.type === type).length;

test('three tabs share one connection; each gets what its own filters match', async (t) => {
  const relay = await packetRelay(env.broker);
  const context = await browser.newContext();
  try {
    const base = `test/js/shared/${Math.random().toString(36).slice(2)}`;
    const clientId = `shared-${Math.random().toString(36).slice(2)}`;
    // Overlapping filters: `+/temp` is held by A and B, the others by one tab each.
    const filters = {
      A: [`${base}/+/temp`, `${base}/x/#`],
      B: [`${base}/+/temp`],
      C: [`${base}/x/temp`, `${base}/y/+`],
    };
    const tabs = {};
    for (const name of Object.keys(filters)) {
      tabs[name] = await tab(context);
      await tabs[name].evaluate(async ({ url, clientId, list }) => {
        const c = window.shared.connect(url, { clientId });
        window.c = c;
        window.got = { message: [], handler: [] };
        c.on('message', (topic, payload) => window.got.message.push(`${topic} ${h.text(payload)}`));
        await h.within(Promise.all(list.map((f) => c.subscribe(f, {
          qos: 1, handler: (topic, payload) => window.got.handler.push(`${f} ${topic} ${h.text(payload)}`),
        }))), 'the subscriptions');
        await h.within(new Promise((r) => (c.connected ? r() : c.once('connect', r))), 'connect');
      }, { url: relay.url, clientId, list: filters[name] });
    }
    // One connection for three tabs, one SUBSCRIBE per distinct filter.
    assert.equal(relay.connections.length, 1);
    assert.equal(count(relay, 'CONNECT'), 1);
    assert.equal(count(relay, 'SUBSCRIBE'), 4);
    assert.equal(await tabs.A.evaluate(() => window.c.clientId), clientId);

    // A publisher of its own (a core client, straight to the broker).
    const pub = await tab(context);
    await pub.evaluate(async (url) => {
      window.p = await h.within(window.wasmqtt.connectAsync(url), 'the publisher');
    }, env.broker);
    const publish = (topics) => pub.evaluate(async ({ base, topics }) => {
      for (const t of topics) await window.p.publish(`${base}/${t}`, t, { qos: 1 });
    }, { base, topics });
    // The last message matches a filter of every tab still subscribed: once
    // it is in, nothing published before it is still on its way.
    const end = 'y/temp';
    const waitEnd = (page, n) => page.waitForFunction(
      ({ topic, n }) => window.got.message.filter((m) => m === `${topic} end`).length >= n,
      { topic: `${base}/${end}`, n }, { timeout: 10_000 },
    );
    await publish(['x/temp', 'y/temp', 'y/hum', 'z/temp', 'x/other/deep']);
    await pub.evaluate(({ base, end }) => window.p.publish(`${base}/${end}`, 'end', { qos: 1 }), { base, end });
    await Promise.all(Object.values(tabs).map((p) => waitEnd(p, 1)));

    // What each filter matches: [MQTT-4.7.1-2] '#' any number of levels,
    // [MQTT-4.7.1-3] '+' exactly one.
    const expected = {
      A: ['+/temp x/temp x/temp', 'x/# x/temp x/temp', '+/temp y/temp y/temp', '+/temp z/temp z/temp',
        'x/# x/other/deep x/other/deep', '+/temp y/temp end'],
      B: ['+/temp x/temp x/temp', '+/temp y/temp y/temp', '+/temp z/temp z/temp', '+/temp y/temp end'],
      C: ['x/temp x/temp x/temp', 'y/+ y/temp y/temp', 'y/+ y/hum y/hum', 'y/+ y/temp end'],
    };
    const strip = (s) => s.replaceAll(`${base}/`, '');
    for (const [name, page] of Object.entries(tabs)) {
      const got = await page.evaluate(() => window.got);
      // Each subscription's handler: exactly what its filter matches.
      assert.deepEqual(got.handler.map(strip).sort(), expected[name].sort(), `tab ${name}'s handlers`);
      // `message` listeners: each message some filter of the tab matched, once.
      assert.deepEqual(got.message.map(strip).sort(),
        [...new Set(expected[name].map((s) => s.slice(s.indexOf(' ') + 1)))].sort(), `tab ${name}'s messages`);
    }

    // A tab asking for other options is refused, and the connection is untouched.
    const odd = await tab(context);
    const refused = await odd.evaluate(async (url) => {
      const c = window.shared.connect(url, { clientId: 'another-id' });
      const error = await h.next(c, 'error');
      const call = await c.subscribe('x').then(() => null, (e) => e.code);
      return { code: error.code, isMqttError: error instanceof window.shared.MqttError, call };
    }, relay.url);
    assert.deepEqual(refused, { code: 'SHARED_OPTIONS_MISMATCH', isMqttError: true, call: 'SHARED_OPTIONS_MISMATCH' });
    await odd.close();
    assert.equal(relay.connections.length, 1);

    // B crashes: A still holds `+/temp`, so no UNSUBSCRIBE; A and C keep receiving.
    const cdp = await context.newCDPSession(tabs.B);
    const crashed = new Promise((resolve) => tabs.B.once('crash', resolve));
    cdp.send('Page.crash').catch(() => {});
    await until(() => Promise.race([crashed.then(() => true), new Promise((r) => setTimeout(r, 100, false))]), 'B to crash');
    await until(() => tabs.A.evaluate(() => window.c.metrics !== undefined), 'metrics');
    await publish(['z/temp']);
    await pub.evaluate(({ base, end }) => window.p.publish(`${base}/${end}`, 'end', { qos: 1 }), { base, end });
    await Promise.all([waitEnd(tabs.A, 2), waitEnd(tabs.C, 2)]);
    assert.ok((await tabs.A.evaluate(() => window.got.handler)).map(strip).includes('+/temp z/temp z/temp'));
    assert.equal(count(relay, 'UNSUBSCRIBE'), 0);
    assert.equal(relay.connections.length, 1);

    // The last holder of a filter lets go: one UNSUBSCRIBE; a filter still held: none.
    const codes = await tabs.C.evaluate((f) => window.c.unsubscribe(f), `${base}/y/+`);
    assert.deepEqual(codes, [0]);
    await until(() => count(relay, 'UNSUBSCRIBE') === 1, 'the UNSUBSCRIBE of y/+');
    assert.deepEqual(await tabs.A.evaluate((f) => window.c.unsubscribe(f), `${base}/+/temp`), [0]);
    assert.equal(count(relay, 'UNSUBSCRIBE'), 2, 'B was gone, so A was the last to hold +/temp');

    // request() and messages() through the shared connection: the
    // publisher's own connection answers requests (the response topic is
    // subscribed with No Local, so a tab of the same connection could not),
    // C asks and iterates.
    await pub.evaluate((f) => window.p.subscribe(f, { handler: (_t, _p, packet) => {
      const { responseTopic, correlationData } = packet.properties;
      window.p.publish(responseTopic, 'pong', { properties: { correlationData } });
    } }), `${base}/req`);
    const reply = await tabs.C.evaluate(async (f) => h.text((await window.c.request(f, 'ping', { timeout: 5000 })).payload),
      `${base}/req`);
    assert.equal(reply, 'pong');
    const subscribes = count(relay, 'SUBSCRIBE');
    await tabs.C.evaluate((f) => {
      window.it = window.c.messages(f);
      window.firstTwo = (async () => [(await window.it.next()).value, (await window.it.next()).value]
        .map((m) => `${m.topic} ${h.text(m.payload)}`))();
    }, `${base}/m/+`);
    await until(() => count(relay, 'SUBSCRIBE') === subscribes + 1, 'the SUBSCRIBE of messages()');
    // The broker handles a connection's packets in order: once this PUBACK
    // is back, the subscription is in place.
    await tabs.C.evaluate((t) => window.c.publish(t, 'sync', { qos: 1 }), `${base}/sync`);
    await publish(['m/1', 'm/2']);
    assert.deepEqual(await tabs.C.evaluate(() => h.within(window.firstTwo, 'two messages')).then((l) => l.map(strip)),
      ['m/1 m/1', 'm/2 m/2']);
    await tabs.C.evaluate(() => window.it.return());
    await until(() => count(relay, 'UNSUBSCRIBE') === 3, 'the UNSUBSCRIBE when the loop ends');

    for (const page of [tabs.A, tabs.C]) assert.deepEqual(page.problems, []);
    // Closing every tab ends the connection.
    await tabs.A.close();
    await tabs.C.close();
    await until(() => relay.connections[0].closed !== undefined, 'the shared connection to close');
    assert.equal(relay.connections.length, 1);
    t.diagnostic(`closing the last tab: ${count(relay, 'DISCONNECT')} DISCONNECT sent before the connection closed`);
  } finally {
    await context.close();
    await relay.close();
  }
});

test('without SharedWorker a leader tab holds the connection; a takeover loses no QoS 1 publish', async (t) => {
  const relay = await packetRelay(env.broker);
  const context = await browser.newContext();
  const subContext = await browser.newContext();
  await context.addInitScript(() => { delete window.SharedWorker; });
  const N = 300;
  try {
    const topic = `test/js/shared-fallback/${Math.random().toString(36).slice(2)}`;
    const clientId = `shared-${Math.random().toString(36).slice(2)}`;
    // An independent subscriber (a core client of its own, in another context).
    const sub = await tab(subContext);
    await sub.evaluate(async ({ url, topic }) => {
      window.seen = new Map();
      const c = await h.within(window.wasmqtt.connectAsync(url, { clean: false, properties: { sessionExpiryInterval: 60 } }),
        'the subscriber');
      await c.subscribe(topic, { qos: 1, handler: (_t, p) => {
        const i = h.text(p);
        window.seen.set(i, (window.seen.get(i) ?? 0) + 1);
      } });
    }, { url: env.broker, topic });

    const join = (page) => page.evaluate(async ({ url, clientId }) => {
      window.c = window.shared.connect(url, { clientId });
      window.resent = [];
      window.c.on('resend', (r) => window.resent.push(r));
      await h.within(new Promise((r) => (window.c.connected ? r() : window.c.once('connect', r))), 'connect');
    }, { url: relay.url, clientId });
    const leader = await tab(context);
    await join(leader);
    const other = await tab(context);
    await join(other);
    assert.equal(await other.evaluate(() => typeof SharedWorker), 'undefined');
    assert.equal(relay.connections.length, 1, 'one connection, held by the first tab');

    // The other tab publishes N QoS 1 messages, at most 20 unacknowledged.
    await other.evaluate(({ topic, N }) => {
      window.acked = 0;
      window.failed = [];
      window.done = (async () => {
        const inFlight = new Set();
        for (let i = 0; i < N; i++) {
          const p = window.c.publish(topic, String(i), { qos: 1 })
            .then(() => { window.acked++; }, (e) => window.failed.push(`${i} ${e.code} ${e.message}`))
            .finally(() => inFlight.delete(p));
          inFlight.add(p);
          if (inFlight.size >= 20) await Promise.race(inFlight);
        }
        await Promise.all(inFlight);
      })();
    }, { topic, N });
    // Mid-stream, the leader closes.
    await other.waitForFunction((n) => window.acked >= n, N / 3, { timeout: 20_000 });
    await leader.close();
    await other.evaluate(() => h.within(window.done, 'the publishes to settle', 30_000));
    const r = await other.evaluate(() => ({ acked: window.acked, failed: window.failed, resent: window.resent }));
    assert.deepEqual(r.failed, []);
    assert.equal(r.acked, N);
    // The calls the old leader never answered were sent again, and said so.
    assert.ok(r.resent.length > 0, 'no publish was in flight at the takeover');
    assert.ok(r.resent.every((x) => x.topic === topic && x.qos === 1));
    assert.equal(relay.connections.length, 2, 'the new leader opened the second connection');

    // The subscriber has every message: 0 lost (QoS 1 is at least once: some may come twice).
    await sub.waitForFunction((n) => window.seen.size >= n, N, { timeout: 20_000 }).catch(() => {});
    const seen = await sub.evaluate(() => [...window.seen.keys()].map(Number));
    const lost = [...Array(N).keys()].filter((i) => !seen.includes(i));
    assert.deepEqual(lost, [], `${lost.length} of ${N} lost`);
    const twice = await sub.evaluate(() => [...window.seen.values()].filter((n) => n > 1).length);
    t.diagnostic(`${r.resent.length} publishes re-sent by the new leader; ${twice} delivered twice, 0 lost`);
    assert.deepEqual(other.problems, []);
  } finally {
    await context.close();
    await subContext.close();
    await relay.close();
  }
});

test('a tab joining a held filter gets its retained messages from the shared connection', async () => {
  const relay = await packetRelay(env.broker);
  const context = await browser.newContext();
  try {
    const base = `test/js/shared-retained/${Math.random().toString(36).slice(2)}`;
    const clientId = `shared-${Math.random().toString(36).slice(2)}`;
    const pub = await tab(context);
    await pub.evaluate(async (url) => { window.p = await h.within(window.wasmqtt.connectAsync(url), 'the publisher'); }, env.broker);
    const retain = (t, payload) => pub.evaluate(({ t, payload }) => window.p.publish(t, payload, { qos: 1, retain: true }),
      { t: `${base}/${t}`, payload });
    await retain('r/1', 'one');
    // Each tab subscribes to `r/+` and waits for `n` messages on it.
    const join = async (n) => {
      const page = await tab(context);
      const got = await page.evaluate(async ({ url, clientId, f, n }) => {
        window.c = window.shared.connect(url, { clientId });
        const box = h.inbox();
        window.box = box;
        await window.c.subscribe(f, { qos: 1, handler: box.handler });
        const list = [];
        for (let i = 0; i < n; i++) {
          const m = await box.take();
          list.push(`${m.topic.split('/').pop()} ${h.text(m.payload)} ${m.packet.retain}`);
        }
        return list;
      }, { url: relay.url, clientId, f: `${base}/r/+`, n });
      return { page, got };
    };
    const a = await join(1);
    assert.deepEqual(a.got, ['1 one true'], 'from the broker [MQTT-3.3.1-9]');
    const b = await join(1);
    assert.deepEqual(b.got, ['1 one true'], 'from the shared connection');
    assert.equal(count(relay, 'SUBSCRIBE'), 1, 'the broker was not asked again');
    // A retained update while the filter is held arrives live (Retain 0
    // [MQTT-3.3.1-12]); a later tab gets the update.
    await retain('r/1', 'two');
    const live = await a.page.evaluate(async () => {
      const m = await window.box.take();
      return `${h.text(m.payload)} ${m.packet.retain}`;
    });
    assert.equal(live, 'two false');
    const c = await join(1);
    assert.deepEqual(c.got, ['1 two true']);
    assert.equal(count(relay, 'SUBSCRIBE'), 1);
    await retain('r/1', '');
  } finally {
    await context.close();
    await relay.close();
  }
});

test('the credentials provider runs in the first tab; a tab without one is refused', async () => {
  const context = await browser.newContext();
  try {
    const clientId = `shared-${Math.random().toString(36).slice(2)}`;
    const join = async (withCredentials) => {
      const page = await tab(context);
      const r = await page.evaluate(async ({ url, clientId, user, password, withCredentials }) => {
        window.asked = 0;
        const options = { clientId };
        if (withCredentials) {
          options.credentials = async () => {
            window.asked++;
            return { username: user, password };
          };
        }
        const c = window.shared.connect(url, options);
        window.c = c;
        return h.within(new Promise((resolve) => {
          c.once('connect', () => resolve('connected'));
          c.once('error', (e) => resolve(e.code));
        }), 'connect or error');
      }, { url: env.auth, clientId, user: env.user, password: env.password, withCredentials });
      return { page, r };
    };
    const first = await join(true);
    assert.equal(first.r, 'connected');
    const second = await join(true);
    assert.equal(second.r, 'connected');
    assert.equal(await first.page.evaluate(() => window.asked), 1);
    assert.equal(await second.page.evaluate(() => window.asked), 0);
    const third = await join(false);
    assert.equal(third.r, 'SHARED_OPTIONS_MISMATCH');
  } finally {
    await context.close();
  }
});

test('without SharedWorker a leader that ends hands over: the other tab connects and keeps its subscriptions', async () => {
  const relay = await packetRelay(env.broker);
  const context = await browser.newContext();
  await context.addInitScript(() => { delete window.SharedWorker; });
  try {
    const topic = `test/js/shared-handover/${Math.random().toString(36).slice(2)}`;
    const clientId = `shared-${Math.random().toString(36).slice(2)}`;
    const join = (page) => page.evaluate(async ({ url, clientId }) => {
      window.c = window.shared.connect(url, { clientId });
      window.connects = 0;
      window.c.on('connect', () => window.connects++);
      await h.within(new Promise((r) => (window.c.connected ? r() : window.c.once('connect', r))), 'connect');
    }, { url: relay.url, clientId });
    const leader = await tab(context);
    await join(leader);
    const other = await tab(context);
    await join(other);
    await other.evaluate(async (f) => {
      window.box = h.inbox();
      await window.c.subscribe(f, { qos: 1, handler: window.box.handler });
    }, topic);
    await leader.evaluate(() => window.c.end());
    // The other tab leads now: a second connection, with its subscription made again.
    await other.waitForFunction(() => window.connects >= 2, null, { timeout: 10_000 });
    await until(() => count(relay, 'SUBSCRIBE') === 2, 'the subscription on the new connection');
    assert.equal(relay.connections.length, 2);
    assert.notEqual(relay.connections[0].closed, undefined, 'the old leader ended its connection');
    const got = await other.evaluate(async (f) => {
      await window.c.publish(f, 'after', { qos: 1 });
      return h.text((await window.box.take()).payload);
    }, topic);
    assert.equal(got, 'after');
    assert.deepEqual(other.problems, []);
    assert.deepEqual(leader.problems, []);
  } finally {
    await context.close();
    await relay.close();
  }
});
