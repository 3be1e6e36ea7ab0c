// wasmqtt/store: the session journal (crates/session/src/store.rs) as the
// store keeps it: a log of journal chunks, one per write, replayed into
// records (key -> value) when read, and compacted into one chunk of PUTs
// once it has grown. Values are opaque bytes here: what they mean is the
// session's business. Keys are 8 bytes, big-endian, held as 8-char strings
// (a char per byte), so string order is key order.

export const PUT = 1;
export const DELETE = 2;
/** Every key from this one on. */
export const DELETE_FROM = 3;

const keyAt = (b, i) => String.fromCharCode(b[i], b[i + 1], b[i + 2], b[i + 3], b[i + 4], b[i + 5], b[i + 6], b[i + 7]);

/**
 * Applies the operations of journal `chunk` to `live` (key -> value, a
 * view into `chunk`, not a copy); returns how many value bytes `live`
 * gained (or lost). Throws on bytes that are not a journal.
 */
export function replay(chunk, live) {
  const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  let grown = 0;
  let i = 0;
  while (i < chunk.length) {
    const op = chunk[i];
    if (i + 9 > chunk.length) throw new Error('the stored journal is truncated');
    const key = keyAt(chunk, i + 1);
    i += 9;
    if (op === PUT) {
      const len = view.getUint32(i, true);
      if (i + 4 + len > chunk.length) throw new Error('the stored journal is truncated');
      grown += len - (live.get(key)?.length ?? 0);
      live.set(key, chunk.subarray(i + 4, i + 4 + len));
      i += 4 + len;
    } else if (op === DELETE) {
      grown -= live.get(key)?.length ?? 0;
      live.delete(key);
    } else if (op === DELETE_FROM) {
      for (const [k, v] of live) {
        if (k >= key) {
          grown -= v.length;
          live.delete(k);
        }
      }
    } else {
      throw new Error(`the stored journal has an unknown operation ${op}`);
    }
  }
  return grown;
}

/** `live` as one chunk of PUTs in key order: what `restore` takes, and a compacted log. */
export function snapshot(live) {
  const keys = [...live.keys()].sort();
  let size = 0;
  for (const k of keys) size += 13 + live.get(k).length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let i = 0;
  for (const k of keys) {
    const value = live.get(k);
    out[i] = PUT;
    for (let j = 0; j < 8; j++) out[i + 1 + j] = k.charCodeAt(j);
    view.setUint32(i + 9, value.length, true);
    out.set(value, i + 13);
    i += 13 + value.length;
  }
  return out;
}

/** The chunks as one, in a buffer of its own (a stored view would store its whole buffer). */
export function concat(chunks) {
  let size = 0;
  for (const c of chunks) size += c.length;
  const out = new Uint8Array(size);
  let i = 0;
  for (const c of chunks) {
    out.set(c, i);
    i += c.length;
  }
  return out;
}
