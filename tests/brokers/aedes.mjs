// Starts aedes (an MQTT 3.1.1 broker for Node, npm `aedes`) behind a
// WebSocket listener (the `ws` package) on 127.0.0.1, port 0, and prints
// `LISTENING ws=HOST:PORT` once bound. Runs until SIGINT/SIGTERM.
import { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';

const aedes = await Aedes.createBroker();
const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
});
wss.on('connection', (socket) => aedes.handle(createWebSocketStream(socket)));
wss.on('listening', () => {
  const { address, port } = wss.address();
  console.log(`LISTENING ws=${address}:${port}`);
});
const stop = () => wss.close(() => aedes.close(() => process.exit(0)));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
