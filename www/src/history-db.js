// Keeps the history's averages in IndexedDB so a reload starts with them.
// Bounded: one record per device per BUCKET_S, kept HISTORY_S (older ones
// are deleted on every save); keys start with the time, so pruning is one
// key-range delete.

const DB_NAME = 'wasmqtt-dashboard';
const STORE = 'buckets';

const request = (req) => new Promise((resolve, reject) => {
  req.onsuccess = () => resolve(req.result);
  req.onerror = () => reject(req.error);
});

/** { load, save } over IndexedDB, or null where it is unavailable. */
export async function openHistoryDb(prefix, keepSeconds) {
  let db;
  try {
    const open = indexedDB.open(DB_NAME, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE, { keyPath: ['t', 'p', 'id'] });
    db = await request(open);
  } catch {
    return null; // private mode, disabled storage: history lasts until reload
  }
  return {
    /** [{ id, t, v }] of this prefix from the last `keepSeconds`. */
    async load(now) {
      const tx = db.transaction(STORE, 'readonly');
      const rows = await request(tx.objectStore(STORE).getAll(IDBKeyRange.lowerBound([now - keepSeconds])));
      return rows.filter((r) => r.p === prefix);
    },
    /** Adds averages ({ id, t, v }) and drops what is older than the window. */
    save(records, now) {
      const tx = db.transaction(STORE, 'readwrite');
      const store = tx.objectStore(STORE);
      store.delete(IDBKeyRange.upperBound([now - keepSeconds]));
      for (const { id, t, v } of records) store.put({ t, p: prefix, id, v });
      return new Promise((resolve, reject) => {
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    },
    close: () => db.close(),
  };
}
