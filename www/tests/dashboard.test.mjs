// End-to-end test of the dashboard: runs the main command's stack
// (scripts/demo.sh --no-build: wasmqtt-broker, wasmqtt-devices, the static
// server for www/dist) and drives the page in headless Chromium.
//
//   bash scripts/dashboard-test.sh        (builds first, then runs this)
//   node --test www/tests/                (after a build)
//
// Screenshots go to target/artifacts/ (DASHBOARD_ARTIFACTS overrides).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { stopChild, waitExit } from '../../tests/support/child.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ARTIFACTS = resolve(process.env.DASHBOARD_ARTIFACTS ?? join(ROOT, 'target/artifacts'));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const BROKER_BIN = join(ROOT, process.env.CARGO_TARGET_DIR ?? 'target', 'release/wasmqtt-broker');
const DEVICES = 12;
const REVIVE_AFTER_S = 4;
/** Telemetry messages/s per device: enough history for a picture in seconds. */
const RATE = 2;

/** Deadlines, not sleeps: each wait ends as soon as its condition holds. */
const STARTUP_MS = 90_000;
const LIVE_MS = 30_000;

const tmp = mkdtempSync(join(tmpdir(), 'wasmqtt-dashboard-test-'));
const children = [];
let demo;
let browser;
let page;
const pageErrors = [];

/** Spawns a process in its own process group, keeping its output for failures. */
function spawnLogged(name, command, args, options = {}) {
  const child = spawn(command, args, { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...options });
  child.output = '';
  const keep = (chunk) => {
    child.output += chunk;
    if (child.output.length > 200_000) child.output = child.output.slice(-100_000);
  };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  child.name = name;
  children.push(child);
  return child;
}

/** Stops a child's whole process group: SIGTERM, SIGKILL after 10 s. */
function stop(child) {
  return stopChild(child, { group: true, graceMs: 10_000 });
}

/** Polls `check` until it returns a truthy value, or fails after `ms`. */
async function until(what, ms, check, child) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (child && child.exitCode !== null) {
      throw new Error(`${child.name} exited (${child.exitCode}) while waiting for ${what}:\n${child.output}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}${child ? `\n${child.name} output:\n${child.output}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A loopback port with nothing listening on it (bound, then released). */
async function closedPort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

const tile = (id) => page.locator(`.tile[data-device="${id}"]`);

before(async () => {
  for (const [what, path] of [['wasmqtt-broker', BROKER_BIN], ['www/dist', join(ROOT, 'www/dist/index.html')]]) {
    assert.ok(existsSync(path), `${what} is not built (${path}): run bash scripts/dashboard-test.sh`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  const ready = join(tmp, 'ready.json');
  demo = spawnLogged('scripts/demo.sh', 'bash', [
    'scripts/demo.sh', '--no-build', '--no-open',
    '--devices', String(DEVICES), '--rate', String(RATE), '--revive-after', String(REVIVE_AFTER_S),
  ], { env: { ...process.env, DEMO_READY_FILE: ready } });
  const info = await until('the demo to be ready', STARTUP_MS, () => existsSync(ready) && JSON.parse(readFileSync(ready, 'utf8')), demo);
  demo.info = info;

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'light' });
  page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

after(async () => {
  await browser?.close();
  await Promise.all(children.map(stop));
  rmSync(tmp, { recursive: true, force: true });
});

test('the page connects and shows live telemetry from at least 3 devices', async () => {
  await page.goto(demo.info.url);
  await page.locator('#conn[data-state="connected"]').waitFor({ timeout: LIVE_MS });
  // Live: at least 3 online tiles that each received 2+ readings.
  await page.waitForFunction(() => [...document.querySelectorAll('.tile[data-status="online"]')]
    .filter((t) => Number(t.dataset.readings ?? 0) >= 2).length >= 3, null, { timeout: LIVE_MS, polling: 200 });
  // A reading is a number with a unit, and the charts are drawn.
  const temperature = await tile('dev-01').locator('.reading-value').first().textContent();
  assert.match(temperature, /^-?\d+\.\d$/);
  assert.ok(await tile('dev-01').locator('canvas').count() >= 2, 'uPlot canvases in the tile');
  // Metrics come from client.metrics.
  await page.waitForFunction(() => parseFloat(document.getElementById('m-msg-in').textContent) > 0, null, { timeout: LIVE_MS });
  assert.match(await page.locator('#m-bytes-in').textContent(), /\d/);
});

test('a command goes out as a request and its reply is shown', async () => {
  const t = tile('dev-02');
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

test('a killed device turns offline through its will, then comes back', async () => {
  const t = tile('dev-03');
  await page.locator('.tile[data-device="dev-03"][data-status="online"]').waitFor({ timeout: LIVE_MS });
  // For the picture: some history in the charts and an answered command.
  await page.waitForFunction(() => Number(document.querySelector('.tile[data-device="dev-01"]').dataset.readings) >= 12,
    null, { timeout: LIVE_MS, polling: 250 });
  await tile('dev-01').locator('input').fill('status');
  await tile('dev-01').locator('button[type="submit"]').click();
  await page.locator('.tile[data-device="dev-01"] output.reply.ok').waitFor({ timeout: LIVE_MS });

  await t.locator('button.danger').click();
  // The device drops its socket without DISCONNECT; the broker publishes
  // the retained will "offline" at once.
  await page.locator('.tile[data-device="dev-03"][data-status="offline"]').waitFor({ timeout: LIVE_MS });
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
  assert.equal(await t.locator('.badge').textContent(), 'offline');
  assert.match(await t.locator('output.reply').textContent(), /killed: the broker published dev-03's will/);
  assert.equal(await t.locator('button.danger').isDisabled(), true, 'no killing the dead');
  // The others live on.
  assert.equal(await page.locator('.tile[data-device="dev-04"]').getAttribute('data-status'), 'online');

  // Revived after REVIVE_AFTER_S with a fresh session, announcing "online".
  await page.locator('.tile[data-device="dev-03"][data-status="online"]').waitFor({ timeout: LIVE_MS });
});

test('a command to a dead device times out with a clear message', async () => {
  // Kill dev-05 and ask it something while it is down.
  const t = tile('dev-05');
  await page.locator('.tile[data-device="dev-05"][data-status="online"]').waitFor({ timeout: LIVE_MS });
  await t.locator('button.danger').click();
  await page.locator('.tile[data-device="dev-05"][data-status="offline"]').waitFor({ timeout: LIVE_MS });
  await t.locator('input').fill('ping');
  await t.locator('button[type="submit"]').click();
  const reply = await t.locator('output.reply').elementHandle();
  await page.waitForFunction((el) => el.classList.contains('err'), reply, { timeout: LIVE_MS });
  // (The device may be back by then, with a fresh session: the request is
  // lost either way, since nobody was subscribed when it was published.)
  assert.match(await t.locator('output.reply').textContent(), /✗ ping: no reply within 5 s/);
});

test('an unreachable broker gets an explanation, not a blank page', async () => {
  const port = await closedPort();
  const url = `ws://127.0.0.1:${port}/mqtt`;
  const p = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  p.on('pageerror', (e) => pageErrors.push(e.message));
  await p.goto(`${demo.info.url}?broker=${encodeURIComponent(url)}`);
  const banner = p.locator('#banner');
  await banner.waitFor({ state: 'visible', timeout: LIVE_MS });
  assert.match(await banner.textContent(), new RegExp(`Cannot reach the broker at ${url.replace(/[/.]/g, '\\$&')}`));
  assert.equal(await banner.getAttribute('data-code'), 'CONNECT_FAILED');
  // It keeps trying, and says when the next attempt is.
  await p.locator('#conn[data-state="reconnecting"]').waitFor({ timeout: LIVE_MS });
  assert.match(await p.locator('#conn-detail').textContent(), /attempt \d+ in \d+\.\d s/);
  await p.screenshot({ path: join(ARTIFACTS, 'dashboard-unreachable.png') });
  await p.close();
});

test('rejected credentials get an explanation', async () => {
  // A second broker that wants a password.
  const hash = spawnLogged('hash', BROKER_BIN, ['--hash-password', 'alice'], { stdio: ['pipe', 'pipe', 'pipe'] });
  hash.stdin.end('wonderland\n');
  const exit = await waitExit(hash, STARTUP_MS);
  assert.equal(exit?.code, 0, `--hash-password: ${exit ? `exit ${exit.code}` : 'did not exit'}\n${hash.output}`);
  const passwords = join(tmp, 'passwords');
  writeFileSync(passwords, hash.output.split('\n').filter((l) => l.startsWith('alice:')).join('\n'));
  const broker = spawnLogged('wasmqtt-broker --no-anonymous', BROKER_BIN, [
    '--tcp', '127.0.0.1:0', '--ws', '127.0.0.1:0', '--no-anonymous', '--password-file', passwords, '--log', 'warn',
  ]);
  const line = await until('the second broker', STARTUP_MS, () => broker.output.match(/^LISTENING .*ws=(\S+)/m), broker);
  const url = `ws://${line[1]}/mqtt`;

  const p = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  p.on('pageerror', (e) => pageErrors.push(e.message));
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
  await p.close();
});

test('no uncaught errors in the page', () => {
  assert.deepEqual(pageErrors, []);
});
