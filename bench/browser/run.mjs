#!/usr/bin/env node
// wasmqtt vs MQTT.js vs a raw-WebSocket floor, side by side in headless
// Chromium, against wasmqtt-broker and mosquitto (both over WebSocket).
// Normally started by run.sh, which builds and stages what this serves.
//
//   node run.mjs [--reps 3] [--scenarios qos0-64B,rtt-qos0] [--brokers mosquitto,wasmqtt-broker]
//                [--protocols 5,3.1.1] [--clients wasmqtt,mqttjs,floor] [--out FILE] [--profile]
//                [--site DIR] [--entry PATH] [--noise-threshold CORES]
// Environment: BENCH_BROKER_BIN (another wasmqtt-broker build),
// BENCH_MOSQUITTO_CONF ("opt value; opt value" added to mosquitto's config).
//
// Every run gets a fresh page. Clients alternate within each repetition
// (A B C A B C ...). Writes JSON (default target/bench/browser.json) and
// prints a Markdown table (also saved next to the JSON as .md).
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

import { startWasmqttBroker, startMosquitto, stopAll } from './lib/brokers.mjs';
import { startServer } from './lib/server.mjs';
import { cpuMark, cpuDelta, waitForQuiet, CORES, treeTicks, childrenNamed, TICK_MS } from './lib/cpu.mjs';
import { summary } from './lib/stats.mjs';
import { stopChild } from '../../tests/support/child.mjs';
import { analyse } from './lib/profile.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');

const { values: opt } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    scenarios: { type: 'string' },
    // mosquitto first: like the brokers users run, it sends one WebSocket
    // frame per MQTT packet; wasmqtt-broker coalesces them.
    brokers: { type: 'string', default: 'mosquitto,wasmqtt-broker' },
    // Each broker is measured with every client speaking each version.
    protocols: { type: 'string', default: '5,3.1.1' },
    clients: { type: 'string', default: 'wasmqtt,mqttjs,floor' },
    out: { type: 'string', default: join(ROOT, 'target/bench/browser.json') },
    site: { type: 'string', default: join(ROOT, 'target/bench/site') },
    profile: { type: 'boolean', default: false },
    entry: { type: 'string' },
    'noise-threshold': { type: 'string', default: '0.25' },
  },
});

/** Cores used by other processes above which a run is flagged noisy. */
const NOISE = Number(opt['noise-threshold']);

// Windows keep queues bounded everywhere: the publisher stays at most this many
// messages ahead of the subscriber (QoS 0 / QoS 1), and at most `pubWindow`
// (capped by the server's Receive Maximum) unacknowledged.
const e2e = (size, qos) => (qos ? 500 : Math.max(8, Math.min(2000, Math.floor((4 << 20) / size))));

export const SCENARIOS = [
  // QoS 0 scenarios: the publisher is the same raw batched one for every
  // subscriber (see page/clients/floor.js), so they measure the receive path.
  { id: 'qos0-64B', kind: 'throughput', n: 50000, size: 64, qos: 0, warmup: 2000, publisher: 'raw',
    what: 'QoS 0 receive rate, 50,000 x 64 B, 1 publisher + 1 subscriber connection in the page' },
  // QoS 1: the client under test publishes and subscribes.
  { id: 'qos1-64B', kind: 'throughput', n: 20000, size: 64, qos: 1, warmup: 1000, publisher: 'own',
    what: 'QoS 1 throughput, 20,000 x 64 B, all acknowledged and delivered; the client publishes too' },
  // A dashboard's traffic: the same, over 200 topics interleaved.
  { id: 'qos0-64B-200topics', kind: 'throughput', n: 50000, size: 64, qos: 0, warmup: 2000, publisher: 'raw', topics: 200,
    what: 'QoS 0 receive rate, 50,000 x 64 B over 200 topics in turn (one subscription, `+`)' },
  { id: 'qos0-16B', kind: 'throughput', n: 50000, size: 16, qos: 0, warmup: 2000, publisher: 'raw', what: 'payload sweep: 16 B' },
  { id: 'qos0-1KiB', kind: 'throughput', n: 20000, size: 1024, qos: 0, warmup: 2000, publisher: 'raw', what: 'payload sweep: 1 KiB' },
  { id: 'qos0-64KiB', kind: 'throughput', n: 500, size: 65536, qos: 0, warmup: 50, publisher: 'raw', what: 'payload sweep: 64 KiB',
    // Measured with Node clients too: mosquitto 2.0.11 delivers 16 KiB
    // messages over WebSocket at ~9/s and 32-64 KiB ones not at all within
    // 20 s (receiving them over WebSocket and sending over TCP is fine).
    skip: { mosquitto: 'mosquitto 2.0.11 stalls sending >= 16 KiB messages over WebSocket (any client)' } },
  { id: 'rtt-qos0', kind: 'rtt', n: 500, size: 64, qos: 0, warmup: 50, what: 'round trip, QoS 0, 64 B, one connection' },
  { id: 'rtt-qos1', kind: 'rtt', n: 500, size: 64, qos: 1, warmup: 50, what: 'round trip, QoS 1, 64 B, one connection' },
  { id: 'fanin-20', kind: 'fanin', n: 50000, size: 64, qos: 0, warmup: 1000, publishers: 20, publisher: 'raw',
    what: 'fan-in: 20 native TCP publishers x 2,500 x 64 B QoS 0 -> 1 browser subscriber' },
];

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const log = (...a) => console.error(...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([promise, new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`${what}: timed out after ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(t));
}

function gzip9(file) {
  return execFileSync('gzip', ['-9c', file], { maxBuffer: 64 << 20 }).length;
}

async function heapNow(cdp, gc) {
  if (gc) await cdp.send('HeapProfiler.collectGarbage');
  const h = await cdp.send('Runtime.getHeapUsage');
  return { used: h.usedSize, total: h.totalSize, embedder: h.embedderHeapUsedSize, backing: h.backingStorageSize ?? 0 };
}

/** Polls Runtime.getHeapUsage (no GC) until stopped; keeps the maxima. */
function heapSampler(cdp, everyMs = 25) {
  const peak = { used: 0, embedder: 0, backing: 0, samples: 0 };
  let running = true;
  const done = (async () => {
    while (running) {
      try {
        const h = await heapNow(cdp, false);
        peak.used = Math.max(peak.used, h.used);
        peak.embedder = Math.max(peak.embedder, h.embedder);
        peak.backing = Math.max(peak.backing, h.backing);
        peak.samples++;
      } catch { break; }
      await sleep(everyMs);
    }
  })();
  return async () => { running = false; await done; return peak; };
}

/** The longest a fan-in generator may run. */
const GENERATOR_MS = 300_000;

function runGenerator(broker, sc, topic) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(HERE, 'fanin.mjs'), '--host', broker.tcp.host,
      '--port', String(broker.tcp.port), '--topic', topic, '--publishers', String(sc.publishers),
      '--count', String(sc.n / sc.publishers), '--size', String(sc.size)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    // A generator that never finishes is stopped, not waited for.
    const timer = setTimeout(() => stopChild(child), GENERATOR_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out));
      else reject(new Error(`fanin.mjs exited with ${code ?? signal}`));
    });
  });
}

let runCounter = 0;
/** URL of the wasmqtt package's entry module, from the staged package.json. */
let wasmqttEntry = null;
/** Chromium's main process(es); their trees hold every renderer. */
let chromiumPids = [];

async function runOne(browser, origin, broker, sc, client, { profile } = {}) {
  const runId = `${Date.now().toString(36)}${(runCounter++).toString(36)}`;
  const params = { ...sc, client, url: broker.ws, protocol: broker.protocol, runId, entry: wasmqttEntry, e2eWindow: e2e(sc.size, sc.qos), pubWindow: sc.qos ? 1000 : e2e(sc.size, sc.qos) };
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text()); });
  const cdp = await page.context().newCDPSession(page);
  const result = { scenario: sc.id, broker: broker.name, client, runId };
  try {
    await page.goto(`${origin}/index.html`);
    await page.waitForFunction(() => window.bench);
    result.setup = await withTimeout(page.evaluate((p) => window.bench.setup(p), params), 60000, 'setup');
    const measureHeap = sc.kind !== 'rtt';
    if (measureHeap) result.heapBefore = await heapNow(cdp, true);
    if (profile) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
      await cdp.send('Profiler.start');
    }
    const stopSampler = measureHeap && !profile ? heapSampler(cdp) : null;
    const mark = cpuMark();
    const ticks0 = { chromium: chromiumPids.reduce((a, p) => a + treeTicks(p), 0), broker: treeTicks(broker.pid) };
    let gen = null;
    if (sc.kind === 'fanin') {
      await page.evaluate(() => window.bench.arm());
      gen = runGenerator(broker, sc, `bench/${runId}/t`);
    }
    result.measure = await withTimeout(page.evaluate(() => window.bench.measure()), 180000, 'measure');
    if (gen) result.generator = await withTimeout(gen, 30000, 'generator');
    result.load = cpuDelta(mark);
    // CPU time is what a message costs whatever else the machine does: a
    // cross-check on rates measured on a busy machine.
    {
      const m = result.measure;
      const messages = sc.kind === 'rtt' ? 2 * m.n : m.received;
      const chromiumMs = (chromiumPids.reduce((a, p) => a + treeTicks(p), 0) - ticks0.chromium) * TICK_MS;
      const brokerMs = (treeTicks(broker.pid) - ticks0.broker) * TICK_MS;
      result.cpu = { chromiumMs, brokerMs, chromiumUsPerMsg: (chromiumMs * 1000) / messages, brokerUsPerMsg: (brokerMs * 1000) / messages };
    }
    result.noisy = result.load.otherCores > NOISE;
    if (stopSampler) result.heapPeak = await stopSampler();
    if (profile) {
      const { profile: prof } = await cdp.send('Profiler.stop');
      result.profile = prof;
    }
    if (measureHeap) result.heapAfter = await heapNow(cdp, true);
    result.wasmMemory = await page.evaluate(() => window.bench.wasmMemory());
    await withTimeout(page.evaluate(() => window.bench.teardown()), 10000, 'teardown').catch(() => {});
  } catch (e) {
    result.error = String(e?.message ?? e);
  } finally {
    if (errors.length) result.pageErrors = errors.slice(0, 5);
    await page.close().catch(() => {});
  }
  return result;
}

/** Loads one client into a fresh page, connects, and sums exactly the files it fetched. */
async function bundleSize(browser, server, broker, client) {
  const page = await browser.newPage();
  const from = server.served.length;
  try {
    await page.goto(`${server.origin}/index.html`);
    await page.waitForFunction(() => window.bench);
    await page.evaluate((p) => window.bench.setup(p), { kind: 'rtt', client, url: broker.ws, runId: 'bundle', entry: wasmqttEntry, size: 8, qos: 0, warmup: 1, n: 1 });
    await page.evaluate(() => window.bench.teardown());
  } finally {
    await page.close();
  }
  // The harness and adapters are the benchmark's, not the client's.
  // (The floor's adapter is the floor client itself.)
  const files = server.served.slice(from)
    .filter((f) => !/^\/(index\.html|harness\.js|clients\/(wasmqtt|wasmqtt-idb|mqttjs)\.js)$/.test(f.url));
  const unique = [...new Map(files.map((f) => [f.url, f])).values()];
  const list = unique.map((f) => ({ url: f.url, raw: f.bytes, gzip9: gzip9(f.file) }));
  return { files: list, raw: list.reduce((a, f) => a + f.raw, 0), gzip9: list.reduce((a, f) => a + f.gzip9, 0) };
}

// --- reporting -------------------------------------------------------------

const fmtRate = (x) => (Number.isFinite(x) ? (x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0)) : 'n/a');
const fmtMs = (x) => (Number.isFinite(x) ? (x < 1 ? `${(x * 1000).toFixed(0)} µs` : `${x.toFixed(2)} ms`) : 'n/a');
const fmtUs = (x) => (Number.isFinite(x) ? `${x.toFixed(1)} µs` : 'n/a');
const fmtMB = (x) => (Number.isFinite(x) ? `${(x / 1048576).toFixed(1)} MiB` : 'n/a');
const fmtKB = (x) => `${(x / 1024).toFixed(1)} KiB`;
const range = (s, f) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;

/** The number each run is judged by, per scenario kind. */
function metrics(r) {
  if (r.error || !r.measure) return null;
  const m = r.measure;
  if (r.scenario.startsWith('rtt')) return { p50: m.p50, p99: m.p99, chromiumUsPerMsg: r.cpu?.chromiumUsPerMsg };
  const out = { rate: m.rate, mbPerSec: m.mbPerSec, delivered: m.received / m.n };
  if (r.scenario.startsWith('qos1')) out.rateAllDone = m.rateAllDone;
  if (r.heapPeak) {
    out.heapBefore = r.heapBefore.used;
    out.heapPeak = r.heapPeak.used;
    out.heapAfter = r.heapAfter.used;
  }
  if (r.wasmMemory) out.wasmMemory = r.wasmMemory;
  if (r.cpu) out.chromiumUsPerMsg = r.cpu.chromiumUsPerMsg;
  return out;
}

function aggregate(results) {
  const groups = new Map();
  for (const r of results) {
    const key = `${r.scenario}|${r.broker}|${r.client}`;
    if (!groups.has(key)) groups.set(key, { scenario: r.scenario, broker: r.broker, client: r.client, runs: [] });
    groups.get(key).runs.push(r);
  }
  const out = [];
  for (const g of groups.values()) {
    const ms = g.runs.map(metrics).filter(Boolean);
    const keys = [...new Set(ms.flatMap(Object.keys))];
    const stats = Object.fromEntries(keys.map((k) => [k, summary(ms.map((m) => m[k]))]));
    out.push({
      scenario: g.scenario, broker: g.broker, client: g.client, stats,
      ok: ms.length, failed: g.runs.length - ms.length,
      noisy: g.runs.filter((r) => r.noisy).length,
      otherCoresMax: Math.max(...g.runs.map((r) => r.load?.otherCores ?? 0)),
      errors: [...new Set(g.runs.map((r) => r.error).filter(Boolean))],
    });
  }
  return out;
}

/**
 * The figures the goals are stated in, per broker and version: wasmqtt /
 * floor and wasmqtt / MQTT.js from the same run (medians), so they hold on
 * a loaded machine too.
 */
function headline(agg, targets) {
  const med = (sc, b, c, k) => agg.find((a) => a.scenario === sc && a.broker === b && a.client === c)?.stats[k]?.median;
  const x = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b ? `${(a / b).toFixed(2)}×` : 'n/a');
  const rows = [['qos0-16B', 'rate', 'QoS 0 receive, 16 B'], ['qos0-64B', 'rate', 'QoS 0 receive, 64 B'],
    ['qos0-1KiB', 'rate', 'QoS 0 receive, 1 KiB'], ['qos1-64B', 'rate', 'QoS 1 throughput, 64 B'],
    ['qos0-64B', 'heapPeak', 'JS heap peak, 50,000 x 64 B'], ['rtt-qos1', 'p50', 'round trip p50, QoS 1']];
  const fmt = { rate: fmtRate, heapPeak: fmtMB, p50: fmtMs };
  const lines = ['\n#### Headline: wasmqtt against the floor and MQTT.js, same run (medians)\n',
    '| broker | scenario | wasmqtt | MQTT.js | floor | wasmqtt / floor | wasmqtt / MQTT.js |', '|---|---|---:|---:|---:|---:|---:|'];
  for (const { name } of targets) {
    for (const [sc, k, label] of rows) {
      const [w, m, f] = ['wasmqtt', 'mqttjs', 'floor'].map((c) => med(sc, name, c, k));
      if (![w, m, f].some(Number.isFinite)) continue;
      // Rates: higher is better; heap and latency: report how many times lower.
      const [wf, wm] = k === 'rate' ? [x(w, f), x(w, m)] : [k === 'p50' ? x(f, w) : '', x(w, m)];
      lines.push(`| ${name} | ${label} | ${fmt[k](w)} | ${fmt[k](m)} | ${fmt[k](f)} | ${wf} | ${wm} |`);
    }
  }
  return lines.join('\n') + '\n';
}

function table(agg, bundles, brokers, clients) {
  const lines = [];
  const get = (sc, b, c) => agg.find((a) => a.scenario === sc && a.broker === b && a.client === c);
  const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
  const noiseMark = (a) => (a?.noisy ? ` ⚠${a.noisy}` : '');
  for (const b of brokers) {
    lines.push(`\n#### ${b} (WebSocket)\n`);
    // The IndexedDB store (`wasmqtt-idb`) against the memory session.
    const idb = clients.includes('wasmqtt-idb');
    lines.push(`| scenario | ${clients.join(' | ')} | wasmqtt / MQTT.js | wasmqtt / floor |${idb ? ' IndexedDB / memory |' : ''}`);
    lines.push(`|---|${clients.map(() => '---:').join('|')}|---:|---:|${idb ? '---:|' : ''}`);
    for (const sc of SCENARIOS.filter((s) => agg.some((a) => a.scenario === s.id))) {
      // [metric, format, lower is better, label]
      const rows = sc.kind === 'rtt'
        ? [['p50', fmtMs, true, `${sc.id} p50`], ['p99', fmtMs, true, `${sc.id} p99`]]
        : [['rate', fmtRate, false, `${sc.id} msg/s`], ['chromiumUsPerMsg', fmtUs, true, `${sc.id} browser CPU/msg`]];
      for (const [k, f, lowerBetter, label] of rows) {
        const cells = clients.map((c) => {
          const a = get(sc.id, b, c);
          const s = a?.stats[k];
          if (!s || !Number.isFinite(s.median)) return a?.errors.length ? 'error' : '–';
          const lost = a.stats.delivered && a.stats.delivered.min < 1 ? ` (lost ${((1 - a.stats.delivered.min) * 100).toFixed(1)}%)` : '';
          return range(s, f) + lost + noiseMark(a);
        });
        const w = get(sc.id, b, 'wasmqtt')?.stats[k]?.median;
        const m = get(sc.id, b, 'mqttjs')?.stats[k]?.median;
        const fl = get(sc.id, b, 'floor')?.stats[k]?.median;
        // Where lower is better, report how many times better (y / x).
        const better = (x, y) => (lowerBetter ? ratio(y, x) : ratio(x, y));
        const stored = idb ? ` ${better(get(sc.id, b, 'wasmqtt-idb')?.stats[k]?.median, w)} |` : '';
        lines.push(`| ${label} | ${cells.join(' | ')} | ${better(w, m)} | ${better(w, fl)} |${stored}`);
      }
      if (sc.id === 'qos0-64B') {
        for (const [k, label] of [['heapBefore', 'JS heap before'], ['heapPeak', 'JS heap peak'], ['heapAfter', 'JS heap after (GC)'], ['wasmMemory', 'wasm memory (not in JS heap)']]) {
          const cells = clients.map((c) => {
            const s = get(sc.id, b, c)?.stats[k];
            return s && Number.isFinite(s.median) ? range(s, fmtMB) : '–';
          });
          const w = get(sc.id, b, 'wasmqtt')?.stats[k]?.median;
          const m = get(sc.id, b, 'mqttjs')?.stats[k]?.median;
          const fl = get(sc.id, b, 'floor')?.stats[k]?.median;
          lines.push(`| qos0-64B ${label} | ${cells.join(' | ')} | ${k === 'wasmMemory' ? '' : ratio(w, m)} | ${k === 'wasmMemory' ? '' : ratio(w, fl)} |`);
        }
      }
    }
  }
  if (bundles) {
    lines.push('\n#### Bundle: exactly the files the page loads for each client\n');
    lines.push('| client | files | raw | gzip -9 |');
    lines.push('|---|---|---:|---:|');
    for (const c of clients) {
      const x = bundles[c];
      if (!x) continue;
      lines.push(`| ${c} | ${x.files.map((f) => `\`${f.url}\``).join(', ') } | ${fmtKB(x.raw)} | ${fmtKB(x.gzip9)} |`);
    }
    if (bundles.wasmqtt && bundles.mqttjs) {
      lines.push(`\nwasmqtt / MQTT.js: raw ${(bundles.wasmqtt.raw / bundles.mqttjs.raw).toFixed(2)}×, gzip -9 ${(bundles.wasmqtt.gzip9 / bundles.mqttjs.gzip9).toFixed(2)}×`);
    }
  }
  return lines.join('\n');
}

// --- main ------------------------------------------------------------------

async function main() {
  const reps = Number(opt.reps);
  const wanted = opt.scenarios?.split(',');
  const scenarios = SCENARIOS.filter((s) => !wanted || wanted.includes(s.id));
  const clients = opt.clients.split(',');
  const brokerNames = opt.brokers.split(',');
  // BENCH_BROKER_BIN: measure another build of the broker (e.g. one with a fix).
  const brokerBin = process.env.BENCH_BROKER_BIN ?? join(ROOT, 'target/release/wasmqtt-broker');
  const staged = join(opt.site, 'wasmqtt/package.json');
  if (!existsSync(staged)) throw new Error(`no staged wasmqtt package in ${opt.site}: run run.sh`);
  // What `import 'wasmqtt'` resolves to (profiling stages an unbundled entry).
  const pkg = JSON.parse(readFileSync(staged, 'utf8'));
  const exp = pkg.exports?.['.'];
  const entry = opt.entry ?? (typeof exp === 'string' ? exp : exp?.import ?? exp?.default) ?? pkg.module ?? pkg.main;
  wasmqttEntry = `/wasmqtt/${entry.replace(/^\.\//, '')}`;
  log(`wasmqtt entry: ${wasmqttEntry}`);

  const brokers = [];
  for (const b of brokerNames) {
    if (b === 'wasmqtt-broker') brokers.push(await startWasmqttBroker(brokerBin));
    else if (b === 'mosquitto') brokers.push(await startMosquitto());
    else throw new Error(`unknown broker ${b}`);
  }
  for (const b of brokers) log(`${b.name}: ${b.ws} (tcp ${b.tcp.host}:${b.tcp.port})`);
  // What the runs and tables go by: a broker and the version its clients speak.
  const targets = brokers.flatMap((b) => opt.protocols.split(',').map((v) => {
    if (v !== '5' && v !== '3.1.1') throw new Error(`unknown protocol ${v} (5 or 3.1.1)`);
    return { ...b, base: b.name, protocol: v === '5' ? 5 : 4, name: `${b.name} MQTT ${v === '5' ? '5.0' : v}` };
  }));

  const server = await startServer({
    '/wasmqtt/': join(opt.site, 'wasmqtt'),
    '/mqtt/': join(HERE, 'node_modules/mqtt/dist'),
    '/': join(HERE, 'page'),
  });
  log(`page: ${server.origin}/index.html`);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  chromiumPids = childrenNamed(process.pid, /chrom/);
  const version = browser.version();
  const startedAt = new Date().toISOString();

  try {
    if (opt.profile) return await profileMode(browser, server.origin, targets, scenarios, clients);

    const bundles = {};
    for (const c of clients) bundles[c] = await bundleSize(browser, server, targets[0], c);

    const results = [];
    const quiet = [];
    for (const sc of scenarios) {
      for (const b of targets) {
        if (sc.skip?.[b.base]) {
          log(`${sc.id.padEnd(11)} ${b.name.padEnd(15)} skipped: ${sc.skip[b.base]}`);
          continue;
        }
        const q = await waitForQuiet(NOISE, 10000);
        quiet.push({ scenario: sc.id, broker: b.name, ...q });
        if (!q.quiet) log(`  (others still use ${q.otherCores} cores; running anyway, runs will be flagged)`);
        for (let rep = 0; rep < reps; rep++) {
          for (const c of clients) {
            const r = await runOne(browser, server.origin, b, sc, c);
            r.rep = rep;
            results.push(r);
            const m = metrics(r);
            const what = r.error ? `ERROR ${r.error}`
              : sc.kind === 'rtt' ? `p50 ${fmtMs(m.p50)} p99 ${fmtMs(m.p99)}`
                : `${fmtRate(m.rate)} msg/s${m.delivered < 1 ? ` delivered ${(m.delivered * 100).toFixed(1)}%` : ''}${m.heapPeak ? ` heap peak ${fmtMB(m.heapPeak)}` : ''}`;
            log(`${sc.id.padEnd(11)} ${b.name.padEnd(15)} ${c.padEnd(8)} #${rep + 1} ${what}  others ${r.load?.otherCores ?? '?'} cores${r.noisy ? ' NOISY' : ''}`);
          }
        }
      }
    }
    const agg = aggregate(results);
    const md = headline(agg, targets) + table(agg, bundles, targets.map((b) => b.name), clients);
    const doc = {
      startedAt, finishedAt: new Date().toISOString(), chromium: version, cores: CORES, reps,
      noiseThresholdCores: NOISE,
      mqttjs: JSON.parse(readFileSync(join(HERE, 'node_modules/mqtt/package.json'), 'utf8')).version,
      brokers: brokers.map(({ name, ws }) => ({ name, ws, ...(name === 'wasmqtt-broker' ? { binary: brokerBin } : {}) })),
      protocols: opt.protocols.split(','),
      scenarios: scenarios.map(({ id, what, n, size, qos, kind }) => ({ id, what, n, size, qos, kind, e2eWindow: e2e(size, qos) })),
      bundles, quietChecks: quiet, summary: agg, runs: results,
    };
    mkdirSync(dirname(opt.out), { recursive: true });
    writeFileSync(opt.out, JSON.stringify(doc, null, 1));
    writeFileSync(opt.out.replace(/\.json$/, '.md'), md + '\n');
    console.log(md);
    const noisy = results.filter((r) => r.noisy).length;
    console.log(`\n${results.length} runs, ${noisy} flagged noisy (others > ${NOISE} cores), ${results.filter((r) => r.error).length} failed. JSON: ${opt.out}`);
  } finally {
    await browser.close();
    await server.close();
    await stopAll();
  }
}

/** One run per client and scenario with the V8 sampling profiler on; summarises self time. */
async function profileMode(browser, origin, brokers, scenarios, clients) {
  const dir = join(dirname(opt.out), 'profiles');
  mkdirSync(dir, { recursive: true });
  const report = [];
  for (const sc of scenarios) {
    for (const b of brokers) {
      for (const c of clients) {
        const r = await runOne(browser, origin, b, sc, c, { profile: true });
        if (r.error) { log(`${sc.id} ${b.name} ${c}: ${r.error}`); continue; }
        const file = join(dir, `${sc.id}-${b.name.replace(/\W+/g, "-")}-${c}.cpuprofile`);
        writeFileSync(file, JSON.stringify(r.profile));
        const a = analyse(r.profile, r.measure.received ?? r.measure.n);
        report.push({ scenario: sc.id, broker: b.name, client: c, rate: r.measure.rate, file, ...a });
        console.log(`\n=== ${sc.id} / ${b.name} / ${c}: ${fmtRate(r.measure.rate)} msg/s (profiler on), ${a.totalMs.toFixed(0)} ms sampled, ${a.usPerMessage.toFixed(2)} µs busy per message`);
        console.log('  by category (self time):');
        for (const x of a.categories) console.log(`    ${x.name.padEnd(30)} ${x.ms.toFixed(0).padStart(6)} ms ${x.pct.toFixed(1).padStart(5)}%  ${x.usPerMessage.toFixed(2)} µs/msg`);
        console.log('  top functions (self time):');
        for (const x of a.top.slice(0, 25)) console.log(`    ${x.pct.toFixed(1).padStart(5)}%  ${x.name.slice(0, 110)}  [${x.category}]`);
      }
    }
  }
  writeFileSync(opt.out.replace(/\.json$/, '-profile.json'), JSON.stringify(report, null, 1));
  console.log(`\nprofiles: ${dir}`);
}

// Interrupted: still stop the brokers (Playwright closes Chromium itself).
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => { stopAll().finally(() => process.exit(130)); });
}

main().catch(async (e) => {
  console.error(e);
  await stopAll();
  process.exit(1);
});
