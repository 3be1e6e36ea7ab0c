// Enhanced authentication (SCRAM-SHA-256 over AUTH packets) through the JS
// API against wasmqtt-broker: at connect, and re-authentication after.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { brokers } from './support/browser.mjs';
import { fixturePage } from './support/fixture.mjs';

const env = brokers();
// Every test leaves the page without errors.
const fixture = fixturePage({ clean: true });

test('SCRAM-SHA-256 at connect, then re-authentication', async () => {
  const r = await fixture.page.evaluate(async ({ auth, scramUser, scramPassword }) => {
    const { connect } = window.wasmqtt;
    const { next, scram, text, within, topic, inbox } = window.h;
    let exchange = scram(scramUser, scramPassword);
    const steps = [];
    const client = connect(auth, {
      reconnect: false,
      properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: exchange.first },
    });
    let reauthenticated;
    const done = new Promise((resolve) => { reauthenticated = resolve; });
    client.on('auth', async (packet) => {
      steps.push(packet.reasonCode);
      const data = text(packet.properties.authenticationData);
      if (packet.reasonCode === 0x18) {
        await client.auth(await exchange.final(data));
      } else {
        reauthenticated({ data, method: packet.properties.authenticationMethod });
      }
    });
    const connack = await next(client, 'connect');
    const serverFinal = text(connack.properties.authenticationData);
    const first = { serverFinal, expected: exchange.expected, method: connack.properties.authenticationMethod };

    // Re-authenticate on the same connection.
    exchange = scram(scramUser, scramPassword);
    await client.auth(exchange.first);
    const second = await within(done, 're-authentication');
    second.expected = exchange.expected;

    // Still connected and working.
    const t = topic('scram');
    const box = inbox();
    await client.subscribe(t, { handler: box.handler });
    await client.publish(t, 'authenticated');
    const m = await box.take();
    const connected = client.connected;
    await client.end();
    return { first, second, steps, payload: text(m.payload), connected };
  }, env);
  assert.equal(r.first.method, 'SCRAM-SHA-256');
  assert.equal(r.first.serverFinal, r.first.expected);
  assert.equal(r.second.method, 'SCRAM-SHA-256');
  assert.equal(r.second.data, r.second.expected);
  // Continue authentication at connect, then Continue and Success for the re-authentication.
  assert.deepEqual(r.steps, [0x18, 0x18, 0x00]);
  assert.equal(r.payload, 'authenticated');
  assert.equal(r.connected, true);
});

test('a wrong SCRAM password is refused (0x86) without a retry', async () => {
  const r = await fixture.page.evaluate(async ({ auth, scramUser }) => {
    const { connect, MqttError } = window.wasmqtt;
    const { next, scram, text, describe, record } = window.h;
    const exchange = scram(scramUser, 'not the password');
    const client = connect(auth, {
      properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: exchange.first },
    });
    const log = record(client);
    client.on('auth', async (packet) => {
      await client.auth(await exchange.final(text(packet.properties.authenticationData)));
    });
    const closed = next(client, 'close');
    const error = describe(await next(client, 'error'), MqttError);
    await closed;
    await client.end();
    return { error, events: log.map(([n]) => n) };
  }, env);
  assert.equal(r.error.code, 'CONNECTION_REFUSED');
  assert.equal(r.error.reasonCode, 0x86);
  assert.deepEqual(r.events, ['error', 'close', 'end']);
});

test('an unknown authentication method is refused (0x8C)', async () => {
  const r = await fixture.page.evaluate(async ({ auth }) => {
    const { connectAsync, MqttError } = window.wasmqtt;
    const e = await connectAsync(auth, { properties: { authenticationMethod: 'KERBEROS' } }).catch((x) => x);
    return window.h.describe(e, MqttError);
  }, env);
  assert.equal(r.code, 'CONNECTION_REFUSED');
  assert.equal(r.reasonCode, 0x8c);
});
