// The page's model without a browser: history windows and averages, alert
// thresholds and their lifecycle, device state, what an error tells the user.
//
//   node --test www/tests/model.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { BUCKET_S, History, RAW_S } from '../src/history.js';
import { Alerts, DEFAULT_THRESHOLDS, breaches } from '../src/alerts.js';
import { Device } from '../src/fleet.js';
import { describeError } from '../src/errors.js';

const reading = (battery, temperature = 20) => ({ temperature, humidity: 50, battery, rssi: -60 });

test('history keeps raw readings for RAW_S and completes one average per BUCKET_S', () => {
  const h = new History();
  const done = [];
  for (let t = 1000; t < 1000 + 3 * BUCKET_S; t += 0.5) {
    const bucket = h.add(t, reading(t < 1000 + BUCKET_S ? 50 : 40));
    if (bucket) done.push(bucket);
  }
  assert.deepEqual(done.map((b) => b.t), [1000, 1000 + BUCKET_S]);
  assert.equal(done[0].values[2], 50, 'the battery average of the first bucket');
  assert.equal(done[1].values[2], 40);
  // Raw readings older than RAW_S go.
  h.add(1000 + RAW_S + 60, reading(30));
  assert.ok(h.raw.t[0] >= 1000 + 60);
});

test('the view shows stored averages up to where the raw readings begin', () => {
  const h = new History();
  // Averages from an earlier page (IndexedDB), out of order.
  h.addBucket(900, [20, 50, 80, -60]);
  h.addBucket(880, [21, 50, 81, -60]);
  h.addBucket(900, [99, 99, 99, 99]); // a duplicate is ignored
  h.add(1000, reading(70));
  h.add(1001, reading(69));
  const view = h.view(3600, 1001);
  assert.deepEqual(view.t, [880 + BUCKET_S / 2, 900 + BUCKET_S / 2, 1000, 1001]);
  assert.deepEqual(view.battery, [81, 80, 70, 69]);
  // A shorter range starts later.
  assert.deepEqual(h.view(10, 1001).t, [1000, 1001]);
});

test('thresholds: battery below, temperature above, silence beyond N s, nothing when offline', () => {
  const th = { ...DEFAULT_THRESHOLDS, batteryBelow: 20, temperatureAbove: 30, staleAfterS: 5 };
  const d = new Device('dev-1', 0);
  d.setStatus('online', 0);
  d.telemetry(reading(10, 35), 1000);
  assert.deepEqual(breaches(d, th, 2000), { battery: 10, temperature: 35 });
  assert.deepEqual(breaches(d, th, 7000), { battery: 10, temperature: 35, stale: 6 });
  d.breaches = breaches(d, th, 7000);
  assert.equal(d.state, 'stale');
  d.setStatus('offline', 7000);
  assert.deepEqual(breaches(d, th, 8000), {});
  assert.equal(d.state, 'offline');
});

test('an alert stays until acknowledged and cleared; a new breach raises it again', () => {
  const alerts = new Alerts();
  alerts.update('dev-1', { battery: 10 }, 1);
  assert.equal(alerts.level('dev-1'), 'raised');
  alerts.ack('dev-1:battery');
  assert.equal(alerts.level('dev-1'), 'acked');
  alerts.update('dev-1', { battery: 9 }, 2);
  assert.equal(alerts.items.get('dev-1:battery').value, 10, 'the raising value is kept');
  // Cleared after acknowledgement: gone.
  alerts.update('dev-1', {}, 3);
  assert.equal(alerts.items.size, 0);
  // Cleared before acknowledgement: listed until acknowledged.
  alerts.update('dev-1', { temperature: 40 }, 4);
  alerts.update('dev-1', {}, 5);
  assert.equal(alerts.items.get('dev-1:temperature').active, false);
  assert.equal(alerts.level('dev-1'), '');
  alerts.ack('dev-1:temperature');
  assert.equal(alerts.items.size, 0);
  // Unacknowledged first, newest first.
  alerts.update('a', { battery: 1 }, 10);
  alerts.update('b', { battery: 1 }, 20);
  alerts.update('c', { battery: 1 }, 30);
  alerts.ack('c:battery');
  assert.deepEqual(alerts.sorted().map((a) => a.id), ['b', 'a', 'c']);
});

test('a tab refused by the shared connection is told why and offered the settings', () => {
  const e = Object.assign(new Error('other options'), { code: 'SHARED_OPTIONS_MISMATCH' });
  const d = describeError(e, { url: 'ws://broker/mqtt', everConnected: false });
  assert.equal(d.title, 'Other tabs use this broker with other settings.');
  assert.match(d.body, /share one connection to ws:\/\/broker\/mqtt/);
  assert.equal(d.settings, true);
});
