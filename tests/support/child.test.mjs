// A child that ignores SIGTERM must not hold a test run up: it is killed
// once the grace period is over, both by `stopChild` (Node) and by `stop_pids`
// and `within` (the scripts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { stopChild, waitExit, waitForLine } from './child.mjs';

const PROCESSES_SH = fileURLToPath(new URL('../../scripts/processes.sh', import.meta.url));
// Ignores SIGTERM, says so, then idles forever.
const STUBBORN = "process.on('SIGTERM', () => {}); console.log('READY'); setInterval(() => {}, 1000);";
const GRACE_MS = 300;
// What scheduling may add on top of the grace period on a loaded machine.
const SLACK_MS = 4000;

/**
 * Whether process `pid` (not our child) is gone, or a zombie waiting for
 * init to reap it, within `ms`.
 */
async function gone(pid, ms) {
  const deadline = Date.now() + ms;
  for (;;) {
    let state;
    try {
      state = /\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))[1];
    } catch {
      return true;
    }
    if (state === 'Z') return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function spawnReady(args) {
  const child = spawn(args[0], args.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  return waitForLine(child.stdout, /^READY/, 10_000, 'READY').then(() => child);
}

test('stopChild: a child ignoring SIGTERM is killed with SIGKILL once the grace period is over', async () => {
  const child = await spawnReady([process.execPath, '-e', STUBBORN]);
  const start = Date.now();
  const result = await stopChild(child, { graceMs: GRACE_MS });
  const took = Date.now() - start;
  assert.equal(result.signal, 'SIGKILL');
  assert.equal(result.killed, true);
  assert.ok(took >= GRACE_MS, `SIGKILL came after ${took} ms, before the grace period`);
  assert.ok(took < GRACE_MS + SLACK_MS, `stopping took ${took} ms`);
});

test('stopChild: a child that honours SIGTERM is not killed', async () => {
  const child = await spawnReady([process.execPath, '-e', "console.log('READY'); setInterval(() => {}, 1000);"]);
  const result = await stopChild(child, { graceMs: 10_000 });
  assert.equal(result.signal, 'SIGTERM');
  assert.equal(result.killed, false);
});

test('waitExit gives up after its bound', async () => {
  const child = await spawnReady([process.execPath, '-e', STUBBORN]);
  assert.equal(await waitExit(child, 100), null);
  await stopChild(child, { signal: 'SIGKILL' });
});

test('waitForLine gives up after its bound', async () => {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000);'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await assert.rejects(waitForLine(child.stdout, /^READY/, 100, 'READY'), /timed out after 100 ms waiting for READY/);
  await stopChild(child, { signal: 'SIGKILL' });
});

test('stop_pids (scripts/processes.sh): a process ignoring SIGTERM is killed once the grace period is over', async () => {
  // The shell starts the stubborn child, then stops it with a 1 s grace.
  const script = [
    '. "$1"',
    'coproc STUBBORN { exec "$2" -e "$3"; }',
    'pid=$STUBBORN_PID',
    'read -r -t 10 line <&"${STUBBORN[0]}" && [[ $line == READY ]] || exit 1',
    'start=$EPOCHREALTIME',
    'stop_pids 1 "$pid"',
    'echo "STOPPED $start $EPOCHREALTIME"',
    'kill -0 "$pid" 2>/dev/null && echo ALIVE || echo GONE',
  ].join('\n');
  const shell = spawn('bash', ['-c', script, 'bash', PROCESSES_SH, process.execPath, STUBBORN], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  shell.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  const exit = await waitExit(shell, 15_000);
  if (!exit) await stopChild(shell, { signal: 'SIGKILL' });
  assert.ok(exit, `the shell did not finish: ${out}`);
  const [, a, b] = /STOPPED (\S+) (\S+)/.exec(out) ?? [];
  const took = (Number(b) - Number(a)) * 1000;
  assert.ok(took >= 1000 && took < 1000 + SLACK_MS, `stop_pids took ${took} ms: ${out}`);
  assert.match(out, /GONE/);
});

test('within (scripts/processes.sh): a step ignoring SIGTERM is killed with its children once the limit and the grace period are over', async () => {
  // The step is a shell whose child ignores SIGTERM; it prints the child's pid.
  const step = `"$1" -e "$2" & echo "CHILD $!"; wait`;
  const script = [
    '. "$1"',
    'start=$EPOCHREALTIME',
    'status=0',
    'WASMQTT_KILL_AFTER=1 WASMQTT_STEP="stubborn step" within 1 bash -c "$4" bash "$2" "$3" || status=$?',
    'echo "DONE $status $start $EPOCHREALTIME"',
  ].join('\n');
  const shell = spawn('bash', ['-c', script, 'bash', PROCESSES_SH, process.execPath, STUBBORN, step], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  shell.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  shell.stderr.setEncoding('utf8').on('data', (d) => (out += d));
  const exit = await waitExit(shell, 20_000);
  if (!exit) await stopChild(shell, { signal: 'SIGKILL' });
  assert.ok(exit, `the shell did not finish: ${out}`);
  const [, status, a, b] = /DONE (\d+) (\S+) (\S+)/.exec(out) ?? [];
  // 124: the shell itself ended on SIGTERM; its child needed SIGKILL.
  assert.equal(status, '124', out);
  const took = (Number(b) - Number(a)) * 1000;
  assert.ok(took >= 2000 && took < 2000 + SLACK_MS, `within took ${took} ms: ${out}`);
  assert.match(out, /TIMED OUT: stubborn step did not finish within 1s/);
  const pid = Number(/CHILD (\d+)/.exec(out)?.[1]);
  assert.ok(pid > 0, out);
  assert.ok(await gone(pid, 5000), 'the step\'s child was killed too');
});
