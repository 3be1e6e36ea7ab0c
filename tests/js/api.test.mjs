// The npm package's JS API (pkg/index.js, built from js/) in headless Chromium, against
// wasmqtt-broker and mosquitto. Run through scripts/js-test.sh.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { brokers } from './support/browser.mjs';
import { fixturePage } from './support/fixture.mjs';

const env = brokers();
// Every test leaves the page without errors.
const fixture = fixturePage({ clean: true });

/** Runs `fn(env)` in the page, with `window.wasmqtt` and `window.h` loaded. */
function run(fn, arg = env) {
  return fixture.page.evaluate(fn, arg);
}

describe('connecting', () => {
  test('connectAsync resolves with a connected client; getters reflect it', async () => {
    const r = await run(async ({ broker }) => {
      const { connectAsync, MqttClient } = window.wasmqtt;
      const client = await connectAsync(broker, { clientId: 'js-getters', keepalive: 30 });
      const out = {
        isClient: client instanceof MqttClient,
        connected: client.connected,
        clientId: client.clientId,
        server: client.server,
        metrics: client.metrics,
      };
      const events = window.h.record(client);
      await client.end();
      out.afterEnd = { connected: client.connected, events: events.map(([n]) => n) };
      return out;
    });
    assert.equal(r.isClient, true);
    assert.equal(r.connected, true);
    assert.equal(r.clientId, 'js-getters');
    assert.equal(r.server.receiveMaximum, 1024);
    assert.equal(r.server.maximumQoS, 2);
    assert.equal(r.server.retainAvailable, true);
    assert.equal(r.server.topicAliasMaximum, 64);
    assert.ok(r.metrics.bytesIn > 0 && r.metrics.bytesOut > 0, JSON.stringify(r.metrics));
    assert.equal(r.metrics.packetsIn, 1);
    assert.equal(r.metrics.reconnects, 0);
    assert.equal(r.afterEnd.connected, false);
    assert.deepEqual(r.afterEnd.events, ['close', 'end']);
  });

  test('connect returns at once and emits connect with the CONNACK', async () => {
    const r = await run(async ({ broker }) => {
      const { connect } = window.wasmqtt;
      const client = connect(broker);
      const before = client.connected;
      const connack = await window.h.next(client, 'connect');
      const id = client.clientId;
      await client.end();
      return { before, connack, id };
    });
    assert.equal(r.before, false);
    assert.equal(r.connack.reasonCode, 0);
    assert.equal(r.connack.sessionPresent, false);
    assert.ok(r.connack.properties.assignedClientIdentifier);
    assert.equal(r.id, r.connack.properties.assignedClientIdentifier);
  });

  test('bad options: MqttError INVALID_OPTIONS naming the field', async () => {
    const r = await run(async ({ broker }) => {
      const { connect, connectAsync, MqttError } = window.wasmqtt;
      const { describe, next } = window.h;
      const out = {};
      // From the wasm side, as an error event and a rejection.
      const c = connect(broker, { keepalive: 'soon' });
      out.event = describe(await next(c, 'error'), MqttError);
      out.publish = describe(await c.publish('t', 'x').catch((e) => e), MqttError);
      out.async = describe(await connectAsync(broker, { will: { topic: 'a/#' } }).catch((e) => e), MqttError);
      out.typo = describe(await connectAsync(broker, { clientID: 'x' }).catch((e) => e), MqttError);
      // From the JS side (a password must be bytes or a string): still a rejection.
      out.password = describe(await connectAsync(broker, { password: 42 }).catch((e) => e), MqttError);
      out.url = describe(await connectAsync('http//nope').catch((e) => e), MqttError);
      return out;
    });
    for (const [what, field] of [
      ['event', 'keepalive'], ['publish', 'keepalive'], ['async', 'will.topic'],
      ['typo', 'clientID'], ['password', 'password'],
    ]) {
      const e = r[what];
      assert.equal(e.isMqttError, true, `${what}: ${JSON.stringify(e)}`);
      assert.equal(e.name, 'MqttError', what);
      assert.equal(e.code, 'INVALID_OPTIONS', `${what}: ${JSON.stringify(e)}`);
      assert.match(e.message, new RegExp(field.replace('.', '\\.')), what);
    }
    assert.equal(r.url.isMqttError, true);
    assert.equal(r.url.code, 'INVALID_URL', JSON.stringify(r.url));
    assert.match(r.url.message, /http\/\/nope/);
    assert.equal(r.async.message, 'invalid option will.topic: topic name contains a wildcard');
  });

  test('refused credentials reject connectAsync and do not loop; good ones connect', async () => {
    const r = await run(async ({ auth, user, password }) => {
      const { connect, connectAsync, MqttError } = window.wasmqtt;
      const { describe, next, record } = window.h;
      const refused = describe(await connectAsync(auth).catch((e) => e), MqttError);
      const bad = describe(await connectAsync(auth, { username: user, password: 'nope' }).catch((e) => e), MqttError);
      // Without connectAsync: one error, one close, then nothing more.
      const c = connect(auth, { reconnect: { initialDelay: 1 } });
      const log = record(c);
      await next(c, 'close');
      const late = describe(await c.publish('t', 'x', { qos: 1 }).catch((e) => e), MqttError);
      const events = log.map(([n]) => n);
      await c.end();
      // Credentials from options, then from an async provider.
      const a = await connectAsync(auth, { username: user, password });
      await a.end();
      let calls = 0;
      const b = await connectAsync(auth, {
        credentials: async () => { calls += 1; return { username: user, password: new TextEncoder().encode(password) }; },
      });
      await b.end();
      return { refused, bad, events, late, calls };
    });
    assert.equal(r.refused.isMqttError, true);
    assert.equal(r.refused.code, 'CONNECTION_REFUSED');
    assert.equal(r.refused.reasonCode, 0x87);
    assert.equal(r.bad.code, 'CONNECTION_REFUSED');
    assert.equal(r.bad.reasonCode, 0x86);
    assert.deepEqual(r.events, ['error', 'close']);
    assert.equal(r.late.code, 'NOT_CONNECTED');
    assert.equal(r.calls, 1);
  });
});

describe('messages', () => {
  test('subscribe with a handler; string, Uint8Array, ArrayBuffer and view payloads', async () => {
    const r = await run(async ({ broker }) => {
      const { connectAsync } = window.wasmqtt;
      const { inbox, topic, text, within } = window.h;
      const client = await connectAsync(broker);
      const t = topic('payloads');
      const box = inbox();
      const granted = await client.subscribe(t, { qos: 1, handler: box.handler });
      const onMessage = within(new Promise((r) => client.once('message', (...args) => r(args))), 'a message event');
      const acks = [
        await client.publish(t, 'héllo ✓', { qos: 1 }),
        await client.publish(t, new Uint8Array([0, 1, 255])),
        await client.publish(t, new Uint8Array([7, 8]).buffer, { qos: 2 }),
        await client.publish(t, new DataView(new Uint8Array([1, 2, 3, 4]).buffer, 1, 2), { qos: 1 }),
        await client.publish(t, ''),
      ];
      const got = [];
      for (let i = 0; i < 5; i++) {
        const m = await box.take();
        got.push({
          topic: m.topic,
          bytes: [...m.payload],
          isBytes: m.payload instanceof Uint8Array,
          qos: m.packet.qos,
          packetPayloadSame: m.packet.payload === m.payload,
          packetTopic: m.packet.topic,
        });
      }
      const [evTopic, evPayload, evPacket] = await onMessage;
      await client.end();
      return { t, granted, acks, got, event: { evTopic, text: text(evPayload), qos: evPacket.qos } };
    });
    assert.deepEqual(r.granted, [{ topic: r.t, qos: 1 }]);
    assert.deepEqual(r.acks, [0, undefined, 0, 0, undefined]);
    const want = [
      [...new TextEncoder().encode('héllo ✓')], [0, 1, 255], [7, 8], [2, 3], [],
    ];
    assert.deepEqual(r.got.map((g) => g.bytes), want);
    assert.deepEqual(r.got.map((g) => g.qos), [1, 0, 1, 1, 0]);
    for (const g of r.got) {
      assert.equal(g.topic, r.t);
      assert.equal(g.packetTopic, r.t);
      assert.equal(g.isBytes, true);
      assert.equal(g.packetPayloadSame, true);
    }
    assert.deepEqual(r.event, { evTopic: r.t, text: 'héllo ✓', qos: 1 });
  });

  test('publish properties: object user properties, string correlation data', async () => {
    const r = await run(async ({ mosquitto }) => {
      const { connectAsync } = window.wasmqtt;
      const { inbox, topic, text } = window.h;
      const client = await connectAsync(mosquitto);
      const t = topic('props');
      const box = inbox();
      await client.subscribe(t, { qos: 1, handler: box.handler });
      await client.publish(t, '{}', {
        qos: 1,
        properties: {
          payloadFormatIndicator: true,
          messageExpiryInterval: 60,
          contentType: 'application/json',
          responseTopic: 'r/t',
          correlationData: 'abc',
          userProperties: { a: '1', b: ['2', '3'] },
        },
      });
      const m = await box.take();
      await client.end();
      const p = m.packet.properties;
      return { ...p, correlationData: text(p.correlationData), payload: text(m.payload) };
    });
    assert.equal(r.payloadFormatIndicator, true);
    assert.ok(r.messageExpiryInterval <= 60 && r.messageExpiryInterval >= 55);
    assert.equal(r.contentType, 'application/json');
    assert.equal(r.responseTopic, 'r/t');
    assert.equal(r.correlationData, 'abc');
    // Received as MQTT.js gives them: an object, a repeated key's values as an array.
    assert.deepEqual({ ...r.userProperties }, { a: '1', b: ['2', '3'] });
    assert.equal(r.payload, '{}');
  });

  test('messages on more topics than the wasm keeps slots for each keep their topic and properties', async () => {
    // 300 topics, interleaved, twice over: more than the 256 topic slots the
    // records name (src/topics.rs), so slots change hands while messages
    // flow. wasmqtt-broker also sends Topic Aliases (64 of them, then full
    // topics), which the session resolves; JS reads the properties as the
    // broker sent them, alias included, and must not show it. User
    // Properties arrive in the order sent [MQTT-3.3.2-18].
    const r = await run(async ({ broker, mosquitto }) => {
      const { connectAsync } = window.wasmqtt;
      const { topic, text, within } = window.h;
      const out = [];
      for (const url of [broker, mosquitto]) {
        const t = topic('fleet');
        const client = await connectAsync(url, { properties: { topicAliasMaximum: 64 } });
        const n = 600;
        const got = [];
        let done;
        const all = new Promise((resolve) => (done = resolve));
        await client.subscribe(`${t}/#`, {
          handler: (name, payload, packet) => {
            got.push([name, text(payload), packet.topic, packet.properties]);
            if (got.length === n) done();
          },
        });
        const sent = [];
        for (let k = 0; k < n; k++) {
          const name = `${t}/${(k * 119) % 300}`;
          sent.push(name);
          client.publish(name, name, { properties: { userProperties: { k: String(k), z: '1', a: '2' } } });
        }
        await within(all, `${n} messages`, 20000);
        await client.end();
        out.push({ sent, got });
      }
      return out;
    });
    for (const { sent, got } of r) {
      assert.equal(got.length, sent.length);
      got.forEach(([name, payload, packetTopic, properties], k) => {
        assert.deepEqual([name, payload, packetTopic], [sent[k], sent[k], sent[k]], `message ${k}`);
        assert.deepEqual(Object.keys(properties), ['userProperties'], `message ${k}`);
        assert.deepEqual(Object.entries(properties.userProperties), [['k', String(k)], ['z', '1'], ['a', '2']]);
      });
    }
  });

  test('handlers get only their subscription; unsubscribe removes them', async () => {
    const r = await run(async ({ broker }) => {
      const { connectAsync } = window.wasmqtt;
      const { inbox, topic } = window.h;
      const client = await connectAsync(broker);
      const base = topic('handlers');
      const a = inbox();
      const b = inbox();
      await client.subscribe(`${base}/a`, { qos: 1, handler: a.handler });
      await client.subscribe([`${base}/b`, `${base}/c`], { handler: b.handler });
      await client.publish(`${base}/a`, '1', { qos: 1 });
      await client.publish(`${base}/b`, '2', { qos: 1 });
      await client.publish(`${base}/c`, '3', { qos: 1 });
      const gotA = (await a.take()).topic;
      const gotB = [(await b.take()).topic, (await b.take()).topic];
      const codes = await client.unsubscribe(`${base}/b`);
      // Nobody is subscribed to b any more: the broker says so.
      const noOne = await client.publish(`${base}/b`, '4', { qos: 1 });
      await client.publish(`${base}/c`, '5', { qos: 1 });
      const gotC = (await b.take()).topic;
      await client.end();
      return { base, gotA, gotB, codes, noOne, gotC, left: [a.queue.length, b.queue.length] };
    });
    assert.equal(r.gotA, `${r.base}/a`);
    assert.deepEqual(r.gotB, [`${r.base}/b`, `${r.base}/c`]);
    assert.deepEqual(r.codes, [0]);
    assert.equal(r.noOne, 0x10);
    assert.equal(r.gotC, `${r.base}/c`);
    assert.deepEqual(r.left, [0, 0]);
  });

  test('a throwing handler does not stop the others', async () => {
    fixture.page.problems.length = 0;
    const r = await run(async ({ broker }) => {
      const { connectAsync } = window.wasmqtt;
      const { inbox, topic } = window.h;
      const client = await connectAsync(broker);
      const t = topic('throw');
      const box = inbox();
      client.on('message', () => { throw new Error('listener boom'); });
      await client.subscribe(t, { handler: () => { throw new Error('handler boom'); } });
      await client.subscribe(t, { handler: box.handler });
      await client.publish(t, 'x');
      const m = await box.take();
      await client.end();
      return window.h.text(m.payload);
    });
    assert.equal(r, 'x');
    await fixture.page.waitForFunction(() => true);
    // Both exceptions are reported (rethrown asynchronously), not swallowed.
    const booms = fixture.page.problems.splice(0);
    assert.ok(booms.some((p) => p.includes('handler boom')), booms.join('\n'));
    assert.ok(booms.some((p) => p.includes('listener boom')), booms.join('\n'));
    assert.ok(booms.every((p) => p.includes('boom')), booms.join('\n'));
  });

  test('messages() yields messages; leaving the loop unsubscribes', async () => {
    const r = await run(async ({ broker }) => {
      const { connectAsync } = window.wasmqtt;
      const { topic, text, within } = window.h;
      const client = await connectAsync(broker);
      const t = topic('iter');
      const got = [];
      const loop = within((async () => {
        for await (const m of client.messages(t, { qos: 1 })) {
          got.push([m.topic === t, text(m.payload), m.packet.qos]);
          if (got.length === 3) break;
        }
      })(), 'the loop');
      // The SUBSCRIBE was queued when the iterator was made: it goes first.
      for (const p of ['a', 'b', 'c']) await client.publish(t, p, { qos: 1 });
      await loop;
      // Nobody is subscribed any more: the broker says so.
      const after = await client.publish(t, 'd', { qos: 1 });
      // Two loops on one filter: leaving one keeps the other's subscription.
      const u = topic('iter2');
      const first = client.messages(u);
      const second = client.messages(u);
      const firstNext = first.next();
      await client.publish(u, 'e');
      const e = await within(firstNext, 'first');
      const secondE = await within(second.next(), 'second');
      await first.return();
      const stillThere = await client.publish(u, 'f', { qos: 1 });
      const f = await within(second.next(), 'second again');
      await second.return();
      const gone = await client.publish(u, 'g', { qos: 1 });
      const done = await first.next();
      await client.end();
      return {
        got, after, stillThere, gone,
        e: text(e.value.payload), secondE: text(secondE.value.payload), f: text(f.value.payload),
        done: done.done,
      };
    });
    assert.deepEqual(r.got, [[true, 'a', 1], [true, 'b', 1], [true, 'c', 1]]);
    assert.equal(r.after, 0x10);
    assert.equal(r.e, 'e');
    assert.equal(r.secondE, 'e');
    assert.equal(r.stillThere, 0);
    assert.equal(r.f, 'f');
    assert.equal(r.gone, 0x10);
    assert.equal(r.done, true);
  });

  test('request() resolves with the response a second client sends', async () => {
    const r = await run(async ({ broker }) => {
      const { connectAsync, MqttError } = window.wasmqtt;
      const { topic, text, describe } = window.h;
      const service = topic('svc');
      const responder = await connectAsync(broker);
      await responder.subscribe(service, { qos: 1, handler: (_t, payload, packet) => {
        const { responseTopic, correlationData } = packet.properties;
        responder.publish(responseTopic, `pong:${text(payload)}`, { qos: 1, properties: { correlationData } });
      } });
      const requester = await connectAsync(broker);
      const replies = await Promise.all(['a', 'b', 'c'].map((p) =>
        requester.request(service, p, { qos: 1, timeout: 5000 })));
      const timeout = describe(await requester.request(topic('nobody'), 'x', { timeout: 50 }).catch((e) => e), MqttError);
      await requester.end();
      await responder.end();
      return { replies: replies.map((m) => text(m.payload)), timeout };
    });
    assert.deepEqual(r.replies, ['pong:a', 'pong:b', 'pong:c']);
    assert.equal(r.timeout.isMqttError, true);
    assert.equal(r.timeout.code, 'REQUEST_TIMEOUT');
  });

  test('a publish the broker refuses rejects with its reason code', async () => {
    const r = await run(async ({ broker }) => {
      const { connectAsync, MqttError } = window.wasmqtt;
      const client = await connectAsync(broker);
      const e = await client.publish('$SYS/forged', 'x', { qos: 1 }).catch((x) => x);
      const bad = await client.publish('a/+', 'x').catch((x) => x);
      const qos = await client.publish('a', 'x', { qos: 3 }).catch((x) => x);
      await client.end();
      const d = window.h.describe;
      return { e: d(e, MqttError), bad: d(bad, MqttError), qos: d(qos, MqttError) };
    });
    assert.equal(r.e.isMqttError, true);
    assert.equal(r.e.code, 'REJECTED');
    assert.equal(r.e.reasonCode, 0x87);
    // Messages come from the table in js/bridge.js, by the number the wasm sends.
    assert.equal(r.e.message, 'rejected by server: not authorized');
    assert.equal(r.bad.code, 'INVALID_TOPIC');
    assert.equal(r.bad.message, 'invalid topic name: topic name contains a wildcard');
    assert.equal(r.qos.code, 'INVALID_OPTIONS');
    assert.match(r.qos.message, /qos/);
  });

  test('metrics count the traffic', async () => {
    const r = await run(async ({ broker }) => {
      const { connectAsync } = window.wasmqtt;
      const { inbox, topic } = window.h;
      const client = await connectAsync(broker);
      const t = topic('metrics');
      const box = inbox();
      await client.subscribe(t, { qos: 2, handler: box.handler });
      for (const qos of [0, 1, 2]) await client.publish(t, 'x', { qos });
      for (let i = 0; i < 3; i++) await box.take();
      const m = client.metrics;
      await client.end();
      return m;
    });
    assert.equal(r.messagesIn, 3);
    assert.equal(r.messagesOut, 3);
    assert.equal(r.inFlight, 0);
    assert.equal(r.queued, 0);
    assert.ok(r.packetsIn >= 8, JSON.stringify(r));
  });
});

describe('events and ending', () => {
  test('on, once and off', async () => {
    const r = await run(async ({ broker }) => {
      const { connect } = window.wasmqtt;
      const { topic, next } = window.h;
      const client = connect(broker);
      const calls = { on: 0, once: 0, off: 0 };
      const onL = () => { calls.on += 1; };
      const offL = () => { calls.off += 1; };
      client.on('message', onL).once('message', () => { calls.once += 1; }).on('message', offL);
      client.off('message', offL);
      await next(client, 'connect');
      const t = topic('events');
      await client.subscribe(t);
      await client.publish(t, '1');
      await next(client, 'message');
      await client.publish(t, '2');
      await next(client, 'message');
      const hasListeners = client.emit('nothing');
      await client.end();
      return { calls, hasListeners };
    });
    assert.deepEqual(r.calls, { on: 2, once: 1, off: 0 });
    assert.equal(r.hasListeners, false);
  });

  test('end waits for in-flight messages; afterwards operations reject', async () => {
    const r = await run(async ({ broker }) => {
      const { connectAsync, MqttError } = window.wasmqtt;
      const { topic, describe, record } = window.h;
      const client = await connectAsync(broker);
      const log = record(client);
      const t = topic('end');
      const pending = [1, 2, 3].map((i) => client.publish(t, String(i), { qos: 2 }));
      await client.end();
      const acks = await Promise.all(pending);
      const late = describe(await client.publish(t, 'late').catch((e) => e), MqttError);
      const sub = describe(await client.subscribe(t).catch((e) => e), MqttError);
      await client.end();
      await client.end(true);
      return { acks, late, sub, events: log.map(([n]) => n), connected: client.connected };
    });
    // QoS 2 settles with PUBCOMP's Success.
    assert.deepEqual(r.acks, [0, 0, 0]);
    assert.equal(r.late.code, 'CLIENT_ENDED');
    assert.equal(r.late.message, 'the client was ended');
    assert.equal(r.sub.code, 'CLIENT_ENDED');
    assert.deepEqual(r.events, ['close', 'end']);
    assert.equal(r.connected, false);
  });

  test('a will is published when the connection drops, not after end()', async () => {
    const r = await run(async ({ broker }) => {
      const { connectAsync } = window.wasmqtt;
      const { inbox, topic, next, text } = window.h;
      const wills = topic('will');
      const watcher = await connectAsync(broker);
      const box = inbox();
      await watcher.subscribe(`${wills}/#`, { qos: 1, handler: box.handler });
      const polite = await connectAsync(broker, { will: { topic: `${wills}/polite`, payload: 'bye' } });
      await polite.end();
      const id = `js-rude-${Math.random().toString(36).slice(2)}`;
      const rude = await connectAsync(broker, {
        clientId: id, reconnect: false, will: { topic: `${wills}/rude`, payload: 'gone', qos: 1 },
      });
      const closed = next(rude, 'close');
      await watcher.publish(`$control/drop/${id}`, '', { qos: 1 });
      await closed;
      const m = await box.take();
      await watcher.end();
      return { topic: m.topic, payload: text(m.payload), wills, more: box.queue.length };
    });
    assert.equal(r.topic, `${r.wills}/rude`);
    assert.equal(r.payload, 'gone');
    assert.equal(r.more, 0);
  });

  test('server DISCONNECT: disconnect event with the server reference', async () => {
    const r = await run(async ({ broker }) => {
      const { connectAsync } = window.wasmqtt;
      const { next } = window.h;
      const id = `js-moved-${Math.random().toString(36).slice(2)}`;
      const client = await connectAsync(broker, { clientId: id, reconnect: false });
      const control = await connectAsync(broker);
      const disconnect = next(client, 'disconnect');
      const error = next(client, 'error');
      await control.publish(`$control/disconnect/${id}`, '0x9C,backup.example:8884', { qos: 1 });
      const packet = await disconnect;
      const e = await error;
      await control.end();
      return { packet, code: e.code, reasonCode: e.reasonCode };
    });
    assert.deepEqual(r.packet, { reasonCode: 0x9c, serverReference: 'backup.example:8884' });
    assert.equal(r.code, 'SERVER_DISCONNECTED');
    assert.equal(r.reasonCode, 0x9c);
  });

  test('reconnects and resumes: in-flight publishes still resolve', async () => {
    const r = await run(async ({ broker }) => {
      const { connectAsync } = window.wasmqtt;
      const { inbox, topic, next, within } = window.h;
      const t = topic('resume');
      const sub = await connectAsync(broker);
      const box = inbox();
      await sub.subscribe(t, { qos: 2, handler: box.handler });
      const id = `js-resume-${Math.random().toString(36).slice(2)}`;
      const client = await connectAsync(broker, {
        clientId: id, clean: false, properties: { sessionExpiryInterval: 60 },
        reconnect: { initialDelay: 20, maxDelay: 50 },
      });
      await client.publish(`$control/withhold-acks/${id}`, '1', { qos: 1 });
      const pending = [1, 2].map((qos) => client.publish(t, `q${qos}`, { qos }));
      await box.take();
      await box.take();
      const inFlight = client.metrics.inFlight;
      const connected = next(client, 'connect');
      await client.publish(`$control/drop/${id}`, '');
      const connack = await connected;
      const acks = await within(Promise.all(pending), 'the in-flight publishes');
      const reconnects = client.metrics.reconnects;
      await client.end();
      await sub.end();
      return { inFlight, sessionPresent: connack.sessionPresent, acks, reconnects };
    });
    assert.equal(r.inFlight, 2);
    assert.equal(r.sessionPresent, true);
    assert.deepEqual(r.acks, [0, 0]);
    assert.equal(r.reconnects, 1);
  });
});
