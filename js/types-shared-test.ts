// Compile-time checks of wasmqtt/shared's types (tsc -p js/tsconfig.json).
import { connect, connectAsync, text, type SharedClient } from './shared.js';

export async function usage(): Promise<void> {
  const client: SharedClient = connect('ws://x/mqtt', { clientId: 'dash', credentials: async () => ({ username: 'u' }) });
  client.on('resend', ({ topic, qos }) => void [topic, qos]);
  client.on('message', (topic, payload) => void [topic, text(payload)]);
  client.on('error', (e) => {
    if (e.code === 'SHARED_OPTIONS_MISMATCH' || e.code === 'SHARED_LEADER_LOST') return;
  });
  await client.subscribe('a/+', { qos: 1, handler: (_t, p) => void p.byteLength });
  const code: number | undefined = await client.publish('a', 'b', { qos: 1 });
  void code;
  for await (const m of client.messages('x/#')) void m.packet.qos;
  await client.end();
  const c2 = await connectAsync('ws://x/mqtt');
  void c2.metrics?.inFlight;
  // @ts-expect-error the connection is not in this tab: no WebSocket class
  connect('ws://x', { WebSocket: class {} as never });
  // @ts-expect-error unknown event
  client.on('nonsense', () => {});
}
