// Compile-time checks of the public types (run with `npm run typecheck`).
import mqtt, { connect, connectAsync, json, text, MqttError, type PublishPacket, type SubscribeResult } from './index.js';

async function usage(): Promise<void> {
  const client = connect('ws://127.0.0.1:8080/mqtt', {
    clientId: 'dash',
    keepalive: 30,
    will: { topic: 'devices/dash/status', payload: 'offline', qos: 1, retain: true, properties: { willDelayInterval: 5 } },
    properties: { sessionExpiryInterval: 60, userProperties: { app: 'dashboard' } },
    reconnect: { initialDelay: 500, maxDelay: 10_000 },
    credentials: async () => ({ username: 'u', password: 'token' }),
  });
  client.on('message', (topic: string, payload: Uint8Array, packet: PublishPacket) => {
    const n: number = packet.qos;
    void [topic, payload, n];
  });
  client.on('reconnecting', ({ attempt, delay }) => void (attempt + delay));
  client.on('error', (e: MqttError) => void e.code);
  const results: SubscribeResult[] = await client.subscribe('sensor/+/temp', { qos: 1, rh: 1, handler: (_t, p) => p.byteLength });
  for (const r of results) if ('qos' in r) void r.qos;
  await client.publish('a', new Uint8Array([1, 2]), { qos: 2, properties: { contentType: 'bin' } });
  const reply: PublishPacket = await client.request('devices/1/cmd', 'reboot', { timeout: 5000 });
  void reply.payload;
  for await (const m of client.messages('a/#')) { void m.topic; break; }
  await client.end({ reasonCode: 0 });
  const c2 = await connectAsync('ws://x', { protocolVersion: 4 });
  void c2.metrics?.roundTripTime;
  // MQTT.js-style calls.
  client.subscribe({ 'a/#': { qos: 1 }, b: { qos: 0 } }, (err, granted) => void [err?.code, granted?.length]);
  client.subscribe('a', { qos: 1, properties: { subscriptionIdentifier: 3, userProperties: { k: 'v' } } });
  client.publish('a', 'b', { qos: 1 }, (err) => void err);
  client.unsubscribe('a', (err, codes) => void [err, codes]);
  client.end(false, {}, () => {});
  client.end(() => {});
  await client.publishAsync('a', 'b');
  client.addListener('message', (_t, payload, packet) => {
    const doc = json<{ v: number }>(payload);
    const tag = packet.properties?.userProperties?.tag;
    void [doc.v, text(payload), tag];
  });
  void client.listenerCount('message');
  client.removeAllListeners();
  const c3 = mqtt.connect('ws://x');
  c3.on('error', (e) => {
    if (e.code === 'CONNECT_FAILED' || e.code === 'INVALID_URL') return;
    // @ts-expect-error a misspelt code does not compile
    if (e.code === 'CONECTION_LOST') return;
  });
  // @ts-expect-error QoS 3 does not exist
  await client.publish('a', 'b', { qos: 3 });
  // @ts-expect-error unknown event
  client.on('nonsense', () => {});
}
void usage;

// The session store entry point: the same client API, and the stores.
import { connect as connectStored, indexedDBStore, memoryStore } from './store.js';

export async function storeTypes(): Promise<void> {
  const store = indexedDBStore({ name: 'app', durability: 'strict', lockTimeout: 1000 });
  const client = connectStored('ws://x', {
    clientId: 'dashboard-1', clean: false, properties: { sessionExpiryInterval: 3600 }, store,
  });
  client.on('restored', ({ inFlight, queued, inbound }) => console.log(inFlight + queued + inbound));
  await store.flush();
  connectStored('ws://x', { clientId: 'a', clean: false, store: memoryStore(new Map()) });
  // @ts-expect-error not a store
  connectStored('ws://x', { store: {} });
}
