// wasmqtt/store: the log of journal chunks in IndexedDB, one object store
// keyed by [client id, sequence number]. A write is one `put` of one chunk,
// whatever it holds: IndexedDB's cost is per request, not per byte.
const LOG = 'log';

const done = (request) => new Promise((resolve, reject) => {
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});

const committed = (tx) => new Promise((resolve, reject) => {
  tx.oncomplete = resolve;
  tx.onerror = (e) => reject(tx.error ?? e.target.error);
  tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
});

export function idbBackend(name, durability) {
  let db;
  let id;
  /** The next chunk's sequence number. */
  let seq = 0;
  const all = () => IDBKeyRange.bound([id, -Infinity], [id, Infinity]);
  const transaction = () => db.transaction(LOG, 'readwrite', { durability });
  return {
    name: `indexedDB ${name}`,
    // Other tabs open the same database.
    shared: true,
    async open(clientId) {
      id = clientId;
      if (!globalThis.indexedDB) throw new Error('IndexedDB is not available');
      const open = indexedDB.open(name, 2);
      open.onupgradeneeded = () => {
        // Version 1 (never released) kept a record per key.
        if (open.result.objectStoreNames.contains('records')) open.result.deleteObjectStore('records');
        open.result.createObjectStore(LOG);
      };
      db = await done(open);
      // Another version of the page wants to upgrade: let it.
      db.onversionchange = () => db.close();
    },
    /** The chunks, oldest first. */
    async read() {
      const log = db.transaction(LOG, 'readonly').objectStore(LOG);
      const [keys, chunks] = await Promise.all([done(log.getAllKeys(all())), done(log.getAll(all()))]);
      seq = keys.length ? keys[keys.length - 1][1] + 1 : 0;
      return chunks;
    },
    append(chunk) {
      const tx = transaction();
      tx.objectStore(LOG).put(chunk, [id, seq++]);
      return committed(tx);
    },
    /** The whole log becomes `chunk` (none if empty), in one transaction. */
    replace(chunk) {
      const tx = transaction();
      const log = tx.objectStore(LOG);
      log.delete(all());
      if (chunk.length) log.put(chunk, [id, seq++]);
      return committed(tx);
    },
  };
}
