// wasmqtt/store: the session journal (crates/session/src/store.rs) read as
// store operations. Values are opaque bytes here: what they mean is the
// session's business; keys are 8 bytes, big-endian, so byte order is key order.

export const PUT = 1;
export const DELETE = 2;
/** Every key from this one on. */
export const DELETE_FROM = 3;

/** The operations of a journal, in order: [op, key (Uint8Array), value?]. */
export function* operations(journal) {
  const view = new DataView(journal.buffer, journal.byteOffset, journal.byteLength);
  let i = 0;
  while (i < journal.length) {
    const op = journal[i];
    const key = journal.slice(i + 1, i + 9);
    i += 9;
    if (op === PUT) {
      const len = view.getUint32(i, true);
      yield [op, key, journal.slice(i + 4, i + 4 + len)];
      i += 4 + len;
    } else {
      yield [op, key];
    }
  }
}

/** Records (key order) as `restore` takes them: a journal of PUTs. */
export function records(entries) {
  let size = 0;
  for (const [, value] of entries) size += 13 + value.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let i = 0;
  for (const [key, value] of entries) {
    out[i] = PUT;
    out.set(key, i + 1);
    view.setUint32(i + 9, value.length, true);
    out.set(value, i + 13);
    i += 13 + value.length;
  }
  return out;
}

/** The last operation on each key, in journal order: what a batch must write. */
export function coalesce(ops) {
  const last = new Map();
  ops.forEach(([op, key], i) => { if (op !== DELETE_FROM) last.set(String(key), i); });
  return ops.filter(([op, key], i) => op === DELETE_FROM || last.get(String(key)) === i);
}
