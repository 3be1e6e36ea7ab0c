// End-to-end test of the dashboard with a dozen devices: runs the main
// command's stack (scripts/demo.sh --no-build: wasmqtt-broker,
// wasmqtt-devices, the static server for www/dist) and drives the page in
// headless Chromium.
//
//   bash scripts/dashboard-test.sh        (builds first, then runs www/tests/)
//   node --test www/tests/dashboard.test.mjs   (after a build)
//
// Screenshots go to target/artifacts/dashboard/ (DASHBOARD_ARTIFACTS overrides).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';

import { waitExit } from '../../tests/support/child.mjs';
import { ARTIFACTS, BROKER_BIN, LIVE_MS, STARTUP_MS, Stack, closedPort, kill, openTile, until } from './support.mjs';

const DEVICES = 12;
const REVIVE_AFTER_S = 4;
/** Telemetry messages/s per device: enough history for a picture in seconds. */
const RATE = 2;

const stack = new Stack();
let demo;
let page;

const tile = (id) => page.locator(`.tile[data-device="${id}"]`);

before(async () => {
  demo = await stack.demo({ devices: DEVICES, rate: RATE, reviveAfter: REVIVE_AFTER_S });
  await stack.browser();
  page = await stack.page();
});

after(() => stack.close());

test('the page connects and shows live telemetry in the table and the tiles', async () => {
  await page.goto(demo.info.url);
  await page.locator('#conn[data-state="connected"]').waitFor({ timeout: LIVE_MS });
  // Every device has a row; at least 3 are online with 2+ readings.
  await page.waitForFunction((n) => document.querySelectorAll('#fleet-table tbody tr[data-device]').length === n,
    DEVICES, { timeout: LIVE_MS, polling: 200 });
  for (const id of ['dev-01', 'dev-02', 'dev-03']) await openTile(page, id);
  await page.waitForFunction(() => [...document.querySelectorAll('.tile[data-status="online"]')]
    .filter((t) => Number(t.dataset.readings ?? 0) >= 2).length >= 3, null, { timeout: LIVE_MS, polling: 200 });
  // A reading is a number with a unit, and the charts are drawn with legends.
  const temperature = await tile('dev-01').locator('.reading-value').first().textContent();
  assert.match(temperature, /^-?\d+\.\d$/);
  assert.ok(await tile('dev-01').locator('canvas').count() >= 2, 'uPlot canvases in the tile');
  const legend = await tile('dev-01').locator('.u-legend').allTextContents();
  assert.match(legend.join(' '), /Temperature \(°C\).*Humidity \(%\)/s);
  assert.match(legend.join(' '), /Battery \(%\).*Signal \(dBm\)/s);
  // The table row shows the same device's readings.
  assert.match(await page.locator('#fleet-table tr[data-device="dev-01"] td.num').first().textContent(), /^-?\d+\.\d$/);
  // Metrics come from client.metrics.
  await page.waitForFunction(() => parseFloat(document.getElementById('m-msg-in').textContent) > 0, null, { timeout: LIVE_MS });
  assert.match(await page.locator('#m-bytes-in').textContent(), /\d/);
  // No repeated help line in every tile.
  assert.equal(await page.getByText('answers through the response topic').count(), 0);
});

test('every control has an accessible name', async () => {
  const unnamed = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button')]
    .filter((c) => !(c.labels?.length || c.getAttribute('aria-label') || c.textContent.trim()))
    .map((c) => c.outerHTML.slice(0, 80)));
  assert.deepEqual(unnamed, []);
});

test('a command goes out as a request and its reply is shown', async () => {
  const t = await openTile(page, 'dev-02');
  const reply = t.locator('output.reply');

  await t.locator('input').fill('ping');
  await t.locator('button[type="submit"]').click();
  await reply.and(page.locator('.ok')).waitFor({ timeout: LIVE_MS });
  assert.match(await reply.textContent(), /✓ ping: pong/);

  await t.locator('input').fill('status');
  await t.locator('button[type="submit"]').click();
  await page.waitForFunction(
    (el) => /✓ status: .*uptime/.test(el.textContent), await reply.elementHandle(), { timeout: LIVE_MS });

  // A device's own error comes back as a reply too.
  await t.locator('input').fill('set-rate 500');
  await t.locator('button[type="submit"]').click();
  await page.waitForFunction((el) => el.classList.contains('err'), await reply.elementHandle(), { timeout: LIVE_MS });
  assert.match(await reply.textContent(), /outside/);
});

test('Kill asks first; a killed device turns offline through its will, then comes back online', async () => {
  const t = await openTile(page, 'dev-03');
  await page.locator('.tile[data-device="dev-03"][data-status="online"]').waitFor({ timeout: LIVE_MS });
  // For the picture: some history in the charts and an answered command.
  await page.waitForFunction(() => Number(document.querySelector('.tile[data-device="dev-01"]').dataset.readings) >= 12,
    null, { timeout: LIVE_MS, polling: 250 });
  await tile('dev-01').locator('input').fill('status');
  await tile('dev-01').locator('button[type="submit"]').click();
  await page.locator('.tile[data-device="dev-01"] output.reply.ok').waitFor({ timeout: LIVE_MS });

  // Cancel: nothing is sent.
  await kill(page, 'dev-03', 'cancel');
  assert.equal(await t.getAttribute('data-status'), 'online');
  assert.equal(await t.locator('output.reply').textContent(), '');
  assert.equal(await t.locator('button.danger').isDisabled(), false);

  await kill(page, 'dev-03', 'ok');
  // The device drops its socket without DISCONNECT; the broker publishes
  // the retained will "offline" at once.
  await page.locator('.tile[data-device="dev-03"][data-status="offline"]').waitFor({ timeout: LIVE_MS });
  await page.locator('#fleet-table tr[data-device="dev-03"][data-state="offline"]').waitFor({ timeout: LIVE_MS });
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
  assert.equal(await t.locator('.badge').textContent(), 'offline');
  assert.match(await t.locator('output.reply').textContent(), /killed: the broker published dev-03's will/);
  assert.equal(await t.locator('button.danger').isDisabled(), true, 'no killing the dead');
  // Offline sorts first in the table.
  assert.equal(await page.locator('#fleet-table tbody tr[data-device]').first().getAttribute('data-device'), 'dev-03');
  // The others live on.
  assert.equal(await page.locator('#fleet-table tr[data-device="dev-04"]').getAttribute('data-state'), 'online');

  // Revived after REVIVE_AFTER_S with a fresh session, announcing "online":
  // from that moment on the tile never says "offline for".
  await page.locator('.tile[data-device="dev-03"][data-status="online"]').waitFor({ timeout: LIVE_MS });
  assert.doesNotMatch(await t.locator('.seen').textContent(), /offline/);
});

test('a command to a dead device times out with a clear message', async () => {
  // Kill dev-05 and ask it something while it is down.
  const t = await openTile(page, 'dev-05');
  await page.locator('.tile[data-device="dev-05"][data-status="online"]').waitFor({ timeout: LIVE_MS });
  await kill(page, 'dev-05');
  await page.locator('.tile[data-device="dev-05"][data-status="offline"]').waitFor({ timeout: LIVE_MS });
  await t.locator('input').fill('ping');
  await t.locator('button[type="submit"]').click();
  const reply = await t.locator('output.reply').elementHandle();
  await page.waitForFunction((el) => el.classList.contains('err'), reply, { timeout: LIVE_MS });
  // (The device may be back by then, with a fresh session: the request is
  // lost either way, since nobody was subscribed when it was published.)
  assert.match(await t.locator('output.reply').textContent(), /✗ ping: no reply within 5 s/);
});

test('the topic explorer shows a published message with its properties, the retained ones and $SYS', async () => {
  await page.locator('#tab-explorer').click();
  await page.locator('#view-explorer').waitFor({ timeout: LIVE_MS });
  const watch = page.locator('#watch');
  await watch.locator('input[name="filter"]').fill('test/explorer/#');
  await watch.locator('button[type="submit"]').click();
  await page.locator('#live-count', { hasText: 'test/explorer/#' }).waitFor({ timeout: LIVE_MS });

  const form = page.locator('#publish');
  await form.locator('input[name="topic"]').fill('test/explorer/hello');
  await form.locator('textarea[name="payload"]').fill('{"hello": "world"}');
  await form.locator('select[name="qos"]').selectOption('1');
  await form.locator('input[name="retain"]').check();
  await form.locator('input[name="contentType"]').fill('application/json');
  await form.locator('input[name="responseTopic"]').fill('test/explorer/replies');
  await form.locator('input[name="correlationData"]').fill('abc');
  await form.locator('textarea[name="userProperties"]').fill('source=playwright\nrun=1');
  await form.locator('button[type="submit"]').click();
  await page.locator('#publish-result.ok').waitFor({ timeout: LIVE_MS });
  assert.match(await page.locator('#publish-result').textContent(), /PUBACK reason code 0x00/);

  const row = page.locator('#live-body tr[data-topic="test/explorer/hello"]').first();
  await row.waitFor({ timeout: LIVE_MS });
  const cells = await row.locator('td').allTextContents();
  assert.equal(cells[2], '1', 'QoS');
  assert.equal(cells[3], 'retained', 'Retain As Published keeps the flag');
  assert.match(cells[4], /Content Type: application\/json/);
  assert.match(cells[4], /Response Topic: test\/explorer\/replies/);
  assert.match(cells[4], /Correlation Data: 61 62 63/);
  assert.match(cells[4], /source=playwright/);
  assert.match(cells[4], /run=1/);
  assert.equal(cells[5], '{"hello": "world"}');
  // The same payload as JSON and as hex.
  await watch.locator('select[name="format"]').selectOption('json');
  await page.waitForFunction(() => document.querySelector('#live-body tr[data-topic="test/explorer/hello"] .payload')
    ?.textContent === '{"hello":"world"}', null, { timeout: LIVE_MS });
  await watch.locator('select[name="format"]').selectOption('hex');
  await page.waitForFunction(() => document.querySelector('#live-body tr[data-topic="test/explorer/hello"] .payload')
    ?.textContent.startsWith('7b 22 68'), null, { timeout: LIVE_MS });
  await watch.locator('select[name="format"]').selectOption('text');

  // Retained: listed, and cleared by an empty retained message.
  await page.locator('#retained-body tr[data-topic="test/explorer/hello"]').waitFor({ timeout: LIVE_MS });
  // $SYS from wasmqtt-broker (retained, every 10 s).
  await page.locator('#sys [data-topic="$SYS/broker/clients/connected"]').waitFor({ timeout: LIVE_MS });
  const connected = Number(await page.locator('#sys [data-topic="$SYS/broker/clients/connected"] dd').textContent());
  assert.ok(connected > 0, `$SYS clients/connected = ${connected}`);
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-explorer.png'), fullPage: true });

  await form.locator('textarea[name="payload"]').fill('');
  await form.locator('input[name="contentType"]').fill('');
  await form.locator('button[type="submit"]').click();
  await page.locator('#retained-body tr[data-topic="test/explorer/hello"]').waitFor({ state: 'detached', timeout: LIVE_MS });
  await page.locator('#tab-fleet').click();
});

test('the phone layout (dark) fits the screen', async () => {
  const p = await stack.page({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, colorScheme: 'dark' });
  await p.goto(demo.info.url);
  await p.locator('#conn[data-state="connected"]').waitFor({ timeout: LIVE_MS });
  await p.waitForFunction(() => document.querySelectorAll('#fleet-table tbody tr[data-device]').length > 0, null, { timeout: LIVE_MS });
  await p.locator('.tile canvas').first().waitFor({ timeout: LIVE_MS });
  const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page is ${overflow} px wider than the phone`);
  await p.screenshot({ path: join(ARTIFACTS, 'dashboard-phone.png'), fullPage: true });
  await p.context().close();
});

test('an unreachable broker gets an explanation, not a blank page', async () => {
  const port = await closedPort();
  const url = `ws://127.0.0.1:${port}/mqtt`;
  const p = await stack.page();
  await p.goto(`${demo.info.url}?broker=${encodeURIComponent(url)}`);
  const banner = p.locator('#banner');
  await banner.waitFor({ state: 'visible', timeout: LIVE_MS });
  assert.match(await banner.textContent(), new RegExp(`Cannot reach the broker at ${url.replace(/[/.]/g, '\\$&')}`));
  assert.equal(await banner.getAttribute('data-code'), 'CONNECT_FAILED');
  // It keeps trying, and says when the next attempt is.
  await p.locator('#conn[data-state="reconnecting"]').waitFor({ timeout: LIVE_MS });
  assert.match(await p.locator('#conn-detail').textContent(), /attempt \d+ in \d+\.\d s/);
  await p.screenshot({ path: join(ARTIFACTS, 'dashboard-unreachable.png') });
  await p.context().close();
});

test('rejected credentials get an explanation', async () => {
  // A second broker that wants a password.
  const hash = stack.spawn('hash', BROKER_BIN, ['--hash-password', 'alice'], { stdio: ['pipe', 'pipe', 'pipe'] });
  hash.stdin.end('wonderland\n');
  const exit = await waitExit(hash, STARTUP_MS);
  assert.equal(exit?.code, 0, `--hash-password: ${exit ? `exit ${exit.code}` : 'did not exit'}\n${hash.output}`);
  const passwords = join(stack.tmp, 'passwords');
  writeFileSync(passwords, hash.output.split('\n').filter((l) => l.startsWith('alice:')).join('\n'));
  const broker = stack.spawn('wasmqtt-broker --no-anonymous', BROKER_BIN, [
    '--tcp', '127.0.0.1:0', '--ws', '127.0.0.1:0', '--no-anonymous', '--password-file', passwords, '--log', 'warn',
  ]);
  const line = await until('the second broker', STARTUP_MS, () => broker.output.match(/^LISTENING .*ws=(\S+)/m), broker);
  const url = `ws://${line[1]}/mqtt`;

  const p = await stack.page();
  await p.goto(`${demo.info.url}?broker=${encodeURIComponent(url)}`);
  // Through the settings form, as a person would.
  await p.locator('#settings-toggle').click();
  await p.locator('#settings input[name="username"]').fill('alice');
  await p.locator('#settings input[name="password"]').fill('not the password');
  await p.locator('#settings button[type="submit"]').click();
  const banner = p.locator('#banner');
  await p.waitForFunction(() => document.getElementById('banner').dataset.code === 'CONNECTION_REFUSED', null, { timeout: LIVE_MS });
  const text = await banner.textContent();
  assert.match(text, /rejected the credentials/);
  assert.match(text, /0x86/);
  // The username went into the address, the password did not.
  assert.match(p.url(), /username=alice/);
  assert.doesNotMatch(p.url(), /password/);
  await p.locator('#conn[data-state="offline"]').waitFor({ timeout: LIVE_MS });

  // The right password connects.
  await p.locator('#settings-toggle').click();
  await p.locator('#settings input[name="password"]').fill('wonderland');
  await p.locator('#settings button[type="submit"]').click();
  await p.locator('#conn[data-state="connected"]').waitFor({ timeout: LIVE_MS });
  assert.equal(await banner.isHidden(), true);
  await p.context().close();
});

test('no uncaught errors in the page', () => {
  assert.deepEqual(stack.errors, []);
});
