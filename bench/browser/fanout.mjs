#!/usr/bin/env node
// Fan-out to tabs: N messages to 3 tabs of one origin, through wasmqtt's
// shared mode (one connection, in a SharedWorker) and through three
// separate connections (the core client in each tab), alternating in the
// same run, against wasmqtt-broker and mosquitto. Started by
// `bash bench/browser/run.sh --fanout`, which builds and stages the package.
//
//   node fanout.mjs [--reps 3] [--n 10000] [--size 64] [--brokers wasmqtt-broker,mosquitto]
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

import { startWasmqttBroker, startMosquitto, stopAll } from './lib/brokers.mjs';
import { startServer } from './lib/server.mjs';
import { childrenNamed, treeTicks, TICK_MS } from './lib/cpu.mjs';
import { summary } from './lib/stats.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const { values: opt } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    n: { type: 'string', default: '10000' },
    size: { type: 'string', default: '64' },
    brokers: { type: 'string', default: 'wasmqtt-broker,mosquitto' },
    site: { type: 'string', default: join(ROOT, 'target/bench/site') },
    out: { type: 'string', default: join(ROOT, 'target/bench/fanout.json') },
  },
});
const TABS = 3;
const MODES = ['shared', 'separate'];
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const log = (...a) => console.error(...a);

async function runOne(browser, origin, broker, mode, chromiumPids) {
  const n = Number(opt.n);
  const id = Math.random().toString(36).slice(2);
  const topic = `bench/fanout/${id}`;
  // A fresh context per run: its SharedWorker and connections end with it.
  const context = await browser.newContext();
  const errors = [];
  try {
    const open = async () => {
      const page = await context.newPage();
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${origin}/fanout.html`);
      await page.waitForFunction(() => window.fanout);
      return page;
    };
    const tabs = [];
    for (let i = 0; i < TABS; i++) tabs.push(await open());
    const publisher = await open();
    await Promise.all(tabs.map((p, i) => p.evaluate((a) => window.fanout.subscribe(a),
      { mode, url: broker.ws, topic, clientId: `fanout-${id}`, n, id: i })));
    const cpu0 = { chromium: chromiumPids.reduce((a, p) => a + treeTicks(p), 0), broker: treeTicks(broker.pid) };
    const r = await publisher.evaluate((a) => window.fanout.publish(a),
      { url: broker.ws, topic, n, size: Number(opt.size), tabs: TABS });
    const chromiumMs = (chromiumPids.reduce((a, p) => a + treeTicks(p), 0) - cpu0.chromium) * TICK_MS;
    const brokerMs = (treeTicks(broker.pid) - cpu0.broker) * TICK_MS;
    const deliveries = r.delivered * TABS;
    await Promise.all(tabs.map((p) => p.evaluate(() => window.fanout.end()).catch(() => {})));
    return {
      mode, broker: broker.name, ms: r.ms, delivered: r.delivered / n,
      rate: (deliveries * 1000) / r.ms,
      chromiumUsPerDelivery: (chromiumMs * 1000) / deliveries,
      brokerUsPerDelivery: (brokerMs * 1000) / deliveries,
      errors,
    };
  } catch (e) {
    return { mode, broker: broker.name, error: String(e?.message ?? e), errors };
  } finally {
    await context.close().catch(() => {});
  }
}

async function main() {
  if (!existsSync(join(opt.site, 'wasmqtt/pkg/shared.js'))) throw new Error(`no staged package in ${opt.site}: run run.sh --fanout`);
  const brokers = [];
  for (const b of opt.brokers.split(',')) {
    if (b === 'wasmqtt-broker') brokers.push(await startWasmqttBroker(join(ROOT, 'target/release/wasmqtt-broker')));
    else if (b === 'mosquitto') brokers.push(await startMosquitto());
    else throw new Error(`unknown broker ${b}`);
  }
  const server = await startServer({ '/wasmqtt/': join(opt.site, 'wasmqtt'), '/': join(HERE, 'page') });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const chromiumPids = childrenNamed(process.pid, /chrom/);
  const results = [];
  try {
    for (const broker of brokers) {
      for (let rep = 0; rep < Number(opt.reps); rep++) {
        for (const mode of MODES) {
          const r = await runOne(browser, server.origin, broker, mode, chromiumPids);
          results.push(r);
          log(`${broker.name.padEnd(15)} ${mode.padEnd(9)} #${rep + 1} ${r.error ? `ERROR ${r.error}`
            : `${(r.rate / 1000).toFixed(1)}k deliveries/s, ${r.chromiumUsPerDelivery.toFixed(1)} µs browser CPU each, delivered ${(r.delivered * 100).toFixed(1)}%`}`);
        }
      }
    }
  } finally {
    await browser.close();
    await server.close();
    await stopAll();
  }
  const f = (s, d = 1, k = 1) => `${(s.median / k).toFixed(d)} (${(s.min / k).toFixed(d)}–${(s.max / k).toFixed(d)})`;
  const lines = [`fan-out: ${opt.n} × ${opt.size} B QoS 0 to ${TABS} tabs; median (min–max) of ${opt.reps} runs`, '',
    '| broker | mode | connections | deliveries/s (k) | browser CPU µs/delivery | broker CPU µs/delivery | delivered |',
    '|---|---|---:|---:|---:|---:|---:|'];
  for (const broker of brokers) {
    for (const mode of MODES) {
      const rs = results.filter((r) => r.broker === broker.name && r.mode === mode && !r.error);
      if (!rs.length) continue;
      const s = (k) => summary(rs.map((r) => r[k]));
      lines.push(`| ${broker.name} | ${mode} | ${mode === 'shared' ? 1 : TABS} | ${f(s('rate'), 1, 1000)} | `
        + `${f(s('chromiumUsPerDelivery'))} | ${f(s('brokerUsPerDelivery'), 2)} | ${(s('delivered').min * 100).toFixed(1)}% |`);
    }
  }
  const md = lines.join('\n');
  mkdirSync(dirname(opt.out), { recursive: true });
  writeFileSync(opt.out, JSON.stringify({ n: Number(opt.n), size: Number(opt.size), tabs: TABS, results }, null, 1));
  writeFileSync(opt.out.replace(/\.json$/, '.md'), `${md}\n`);
  console.log(md);
}

for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => { stopAll().finally(() => process.exit(130)); });
main().catch(async (e) => {
  console.error(e);
  await stopAll();
  process.exit(1);
});
