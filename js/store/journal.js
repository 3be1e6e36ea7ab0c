// wasmqtt/store: the session journal (crates/session/src/store.rs) read as
// store operations. Values are opaque bytes here: what they mean is the
// session's business; keys are 8 bytes, big-endian, so byte order is key order.

export const PUT = 1;
export const DELETE = 2;
/** Every key from this one on. */
export const DELETE_FROM = 3;

/** A key as a short string, for maps: 8 chars, in the same order as the bytes. */
export const keyName = (key) => String.fromCharCode(...key);

/** The operations of a journal, in order: [op, key name, key bytes, value?]. */
export function* operations(journal) {
  const view = new DataView(journal.buffer, journal.byteOffset, journal.byteLength);
  let i = 0;
  while (i < journal.length) {
    const op = journal[i];
    const key = journal.slice(i + 1, i + 9);
    i += 9;
    if (op === PUT) {
      const len = view.getUint32(i, true);
      // A copy: storing a view would store the whole batch's buffer.
      yield [op, keyName(key), key, journal.slice(i + 4, i + 4 + len)];
      i += 4 + len;
    } else {
      yield [op, keyName(key), key];
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

/**
 * What a batch must write: the last operation on each key, in journal
 * order, without deletes of keys the store does not hold. `stored` (key
 * names in the store, or being written) is kept up to date: a message
 * acknowledged before its record was written costs no write at all.
 */
export function coalesce(ops, stored) {
  const last = new Map();
  ops.forEach(([op, name], i) => { if (op !== DELETE_FROM) last.set(name, i); });
  const out = [];
  ops.forEach((o, i) => {
    const [op, name] = o;
    if (op === DELETE_FROM) {
      for (const k of stored) if (k >= name) stored.delete(k);
      out.push(o);
    } else if (last.get(name) === i) {
      if (op === PUT) {
        stored.add(name);
        out.push(o);
      } else if (stored.delete(name)) {
        out.push(o);
      }
    }
  });
  return out;
}
