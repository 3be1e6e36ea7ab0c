// The session store's log (js/store/): each write appends the session's
// journal as one chunk, and once the log is much larger than the records
// it amounts to, one snapshot replaces it. Driven in Node with the memory
// backend and a stand-in for the client's wasm: what a new store reads
// back is exactly the records the journal left, however often it compacted.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { memoryStore } from '../../js/store/index.js';
import { DELETE, DELETE_FROM, PUT, replay } from '../../js/store/journal.js';

const OPTIONS = { clientId: 'c', clean: false, properties: { sessionExpiryInterval: 60 } };

class MqttError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

/** A client and its wasm, as the store sees them. */
function client() {
  const events = [];
  return {
    events,
    emit: (name, arg) => events.push([name, arg]),
    on() {},
    wasm: {
      batches: 0,
      kept: null,
      committed(n) { this.batches += n; },
      storeFailed() { throw new Error('no write should fail'); },
      restore(records) {
        this.kept = records;
        return [0, 0, 0, 0];
      },
    },
  };
}

/** A journal operation, keys as numbers (below 2^53) written big-endian in 8 bytes. */
function op(code, key, value) {
  const out = new Uint8Array(9 + (value ? 4 + value.length : 0));
  const view = new DataView(out.buffer);
  out[0] = code;
  view.setBigUint64(1, BigInt(key));
  if (value) {
    view.setUint32(9, value.length, true);
    out.set(value, 13);
  }
  return out;
}

const join = (ops) => {
  const out = new Uint8Array(ops.reduce((n, o) => n + o.length, 0));
  let i = 0;
  for (const o of ops) {
    out.set(o, i);
    i += o.length;
  }
  return out;
};

async function opened(map) {
  const c = client();
  const store = memoryStore(map);
  await store.open(c, OPTIONS, MqttError);
  store.started(c.wasm);
  return { c, store };
}

/** The records a journal of PUTs (what `restore` gets) holds: key -> value bytes as a string. */
function records(journal) {
  const live = new Map();
  replay(journal, live);
  return new Map([...live].map(([k, v]) => [k, String(v)]));
}

test('a long run of writes compacts the log, and a new store reads back exactly the live records', async () => {
  const map = new Map();
  const { c, store } = await opened(map);
  const expected = new Map();
  const value = (i) => new Uint8Array(100).fill(i & 0xff);
  let writes = 0;
  // 20,000 publishes of 100 B, each deleted 50 later: 3 MiB of journal, 50 records live.
  for (let i = 0; i < 20000; i++) {
    const ops = [op(PUT, i + 1, value(i))];
    expected.set(i + 1, value(i));
    if (i >= 50) {
      ops.push(op(DELETE, i - 49));
      expected.delete(i - 49);
    }
    store.write(join(ops));
    writes += 1;
    if (i % 100 === 99) await store.flush();
  }
  // An inbound record, and every one of them gone again.
  store.write(op(PUT, 2 ** 52, value(7)));
  store.write(op(DELETE_FROM, 2 ** 52));
  writes += 2;
  await store.flush();
  assert.equal(c.wasm.batches, writes, 'every batch reported committed');

  const log = map.get('c');
  const bytes = log.reduce((n, chunk) => n + chunk.length, 0);
  assert.ok(bytes <= (1 << 20) + 4 * 50 * 113 + 50_000, `log of ${bytes} B in ${log.length} chunks: not compacted`);
  assert.ok(log.length < 200, `${log.length} chunks`);

  const again = await opened(map);
  const kept = records(again.c.wasm.kept);
  const want = records(join([...expected].map(([k, v]) => op(PUT, k, v))));
  assert.deepEqual(kept, want);
  // In key order, as `restore` needs them.
  const keys = [...kept.keys()];
  assert.deepEqual(keys, [...keys].sort());
  assert.deepEqual(again.c.events, [['restored', { inFlight: 0, queued: 0, inbound: 0 }]]);
});
