// wasmqtt/store: records in a Map (by client id), for one page's lifetime.
import { DELETE_FROM, PUT } from './journal.js';

const hex = (key) => Array.from(key, (b) => b.toString(16).padStart(2, '0')).join('');

export function memoryBackend(map) {
  let records;
  return {
    name: 'memory',
    async open(clientId) {
      records = map.get(clientId) ?? new Map();
      map.set(clientId, records);
    },
    async read() {
      return [...records.entries()].sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [Uint8Array.from(k.match(/../g), (h) => parseInt(h, 16)), v]);
    },
    async write(ops) {
      for (const [op, , key, value] of ops) {
        const k = hex(key);
        if (op === PUT) records.set(k, value);
        else if (op === DELETE_FROM) for (const other of [...records.keys()]) { if (other >= k) records.delete(other); }
        else records.delete(k);
      }
    },
  };
}
