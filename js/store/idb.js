// wasmqtt/store: records in IndexedDB, one object store keyed by
// [client id, key bytes]; binary keys sort bytewise, so reads come back in
// key order, and an array key sorts after every binary one.
import { DELETE_FROM, PUT } from './journal.js';

const RECORDS = 'records';

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
  const range = (from) => IDBKeyRange.bound([id, from.buffer], [id, []]);
  return {
    name: `indexedDB ${name}`,
    // Other tabs open the same database.
    shared: true,
    async open(clientId) {
      id = clientId;
      if (!globalThis.indexedDB) throw new Error('IndexedDB is not available');
      const open = indexedDB.open(name, 1);
      open.onupgradeneeded = () => open.result.createObjectStore(RECORDS);
      db = await done(open);
      // Another version of the page wants to upgrade: let it.
      db.onversionchange = () => db.close();
    },
    async read() {
      const tx = db.transaction(RECORDS, 'readonly');
      const all = range(new Uint8Array(8));
      const [keys, values] = await Promise.all([
        done(tx.objectStore(RECORDS).getAllKeys(all)), done(tx.objectStore(RECORDS).getAll(all))]);
      return keys.map((k, i) => [new Uint8Array(k[1]), values[i]]);
    },
    write(ops) {
      const tx = db.transaction(RECORDS, 'readwrite', { durability });
      const records = tx.objectStore(RECORDS);
      for (const [op, , key, value] of ops) {
        if (op === PUT) records.put(value, [id, key.buffer]);
        else if (op === DELETE_FROM) records.delete(range(key));
        else records.delete([id, key.buffer]);
      }
      return committed(tx);
    },
  };
}
