// Code written for MQTT.js 5 with only the import changed, in headless
// Chromium: callbacks are completion callbacks (never message handlers),
// the *Async and listener names exist, the subscribe object form and
// `properties` shape work, and payloads read as text or JSON in one call.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { brokers } from './support/browser.mjs';
import { fixturePage } from './support/fixture.mjs';

const env = brokers();
const fixture = fixturePage();

test('an MQTT.js dashboard snippet: callbacks, object form, properties, JSON payloads', async () => {
  const r = await fixture.page.evaluate(async ({ broker }) => {
    const { default: mqtt, json, text } = window.wasmqtt;
    const { topic, within } = window.h;
    const base = topic('porting');
    const out = {};
    const client = mqtt.connect(broker, { clientId: `dash-${Math.random().toString(36).slice(2)}`, keepalive: 30 });
    await within(new Promise((resolve) => client.on('connect', resolve)), 'connect');

    const messages = [];
    const onMessage = (t, payload, packet) => messages.push({
      t, doc: json(payload), raw: text(payload), users: { ...packet.properties?.userProperties },
      ids: packet.properties?.subscriptionIdentifiers,
    });
    client.addListener('message', onMessage);
    out.listeners = client.listenerCount('message');

    // subscribe(object, callback): the callback runs once, with (err, granted).
    const calls = [];
    out.granted = await within(new Promise((resolve) => client.subscribe(
      { [`${base}/temp`]: { qos: 1 }, [`${base}/status`]: { qos: 0 } },
      (err, granted) => { calls.push(err); resolve(granted); },
    )), 'the subscribe callback');
    // subscribe(filter, options with MQTT.js's properties, callback).
    await within(new Promise((resolve, reject) => client.subscribe(`${base}/tagged`, {
      qos: 1, properties: { subscriptionIdentifier: 7, userProperties: { app: 'dash' } },
    }, (err) => (err ? reject(err) : resolve()))), 'the second subscribe callback');

    // publish(topic, payload, options, callback) with user properties.
    out.published = await within(new Promise((resolve) => client.publish(`${base}/temp`, JSON.stringify({ c: 21.5 }), {
      qos: 1, properties: { userProperties: { unit: 'C', tag: ['a', 'b'] } },
    }, (err, result) => resolve({ err, result }))), 'the publish callback');
    await client.publishAsync(`${base}/tagged`, '{"on":true}', { qos: 1 });
    await within((async () => { while (messages.length < 2) await new Promise((w) => setTimeout(w, 10)); })(), 'two messages');
    out.messages = messages;
    out.callsAfterMessages = calls.length;

    // A failing publish reaches its callback as an error (and is not unhandled).
    out.badPublish = await new Promise((resolve) => client.publish(`${base}/x`, 'x', { qos: 5 }, (err) => resolve(err?.code)));

    // unsubscribe(topic, callback), unsubscribeAsync, subscribeAsync.
    out.unsubscribed = await new Promise((resolve) => client.unsubscribe(`${base}/status`, (err, codes) => resolve({ err, codes })));
    out.subscribeAsync = await client.subscribeAsync(`${base}/more`);
    out.unsubscribeAsync = await client.unsubscribeAsync(`${base}/more`);
    out.badUnsubscribe = await client.unsubscribe(`${base}/more`, { properties: {} }).catch((e) => e.message);

    client.removeListener('message', onMessage);
    out.afterRemove = client.listenerCount('message');
    client.on('close', () => {});
    client.removeAllListeners();
    out.afterRemoveAll = client.listenerCount('close');

    // end(cb) is a graceful end: a QoS 1 publish in flight still completes.
    const inFlight = client.publish(`${base}/temp`, '{}', { qos: 1 }).then(() => 'acknowledged', (e) => e.code);
    out.ended = await within(new Promise((resolve) => client.end(() => resolve('called'))), 'the end callback');
    out.inFlight = await inFlight;

    const second = await mqtt.connectAsync(broker);
    out.endWithOptions = await within(new Promise((resolve) => second.end(false, {}, () => resolve('called'))), 'end(false, {}, cb)');
    return out;
  }, env);

  assert.deepEqual(r.granted, [{ topic: r.granted[0].topic, qos: 1 }, { topic: r.granted[1].topic, qos: 0 }]);
  assert.equal(r.callsAfterMessages, 1, 'the subscribe callback is not a message handler');
  assert.equal(r.listeners, 1);
  assert.deepEqual(r.published, { err: null, result: 0 });
  const [temp, tagged] = r.messages;
  assert.deepEqual(temp.doc, { c: 21.5 });
  assert.equal(temp.raw, '{"c":21.5}');
  assert.deepEqual(temp.users, { unit: 'C', tag: ['a', 'b'] });
  assert.deepEqual(tagged.doc, { on: true });
  assert.deepEqual(tagged.ids, [7]);
  assert.equal(r.badPublish, 'INVALID_OPTIONS');
  assert.deepEqual(r.unsubscribed, { err: null, codes: [0] });
  assert.deepEqual(r.subscribeAsync.map((g) => g.qos), [0]);
  assert.deepEqual(r.unsubscribeAsync, [0]);
  assert.match(r.badUnsubscribe, /invalid option properties: is not a known option/);
  assert.equal(r.afterRemove, 0);
  assert.equal(r.afterRemoveAll, 0);
  assert.equal(r.ended, 'called');
  assert.equal(r.inFlight, 'acknowledged');
  assert.equal(r.endWithOptions, 'called');
  assert.deepEqual(fixture.page.problems, []);
});
