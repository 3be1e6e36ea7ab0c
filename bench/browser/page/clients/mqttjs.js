// MQTT.js 5 as a browser user loads it: its prebuilt ES module bundle.
import mqtt from '/mqtt/mqtt.esm.js';

export const name = 'mqttjs';

export function open(url, clientId, onMessage, params) {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, {
      clientId,
      protocolVersion: params.protocol ?? 5,
      keepalive: 60,
      reconnectPeriod: 0,
      clean: true,
    });
    client.once('error', reject);
    client.once('connect', (connack) => {
      client.off('error', reject);
      client.on('message', (topic, payload) => onMessage(payload.length));
      resolve({
        receiveMaximum: connack.properties?.receiveMaximum ?? 65535,
        subscribe: (filter, qos) => client.subscribeAsync(filter, { qos }),
        publish: (topic, payload, qos) => new Promise((res, rej) => {
          client.publish(topic, payload, { qos }, (err) => (err ? rej(err) : res()));
        }),
        end: () => client.endAsync(true),
      });
    });
  });
}

export async function wasmMemory() {
  return 0;
}
