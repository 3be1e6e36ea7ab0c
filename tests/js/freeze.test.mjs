// A frozen page (Chrome's tab freezing, driven through the DevTools
// protocol as the browser does it: `freeze`, then no tasks at all, then
// `resume`; Chrome freezes only hidden pages, so another tab is in front
// first). The connection is closed on freeze, messages published to
// the client meanwhile and its own unacknowledged publish survive, and it
// resumes the session at once on thaw, not after its reconnect delay.
// Then a page going into the back/forward cache and coming back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

import { brokers, open } from './support/browser.mjs';
import { launchHideable } from './support/hidden.mjs';
import { serve } from './support/server.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const env = brokers();
let chromium;
let server;

before(async () => {
  [chromium, server] = await Promise.all([launchHideable(), serve(root)]);
});

after(async () => {
  await chromium?.close();
  await server?.close();
});

test('frozen: closed on freeze, nothing lost, resumed at once on thaw', async () => {
  const url = `${server.url}/tests/js/fixtures/index.html`;
  const [page, other] = [await open(chromium.context, url), await open(chromium.context, url)];
  await Promise.all([page, other].map((p) => p.waitForFunction(() => window.wasmqtt && window.h)));
  const id = `js-freeze-${Math.random().toString(36).slice(2)}`;
  const topics = { toFrozen: `test/js/freeze/${id}/in`, fromFrozen: `test/js/freeze/${id}/out` };

  // The other page listens for what the frozen one publishes.
  await other.evaluate(async ({ broker, topics }) => {
    const { connectAsync, } = window.wasmqtt;
    window.peer = await connectAsync(broker);
    window.got = [];
    await window.peer.subscribe(topics.fromFrozen, { qos: 1, handler: (t, p) => window.got.push(window.h.text(p)) });
  }, { broker: env.broker, topics });

  await page.evaluate(async ({ broker, id, topics }) => {
    const { connectAsync } = window.wasmqtt;
    const client = await connectAsync(broker, {
      clientId: id, clean: false, properties: { sessionExpiryInterval: 300 },
      // Far longer than the test: only the thaw can bring it back in time.
      reconnect: { initialDelay: 60_000, maxDelay: 60_000 },
    });
    window.client = client;
    window.events = [];
    for (const name of ['freeze', 'resume', 'error', 'close', 'offline', 'reconnecting', 'reconnect', 'connect']) {
      client.on(name, (a) => window.events.push(name === 'error' ? `error ${a.code}` : name));
    }
    window.received = [];
    await client.subscribe(topics.toFrozen, { qos: 1, handler: (t, p) => window.received.push(window.h.text(p)) });
    // A publish the broker will not acknowledge on this connection: in flight at the freeze.
    await client.publish(`$control/withhold-acks/${id}`, '1', { qos: 1 });
    window.published = client.publish(topics.fromFrozen, 'sent before the freeze', { qos: 1 }).then(() => true);
    window.connectedAt = client.metrics.reconnects;
  }, { broker: env.broker, id, topics });
  await other.waitForFunction(() => window.got.length === 1);

  await other.bringToFront();
  assert.equal(await page.evaluate(() => document.visibilityState), 'hidden');
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Page.setWebLifecycleState', { state: 'frozen' });
  // While it is frozen, the other page publishes to it.
  await other.evaluate(async (topic) => {
    for (const n of [1, 2, 3]) await window.peer.publish(topic, `while frozen ${n}`, { qos: 1 });
  }, topics.toFrozen);
  await cdp.send('Page.setWebLifecycleState', { state: 'active' });

  const r = await page.evaluate(async () => {
    const { within } = window.h;
    const published = await within(window.published, 'the publish in flight at the freeze');
    await within((async () => {
      while (window.received.length < 3) await new Promise((ok) => setTimeout(ok, 20));
    })(), 'the messages sent while frozen');
    return { events: window.events, received: window.received, published, connected: window.client.connected };
  });
  await page.evaluate(() => window.client.end(true));
  await other.evaluate(() => window.peer.end(true));

  assert.deepEqual(r.events, [
    'freeze', 'error CONNECTION_LOST', 'close', 'offline', 'reconnecting', 'resume', 'reconnect', 'connect',
  ]);
  assert.deepEqual(r.received, ['while frozen 1', 'while frozen 2', 'while frozen 3']);
  assert.equal(r.published, true);
  assert.equal(r.connected, true);
  // Sent again after the thaw (DUP), so the other page may have it twice.
  assert.ok((await other.evaluate(() => window.got.length)) >= 1);
  assert.deepEqual(page.problems, []);
  assert.deepEqual(other.problems, []);
});

test('back/forward cache: closed on pagehide, resumed on pageshow', async () => {
  // `no-store` pages with a WebSocket are kept out of the cache.
  const cached = await serve(root, { 'cache-control': 'no-cache' });
  try {
    const page = await open(chromium.context, `${cached.url}/tests/js/fixtures/index.html`);
    await page.waitForFunction(() => window.wasmqtt && window.h);
    await page.evaluate(async (broker) => {
      const client = await window.wasmqtt.connectAsync(broker, {
        clean: false, properties: { sessionExpiryInterval: 300 },
        reconnect: { initialDelay: 60_000, maxDelay: 60_000 },
      });
      window.client = client;
      window.events = [];
      for (const name of ['freeze', 'resume', 'close', 'connect']) client.on(name, () => window.events.push(name));
      addEventListener('pageshow', (e) => { window.restored = e.persisted; });
    }, env.broker);
    await page.goto(`${cached.url}/tests/js/fixtures/csp.html`);
    await page.goBack({ waitUntil: 'commit' });
    const r = await page.evaluate(async () => {
      await window.h.within((async () => {
        while (!window.client?.connected) await new Promise((ok) => setTimeout(ok, 20));
      })(), 'the reconnect after the page came back');
      return { restored: window.restored, events: window.events };
    });
    await page.evaluate(() => window.client.end(true));
    assert.equal(r.restored, true);
    assert.deepEqual(r.events, ['freeze', 'close', 'resume', 'connect']);
    assert.deepEqual(page.problems, []);
  } finally {
    await cached.close();
  }
});
