// Keep-alive in a hidden tab. Chromium throttles a hidden page's timers
// (intensive wake-up throttling: chained timers wake at most once a
// minute), here after 10 s hidden instead of 5 min. Two pages connect with
// a Keep Alive of 10 s and send nothing else; a third tab is brought to
// the front and both stay hidden for more than 10 Keep Alive intervals.
// The page with the timer worker keeps its PINGREQs on time and its one
// connection; the same page without `Worker` (page timers only) is dropped
// by the broker. A relay in front of wasmqtt-broker timestamps the packets.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { brokers } from './support/browser.mjs';
import { launchHideable } from './support/hidden.mjs';
import { packetRelay } from './support/relay.mjs';
import { serve } from './support/server.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const env = brokers();
const KEEPALIVE = 10;
const GRACE = 10;
const VISIBLE_MS = 21_000;
const HIDDEN_MS = (KEEPALIVE * 10 + 5) * 1000;
// A PINGREQ is due KEEPALIVE after the last packet; background pages run
// timers on whole seconds, so allow that much lateness and a little more.
const LATE_MS = 1500;

let chromium;
let server;
const relays = [];

before(async () => {
  [chromium, server] = await Promise.all([
    launchHideable([`IntensiveWakeUpThrottling:grace_period_seconds/${GRACE}`]),
    serve(root),
  ]);
});

after(async () => {
  await chromium?.close();
  await server?.close();
  await Promise.all(relays.map((r) => r.close()));
});

/** Opens the test page (without `Worker` when `noWorker`), connected through a new relay. */
async function connected(name, noWorker) {
  const relay = await packetRelay(env.broker);
  relays.push(relay);
  const page = await chromium.context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  if (noWorker) await page.addInitScript(() => { delete globalThis.Worker; });
  await page.goto(`${server.url}/tests/js/fixtures/index.html`);
  await page.waitForFunction(() => window.wasmqtt && window.h);
  await page.evaluate(async ({ url, name, keepalive }) => {
    const { connectAsync } = window.wasmqtt;
    const client = await connectAsync(url, {
      clientId: `${name}-${Math.random().toString(36).slice(2)}`,
      keepalive,
      reconnect: { initialDelay: 100, maxDelay: 1000 },
    });
    window.events = window.h.record(client);
    window.client = client;
    // The page's own chained timer, to see the throttling it is under.
    window.ticks = [];
    const tick = () => { window.ticks.push(performance.now()); setTimeout(tick, 1000); };
    tick();
  }, { url: relay.url, name, keepalive: KEEPALIVE });
  return { page, relay };
}

/** Gaps (ms) between the PINGREQs of the first connection, by whether each ended before or after `split`. */
function pingGaps(relay, split) {
  const at = relay.packets.filter((p) => p.conn === 0 && p.type === 'PINGREQ').map((p) => p.at);
  const gaps = { before: [], after: [] };
  for (let i = 1; i < at.length; i++) gaps[at[i] < split ? 'before' : 'after'].push(Math.round(at[i] - at[i - 1]));
  return gaps;
}

test('hidden for 10 Keep Alive intervals: on time with the timer worker, dropped without', { timeout: 240_000 }, async (t) => {
  const control = await connected('bg-page-timers', true);
  const worker = await connected('bg-worker', false);
  const { page } = worker;
  assert.equal(await page.evaluate(() => document.visibilityState), 'visible');
  await sleep(VISIBLE_MS);
  assert.ok(!server.requests.includes('/pkg/timer-worker.js'), 'the timer worker was loaded while visible');

  // Another tab in front: both test pages are hidden.
  const front = await chromium.context.newPage();
  await front.bringToFront();
  const hiddenFrom = performance.now();
  for (const p of [page, control.page]) assert.equal(await p.evaluate(() => document.visibilityState), 'hidden');
  await sleep(HIDDEN_MS);

  const result = async ({ page: p, relay }) => ({
    events: (await p.evaluate(() => window.events.map(([name]) => name))),
    // The longest the page's own chained timer slept while the page was
    // hidden (its clock, not ours), counting from its last tick before and
    // up to now: a page hidden earlier may tick just once in the window.
    pageTimerGap: Math.round(await p.evaluate((hiddenFor) => {
      const now = performance.now();
      const from = now - hiddenFor;
      const inside = window.ticks.filter((x) => x >= from);
      const ticks = [...window.ticks.filter((x) => x < from).slice(-1), ...inside, now];
      return Math.max(0, ...ticks.slice(1).map((x, i) => x - ticks[i]));
    }, performance.now() - hiddenFrom)),
    connections: relay.connections.length,
    closed: relay.connections.filter((c) => c.closed !== undefined).length,
    pingGaps: pingGaps(relay, hiddenFrom),
    problems: p.problems,
  });
  const on = await result(worker);
  const off = await result(control);
  t.diagnostic(`worker on:  ${JSON.stringify(on)}`);
  t.diagnostic(`worker off: ${JSON.stringify(off)}`);

  // The throttling was real: the page's own 1 s chained timer slept far
  // longer (at most one wake-up a minute: over 105 s, some sleep is > 30 s).
  assert.ok(on.pageTimerGap >= 20_000, `page timer gap ${on.pageTimerGap} ms: not throttled`);
  assert.ok(off.pageTimerGap >= 20_000, `page timer gap ${off.pageTimerGap} ms: not throttled`);

  // With the worker: one connection, never dropped, a PINGREQ every Keep Alive.
  assert.equal(on.connections, 1);
  assert.equal(on.closed, 0);
  assert.deepEqual(on.events, []);
  const pings = worker.relay.packets.filter((p) => p.conn === 0 && p.type === 'PINGREQ' && p.at >= hiddenFrom);
  assert.ok(pings.length >= 10, `${pings.length} PINGREQs while hidden`);
  assert.ok(Math.max(...on.pingGaps.after) <= KEEPALIVE * 1000 + LATE_MS, `PINGREQ gaps ${on.pingGaps.after}`);
  assert.ok(server.requests.includes('/pkg/timer-worker.js'), 'the timer worker was not loaded');
  assert.deepEqual(on.problems, []);

  // Without: the broker gives up after 1.5 x Keep Alive of silence.
  assert.ok(off.closed >= 1, `page timers only: ${JSON.stringify(off)}`);
  assert.ok(off.events.includes('offline'), off.events.join(', '));
  assert.deepEqual(off.problems, []);
});
