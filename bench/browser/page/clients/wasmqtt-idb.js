// wasmqtt with its session kept in IndexedDB: the `wasmqtt/store` entry
// point (next to the package's entry module), the whole client over the
// wasm built with the store. Every QoS 1/2 publish is journaled and
// written, one transaction per task.

export const name = 'wasmqtt-idb';

let lib = null;

export async function open(url, clientId, onMessage, params) {
  lib ??= await import(params.entry.replace(/[^/]*$/, 'store.js'));
  const protocolVersion = params.protocol ?? 5;
  const client = await lib.connectAsync(url, {
    clientId,
    keepalive: 60,
    reconnect: false,
    protocolVersion,
    clean: false,
    // MQTT 3.1.1 sessions have no expiry to set.
    ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 60 } } : {}),
    store: lib.indexedDBStore({ name: `bench-${clientId}` }),
  });
  client.on('message', (topic, payload) => onMessage(payload.length));
  client.on('error', (e) => console.error(`wasmqtt-idb: ${e.code} ${e.message}`));
  return {
    receiveMaximum: client.server?.receiveMaximum ?? 65535,
    subscribe: (filter, qos) => client.subscribe(filter, { qos }),
    publish: (topic, payload, qos) => client.publish(topic, payload, { qos }),
    end: () => client.end(true),
    stats: () => client.metrics,
  };
}

export async function wasmMemory() {
  const wasm = await lib?.init?.();
  return wasm?.memory?.buffer.byteLength ?? 0;
}
