// One device's readings: every message of the last RAW_S seconds, and
// BUCKET_S averages for up to HISTORY_S (what the longer ranges show and
// what is kept across reloads).

export const FIELDS = ['temperature', 'humidity', 'battery', 'rssi'];
export const RAW_S = 130;
export const BUCKET_S = 10;
export const HISTORY_S = 3600;
/** Most raw points kept: at high rates the raw window shows what fits. */
const MAX_RAW = 2400;

const columns = () => ({ t: [], temperature: [], humidity: [], battery: [], rssi: [] });

function dropBefore(cols, cutoff, max = Infinity) {
  let drop = 0;
  while (drop < cols.t.length && (cols.t[drop] < cutoff || cols.t.length - drop > max)) drop++;
  if (drop) for (const arr of Object.values(cols)) arr.splice(0, drop);
}

export class History {
  constructor() {
    this.raw = columns();
    this.buckets = columns();
    /** The bucket being filled: { t, sums, counts }. */
    this.open = null;
  }

  /**
   * Adds a reading at `t` seconds. Returns the bucket it completed, if any:
   * { t, values } with one average per FIELDS entry (null when none came).
   */
  add(t, reading) {
    const raw = this.raw;
    raw.t.push(t);
    for (const key of FIELDS) raw[key].push(Number.isFinite(reading[key]) ? reading[key] : null);
    dropBefore(raw, t - RAW_S, MAX_RAW);

    const start = Math.floor(t / BUCKET_S) * BUCKET_S;
    let done = null;
    if (this.open && this.open.t !== start) done = this.close();
    this.open ??= { t: start, sums: FIELDS.map(() => 0), counts: FIELDS.map(() => 0) };
    FIELDS.forEach((key, i) => {
      if (Number.isFinite(reading[key])) {
        this.open.sums[i] += reading[key];
        this.open.counts[i]++;
      }
    });
    return done;
  }

  close() {
    const { t, sums, counts } = this.open;
    this.open = null;
    const values = sums.map((s, i) => (counts[i] ? s / counts[i] : null));
    this.addBucket(t, values);
    return { t, values };
  }

  /** A stored average (from IndexedDB), kept in time order. */
  addBucket(t, values) {
    const b = this.buckets;
    let at = b.t.length;
    while (at > 0 && b.t[at - 1] > t) at--;
    if (b.t[at - 1] === t) return;
    b.t.splice(at, 0, t);
    FIELDS.forEach((key, i) => b[key].splice(at, 0, values[i] ?? null));
    dropBefore(b, t - HISTORY_S);
  }

  /**
   * Columns for the last `range` seconds before `now` (seconds): averages
   * up to where the raw readings start, then every raw reading.
   */
  view(range, now) {
    const from = now - range;
    const out = columns();
    const rawStart = this.raw.t[0] ?? Infinity;
    const b = this.buckets;
    for (let i = 0; i < b.t.length; i++) {
      if (b.t[i] < from || b.t[i] + BUCKET_S > rawStart) continue;
      out.t.push(b.t[i] + BUCKET_S / 2);
      for (const key of FIELDS) out[key].push(b[key][i]);
    }
    const r = this.raw;
    for (let i = 0; i < r.t.length; i++) {
      if (r.t[i] < from) continue;
      out.t.push(r.t[i]);
      for (const key of FIELDS) out[key].push(r[key][i]);
    }
    return out;
  }
}
