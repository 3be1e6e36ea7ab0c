// wasmqtt/store: the log of journal chunks in a Map (by client id), for one page's lifetime.
export function memoryBackend(map) {
  let log;
  return {
    name: 'memory',
    async open(clientId) {
      log = map.get(clientId) ?? [];
      map.set(clientId, log);
    },
    async read() {
      return log.slice();
    },
    async append(chunk) {
      log.push(chunk);
    },
    async replace(chunk) {
      log.length = 0;
      if (chunk.length) log.push(chunk);
    },
  };
}
