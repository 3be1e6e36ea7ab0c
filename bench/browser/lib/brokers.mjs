// Starts wasmqtt-broker and mosquitto on free loopback ports; both stop with stopAll().
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { stopChild } from '../../../tests/support/child.mjs';

const children = [];
const dirs = [];

/** A port the OS just handed out (mosquitto cannot bind port 0 for WebSockets). */
export async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function waitForPort(port, ms = 10000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise((r) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); r(true); });
      c.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`port ${port} did not open`);
}

/** target/release/wasmqtt-broker on port 0; resolves with { ws, tcp: {host, port}, pid }. */
export function startWasmqttBroker(binary) {
  const dir = mkdtempSync(join(tmpdir(), 'wasmqtt-bench-broker-'));
  dirs.push(dir);
  const conf = join(dir, 'broker.toml');
  // Defaults otherwise. Its default of 10,000 messages queued per session
  // drops part of the fan-in burst (as mosquitto's limit would); see
  // startMosquitto.
  writeFileSync(conf, '[limits]\nmax_queued_messages = 10000000\n');
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['--config', conf, '--tcp', '127.0.0.1:0', '--ws', '127.0.0.1:0', '--log', 'warn'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    let out = '';
    const timer = setTimeout(() => reject(new Error('wasmqtt-broker did not print LISTENING')), 10000);
    child.on('exit', (code) => reject(new Error(`wasmqtt-broker exited with ${code}`)));
    child.stdout.on('data', (d) => {
      out += d;
      const m = /LISTENING tcp=([\d.]+):(\d+) ws=([\d.]+:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          name: 'wasmqtt-broker',
          ws: `ws://${m[3]}/mqtt`,
          tcp: { host: m[1], port: Number(m[2]) },
          pid: child.pid,
        });
      }
    });
  });
}

/** mosquitto with a generated config: a TCP listener (required) and a WebSocket one. */
export async function startMosquitto() {
  const dir = mkdtempSync(join(tmpdir(), 'wasmqtt-bench-mosquitto-'));
  dirs.push(dir);
  const tcp = await freePort();
  const ws = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [
    'persistence false',
    'allow_anonymous true',
    'log_type error',
    // Defaults otherwise. By default mosquitto drops QoS 0 messages once 1000
    // packets wait for a subscriber's socket; the fan-in burst would lose
    // messages and leave rates on different counts. 0 = no limit.
    'max_queued_messages 0',
    // Extra global options for experiments, e.g. "set_tcp_nodelay true".
    ...(process.env.BENCH_MOSQUITTO_CONF ?? '').split(';').map((l) => l.trim()).filter(Boolean),
    `listener ${tcp} 127.0.0.1`,
    `listener ${ws} 127.0.0.1`,
    'protocol websockets',
    '',
  ].join('\n'));
  const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  const exited = new Promise((_, reject) => child.on('exit', (c) => reject(new Error(`mosquitto exited with ${c}`))));
  await Promise.race([Promise.all([waitForPort(tcp), waitForPort(ws)]), exited]);
  exited.catch(() => {});
  return { name: 'mosquitto', ws: `ws://127.0.0.1:${ws}`, tcp: { host: '127.0.0.1', port: tcp }, pid: child.pid };
}

export async function stopAll() {
  for (const c of children) {
    c.removeAllListeners('exit');
    await stopChild(c);
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
