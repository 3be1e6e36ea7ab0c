// MQTT.js (npm `mqtt` 5.x) against wasmqtt-broker, over TCP and WebSocket.
//
//   node --test tests/interop/mqttjs.test.mjs
//
// See support.mjs for how the broker is found or started.

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';

import { open, closeAll, uniqueTopic, uniqueId, WAIT_MS, withTimeout } from './support.mjs';

const clients = [];
/** `open`, remembering the client so it is closed at the end. */
async function connect(transport, options) {
  const c = await open(transport, options);
  clients.push(c.client);
  return c;
}
after(() => closeAll(...clients));

/** Subscription identifiers of a received message as a sorted array. */
function subIds(properties) {
  const ids = properties.subscriptionIdentifier;
  if (ids === undefined) return [];
  return (Array.isArray(ids) ? ids : [ids]).slice().sort((a, b) => a - b);
}

for (const transport of ['tcp', 'ws']) {
  describe(`MQTT.js over ${transport}`, () => {
    test('MQTT 5.0 CONNECT: CONNACK success with the broker limits', async () => {
      const { connack } = await connect(transport);
      assert.equal(connack.reasonCode, 0);
      assert.equal(connack.sessionPresent, false);
      const p = connack.properties ?? {};
      assert.ok(p.receiveMaximum > 0, `Receive Maximum announced: ${JSON.stringify(p)}`);
      assert.ok(p.topicAliasMaximum > 0, 'Topic Alias Maximum announced');
    });

    test('MQTT 5.0 CONNECT with an empty client id gets an Assigned Client Identifier', async () => {
      const { connack } = await connect(transport, { clientId: '' });
      assert.equal(connack.reasonCode, 0);
      assert.ok(connack.properties?.assignedClientIdentifier, 'assigned id');
    });

    test('MQTT 3.1.1 CONNECT, publish and subscribe at QoS 0, 1 and 2', async () => {
      const t = uniqueTopic('v311');
      const { client: sub, connack, inbox } = await connect(transport, { protocolVersion: 4 });
      assert.equal(connack.returnCode, 0);
      assert.equal(connack.sessionPresent, false);
      const { client: pub } = await connect(transport, { protocolVersion: 4 });
      const granted = await sub.subscribeAsync(`${t}/#`, { qos: 2 });
      assert.equal(granted[0].qos, 2);
      for (const qos of [0, 1, 2]) {
        await pub.publishAsync(`${t}/q${qos}`, `v311 qos ${qos}`, { qos });
        const m = await inbox.next();
        assert.equal(m.topic, `${t}/q${qos}`);
        assert.equal(m.payload.toString(), `v311 qos ${qos}`);
        assert.equal(m.packet.qos, qos);
      }
    });

    test('MQTT 5.0 publish and subscribe at QoS 0, 1 and 2', async () => {
      const t = uniqueTopic('qos');
      const { client: sub, inbox } = await connect(transport);
      const { client: pub } = await connect(transport);
      const granted = await sub.subscribeAsync(`${t}/#`, { qos: 2 });
      assert.equal(granted[0].qos, 2);
      for (const qos of [0, 1, 2]) {
        const payload = Buffer.from([qos, 0, 255, 10, 13]);
        await pub.publishAsync(`${t}/q${qos}`, payload, { qos });
        const m = await inbox.next();
        assert.equal(m.topic, `${t}/q${qos}`);
        assert.deepEqual(m.payload, payload);
        assert.equal(m.packet.qos, qos);
        assert.equal(m.packet.retain, false);
      }
    });

    test('delivery QoS is the minimum of published and granted QoS', async () => {
      const t = uniqueTopic('downgrade');
      const { client: sub, inbox } = await connect(transport);
      const { client: pub } = await connect(transport);
      await sub.subscribeAsync(t, { qos: 1 });
      await pub.publishAsync(t, 'two', { qos: 2 });
      assert.equal((await inbox.next()).packet.qos, 1);
      await pub.publishAsync(t, 'zero', { qos: 0 });
      assert.equal((await inbox.next()).packet.qos, 0);
    });

    test('retained messages: kept, sent with RETAIN to new subscribers, cleared by an empty payload', async () => {
      const t = uniqueTopic('retained');
      const { client: pub } = await connect(transport);
      const { client: live, inbox: liveInbox } = await connect(transport);
      await live.subscribeAsync(t, { qos: 1 });
      const { client: rap, inbox: rapInbox } = await connect(transport);
      await rap.subscribeAsync(t, { qos: 1, rap: true });

      await pub.publishAsync(t, 'kept', { qos: 1, retain: true });
      // Live subscribers see RETAIN only with Retain As Published [MQTT-3.3.1-12].
      assert.equal((await liveInbox.next()).packet.retain, false);
      assert.equal((await rapInbox.next()).packet.retain, true);

      const { client: late, inbox: lateInbox } = await connect(transport);
      await late.subscribeAsync(t, { qos: 1 });
      const m = await lateInbox.next();
      assert.equal(m.payload.toString(), 'kept');
      assert.equal(m.packet.retain, true);
      assert.equal(m.packet.qos, 1);

      // Retain Handling 2: no retained messages on subscribe.
      const { client: rh2, inbox: rh2Inbox } = await connect(transport);
      await rh2.subscribeAsync(t, { qos: 1, rh: 2 });

      await pub.publishAsync(t, '', { qos: 1, retain: true });
      const { client: afterClear, inbox: afterInbox } = await connect(transport);
      await afterClear.subscribeAsync(t, { qos: 1 });
      await pub.publishAsync(t, 'sentinel', { qos: 1 });
      const first = await afterInbox.next();
      assert.equal(first.payload.toString(), 'sentinel', 'no retained message after clearing');
      assert.equal(first.packet.retain, false);
      // rh2 got the clearing publish (empty, live) then the sentinel, nothing retained before.
      const rh2First = await rh2Inbox.next();
      assert.equal(rh2First.payload.length, 0);
      assert.equal((await rh2Inbox.next()).payload.toString(), 'sentinel');
    });

    test('MQTT 5.0 will with properties is published when the socket is destroyed', async () => {
      const t = uniqueTopic('will5');
      const { client: watcher, inbox } = await connect(transport);
      await watcher.subscribeAsync(t, { qos: 1 });
      const { client: victim } = await connect(transport, {
        will: {
          topic: t,
          payload: Buffer.from('gone'),
          qos: 1,
          retain: false,
          properties: {
            contentType: 'text/plain',
            userProperties: { reason: 'abrupt' },
            responseTopic: `${t}/reply`,
            correlationData: Buffer.from([9, 8, 7]),
          },
        },
      });
      victim.stream.destroy();
      const m = await inbox.next();
      assert.equal(m.topic, t);
      assert.equal(m.payload.toString(), 'gone');
      assert.equal(m.packet.qos, 1);
      assert.equal(m.properties.contentType, 'text/plain');
      assert.deepEqual({ ...m.properties.userProperties }, { reason: 'abrupt' });
      assert.equal(m.properties.responseTopic, `${t}/reply`);
      assert.deepEqual(m.properties.correlationData, Buffer.from([9, 8, 7]));
      victim.end(true);
    });

    test('MQTT 3.1.1 will (retained) is published when the socket is destroyed', async () => {
      const t = uniqueTopic('will311');
      const { client: watcher, inbox } = await connect(transport, { protocolVersion: 4 });
      await watcher.subscribeAsync(t, { qos: 2 });
      const { client: victim } = await connect(transport, {
        protocolVersion: 4,
        will: { topic: t, payload: Buffer.from('gone311'), qos: 2, retain: true },
      });
      victim.stream.destroy();
      const m = await inbox.next();
      assert.equal(m.payload.toString(), 'gone311');
      assert.equal(m.packet.qos, 2);
      victim.end(true);
      // The will was retained: a later subscriber gets it with RETAIN.
      const { client: late, inbox: lateInbox } = await connect(transport, { protocolVersion: 4 });
      await late.subscribeAsync(t, { qos: 1 });
      const r = await lateInbox.next();
      assert.equal(r.payload.toString(), 'gone311');
      assert.equal(r.packet.retain, true);
      await late.publishAsync(t, '', { qos: 1, retain: true });
    });

    test('user properties are forwarded, repeated keys and UTF-8 included', async () => {
      const t = uniqueTopic('userprops');
      const { client: sub, inbox } = await connect(transport);
      const { client: pub } = await connect(transport);
      await sub.subscribeAsync(t, { qos: 1 });
      const userProperties = { a: '1', repeated: ['x', 'y'], 'ключ': 'значение ✓' };
      await pub.publishAsync(t, 'props', {
        qos: 1,
        properties: { userProperties, contentType: 'text/plain; charset=utf-8', payloadFormatIndicator: true },
      });
      const m = await inbox.next();
      assert.deepEqual({ ...m.properties.userProperties }, userProperties);
      assert.equal(m.properties.contentType, 'text/plain; charset=utf-8');
      assert.equal(m.properties.payloadFormatIndicator, true);
    });

    test('request/response: Response Topic and Correlation Data are forwarded unchanged', async () => {
      const t = uniqueTopic('rr');
      const { client: responder, inbox: requests } = await connect(transport);
      await responder.subscribeAsync(`${t}/req`, { qos: 1 });
      const { client: requester, inbox: responses } = await connect(transport);
      await requester.subscribeAsync(`${t}/resp`, { qos: 1 });

      const correlationData = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80]);
      await requester.publishAsync(`${t}/req`, 'ping?', {
        qos: 1,
        properties: { responseTopic: `${t}/resp`, correlationData },
      });
      const req = await requests.next();
      assert.equal(req.properties.responseTopic, `${t}/resp`);
      assert.deepEqual(req.properties.correlationData, correlationData);

      await responder.publishAsync(req.properties.responseTopic, 'pong!', {
        qos: 1,
        properties: { correlationData: req.properties.correlationData },
      });
      const resp = await responses.next();
      assert.equal(resp.payload.toString(), 'pong!');
      assert.deepEqual(resp.properties.correlationData, correlationData);
      assert.equal(resp.properties.responseTopic, undefined);
    });

    test('shared subscription $share/g/t: two members take turns', async () => {
      const t = uniqueTopic('shared');
      const members = [await connect(transport), await connect(transport)];
      for (const m of members) {
        await m.client.subscribeAsync(`$share/g/${t}`, { qos: 1 });
        await m.client.subscribeAsync(`${t}/end`, { qos: 1 });
      }
      const { client: plain, inbox: plainInbox } = await connect(transport);
      await plain.subscribeAsync(t, { qos: 1 });
      const { client: pub } = await connect(transport);
      const n = 10;
      for (let i = 0; i < n; i++) await pub.publishAsync(t, String(i), { qos: 1 });
      // Each member's messages arrive in order before its copy of the end marker.
      await pub.publishAsync(`${t}/end`, 'end', { qos: 1 });
      const got = [];
      for (const m of members) {
        const mine = [];
        for (;;) {
          const msg = await m.inbox.next();
          if (msg.topic === `${t}/end`) break;
          mine.push(Number(msg.payload.toString()));
        }
        got.push(mine);
      }
      assert.deepEqual([...got[0], ...got[1]].sort((a, b) => a - b), [...Array(n).keys()], `each message to one member: ${JSON.stringify(got)}`);
      assert.equal(got[0].length, n / 2, `round-robin: ${JSON.stringify(got)}`);
      assert.equal(got[1].length, n / 2, `round-robin: ${JSON.stringify(got)}`);
      for (const mine of got) {
        for (let i = 1; i < mine.length; i++) assert.equal(mine[i] - mine[i - 1], 2, `alternating: ${JSON.stringify(got)}`);
      }
      // A plain subscription to the same topic still gets every message.
      const all = await plainInbox.take(n);
      assert.deepEqual(all.map((m) => Number(m.payload.toString())), [...Array(n).keys()]);
    });

    test('subscription identifiers: every matching subscription\'s identifier, once per message', async () => {
      const t = uniqueTopic('subid');
      const { client: sub, inbox } = await connect(transport);
      await sub.subscribeAsync(`${t}/#`, { qos: 1, properties: { subscriptionIdentifier: 7 } });
      await sub.subscribeAsync(`${t}/+`, { qos: 1, properties: { subscriptionIdentifier: 268435455 } });
      await sub.subscribeAsync(`${t}/plain/x`, { qos: 1 });
      const { client: pub } = await connect(transport);

      await pub.publishAsync(`${t}/a`, 'both', { qos: 1 });
      const both = await inbox.next();
      assert.equal(both.payload.toString(), 'both');
      assert.deepEqual(subIds(both.properties), [7, 268435455]);

      await pub.publishAsync(`${t}/a/b`, 'one', { qos: 1 });
      const one = await inbox.next();
      assert.equal(one.payload.toString(), 'one');
      assert.deepEqual(subIds(one.properties), [7]);

      // A retained message sent for a new subscription carries that
      // subscription's identifier only.
      await pub.publishAsync(`${t}/kept/r`, 'retained', { qos: 1, retain: true });
      assert.deepEqual(subIds((await inbox.next()).properties), [7]); // live, via `${t}/#`
      await sub.subscribeAsync(`${t}/kept/+`, { qos: 1, properties: { subscriptionIdentifier: 42 } });
      const kept = await inbox.next();
      assert.equal(kept.payload.toString(), 'retained');
      assert.equal(kept.packet.retain, true);
      assert.deepEqual(subIds(kept.properties), [42]);
      await sub.unsubscribeAsync(`${t}/kept/+`);
      await pub.publishAsync(`${t}/kept/r`, '', { qos: 1, retain: true });
      // The clearing publish still matches `${t}/#` (identifier 7).
      assert.deepEqual(subIds((await inbox.next()).properties), [7]);

      // Replacing a subscription without an identifier removes it.
      await sub.subscribeAsync(`${t}/#`, { qos: 1 });
      await pub.publishAsync(`${t}/plain/x`, 'none', { qos: 1 });
      const none = await inbox.next();
      assert.equal(none.payload.toString(), 'none');
      assert.deepEqual(subIds(none.properties), []);
    });

    test('topic alias from the client is resolved before forwarding', async () => {
      const t = uniqueTopic('alias');
      const { client: sub, inbox } = await connect(transport);
      await sub.subscribeAsync(t, { qos: 1 });
      const { client: pub, connack } = await connect(transport);
      assert.ok(connack.properties.topicAliasMaximum >= 1);
      await pub.publishAsync(t, 'first', { qos: 1, properties: { topicAlias: 1 } });
      await pub.publishAsync('', 'second', { qos: 1, properties: { topicAlias: 1 } });
      const [a, b] = await inbox.take(2);
      assert.equal(a.topic, t);
      assert.equal(b.topic, t);
      assert.equal(b.payload.toString(), 'second');
      assert.equal(b.properties.topicAlias, undefined);
    });

    test('message expiry: interval counts down, expired retained and queued messages are dropped', async () => {
      const t = uniqueTopic('expiry');
      const pubConn = await connect(transport);
      const pub = pubConn.client;
      const { client: live, inbox: liveInbox } = await connect(transport);
      await live.subscribeAsync(`${t}/live`, { qos: 1 });

      // A persistent session that is offline while messages are queued for it.
      const id = uniqueId('expiry');
      const persistent = { clientId: id, clean: false, properties: { sessionExpiryInterval: 60 } };
      // DISCONNECT 0x04 (with will): the will is published once the broker
      // has detached the session, so what is published after it is queued.
      await pub.subscribeAsync(`${t}/offline`, { qos: 1 });
      const pubInbox = pubConn.inbox;
      const first = await open(transport, { ...persistent, will: { topic: `${t}/offline`, payload: 'offline', qos: 1 } });
      await first.client.subscribeAsync(`${t}/queued`, { qos: 1 });
      await first.client.endAsync(false, { reasonCode: 4 });
      assert.equal((await pubInbox.next()).payload.toString(), 'offline');

      await pub.publishAsync(`${t}/live`, 'live', { qos: 1, properties: { messageExpiryInterval: 100 } });
      const l = await liveInbox.next();
      assert.ok(l.properties.messageExpiryInterval <= 100 && l.properties.messageExpiryInterval >= 99, `live expiry ${l.properties.messageExpiryInterval}`);

      await pub.publishAsync(`${t}/short`, 'short', { qos: 1, retain: true, properties: { messageExpiryInterval: 1 } });
      await pub.publishAsync(`${t}/long`, 'long', { qos: 1, retain: true, properties: { messageExpiryInterval: 100 } });
      await pub.publishAsync(`${t}/queued`, 'short', { qos: 1, properties: { messageExpiryInterval: 1 } });
      await pub.publishAsync(`${t}/queued`, 'long', { qos: 1, properties: { messageExpiryInterval: 100 } });
      // The feature under test is time passing: let the 1 s messages expire.
      await delay(1200);

      const { client: late, inbox: lateInbox } = await connect(transport);
      await late.subscribeAsync(`${t}/short`, { qos: 1 });
      await pub.publishAsync(`${t}/short`, 'sentinel', { qos: 1 });
      assert.equal((await lateInbox.next()).payload.toString(), 'sentinel', 'expired retained message not sent');
      await late.subscribeAsync(`${t}/long`, { qos: 1 });
      const kept = await lateInbox.next();
      assert.equal(kept.payload.toString(), 'long');
      assert.equal(kept.packet.retain, true);
      assert.ok(kept.properties.messageExpiryInterval < 100 && kept.properties.messageExpiryInterval >= 97, `retained expiry ${kept.properties.messageExpiryInterval}`);

      const again = await connect(transport, persistent);
      assert.equal(again.connack.sessionPresent, true);
      const q = await again.inbox.next();
      assert.equal(q.payload.toString(), 'long', 'the expired queued message is not delivered');
      assert.ok(q.properties.messageExpiryInterval < 100 && q.properties.messageExpiryInterval >= 97, `queued expiry ${q.properties.messageExpiryInterval}`);

      await pub.publishAsync(`${t}/long`, '', { qos: 1, retain: true });
    });
  });
}

describe('MQTT.js across transports and versions', () => {
  test('TCP publisher, WebSocket subscriber and the reverse', async () => {
    const t = uniqueTopic('cross');
    const { client: wsSub, inbox: wsInbox } = await connect('ws');
    const { client: tcpSub, inbox: tcpInbox } = await connect('tcp');
    await wsSub.subscribeAsync(`${t}/to-ws`, { qos: 2 });
    await tcpSub.subscribeAsync(`${t}/to-tcp`, { qos: 2 });
    await tcpSub.publishAsync(`${t}/to-ws`, 'over tcp', { qos: 2 });
    await wsSub.publishAsync(`${t}/to-tcp`, 'over ws', { qos: 2 });
    assert.equal((await wsInbox.next()).payload.toString(), 'over tcp');
    assert.equal((await tcpInbox.next()).payload.toString(), 'over ws');
  });

  test('MQTT 5.0 publisher to MQTT 3.1.1 subscriber and the reverse', async () => {
    const t = uniqueTopic('versions');
    const { client: v5, inbox: v5Inbox } = await connect('tcp');
    const { client: v4, inbox: v4Inbox } = await connect('ws', { protocolVersion: 4 });
    await v5.subscribeAsync(`${t}/to5`, { qos: 1 });
    await v4.subscribeAsync(`${t}/to4`, { qos: 1 });
    await v5.publishAsync(`${t}/to4`, 'from v5', { qos: 1, properties: { userProperties: { dropped: 'for 3.1.1' } } });
    await v4.publishAsync(`${t}/to5`, 'from v4', { qos: 1 });
    const m4 = await v4Inbox.next();
    assert.equal(m4.payload.toString(), 'from v5');
    assert.equal(m4.packet.properties, undefined);
    assert.equal((await v5Inbox.next()).payload.toString(), 'from v4');
  });

  test('MQTT 3.1.1 persistent session: QoS 1 messages queued while offline', async () => {
    const t = uniqueTopic('persist311');
    const options = { protocolVersion: 4, clientId: uniqueId('p311'), clean: false };
    const { client: pub, inbox: pubInbox } = await connect('ws');
    await pub.subscribeAsync(`${t}/offline`, { qos: 1 });
    // The will of an abruptly closed connection is published once the broker
    // has detached the session: after it, publishes are queued.
    const first = await open('tcp', { ...options, will: { topic: `${t}/offline`, payload: 'offline', qos: 1 } });
    await first.client.subscribeAsync(t, { qos: 1 });
    first.client.stream.destroy();
    assert.equal((await pubInbox.next()).payload.toString(), 'offline');
    first.client.end(true);
    await pub.publishAsync(t, 'while away', { qos: 1 });
    const again = await connect('tcp', options);
    assert.equal(again.connack.sessionPresent, true);
    const m = await again.inbox.next();
    assert.equal(m.payload.toString(), 'while away');
    // Clean up: a clean session discards the stored one.
    await again.client.endAsync();
    const clean = await open('tcp', { ...options, clean: true });
    assert.equal(clean.connack.sessionPresent, false);
    await clean.client.endAsync();
  });

  test('Will Delay Interval: the will waits, and a reconnect within the delay cancels it', async () => {
    const t = uniqueTopic('will-delay');
    const { client: watcher, inbox } = await connect('tcp');
    await watcher.subscribeAsync(`${t}/#`, { qos: 1 });
    const will = (name) => ({ topic: `${t}/${name}`, payload: Buffer.from(name), qos: 1, properties: { willDelayInterval: 1 } });
    const session = { clean: false, properties: { sessionExpiryInterval: 30 } };

    const kept = await open('ws', { ...session, clientId: uniqueId('delayed'), will: will('delayed') });
    const cancelledId = uniqueId('cancelled');
    const cancelled = await open('tcp', { ...session, clientId: cancelledId, will: will('cancelled') });
    const closedAt = Date.now();
    kept.client.stream.destroy();
    cancelled.client.stream.destroy();
    // Back within the delay: the will of the resumed session is not sent [MQTT-3.1.3-9].
    const back = await connect('tcp', { ...session, clientId: cancelledId });
    assert.equal(back.connack.sessionPresent, true);

    const m = await inbox.next();
    assert.equal(m.payload.toString(), 'delayed');
    assert.ok(Date.now() - closedAt >= 900, `will sent after ${Date.now() - closedAt} ms`);
    // Both connections closed together, so a will still pending for the
    // resumed session would have been due within milliseconds of this one.
    await pub(t);
    kept.client.end(true);
    cancelled.client.end(true);

    async function pub(topic) {
      await watcher.publishAsync(`${topic}/sentinel`, 'sentinel', { qos: 1 });
      assert.equal((await inbox.next()).payload.toString(), 'sentinel', 'no will after the reconnect');
    }
  });

  test('many concurrent MQTT.js clients each get their own messages', async () => {
    const t = uniqueTopic('many');
    const n = 20;
    const subs = await Promise.all(
      [...Array(n).keys()].map((i) => connect(i % 2 ? 'ws' : 'tcp')),
    );
    await Promise.all(subs.map((s, i) => s.client.subscribeAsync(`${t}/${i}`, { qos: 1 })));
    const { client: pub } = await connect('tcp');
    await Promise.all([...Array(n).keys()].map((i) => pub.publishAsync(`${t}/${i}`, String(i), { qos: 1 })));
    const got = await withTimeout(
      Promise.all(subs.map((s) => s.inbox.next())),
      WAIT_MS,
      'one message per client',
    );
    assert.deepEqual(got.map((m) => m.payload.toString()), [...Array(n).keys()].map(String));
  });
});

describe('MQTT.js edge cases', () => {
  for (const transport of ['tcp', 'ws']) {
    test(`512 KiB payload round trip over ${transport}`, async () => {
      const t = uniqueTopic('large');
      const { client: sub, inbox } = await connect(transport);
      await sub.subscribeAsync(t, { qos: 1 });
      const { client: pub } = await connect(transport);
      const payload = Buffer.alloc(512 * 1024, 0xab);
      payload.writeUInt32BE(0xdeadbeef, payload.length - 4);
      await pub.publishAsync(t, payload, { qos: 1 });
      assert.deepEqual((await inbox.next()).payload, payload);
    });

    test(`a PUBLISH over the broker's Maximum Packet Size closes the connection over ${transport}`, async () => {
      const { client, connack } = await connect(transport);
      const max = connack.properties.maximumPacketSize;
      assert.ok(max > 0, 'Maximum Packet Size announced');
      const disconnects = [];
      client.on('disconnect', (packet) => disconnects.push(packet.reasonCode));
      const closed = new Promise((resolve) => client.once('close', resolve));
      client.publish(uniqueTopic('too-large'), Buffer.alloc(max + 1), { qos: 0 }, () => {});
      await withTimeout(closed, WAIT_MS, 'the connection to close');
      // The broker refuses the packet from its fixed header and closes while
      // the client is still sending the body, so the client may see a reset
      // before it reads the DISCONNECT; when the DISCONNECT arrives it is 0x95.
      for (const code of disconnects) assert.equal(code, 0x95);
    });
  }

  test('the client\'s Maximum Packet Size: larger messages are not sent to it', async () => {
    const t = uniqueTopic('client-max');
    const { client: sub, inbox } = await connect('ws', { properties: { maximumPacketSize: 200 } });
    await sub.subscribeAsync(t, { qos: 1 });
    const { client: pub } = await connect('tcp');
    await pub.publishAsync(t, Buffer.alloc(500), { qos: 1 });
    await pub.publishAsync(t, 'small', { qos: 1 });
    assert.equal((await inbox.next()).payload.toString(), 'small');
  });

  test('session takeover: the first connection gets DISCONNECT 0x8E', async () => {
    const clientId = uniqueId('takeover');
    const { client: first } = await connect('tcp', { clientId });
    const disconnected = new Promise((resolve) => first.once('disconnect', (p) => resolve([p])));
    await connect('ws', { clientId });
    const [packet] = await withTimeout(disconnected, WAIT_MS, 'DISCONNECT');
    assert.equal(packet.reasonCode, 0x8e);
  });

  test('unsubscribe: UNSUBACK, then no more messages', async () => {
    const t = uniqueTopic('unsub');
    const { client: sub, inbox } = await connect('tcp');
    await sub.subscribeAsync(`${t}/a`, { qos: 1 });
    await sub.subscribeAsync(`${t}/b`, { qos: 1 });
    const unsuback = await sub.unsubscribeAsync(`${t}/a`);
    assert.deepEqual([].concat(unsuback?.reasonCode ?? 0), [0]);
    const { client: pub } = await connect('tcp');
    await pub.publishAsync(`${t}/a`, 'gone', { qos: 1 });
    await pub.publishAsync(`${t}/b`, 'sentinel', { qos: 1 });
    assert.equal((await inbox.next()).payload.toString(), 'sentinel');
  });

  test('invalid UTF-8 with Payload Format Indicator 1 is refused with PUBACK 0x99', async () => {
    const { client } = await connect('tcp');
    await assert.rejects(
      client.publishAsync(uniqueTopic('utf8'), Buffer.from([0xc3, 0x28]), { qos: 1, properties: { payloadFormatIndicator: true } }),
      (e) => e.code === 0x99 || /153|0x99|Payload format invalid/i.test(String(e.message)),
    );
  });

  test('a long UTF-8 client id (over 23 bytes) is accepted', async () => {
    const clientId = `интероп-${'x'.repeat(100)}-${uniqueId('long')}`;
    const { connack } = await connect('ws', { clientId });
    assert.equal(connack.reasonCode, 0);
    assert.equal(connack.properties?.assignedClientIdentifier, undefined);
  });

  test('MQTT 3.1 (MQIsdp, level 3) is refused with CONNACK 0x01', async () => {
    await assert.rejects(open('tcp', { protocolVersion: 3, protocolId: 'MQIsdp' }), (e) => e.code === 1 || /protocol version/i.test(e.message));
  });
});
