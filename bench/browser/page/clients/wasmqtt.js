// wasmqtt as a user loads it: the npm package's entry module (the `exports`
// of the staged package.json, e.g. pkg/index.js), which fetches its wasm.

export const name = 'wasmqtt';

let lib = null;

export async function open(url, clientId, onMessage, params) {
  lib ??= await import(params.entry);
  const client = await lib.connectAsync(url, {
    clientId, keepalive: 60, reconnect: false, protocolVersion: params.protocol ?? 5,
  });
  client.on('message', (topic, payload) => onMessage(payload.length));
  return {
    receiveMaximum: client.server?.receiveMaximum ?? 65535,
    subscribe: (filter, qos) => client.subscribe(filter, { qos }),
    publish: (topic, payload, qos) => client.publish(topic, payload, { qos }),
    end: () => client.end(true),
    /** For diagnostics in the results. */
    stats: () => client.metrics,
  };
}

/** Bytes of wasm linear memory (not part of the JS heap). */
export async function wasmMemory() {
  const wasm = await lib?.init?.();
  return wasm?.memory?.buffer.byteLength ?? 0;
}
