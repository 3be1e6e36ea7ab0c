// How busy the machine was while a scenario ran, and how much of that was
// someone else: /proc/stat (all CPUs) minus the CPU time of this process tree
// (the runner, Chromium, the brokers, the load generator).
import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';

const TICK = 100; // USER_HZ; Linux reports /proc times in 1/100 s.
export const CORES = cpus().length;

function machineTicks() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  return { busy: user + nice + system + irq + softirq + (steal ?? 0), total: f.reduce((a, b) => a + b, 0), iowait };
}

function procStat(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // Fields after the name: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17).
    return { ppid: Number(rest[1]), cpu: Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]) };
  } catch {
    return null;
  }
}

/** CPU ticks of `root` and all its descendants (children that exited count in their parent's cutime). */
export function treeTicks(root) {
  const all = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(name);
    if (st) all.set(Number(name), st);
  }
  const kids = new Map();
  for (const [pid, st] of all) {
    if (!kids.has(st.ppid)) kids.set(st.ppid, []);
    kids.get(st.ppid).push(pid);
  }
  let sum = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop();
    const st = all.get(pid);
    if (st) sum += st.cpu;
    stack.push(...(kids.get(pid) ?? []));
  }
  return sum;
}

function loadavg() {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

export function cpuMark() {
  return { t: performance.now(), machine: machineTicks(), own: treeTicks(process.pid), loadavg: loadavg() };
}

/** Cores used by everything, by us, and by others between two marks. */
export function cpuDelta(a, b = cpuMark()) {
  const secs = (b.t - a.t) / 1000;
  const busy = (b.machine.busy - a.machine.busy) / TICK / secs;
  const own = (b.own - a.own) / TICK / secs;
  return {
    seconds: +secs.toFixed(3),
    machineCores: +busy.toFixed(2),
    ownCores: +own.toFixed(2),
    otherCores: +Math.max(0, busy - own).toFixed(2),
    loadavgBefore: a.loadavg,
    loadavgAfter: b.loadavg,
  };
}

/** Waits (up to maxMs) until others use less than `threshold` cores over a 1 s window. */
export async function waitForQuiet(threshold, maxMs) {
  const until = Date.now() + maxMs;
  let last;
  do {
    const a = cpuMark();
    await new Promise((r) => setTimeout(r, 1000));
    last = cpuDelta(a);
    if (last.otherCores < threshold) return { quiet: true, ...last };
  } while (Date.now() < until);
  return { quiet: false, ...last };
}

/** Child processes of `parent` whose command name matches `re`. */
export function childrenNamed(parent, re) {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(name);
    if (!st || st.ppid !== parent) continue;
    try {
      if (re.test(readFileSync(`/proc/${name}/comm`, 'utf8').trim())) out.push(Number(name));
    } catch { /* gone */ }
  }
  return out;
}

export const TICK_MS = 1000 / TICK;
