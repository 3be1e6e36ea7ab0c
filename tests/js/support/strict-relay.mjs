// A WebSocket front for a broker that accepts only the subprotocol `mqtt`,
// as strict servers do [MQTT-6.0.0-3]: any other offer fails the opening
// handshake. Accepted connections are relayed frame by frame to `target`.
import { WebSocket, WebSocketServer } from 'ws';

/**
 * Listens on 127.0.0.1 at a free port. Resolves with `{ url, offered,
 * close() }`; `offered` lists the subprotocols each handshake offered.
 */
export async function strictRelay(target) {
  const offered = [];
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
    verifyClient: (info, done) => {
      const header = info.req.headers['sec-websocket-protocol'] ?? '';
      offered.push(header.split(',').map((p) => p.trim()).filter(Boolean));
      done(true);
    },
  });
  wss.on('connection', (client) => {
    const upstream = new WebSocket(target, 'mqtt');
    const early = [];
    upstream.on('open', () => { for (const m of early.splice(0)) upstream.send(m); });
    upstream.on('message', (m) => client.send(m, { binary: true }));
    client.on('message', (m) => (upstream.readyState === WebSocket.OPEN ? upstream.send(m) : early.push(m)));
    const closeBoth = () => { client.terminate(); upstream.terminate(); };
    upstream.on('close', closeBoth);
    upstream.on('error', closeBoth);
    client.on('close', closeBoth);
    client.on('error', closeBoth);
  });
  await new Promise((ok, fail) => { wss.once('listening', ok); wss.once('error', fail); });
  return {
    url: `ws://127.0.0.1:${wss.address().port}/mqtt`,
    offered,
    close: () => new Promise((ok) => {
      for (const c of wss.clients) c.terminate();
      wss.close(() => ok());
    }),
  };
}
