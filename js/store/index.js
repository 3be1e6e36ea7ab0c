// The stores of `wasmqtt/store` (js/store/entry.js): keep a session's QoS
// 1/2 state across page reloads. `connect(url, { clientId, clean: false,
// properties: { sessionExpiryInterval }, store: indexedDBStore() })`. The
// session (the store's wasm) writes a journal of its resumable state; this
// module only moves those bytes to and from storage: it appends each
// write's journal to a log, and replaces the log by a snapshot of the
// records it amounts to once the log is much larger than they are.
import { concat, replay, snapshot } from './journal.js';
import { idbBackend } from './idb.js';
import { memoryBackend } from './memory.js';

/**
 * The session kept in IndexedDB database `name` (default `wasmqtt`):
 * survives reloads, closing and crashes of the page. `durability`:
 * IndexedDB's transaction durability, `'relaxed'` (default: committed
 * writes survive the page, not necessarily a power cut) or `'strict'`.
 */
export const indexedDBStore = (options) => store(
  idbBackend(options?.name ?? 'wasmqtt', options?.durability ?? 'relaxed'), options);

/**
 * The session kept in this page's memory, in `map` if given: survives a
 * client ending and a new one starting in the same page, not a reload.
 */
export const memoryStore = (map, options) => store(memoryBackend(map ?? new Map()), options);

/** Why a store cannot keep this client's session, or `undefined`. */
function unfit(o) {
  if (!o?.clientId) return 'needs a clientId to resume the session under';
  if (o.clean !== false) return 'needs clean: false (Clean Start 0) to resume the session';
  if ((o.protocolVersion ?? 5) === 5 && !(o.properties?.sessionExpiryInterval > 0)) {
    return 'needs properties.sessionExpiryInterval > 0, or the server ends the session with the connection';
  }
  return undefined;
}

/** Log bytes beyond four times the records' before the log is compacted. */
const COMPACT_AFTER = 1 << 20;

function store(backend, { lockTimeout = 5000 } = {}) {
  let client;
  let Err;
  /** The client's wasm, told when its journal is committed. */
  let wasm;
  let pending = [];
  /** Journal batches in `pending`. */
  let batches = 0;
  let writing = null;
  let broken = false;
  let release;
  /** What was kept, until the client's wasm starts. */
  let kept;
  /** The records the log amounts to (key -> value), once written, and their value bytes. */
  const live = new Map();
  let liveBytes = 0;
  /** Bytes in the log. */
  let logBytes = 0;

  const fail = (e, code, what) => {
    // A DOMException may say only its name (QuotaExceededError).
    const why = e instanceof Error || e instanceof DOMException ? [e.name, e.message].filter(Boolean).join(': ') : e;
    const error = new Err(`${what}: ${why}`, code);
    error.cause = e;
    client.emit('error', error);
  };

  /**
   * Writes what the journal said so far, in one transaction; one at a
   * time, in order. Once it commits, the session lets go of what waited
   * for it (a PUBREC, PUBREL, PUBCOMP, QoS 2 PUBLISH or delivery).
   */
  const flushNow = async () => {
    while (writing) await writing;
    if (!batches || broken) return;
    const chunk = concat(pending);
    const n = batches;
    pending = [];
    batches = 0;
    liveBytes += replay(chunk, live);
    logBytes += chunk.length;
    let write;
    if (logBytes > COMPACT_AFTER + 4 * liveBytes) {
      const compacted = snapshot(live);
      // The records now point into the snapshot: the old chunks can go.
      live.clear();
      replay(compacted, live);
      logBytes = compacted.length;
      write = backend.replace(compacted);
    } else {
      write = backend.append(chunk);
    }
    writing = write.then(() => {
      if (!broken) wasm.committed(n);
    }, async (e) => {
      // A lost batch would leave stale records that a reload would
      // resume: forget this client's records and go on from memory.
      broken = true;
      pending = [];
      batches = 0;
      fail(e, 'STORE_FAILED', 'cannot write the session store; the session continues in memory only');
      wasm.storeFailed();
      await backend.replace(new Uint8Array(0)).catch(() => {});
    }).finally(() => { writing = null; });
    await writing;
  };

  return {
    /** Called by the client before it starts: reads what was kept (nothing if the store cannot be used). */
    async open(c, options, MqttError) {
      client = c;
      Err = MqttError;
      const problem = unfit(options);
      if (problem) throw new MqttError(`invalid option store: ${problem}`, 'INVALID_OPTIONS');
      // One client per session and store, across tabs [Web Locks].
      const lockName = `wasmqtt ${backend.name} ${options.clientId}`;
      if (backend.shared && globalThis.navigator?.locks) {
        const held = new Promise((resolve, reject) => {
          navigator.locks.request(lockName, { signal: AbortSignal.timeout(lockTimeout) }, () => {
            resolve();
            return new Promise((r) => { release = r; });
          }).catch(reject);
        });
        try {
          await held;
        } catch (e) {
          throw new MqttError(`another client (tab) holds the session of ${options.clientId} in this store`, 'STORE_LOCKED');
        }
        c.on('end', () => release?.());
      }
      try {
        await backend.open(options.clientId);
        for (const chunk of await backend.read()) {
          liveBytes += replay(chunk, live);
          logBytes += chunk.length;
        }
        kept = snapshot(live);
      } catch (e) {
        broken = true;
        release?.();
        fail(e, 'STORE_UNAVAILABLE', 'cannot open the session store; the session is kept in memory only');
      }
    },

    /**
     * The client's wasm started (its socket not open yet): restores what
     * was kept; emits `restored`, or an error when the records were refused.
     */
    started(w) {
      wasm = w;
      if (!kept) return;
      const [status, inFlight, queued, inbound] = wasm.restore(kept);
      kept = undefined;
      if (status === 0) {
        client.emit('restored', { inFlight, queued, inbound });
        return;
      }
      broken = true;
      const why = status === 1 ? `written by format version ${inFlight}` : 'not readable';
      client.emit('error', new Err(`the stored session is ${why}; it was left as it is and the session is kept in memory only`,
        'STORE_CORRUPT'));
    },

    /** A journal batch from the client: written at the end of the current task. */
    write(journal) {
      if (broken) return;
      pending.push(journal);
      if (batches++ === 0) queueMicrotask(flushNow);
    },

    /**
     * Resolves once what the client was asked to do so far is stored (its
     * calls made once it was ready: they reach the session a microtask
     * after the call, so this first lets them through).
     */
    async flush() {
      await undefined;
      await flushNow();
      while (writing) await writing;
    },
  };
}
