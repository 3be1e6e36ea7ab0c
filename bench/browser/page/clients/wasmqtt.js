// wasmqtt as a user loads it: the npm package's ES module, which fetches its wasm.
import { connectAsync, init } from '/wasmqtt/js/index.js';

export const name = 'wasmqtt';

export async function open(url, clientId, onMessage) {
  const client = await connectAsync(url, { clientId, keepalive: 60, reconnect: false });
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
  const wasm = await init();
  return wasm.memory.buffer.byteLength;
}
