// The session store (`wasmqtt/store`) in headless Chromium against
// wasmqtt-broker and mosquitto: a page's QoS 1/2 publishes survive a
// reload mid-burst, closing and reopening, and a crash with store writes
// pending; a QoS 2 message to the page is delivered once across a reload
// between PUBREC and PUBREL; and while the store cannot write, nothing that
// rests on an unwritten record leaves (PUBREC, PUBREL, a delivery) before
// the page crashes. A subscriber (MQTT.js, in Node) counts what the broker
// delivered: 0 lost, 0 QoS 2 duplicates [MQTT-4.3.3-10] [MQTT-4.4.0-1].
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';

import { brokers, launch } from './support/browser.mjs';
import { serve } from './support/server.mjs';

const env = brokers();
const BROKERS = [['wasmqtt-broker', env.broker], ['mosquitto', env.mosquitto]];
const WAIT = 30000;
const root = fileURLToPath(new URL('../..', import.meta.url));

let browser;
let server;
/** Node clients to end whatever happens. */
const subscribers = [];
before(async () => {
  [browser, server] = await Promise.all([launch(), serve(root)]);
});
after(async () => {
  await Promise.all(subscribers.map((c) => c.endAsync(true)));
  await browser?.close();
  await server?.close();
});

const unique = (what) => `${what}-${Math.random().toString(36).slice(2, 10)}`;

/** A new page of the store fixture in `context`, its deliveries reported to `deliveries`. */
async function storePage(context, deliveries = []) {
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(e.message));
  await page.exposeFunction('reportDelivery', (payload) => deliveries.push(payload));
  await page.goto(`${server.url}/tests/js/fixtures/store.html`);
  await page.waitForFunction(() => window.page, null, { timeout: 10000 })
    .catch((e) => { throw new Error(`${e.message}: ${page.problems.join('; ')}`); });
  return page;
}

const open = (page, url, clientId) =>
  page.evaluate(([u, id]) => window.page.open(u, id), [url, clientId]);

/** A Node subscriber to `topic` at QoS 2: counts per payload, and the end marker. */
async function subscriber(url, topic) {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: WAIT });
  const counts = new Map();
  let ended;
  const end = new Promise((resolve) => { ended = resolve; });
  client.on('message', (_, payload) => {
    const s = payload.toString();
    if (s === 'end') ended();
    else counts.set(s, (counts.get(s) ?? 0) + 1);
  });
  await client.subscribeAsync(topic, { qos: 2 });
  subscribers.push(client);
  return {
    counts,
    async done() {
      let timer;
      await Promise.race([end, new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('no end marker')), WAIT);
      })]).finally(() => clearTimeout(timer));
      await client.endAsync();
    },
  };
}

/** Crashes `page`'s renderer (CDP `Page.crash`): nothing of it runs on, not even unload. */
async function crash(page) {
  const cdp = await page.context().newCDPSession(page);
  let timer;
  const crashed = new Promise((resolve, reject) => {
    page.once('crash', resolve);
    timer = setTimeout(() => reject(new Error('the page did not crash')), WAIT);
  });
  cdp.send('Page.crash').catch(() => {});
  await crashed.finally(() => clearTimeout(timer));
}

const PUBLISH = 3;
const PUBREC = 5;
const PUBREL = 6;

/** Every message below `durable` (in publish order) arrived; no QoS 2 one twice. */
function assertDelivered(counts, durable, total) {
  const lost = [];
  const duplicated = [];
  for (let j = 0; j < total; j++) {
    const key = `${(j % 2) + 1}:${j >> 1}`;
    const n = counts.get(key) ?? 0;
    if (j < durable && n === 0) lost.push(key);
    if (j % 2 === 1 && n > 1) duplicated.push(key);
  }
  assert.deepEqual(lost, [], `${lost.length} lost`);
  assert.deepEqual(duplicated, [], `${duplicated.length} QoS 2 duplicates`);
}

for (const [name, url] of BROKERS) {
  describe(`session store, ${name}`, () => {
    test('1,000 QoS 1 + 1,000 QoS 2 publishes: page reloaded mid-burst', async () => {
      const context = await browser.newContext();
      try {
        const topic = `test/store/${unique('reload')}`;
        const sub = await subscriber(url, topic);
        const clientId = unique('reload');
        const page = await storePage(context);
        await open(page, url, clientId);
        // Half goes through; then nothing leaves the page: those live only in the store.
        await page.evaluate((t) => {
          window.burstRun = window.page.burst(t, 1000, { holdAfter: 1000 });
        }, topic);
        await page.waitForFunction(() => window.page.state.durable >= 1400, null, { timeout: WAIT });
        const durable = await page.evaluate(() => window.page.state.durable);
        await page.reload();
        await page.waitForFunction(() => window.page, null, { timeout: WAIT });
        const restored = await open(page, url, clientId);
        assert.ok(restored.inFlight + restored.queued >= durable - 1000, JSON.stringify({ restored, durable }));
        await page.evaluate((t) => window.page.settle(t, 'end'), topic);
        await sub.done();
        assertDelivered(sub.counts, durable, 2000);
        assert.deepEqual(await page.evaluate(() => window.page.state.errors), []);
      } finally {
        await context.close();
      }
    });

    test('closed and reopened in a new page', async () => {
      const context = await browser.newContext();
      try {
        const topic = `test/store/${unique('reopen')}`;
        const sub = await subscriber(url, topic);
        const clientId = unique('reopen');
        const first = await storePage(context);
        await open(first, url, clientId);
        await first.evaluate((t) => window.page.burst(t, 1000, { holdAfter: 600 }), topic);
        await first.close();
        const second = await storePage(context);
        const restored = await open(second, url, clientId);
        assert.ok(restored.inFlight + restored.queued >= 1400, JSON.stringify(restored));
        await second.evaluate((t) => window.page.settle(t, 'end'), topic);
        await sub.done();
        assertDelivered(sub.counts, 2000, 2000);
      } finally {
        await context.close();
      }
    });

    test('crashed with store writes pending', async () => {
      const context = await browser.newContext();
      try {
        const topic = `test/store/${unique('crash')}`;
        const sub = await subscriber(url, topic);
        const clientId = unique('crash');
        const first = await storePage(context);
        await open(first, url, clientId);
        await first.evaluate((t) => window.page.burst(t, 1000, { holdAfter: 0 }), topic);
        // 100 more, and the page dies before their write can commit.
        await first.evaluate((t) => window.page.publishUnflushed(t, 2000, 100), topic);
        await first.close({ runBeforeUnload: false });
        const second = await storePage(context);
        const restored = await open(second, url, clientId);
        assert.ok(restored.inFlight + restored.queued >= 2000, JSON.stringify(restored));
        await second.evaluate((t) => window.page.settle(t, 'end'), topic);
        await sub.done();
        assertDelivered(sub.counts, 2000, 2100);
      } finally {
        await context.close();
      }
    });

    /**
     * The page receives a QoS 2 message, its PUBREC never reaches the
     * broker, and it reloads: the broker sends the PUBLISH again (DUP).
     * With the store, the new page knows the id and answers PUBREC
     * without delivering; without, it delivers a second time.
     */
    for (const withStore of [true, false]) {
      test(`inbound QoS 2, reload between PUBREC and PUBREL: delivered ${withStore ? 'once' : 'twice without a store'}`, async () => {
        const context = await browser.newContext();
        try {
          const topic = `test/store/${unique('inbound')}`;
          const clientId = unique('inbound');
          const deliveries = [];
          const page = await storePage(context, deliveries);
          await page.evaluate(async ([u, id, t, store]) => {
            const { page: p } = window;
            await p.open(u, id, store ? {} : { store: undefined });
            await p.state.client.subscribe(t, { qos: 2 });
            p.hold.outgoing = true;
          }, [url, clientId, topic, withStore]);
          const publisher = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 });
          subscribers.push(publisher);
          await publisher.publishAsync(topic, 'once', { qos: 2 });
          await page.waitForFunction(() => window.page.state.delivered >= 1, null, { timeout: WAIT });
          if (withStore) await page.evaluate(() => window.page.state.store.flush());
          await page.reload();
          await page.waitForFunction(() => window.page, null, { timeout: WAIT });
          const restored = await page.evaluate(([u, id, store]) => window.page.open(u, id, store ? {} : { store: undefined }),
            [url, clientId, withStore]);
          if (withStore) assert.equal(restored.inbound, 1);
          await publisher.publishAsync(topic, 'after', { qos: 2 });
          await page.waitForFunction(() => window.page.state.last === 'after', null, { timeout: WAIT });
          await publisher.endAsync();
          assert.deepEqual(deliveries, withStore ? ['once', 'after'] : ['once', 'once', 'after']);
          await page.evaluate(() => window.page.state.client.end());
        } finally {
          await context.close();
        }
      });
    }

    /**
     * The crash window: the store cannot write (another readwrite
     * transaction holds its object store), a QoS 2 message arrives, and
     * the page crashes before the id is stored. The message must not have
     * been delivered nor PUBRECed, so the broker re-sends it to the next
     * page, which delivers it: once in all [MQTT-4.3.3-10] [MQTT-4.4.0-1].
     */
    test('inbound QoS 2 while the store cannot write: neither delivered nor PUBRECed; after a crash, delivered once', async () => {
      const context = await browser.newContext();
      try {
        const topic = `test/store/${unique('window-in')}`;
        const clientId = unique('window-in');
        const deliveries = [];
        const page = await storePage(context, deliveries);
        await page.evaluate(async ([u, id, t]) => {
          const { page: p } = window;
          await p.open(u, id);
          await p.state.client.subscribe(t, { qos: 2 });
          await p.blockStore();
        }, [url, clientId, topic]);
        const publisher = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 });
        subscribers.push(publisher);
        await publisher.publishAsync(topic, 'once', { qos: 2 });
        // The session has the message (counted as it is decoded) ...
        await page.waitForFunction(() => window.page.state.client.metrics.messagesIn >= 1, null, { timeout: WAIT });
        const seen = await page.evaluate(() => ({ delivered: window.page.state.delivered, sent: window.page.state.sent }));
        // ... and, its id not stored, neither delivers nor acknowledges it.
        assert.equal(seen.delivered, 0);
        assert.ok(!seen.sent.includes(PUBREC), `sent ${seen.sent}`);
        await crash(page);

        const second = await storePage(context, deliveries);
        const restored = await open(second, url, clientId);
        assert.equal(restored.inbound, 0);
        await second.waitForFunction(() => window.page.state.delivered >= 1, null, { timeout: WAIT });
        await publisher.publishAsync(topic, 'after', { qos: 2 });
        await second.waitForFunction(() => window.page.state.last === 'after', null, { timeout: WAIT });
        await publisher.endAsync();
        assert.deepEqual(deliveries, ['once', 'after']);
        await second.evaluate(() => window.page.state.client.end());
      } finally {
        await context.close();
      }
    });

    /**
     * The same window for our QoS 2 publish: PUBREC arrives while the store
     * cannot write, so PUBREL must wait (the store still says PUBLISH); the
     * page crashes, the next one re-sends the PUBLISH with DUP, which the
     * broker, never released, takes as a re-send: one copy for the
     * subscriber [MQTT-4.3.3-6] [MQTT-4.4.0-1].
     */
    test('outbound QoS 2 while the store cannot write: no PUBREL; after a crash, accepted once', async () => {
      const context = await browser.newContext();
      try {
        const topic = `test/store/${unique('window-out')}`;
        const sub = await subscriber(url, topic);
        const clientId = unique('window-out');
        const page = await storePage(context);
        await open(page, url, clientId);
        await page.evaluate(async (t) => {
          const { page: p } = window;
          p.hold.incoming = true;
          p.state.client.publish(t, 'p', { qos: 2 }).catch(() => {});
          // Its record stored, the PUBLISH left; then the store is blocked.
          await p.state.store.flush();
          await p.blockStore();
        }, topic);
        await page.waitForFunction(() => window.page.heldFrames() >= 1, null, { timeout: WAIT });
        const seen = await page.evaluate(() => {
          const { page: p } = window;
          const before = p.state.client.metrics.packetsIn;
          // The PUBREC, handled in this call.
          p.release();
          return { sent: p.state.sent, read: p.state.client.metrics.packetsIn - before, inFlight: p.state.client.metrics.inFlight };
        });
        assert.ok(seen.sent.includes(PUBLISH), `sent ${seen.sent}`);
        assert.equal(seen.read, 1);
        assert.equal(seen.inFlight, 1);
        assert.ok(!seen.sent.includes(PUBREL), `sent ${seen.sent}`);
        await crash(page);

        const second = await storePage(context);
        const restored = await open(second, url, clientId);
        assert.equal(restored.inFlight, 1);
        await second.evaluate((t) => window.page.settle(t, 'end'), topic);
        await sub.done();
        assert.deepEqual([...sub.counts], [['p', 1]]);
      } finally {
        await context.close();
      }
    });
  });
}

describe('session store, options, tabs and failures', () => {
  const url = env.broker;

  test('options that cannot resume a session are INVALID_OPTIONS', async () => {
    const context = await browser.newContext();
    try {
      const page = await storePage(context);
      const messages = await page.evaluate(async (u) => {
        const { connect, indexedDBStore } = window.store;
        const bad = [
          { clean: false, properties: { sessionExpiryInterval: 60 } },
          { clientId: 'x', properties: { sessionExpiryInterval: 60 } },
          { clientId: 'x', clean: false },
          { clientId: 'x', clean: false, properties: { sessionExpiryInterval: 0 } },
        ];
        const out = [];
        for (const options of bad) {
          const client = connect(u, { ...options, store: indexedDBStore({ name: 'options-test' }) });
          const e = await window.h.next(client, 'error');
          out.push(`${e.code}: ${e.message}`);
          out.push(await client.publish('t', 'x', { qos: 1 }).then(() => 'published', (x) => x.code));
        }
        return out;
      }, url);
      assert.deepEqual(messages.filter((m, i) => i % 2 === 1), Array(4).fill('INVALID_OPTIONS'));
      const errors = messages.filter((m, i) => i % 2 === 0);
      assert.match(errors[0], /^INVALID_OPTIONS: .*clientId/);
      assert.match(errors[1], /^INVALID_OPTIONS: .*clean: false/);
      assert.match(errors[2], /^INVALID_OPTIONS: .*sessionExpiryInterval/);
      assert.match(errors[3], /^INVALID_OPTIONS: .*sessionExpiryInterval/);
    } finally {
      await context.close();
    }
  });

  test('a second tab with the same client id and store gets STORE_LOCKED until the first ends', async () => {
    const context = await browser.newContext();
    try {
      const clientId = unique('tabs');
      const first = await storePage(context);
      const second = await storePage(context);
      await open(first, url, clientId);
      const tryOpen = (page) => page.evaluate(async ([u, id]) => {
        const client = window.store.connect(u, {
          clientId: id,
          clean: false,
          properties: { sessionExpiryInterval: 60 },
          store: window.store.indexedDBStore({ name: 'store-test', lockTimeout: 300 }),
        });
        const got = await Promise.race([window.h.next(client, 'error').then((e) => e.code),
          window.h.next(client, 'connect').then(() => 'connected')]);
        await client.end();
        return got;
      }, [url, clientId]);
      assert.equal(await tryOpen(second), 'STORE_LOCKED');
      await first.evaluate(() => window.page.state.client.end());
      assert.equal(await tryOpen(second), 'connected');
    } finally {
      await context.close();
    }
  });

  test('without IndexedDB: STORE_UNAVAILABLE, and the client works from memory', async () => {
    const context = await browser.newContext();
    try {
      const page = await storePage(context);
      const r = await page.evaluate(async ([u, id]) => {
        Object.defineProperty(window, 'indexedDB', { value: undefined });
        const { page: p } = window;
        await p.open(u, id);
        const acked = await p.state.client.publish('test/store/memory', 'x', { qos: 1 });
        await p.state.client.end();
        return { errors: p.state.errors, restored: p.state.restored, acked };
      }, [url, unique('noidb')]);
      assert.equal(r.errors.length, 1);
      assert.match(r.errors[0], /^STORE_UNAVAILABLE: /);
      assert.equal(r.restored, null);
      // Success, or No matching subscribers (0x10).
      assert.ok(r.acked === 0 || r.acked === 0x10, String(r.acked));
    } finally {
      await context.close();
    }
  });

  test('out of quota: STORE_FAILED, and the client goes on from memory with nothing lost', async () => {
    const context = await browser.newContext();
    try {
      const topic = `test/store/${unique('quota')}`;
      const sub = await subscriber(url, topic);
      const page = await storePage(context);
      // The origin's quota: what it uses with the store's database made,
      // and 32 KiB more; set before the store's first write (Chromium
      // checks a write against the quota it found at the first).
      await page.evaluate(() => new Promise((resolve, reject) => {
        const made = indexedDB.open('store-test', 2);
        made.onupgradeneeded = () => made.result.createObjectStore('log');
        made.onsuccess = () => { made.result.close(); resolve(); };
        made.onerror = () => reject(made.error);
      }));
      const origin = new URL(server.url).origin;
      const cdp = await context.newCDPSession(page);
      const { usage } = await cdp.send('Storage.getUsageAndQuota', { origin });
      await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + (32 << 10) });
      await open(page, url, unique('quota'));
      const r = await page.evaluate(async (t) => {
        const { client } = window.page.state;
        const payload = (j) => `${(j % 2) + 1}:${j >> 1}`;
        // 100 at QoS 1 and 100 at QoS 2: half before the store fails, half
        // after. 1 KiB of user property each: the first 100 are one write
        // of 100 KiB, beyond the quota.
        const settled = [];
        const properties = { userProperties: { pad: 'x'.repeat(1024) } };
        const publish = (from, to) => {
          for (let j = from; j < to; j++) settled.push(client.publish(t, payload(j), { qos: (j % 2) + 1, properties }));
        };
        publish(0, 100);
        await window.h.next(client, 'error');
        publish(100, 200);
        const outcomes = await Promise.allSettled(settled);
        return { acked: outcomes.filter((o) => o.status === 'fulfilled').length, errors: window.page.state.errors };
      }, topic);
      assert.equal(r.acked, 200);
      assert.equal(r.errors.length, 1, r.errors.join('; '));
      assert.match(r.errors[0], /^STORE_FAILED: .*QuotaExceededError/);
      await page.evaluate((t) => window.page.settle(t, 'end'), topic);
      await sub.done();
      assertDelivered(sub.counts, 200, 200);
      assert.equal([...sub.counts.values()].reduce((a, b) => a + b, 0), 200);
    } finally {
      await context.close();
    }
  });

  test('memoryStore: QoS 2 out and back in goes through (its writes commit at once), and the next client finds nothing left', async () => {
    const context = await browser.newContext();
    try {
      const page = await storePage(context);
      const r = await page.evaluate(async ([u, id, t]) => {
        const { connect, memoryStore } = window.store;
        const { next } = window.h;
        const map = new Map();
        const options = { clientId: id, clean: false, properties: { sessionExpiryInterval: 60 }, reconnect: false };
        const a = connect(u, { ...options, store: memoryStore(map) });
        await next(a, 'connect');
        await a.subscribe(t, { qos: 2 });
        const got = new Promise((resolve) => a.on('message', (_, payload) => resolve(new TextDecoder().decode(payload))));
        const acked = await a.publish(t, 'out and back', { qos: 2 });
        const payload = await window.h.within(got, 'the message back');
        await a.end();
        const b = connect(u, { ...options, store: memoryStore(map) });
        const restored = await next(b, 'restored');
        await next(b, 'connect');
        await b.end();
        return { acked, payload, restored };
      }, [url, unique('memory'), `test/store/${unique('memory')}`]);
      assert.equal(r.acked, 0);
      assert.equal(r.payload, 'out and back');
      assert.deepEqual(r.restored, { inFlight: 0, queued: 0, inbound: 0 });
    } finally {
      await context.close();
    }
  });

  test('the core entry has none of the store: `store` is an unknown option there', async () => {
    const context = await browser.newContext();
    try {
      const page = await storePage(context);
      const r = await page.evaluate(async (u) => {
        const { core, store } = window;
        const client = core.connect(u, {
          clientId: 'core', clean: false, properties: { sessionExpiryInterval: 60 }, store: store.memoryStore(),
        });
        const e = await window.h.next(client, 'error');
        await Promise.all([core.init(), store.init()]);
        const wasm = [...performance.getEntriesByType('resource')].map((x) => x.name.split('/').pop())
          .filter((name) => name.endsWith('.wasm'));
        return { error: `${e.code}: ${e.message}`, wasm, sameApi: Object.keys(core).every((k) => k in store) };
      }, url);
      assert.equal(r.error, 'INVALID_OPTIONS: invalid option store: is not a known option');
      // The store entry is the whole client, over its own wasm; each entry loads only its own.
      assert.ok(r.sameApi);
      assert.deepEqual(r.wasm.sort(), ['wasmqtt_bg.wasm', 'wasmqtt_store_bg.wasm']);
    } finally {
      await context.close();
    }
  });
});
