// Bounded waits on child processes, shared by every Node test and tool that
// starts one. A child may ignore or deadlock on SIGTERM (mosquitto_sub has
// been seen stuck in its own signal handler), so no wait here is unbounded:
// after the grace period it gets SIGKILL, which it cannot ignore.

/** Default time a child gets to exit after SIGTERM before SIGKILL. */
export const GRACE_MS = 3000;
/** How long to wait for the kernel to reap a child after SIGKILL. */
const KILL_MS = 5000;

/** Whether `child` has already exited. */
export function exited(child) {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Resolves with `{ code, signal }` once `child` exits, or with `null` after
 * `ms` milliseconds if it has not.
 */
export function waitExit(child, ms) {
  if (exited(child)) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => {
    const done = (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    };
    const timer = setTimeout(() => {
      child.off('exit', done);
      resolve(null);
    }, ms);
    child.once('exit', done);
  });
}

function send(child, group, signal) {
  try {
    if (group) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // Already gone.
  }
}

/**
 * Stops `child`: `signal` (SIGTERM unless told), then SIGKILL if it has not
 * exited within `graceMs`. `group: true` signals the child's whole process
 * group (spawned with `detached: true`). Resolves with `{ code, signal,
 * killed }`, `killed` saying whether SIGKILL was needed; rejects only if
 * the child outlives SIGKILL too.
 */
export async function stopChild(child, { graceMs = GRACE_MS, signal = 'SIGTERM', group = false } = {}) {
  if (exited(child)) return { code: child.exitCode, signal: child.signalCode, killed: false };
  send(child, group, signal);
  const polite = signal === 'SIGKILL' ? await waitExit(child, KILL_MS) : await waitExit(child, graceMs);
  if (polite) return { ...polite, killed: signal === 'SIGKILL' };
  send(child, group, 'SIGKILL');
  const forced = await waitExit(child, KILL_MS);
  if (!forced) throw new Error(`process ${child.pid} survived SIGKILL for ${KILL_MS} ms`);
  return { ...forced, killed: true };
}

/**
 * Resolves with the first line of `stream` matching `pattern`; rejects when
 * `ms` pass first, or the stream ends, naming `what`.
 */
export function waitForLine(stream, pattern, ms, what) {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const finish = (fn, value) => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
      fn(value);
    };
    const onData = (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      const line = lines.find((l) => pattern.test(l));
      if (line !== undefined) finish(resolve, line);
    };
    const onEnd = () => finish(reject, new Error(`stream ended before ${what}`));
    const timer = setTimeout(() => finish(reject, new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    stream.setEncoding('utf8');
    stream.on('data', onData);
    stream.once('end', onEnd);
  });
}
