// mosquitto_pub / mosquitto_sub / mosquitto_rr (mosquitto-clients 2.x)
// against wasmqtt-broker over TCP, as MQTT 5.0 (-V mqttv5) and 3.1.1
// (-V mqttv311). The mosquitto clients have no WebSocket transport.
//
//   node --test tests/interop/mosquitto_clients.test.mjs
//
// A subscriber is ready once it printed "received SUBACK" (-d); its output
// is line-buffered through stdbuf so the test sees that line at once.

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import readline from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';

import { stopChild } from '../support/child.mjs';
import { brokerAddresses, uniqueTopic, uniqueId, withTimeout, WAIT_MS } from './support.mjs';

const { tcp } = await brokerAddresses();
const [HOST, PORT] = [tcp.slice(0, tcp.lastIndexOf(':')), tcp.slice(tcp.lastIndexOf(':') + 1)];
const FIELDS = ['topic', 'qos', 'retain', 'subIds', 'expiry', 'responseTopic', 'correlation', 'user', 'hex'];
// Payloads are printed as hex so any byte survives; '|' never occurs in the values used.
const FORMAT = `MSG|${['%t', '%q', '%r', '%S', '%E', '%R', '%D', '%P', '%x'].join('|')}`;

const running = new Set();
after(() => {
  for (const p of running) p.kill('SIGKILL');
});

/** A running mosquitto_sub whose received messages can be awaited one by one. */
class Sub {
  static async start(version, args) {
    const s = new Sub();
    s.proc = spawn('stdbuf', ['-oL', 'mosquitto_sub', '-d', '-h', HOST, '-p', PORT, '-V', version, '-F', FORMAT, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(s.proc);
    s.stderr = '';
    s.proc.stderr.on('data', (d) => (s.stderr += d));
    s.exited = once(s.proc, 'exit').then(([code]) => {
      running.delete(s.proc);
      return code;
    });
    s.queue = [];
    s.waiters = [];
    let subscribed;
    const ready = new Promise((resolve) => (subscribed = resolve));
    readline.createInterface({ input: s.proc.stdout }).on('line', (line) => {
      if (/received SUBACK/.test(line)) subscribed();
      if (!line.startsWith('MSG|')) return;
      const values = line.slice(4).split('|');
      const m = Object.fromEntries(FIELDS.map((f, i) => [f, values[i]]));
      m.payload = Buffer.from(m.hex, 'hex');
      const w = s.waiters.shift();
      if (w) w(m);
      else s.queue.push(m);
    });
    await withTimeout(
      Promise.race([ready, s.exited.then((c) => Promise.reject(new Error(`mosquitto_sub exited ${c}: ${s.stderr}`)))]),
      WAIT_MS,
      `mosquitto_sub ${args.join(' ')} to be subscribed`,
    );
    return s;
  }

  next() {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift());
    return withTimeout(new Promise((r) => this.waiters.push(r)), WAIT_MS, 'a message at mosquitto_sub');
  }

  /**
   * Stops it with `signal`, then SIGKILL if it has not exited within the
   * grace period: mosquitto_sub can deadlock in its SIGTERM handler.
   */
  kill(signal = 'SIGTERM') {
    return stopChild(this.proc, { signal });
  }
}

/** Runs a mosquitto client to completion; resolves with its stdout. */
function run(tool, version, args) {
  return new Promise((resolve, reject) => {
    execFile(tool, ['-h', HOST, '-p', PORT, '-V', version, ...args], { timeout: WAIT_MS * 2 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${tool} ${args.join(' ')}: ${err.message} ${stderr}`));
      else resolve(stdout);
    });
  });
}
const pub = (version, args) => run('mosquitto_pub', version, args);

for (const version of ['mqttv5', 'mqttv311']) {
  describe(`mosquitto clients ${version}`, () => {
    test('publish and subscribe at QoS 0, 1 and 2', async () => {
      const t = uniqueTopic('mosq-qos');
      const sub = await Sub.start(version, ['-q', '2', '-t', `${t}/#`]);
      for (const qos of ['0', '1', '2']) {
        await pub(version, ['-q', qos, '-t', `${t}/${qos}`, '-m', `qos ${qos}`]);
        const m = await sub.next();
        assert.equal(m.topic, `${t}/${qos}`);
        assert.equal(m.qos, qos);
        assert.equal(m.retain, '0');
        assert.equal(m.payload.toString(), `qos ${qos}`);
      }
      await sub.kill();
    });

    test('several messages from one mosquitto_pub -l, in order', async () => {
      const t = uniqueTopic('mosq-lines');
      const sub = await Sub.start(version, ['-q', '1', '-t', t]);
      const lines = [...Array(50).keys()].map((i) => `line ${i}`);
      await new Promise((resolve, reject) => {
        const p = execFile('mosquitto_pub', ['-h', HOST, '-p', PORT, '-V', version, '-q', '1', '-t', t, '-l'], { timeout: WAIT_MS * 2 }, (err) =>
          err ? reject(err) : resolve(),
        );
        p.stdin.end(lines.join('\n') + '\n');
      });
      for (const line of lines) assert.equal((await sub.next()).payload.toString(), line);
      await sub.kill();
    });

    test('retained message: RETAIN set for a new subscriber, cleared by -n', async () => {
      const t = uniqueTopic('mosq-retain');
      await pub(version, ['-q', '1', '-r', '-t', t, '-m', 'kept']);
      const late = await Sub.start(version, ['-q', '1', '-t', t]);
      const m = await late.next();
      assert.equal(m.payload.toString(), 'kept');
      assert.equal(m.retain, '1');
      await late.kill();
      await pub(version, ['-q', '1', '-r', '-n', '-t', t]);
      const after = await Sub.start(version, ['-q', '1', '-t', t]);
      await pub(version, ['-q', '1', '-t', t, '-m', 'sentinel']);
      const first = await after.next();
      assert.equal(first.payload.toString(), 'sentinel', 'no retained message after clearing');
      assert.equal(first.retain, '0');
      await after.kill();
    });

    test('will published when the client process is killed (SIGKILL)', async () => {
      const t = uniqueTopic('mosq-will');
      const watcher = await Sub.start(version, ['-q', '1', '-t', t]);
      const willArgs = ['--will-topic', t, '--will-payload', 'mosquitto died', '--will-qos', '1'];
      if (version === 'mqttv5') willArgs.push('-D', 'will', 'user-property', 'who', 'mosquitto_sub');
      const victim = await Sub.start(version, ['-q', '0', '-t', `${t}/unused`, ...willArgs]);
      await victim.kill('SIGKILL');
      const m = await watcher.next();
      assert.equal(m.payload.toString(), 'mosquitto died');
      assert.equal(m.qos, '1');
      if (version === 'mqttv5') assert.equal(m.user, 'who:mosquitto_sub');
      await watcher.kill();
    });

    test('persistent session (-c): QoS 1 messages queued while offline', async () => {
      const t = uniqueTopic('mosq-persist');
      const id = uniqueId('mosq-persist');
      const watcher = await Sub.start(version, ['-q', '1', '-t', `${t}/offline`]);
      // Killed with a will: the will is routed once the session is detached.
      const first = await Sub.start(version, ['-c', '-i', id, '-q', '1', '-t', t, '--will-topic', `${t}/offline`, '--will-payload', 'offline']);
      await first.kill('SIGKILL');
      assert.equal((await watcher.next()).payload.toString(), 'offline');
      await pub(version, ['-q', '1', '-t', t, '-m', 'queued 1']);
      await pub(version, ['-q', '2', '-t', t, '-m', 'queued 2']);
      const again = await Sub.start(version, ['-c', '-i', id, '-q', '1', '-t', t]);
      assert.equal((await again.next()).payload.toString(), 'queued 1');
      const second = await again.next();
      assert.equal(second.payload.toString(), 'queued 2');
      assert.equal(second.qos, '1');
      await again.kill();
      await watcher.kill();
      // A clean connection with the same id ends the stored session.
      await pub(version, ['-i', id, '-t', `${t}/bye`, '-m', 'bye']);
    });
  });
}

describe('mosquitto clients mqttv5 properties', () => {
  const v = 'mqttv5';

  test('user properties are forwarded in order', async () => {
    const t = uniqueTopic('mosq-user');
    const sub = await Sub.start(v, ['-q', '1', '-t', t]);
    await pub(v, ['-q', '1', '-t', t, '-m', 'p', '-D', 'publish', 'user-property', 'k', '1', '-D', 'publish', 'user-property', 'other', 'x', '-D', 'publish', 'user-property', 'k', '2']);
    assert.equal((await sub.next()).user, 'k:1 other:x k:2');
    await sub.kill();
  });

  test('request/response: mosquitto_rr gets the reply to its Response Topic with its Correlation Data', async () => {
    const t = uniqueTopic('mosq-rr');
    const responder = await Sub.start(v, ['-q', '1', '-t', `${t}/req`]);
    const rr = run('mosquitto_rr', v, ['-q', '1', '-t', `${t}/req`, '-e', `${t}/resp`, '-m', 'ping?', '-D', 'publish', 'correlation-data', 'corr-42', '-W', '5', '-F', '%t|%D|%p']);
    const req = await responder.next();
    assert.equal(req.responseTopic, `${t}/resp`);
    assert.equal(req.correlation, 'corr-42');
    await pub(v, ['-q', '1', '-t', req.responseTopic, '-m', 'pong!', '-D', 'publish', 'correlation-data', req.correlation]);
    assert.equal((await rr).trim(), `${t}/resp|corr-42|pong!`);
    await responder.kill();
  });

  test('subscription identifier from -D subscribe subscription-identifier', async () => {
    const t = uniqueTopic('mosq-subid');
    const sub = await Sub.start(v, ['-q', '1', '-t', `${t}/#`, '-D', 'subscribe', 'subscription-identifier', '4242']);
    await pub(v, ['-q', '1', '-t', `${t}/a`, '-m', 'x']);
    assert.equal((await sub.next()).subIds, '4242');
    await sub.kill();
  });

  test('message expiry: interval counts down; an expired retained message is not sent', async () => {
    const t = uniqueTopic('mosq-expiry');
    const sub = await Sub.start(v, ['-q', '1', '-t', `${t}/live`]);
    await pub(v, ['-q', '1', '-t', `${t}/live`, '-m', 'live', '-D', 'publish', 'message-expiry-interval', '100']);
    const live = Number((await sub.next()).expiry);
    assert.ok(live >= 99 && live <= 100, `expiry ${live}`);
    await sub.kill();

    await pub(v, ['-q', '1', '-r', '-t', `${t}/short`, '-m', 'short', '-D', 'publish', 'message-expiry-interval', '1']);
    await delay(1200); // the feature under test: let it expire
    const late = await Sub.start(v, ['-q', '1', '-t', `${t}/short`]);
    await pub(v, ['-q', '1', '-t', `${t}/short`, '-m', 'sentinel']);
    assert.equal((await late.next()).payload.toString(), 'sentinel');
    await late.kill();
  });

  test('shared subscription: two mosquitto_sub members share the messages', async () => {
    const t = uniqueTopic('mosq-share');
    const a = await Sub.start(v, ['-q', '1', '-t', `$share/g/${t}`, '-t', `${t}/end`]);
    const b = await Sub.start(v, ['-q', '1', '-t', `$share/g/${t}`, '-t', `${t}/end`]);
    for (let i = 0; i < 6; i++) await pub(v, ['-q', '1', '-t', t, '-m', String(i)]);
    await pub(v, ['-q', '1', '-t', `${t}/end`, '-m', 'end']);
    const got = [];
    for (const s of [a, b]) {
      const mine = [];
      for (let m = await s.next(); m.topic !== `${t}/end`; m = await s.next()) mine.push(Number(m.payload.toString()));
      got.push(mine);
    }
    assert.deepEqual([...got[0], ...got[1]].sort(), [0, 1, 2, 3, 4, 5], JSON.stringify(got));
    assert.equal(got[0].length, 3, JSON.stringify(got));
    await a.kill();
    await b.kill();
  });
});
