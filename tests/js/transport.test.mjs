// The WebSocket the client opens, seen from the server: the subprotocol it
// offers, and what a connection that never opens reports. In headless
// Chromium through the package's JS API. Run through scripts/js-test.sh.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

import { brokers, launch, open } from './support/browser.mjs';
import { serve } from './support/server.mjs';
import { strictRelay } from './support/strict-relay.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const env = brokers();
let browser;
let server;
let relay;
let page;

before(async () => {
  [browser, server, relay] = await Promise.all([launch(), serve(root), strictRelay(env.broker)]);
  page = await open(browser, `${server.url}/tests/js/fixtures/index.html`);
  await page.waitForFunction(() => window.wasmqtt && window.h);
});

after(async () => {
  await browser?.close();
  await server?.close();
  await relay?.close();
});

test('MQTT 3.1.1 and 5.0 both offer the subprotocol `mqtt` [MQTT-6.0.0-3]', async () => {
  for (const protocolVersion of [4, 5]) {
    relay.offered.length = 0;
    const r = await page.evaluate(async ({ url, protocolVersion }) => {
      const { connectAsync } = window.wasmqtt;
      const { topic, inbox, text, describe } = window.h;
      try {
        const client = await connectAsync(url, { protocolVersion, reconnect: false });
        const t = topic('subprotocol');
        const box = inbox();
        client.on('message', box.handler);
        await client.subscribe(t, { qos: 1 });
        await client.publish(t, `v${protocolVersion}`, { qos: 1 });
        const got = text((await box.take()).payload);
        await client.end();
        return { got };
      } catch (e) {
        return { error: describe(e) };
      }
    }, { url: relay.url, protocolVersion });
    assert.deepEqual(relay.offered, [['mqtt']], `protocol version ${protocolVersion}`);
    assert.deepEqual(r, { got: `v${protocolVersion}` }, `protocol version ${protocolVersion}`);
  }
});

test('a connection that never opened is CONNECT_FAILED, naming the URL', async () => {
  // A port with nothing listening: reserve one, then free it.
  const probe = createServer();
  await new Promise((ok) => probe.listen(0, '127.0.0.1', ok));
  const closed = `ws://127.0.0.1:${probe.address().port}/mqtt`;
  await new Promise((ok) => probe.close(ok));
  const r = await page.evaluate(async ({ closed, broker }) => {
    const { connectAsync, MqttError } = window.wasmqtt;
    const { describe } = window.h;
    const never = describe(await connectAsync(closed, { reconnect: false }).catch((e) => e), MqttError);
    // One that was up and then dropped is still CONNECTION_LOST.
    const client = await connectAsync(broker, { reconnect: false });
    const id = client.clientId;
    const lost = new Promise((resolve) => client.once('error', resolve));
    const control = await connectAsync(broker);
    await control.publish(`$control/drop/${id}`, '');
    const dropped = describe(await lost, MqttError);
    await control.end();
    await client.end();
    return { never, dropped };
  }, { closed, broker: env.broker });
  assert.equal(r.never.code, 'CONNECT_FAILED', JSON.stringify(r.never));
  assert.equal(r.never.isMqttError, true);
  assert.ok(r.never.message.includes(closed), r.never.message);
  assert.equal(r.dropped.code, 'CONNECTION_LOST', JSON.stringify(r.dropped));
});
