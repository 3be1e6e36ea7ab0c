// The dashboard in several tabs: one MQTT connection (wasmqtt/shared).
// Three tabs of one browser context open the page with its broker URL
// pointed at a relay in front of the demo's broker, so every connection
// the dashboard makes, and only those (the simulated devices connect
// straight to the broker), is counted at the relay.
//
//   node --test www/tests/shared.test.mjs   (after a build)

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { packetRelay } from '../../tests/js/support/relay.mjs';
import { LIVE_MS, Stack, openTile, until } from './support.mjs';

const DEVICES = 6;
const RATE = 2;

const stack = new Stack();
let demo;
let relay;
let context;
const tabs = [];

/** Readings this tab has received so far, over every device. */
const readings = (page) => page.evaluate(() => [...window.dashboard.devices.values()].reduce((n, d) => n + d.count, 0));

/** Waits until `page` receives readings it did not have before. */
async function live(page) {
  const before = await readings(page);
  await page.waitForFunction((n) => [...window.dashboard.devices.values()].reduce((s, d) => s + d.count, 0) > n,
    before, { timeout: LIVE_MS, polling: 100 });
}

const connects = () => relay.packets.filter((p) => p.type === 'CONNECT').length;
const open = () => relay.connections.filter((c) => c.closed === undefined).length;

before(async () => {
  demo = await stack.demo({ devices: DEVICES, rate: RATE, reviveAfter: 4 });
  relay = await packetRelay(demo.info.ws);
  await stack.browser();
  context = await stack.context();
});

after(async () => {
  await stack.close();
  await relay?.close();
});

test('three tabs of the dashboard share one connection, and each shows live devices', async () => {
  const url = `${demo.info.url}?broker=${encodeURIComponent(relay.url)}`;
  for (let i = 0; i < 3; i++) {
    const page = await stack.tab(context);
    await page.goto(url);
    await page.locator('#conn[data-state="connected"]').waitFor({ timeout: LIVE_MS });
    tabs.push(page);
  }
  for (const page of tabs) {
    await page.waitForFunction((n) => document.querySelectorAll('#fleet-table tbody tr[data-device]').length === n,
      DEVICES, { timeout: LIVE_MS, polling: 200 });
    await live(page);
  }
  assert.equal(relay.connections.length, 1, 'one WebSocket connection from the dashboard');
  assert.equal(connects(), 1, 'one CONNECT');
  assert.equal(open(), 1);
  // No client id of its own: the broker assigned one, the same in every tab.
  const ids = await Promise.all(tabs.map((p) => p.evaluate(() => window.dashboard.client.clientId)));
  assert.ok(ids[0], 'an assigned client identifier');
  assert.deepEqual(ids, [ids[0], ids[0], ids[0]]);
});

test('a command from another tab goes out as a request over the shared connection', async () => {
  const t = await openTile(tabs[1], 'dev-02');
  await t.locator('input').fill('ping');
  await t.locator('button[type="submit"]').click();
  await t.locator('output.reply.ok').waitFor({ timeout: LIVE_MS });
  assert.match(await t.locator('output.reply').textContent(), /✓ ping: pong/);
  assert.equal(connects(), 1);
});

test('two tabs watch one filter in the explorer: both show what one of them published, with its properties', async () => {
  for (const page of tabs.slice(0, 2)) {
    await page.locator('#tab-explorer').click();
    await page.locator('#watch input[name="filter"]').fill('test/shared/#');
    await page.locator('#watch button[type="submit"]').click();
    await page.locator('#live-count', { hasText: 'test/shared/#' }).waitFor({ timeout: LIVE_MS });
  }
  const form = tabs[1].locator('#publish');
  await form.locator('input[name="topic"]').fill('test/shared/hello');
  await form.locator('textarea[name="payload"]').fill('from tab 2');
  await form.locator('select[name="qos"]').selectOption('1');
  await form.locator('textarea[name="userProperties"]').fill('tab=2');
  await form.locator('button[type="submit"]').click();
  await tabs[1].locator('#publish-result.ok').waitFor({ timeout: LIVE_MS });
  for (const page of tabs.slice(0, 2)) {
    const row = page.locator('#live-body tr[data-topic="test/shared/hello"]').first();
    await row.waitFor({ timeout: LIVE_MS });
    const cells = await row.locator('td').allTextContents();
    assert.equal(cells[2], '1', 'QoS');
    assert.match(cells[4], /tab=2/);
    assert.equal(cells[5], 'from tab 2');
    // $SYS is held by every tab; a tab joining it gets the retained values.
    await page.locator('#sys [data-topic="$SYS/broker/clients/connected"]').waitFor({ timeout: LIVE_MS });
  }
  assert.equal(connects(), 1);
});

test('a tab whose settings differ from the other tabs is refused, not mixed in', async () => {
  const page = tabs[2];
  await page.locator('#settings-toggle').click();
  const form = page.locator('#settings');
  await form.locator('[name="username"]').fill('someone-else');
  await form.locator('button[type="submit"]').click();
  const banner = page.locator('#banner');
  await banner.waitFor({ state: 'visible', timeout: LIVE_MS });
  assert.equal(await banner.getAttribute('data-code'), 'SHARED_OPTIONS_MISMATCH');
  assert.match(await banner.textContent(), /Other tabs use this broker with other settings/);
  await page.locator('#conn[data-state="offline"]').waitFor({ timeout: LIVE_MS });
  assert.match(await page.locator('#conn-detail').textContent(), /other tabs use other settings/);
  // The others keep the connection as it was.
  await live(tabs[0]);
  assert.equal(connects(), 1);
  assert.equal(open(), 1);
  await page.close();
  tabs.pop();
});

test('closing a tab leaves the others live on the same connection', async () => {
  await tabs[1].close();
  tabs.pop();
  await live(tabs[0]);
  await live(tabs[0]);
  assert.equal(await tabs[0].locator('#conn').getAttribute('data-state'), 'connected');
  assert.equal(connects(), 1);
  assert.equal(open(), 1);
  assert.deepEqual(stack.errors, []);
});

test('a tab alone on the connection changes its settings: the connection is made again with them', async () => {
  const page = tabs[0];
  await page.locator('#settings-toggle').click();
  await page.locator('#settings [name="username"]').fill('operator');
  await page.locator('#settings button[type="submit"]').click();
  await until('a second CONNECT', LIVE_MS, () => connects() === 2);
  await page.locator('#conn[data-state="connected"]').waitFor({ timeout: LIVE_MS });
  assert.equal(await page.locator('#banner').isVisible(), false, 'no error banner');
  await live(page);
  await until('the first connection to close', LIVE_MS, () => open() === 1);
});

test('closing the last tab ends the connection', async () => {
  await tabs[0].close();
  tabs.pop();
  await until('the shared connection to close', LIVE_MS, () => open() === 0);
  assert.equal(connects(), 2);
  assert.deepEqual(stack.errors, []);
});
