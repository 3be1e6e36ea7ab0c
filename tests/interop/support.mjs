// Shared helpers for the Node interop suites: where the broker is, a
// message inbox with timeouts, unique topics.
//
// The broker's addresses come from the environment, set by
// scripts/interop-test.sh:
//   WASMQTT_BROKER_TCP  host:port of the TCP listener
//   WASMQTT_BROKER_WS   ws:// URL of the WebSocket listener
// Without them, the suite starts target/release/wasmqtt-broker itself on
// ports the OS chooses and stops it when the process exits.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import readline from 'node:readline';

import mqtt from 'mqtt';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** How long to wait for something that should happen. */
export const WAIT_MS = 5000;

let started;

/** `{ tcp: 'host:port', ws: 'ws://host:port/mqtt' }`, starting a broker if none is given. */
export async function brokerAddresses() {
  if (process.env.WASMQTT_BROKER_TCP && process.env.WASMQTT_BROKER_WS) {
    return { tcp: process.env.WASMQTT_BROKER_TCP, ws: process.env.WASMQTT_BROKER_WS };
  }
  started ??= startBroker();
  return started;
}

async function startBroker() {
  const bin = path.join(ROOT, 'target/release/wasmqtt-broker');
  const child = spawn(bin, ['--tcp', '127.0.0.1:0', '--ws', '127.0.0.1:0', '--log', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.unref();
  child.stdout.unref?.();
  process.on('exit', () => child.kill());
  const lines = readline.createInterface({ input: child.stdout });
  const line = await withTimeout(
    (async () => {
      for await (const l of lines) if (l.startsWith('LISTENING')) return l;
      throw new Error('wasmqtt-broker exited before listening');
    })(),
    10000,
    'wasmqtt-broker to listen',
  );
  const tcp = /tcp=(\S+)/.exec(line)[1];
  const ws = /ws=(\S+)/.exec(line)[1];
  return { tcp, ws: `ws://${ws}/mqtt` };
}

/** The URL MQTT.js connects to for `transport` ('tcp' or 'ws'). */
export async function urlFor(transport) {
  const a = await brokerAddresses();
  return transport === 'tcp' ? `mqtt://${a.tcp}` : a.ws;
}

/** Rejects with a message naming `what` if `promise` takes longer than `ms`. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A topic prefix no other test uses. */
export function uniqueTopic(name) {
  return `interop/${name}/${randomUUID()}`;
}

/** A client id no other test uses. */
export function uniqueId(name) {
  return `${name}-${randomUUID().slice(0, 8)}`;
}

/**
 * Buffers every message a client receives, so a test can wait for the next
 * one without missing any that arrived earlier.
 */
export class Inbox {
  constructor(client) {
    this.queue = [];
    this.waiters = [];
    client.on('message', (topic, payload, packet) => {
      const m = { topic, payload, packet, properties: packet.properties ?? {} };
      const w = this.waiters.shift();
      if (w) w(m);
      else this.queue.push(m);
    });
  }

  /** The next message, in arrival order. */
  next(ms = WAIT_MS) {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift());
    const p = new Promise((resolve) => this.waiters.push(resolve));
    return withTimeout(p, ms, 'a message');
  }

  /** The next `n` messages. */
  async take(n, ms = WAIT_MS) {
    const out = [];
    for (let i = 0; i < n; i++) out.push(await this.next(ms));
    return out;
  }
}

/**
 * Connects an MQTT.js client (never reconnecting) and resolves with
 * `{ client, connack, inbox }` once CONNACK arrived.
 */
export async function open(transport, options = {}) {
  const url = await urlFor(transport);
  const client = mqtt.connect(url, {
    protocolVersion: 5,
    reconnectPeriod: 0,
    connectTimeout: WAIT_MS,
    clientId: uniqueId('mqttjs'),
    ...options,
  });
  const inbox = new Inbox(client);
  // Errors after CONNACK show up as failed operations in the tests.
  client.on('error', () => {});
  const connected = once(client, 'connect');
  const failed = once(client, 'error').then(([e]) => {
    throw e;
  });
  const [connack] = await withTimeout(Promise.race([connected, failed]), WAIT_MS, 'CONNACK');
  failed.catch(() => {});
  return { client, connack, inbox };
}

/** Ends clients politely (DISCONNECT) and waits until they closed. */
export async function closeAll(...clients) {
  await Promise.all(clients.filter(Boolean).map((c) => c.endAsync().catch(() => {})));
}
