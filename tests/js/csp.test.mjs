// The shipped package under `Content-Security-Policy: default-src 'self'`
// (plus what wasm and the broker need): no violations, in a visible page
// and in a hidden one, whose timers come from the worker file next to the
// package. With workers forbidden, the violation is seen (so the listener
// works) and the client falls back to page timers and stays connected.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

import { brokers } from './support/browser.mjs';
import { launchHideable } from './support/hidden.mjs';
import { serve } from './support/server.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const env = brokers();
const POLICY = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' ws://127.0.0.1:*";

let chromium;
const servers = [];

before(async () => {
  chromium = await launchHideable();
});

after(async () => {
  await chromium?.close();
  await Promise.all(servers.map((s) => s.close()));
});

/** The CSP page under `policy`, connected, then hidden for a few Keep Alive intervals. */
async function hiddenUnder(policy) {
  const server = await serve(root, { 'content-security-policy': policy });
  servers.push(server);
  const page = await chromium.context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  await page.goto(`${server.url}/tests/js/fixtures/csp.html?broker=${encodeURIComponent(env.broker)}`);
  await page.waitForFunction(() => window.client || window.failed, null, { timeout: 10_000 });
  assert.equal(await page.evaluate(() => window.failed), undefined);
  const front = await chromium.context.newPage();
  await front.bringToFront();
  assert.equal(await page.evaluate(() => document.visibilityState), 'hidden');
  // Keep Alive 3 s: hidden for a few intervals, so the timer is re-armed
  // while hidden (from the worker, or from page timers, which a hidden page
  // runs on whole seconds only).
  await page.waitForFunction(() => {
    const started = (window.hiddenAt ??= performance.now());
    return performance.now() - started > 10_000;
  }, null, { timeout: 20_000, polling: 500 });
  const r = await page.evaluate(() => ({
    violations: window.violations,
    events: window.events,
    connected: window.client.connected,
  }));
  await page.evaluate(() => window.client.end());
  await front.close();
  await page.close();
  return { ...r, problems, requests: server.requests };
}

test("default-src 'self': no violations, and the timer worker loads in a hidden page", async () => {
  const r = await hiddenUnder(POLICY);
  assert.deepEqual(r.violations, []);
  assert.deepEqual(r.problems, []);
  assert.ok(r.requests.includes('/pkg/timer-worker.js'), r.requests.join(', '));
  assert.deepEqual(r.events, []);
  assert.equal(r.connected, true);
});

test("worker-src 'none': the violation is seen, and page timers take over", async () => {
  const r = await hiddenUnder(`${POLICY}; worker-src 'none'`);
  assert.ok(r.violations.some((v) => v.startsWith('worker-src')), JSON.stringify(r.violations));
  assert.deepEqual(r.events, []);
  assert.equal(r.connected, true);
});
