// Self time from a V8 .cpuprofile (CDP Profiler.stop), by category and by function.

function category(cf) {
  const u = cf.url || '';
  const f = cf.functionName || '';
  if (f === '(garbage collector)') return 'GC';
  if (f === '(idle)') return 'idle';
  if (f === '(program)') return 'browser (native: WebSocket, event dispatch)';
  if (u.startsWith('wasm://') || u.endsWith('.wasm')) return 'wasm (Rust)';
  if (u.endsWith('/pkg/wasmqtt.js')) return 'wasm-bindgen glue (pkg/wasmqtt.js)';
  if (/\/js\/(index|options|bridge)\.js$/.test(u)) return 'wasmqtt JS wrapper (js/)';
  if (u.endsWith('/pkg/index.js')) return 'wasmqtt JS bundle (pkg/index.js)';
  if (u.includes('mqtt.esm.js')) return 'MQTT.js bundle';
  if (u.endsWith('/clients/floor.js')) return 'floor client';
  if (u.includes('/harness.js') || u.includes('/clients/')) return 'bench harness + adapter';
  if (!u) return 'V8/Blink builtins';
  return 'other JS';
}

export function analyse(profile, messages) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    // The delta before the next sample is the time spent in this one.
    const dt = (timeDeltas[i + 1] ?? 0) / 1000;
    self.set(samples[i], (self.get(samples[i]) ?? 0) + dt);
  }
  const fn = new Map();
  const cats = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, ms] of self) {
    const cf = byId.get(id).callFrame;
    const cat = category(cf);
    if (cat === 'idle') { idle += ms; continue; }
    total += ms;
    cats.set(cat, (cats.get(cat) ?? 0) + ms);
    const file = (cf.url || '').split('/').pop();
    const key = `${cf.functionName || '(anonymous)'}${file ? ` ${file}:${cf.lineNumber + 1}` : ''}`;
    const e = fn.get(key) ?? { name: key, category: cat, ms: 0 };
    e.ms += ms;
    fn.set(key, e);
  }
  const pct = (ms) => (100 * ms) / total;
  return {
    totalMs: total,
    idleMs: idle,
    usPerMessage: (total * 1000) / messages,
    categories: [...cats].map(([name, ms]) => ({ name, ms, pct: pct(ms), usPerMessage: (ms * 1000) / messages }))
      .sort((a, b) => b.ms - a.ms),
    top: [...fn.values()].map((e) => ({ ...e, pct: pct(e.ms) })).sort((a, b) => b.ms - a.ms).slice(0, 60),
  };
}
