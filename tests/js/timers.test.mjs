// Timers and the environment: CONNACK and PINGRESP that never come (a
// scripted server that goes silent), and reconnecting at once when the
// browser says it is back online.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

import { brokers, launch, open } from './support/browser.mjs';
import { scriptedWebSocketServer, serve } from './support/server.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const env = brokers();
let browser;
let server;
let page;
const fakes = [];

before(async () => {
  [browser, server] = await Promise.all([launch(), serve(root)]);
  page = await open(browser, `${server.url}/tests/js/fixtures/index.html`);
  await page.waitForFunction(() => window.wasmqtt && window.h);
});

after(async () => {
  await Promise.all(fakes.map((f) => f.close()));
  await browser?.close();
  await server?.close();
});

afterEach(async () => {
  await page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
  assert.deepEqual(page.problems.splice(0), []);
});

async function fake(onConnection) {
  const f = await scriptedWebSocketServer(onConnection);
  fakes.push(f);
  return f;
}

test('no CONNACK within connectTimeout: CONNECT_TIMEOUT, then retries', async () => {
  const silent = await fake(() => {});
  const r = await page.evaluate(async ({ url }) => {
    const { connect, MqttError } = window.wasmqtt;
    const { next, record, describe } = window.h;
    const client = connect(url, { connectTimeout: 200, reconnect: { initialDelay: 10, maxAttempts: 1 } });
    const log = record(client);
    const started = performance.now();
    const error = await next(client, 'error');
    const elapsed = performance.now() - started;
    await next(client, 'reconnect');
    // Events of one session step come together: listen before awaiting.
    const closed = next(client, 'close');
    const second = await next(client, 'error');
    await closed;
    const late = await client.publish('t', 'x', { qos: 1 }).catch((e) => e.code);
    await client.end();
    return { error: describe(error, MqttError), second: second.code, elapsed, late, events: log.map(([n]) => n) };
  }, { url: silent.url });
  assert.equal(r.error.isMqttError, true);
  assert.equal(r.error.code, 'CONNECT_TIMEOUT');
  assert.equal(r.second, 'CONNECT_TIMEOUT');
  assert.ok(r.elapsed >= 190 && r.elapsed < 3000, `${r.elapsed}`);
  // One retry (maxAttempts 1), then it gives up.
  assert.equal(r.late, 'NOT_CONNECTED');
  assert.deepEqual(r.events, ['error', 'close', 'reconnecting', 'reconnect', 'error', 'close', 'end']);
});

test('no PINGRESP: KEEPALIVE_TIMEOUT after keepalive + ping timeout', async () => {
  // CONNACK (Success), then silence.
  const mute = await fake((send) => setTimeout(() => send([0x20, 0x03, 0x00, 0x00, 0x00]), 10));
  const r = await page.evaluate(async ({ url }) => {
    const { connect } = window.wasmqtt;
    const { next, within } = window.h;
    const client = connect(url, { keepalive: 1, pingTimeout: 300, reconnect: false });
    await next(client, 'connect');
    const started = performance.now();
    const offline = next(client, 'offline', 'offline', 6000).then(() => true);
    const error = await within(new Promise((r) => client.once('error', r)), 'the keep-alive timeout', 5000);
    const elapsed = performance.now() - started;
    const late = await client.publish('t', 'x', { qos: 1 }).catch((e) => e.code);
    return { code: error.code, elapsed, offline: await offline, late, connected: client.connected };
  }, { url: mute.url });
  assert.equal(r.code, 'KEEPALIVE_TIMEOUT');
  // PINGREQ after 0.9 s of silence from us (a tenth of Keep Alive early),
  // then 300 ms for the answer.
  assert.ok(r.elapsed >= 1100 && r.elapsed < 4000, `${r.elapsed}`);
  assert.equal(r.offline, true);
  assert.equal(r.late, 'NOT_CONNECTED');
  assert.equal(r.connected, false);
});

test('the browser coming back online reconnects at once', async () => {
  const r = await page.evaluate(async ({ broker }) => {
    const { connectAsync } = window.wasmqtt;
    const { next } = window.h;
    const id = `js-online-${Math.random().toString(36).slice(2)}`;
    // The first retry would come after about a minute (seeded jitter).
    const client = await connectAsync(broker, {
      clientId: id,
      reconnect: { initialDelay: 60000, maxDelay: 60000 },
    });
    const control = await connectAsync(broker);
    const scheduled = next(client, 'reconnecting');
    await control.publish(`$control/drop/${id}`, '', { qos: 1 });
    const { delay } = await scheduled;
    const started = performance.now();
    const connected = next(client, 'connect');
    window.dispatchEvent(new Event('online'));
    await connected;
    const waited = performance.now() - started;
    await client.end();
    await control.end();
    return { delay, waited };
  }, env);
  // Whatever the jitter gave, it did not wait for it.
  assert.ok(r.waited < Math.max(r.delay, 2000), JSON.stringify(r));
});
