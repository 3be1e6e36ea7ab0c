// The SharedWorker of shared mode: one per origin and broker URL (its
// name), one hub (js/shared-hub.js) while any tab is attached.
import { Hub } from './shared-hub.js';

let hub = null;
const ports = new Map();

const send = (to, m) => {
  if (to !== '*') ports.get(to)?.postMessage(m);
  else for (const port of ports.values()) port.postMessage(m);
};

globalThis.onconnect = ({ ports: [port] }) => {
  port.onmessage = ({ data }) => {
    if (data.t === 'hello') {
      ports.set(data.from, port);
      hub ??= new Hub(send, (id) => ports.delete(id), () => { hub = null; });
    }
    hub?.receive(data);
  };
};
