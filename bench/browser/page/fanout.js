// One tab of the fan-out benchmark (bench/browser/fanout.mjs). Subscriber
// tabs count what they receive and report progress on a BroadcastChannel;
// the publisher tab stays at most WINDOW messages ahead of the slowest
// subscriber, so no queue grows without bound in either mode.
const WINDOW = 2000;
const REPORT_EVERY = 100;

const entry = (mode) => (mode === 'shared' ? '/wasmqtt/pkg/shared.js' : '/wasmqtt/pkg/index.js');

/** `promise`, or a rejection naming `what` after `ms`. */
function within(promise, what, ms) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  })]).finally(() => clearTimeout(timer));
}

let client = null;

window.fanout = {
  /** Subscribes to `topic/#` through a shared or an own connection; counts to `n`. */
  async subscribe({ mode, url, topic, clientId, n, id }) {
    const { connect } = await import(entry(mode));
    client = connect(url, mode === 'shared' ? { clientId } : {});
    await within(new Promise((resolve, reject) => {
      if (client.connected) resolve();
      client.once('connect', resolve);
      client.once('error', reject);
    }), 'connect', 15_000);
    const progress = new BroadcastChannel(`fanout ${topic}`);
    let received = 0;
    await client.subscribe(`${topic}/#`, {
      handler: () => {
        if (++received % REPORT_EVERY === 0 || received === n) progress.postMessage([id, received]);
      },
    });
    // The publisher asks who is there once it listens.
    progress.onmessage = ({ data }) => { if (data === 'ping') progress.postMessage([id, received]); };
  },

  /** Publishes `n` QoS 0 messages of `size` bytes; resolves once `tabs` subscribers have them all. */
  async publish({ url, topic, n, size, tabs }) {
    const { connectAsync } = await import(entry('own'));
    const pub = await connectAsync(url);
    const counts = new Map();
    let wake = () => {};
    const progress = new BroadcastChannel(`fanout ${topic}`);
    progress.onmessage = ({ data: [id, count] }) => {
      counts.set(id, count);
      wake();
    };
    progress.postMessage('ping');
    const slowest = () => (counts.size < tabs ? -Infinity : Math.min(...counts.values()));
    const until = (ok, what) => within((async () => {
      while (!ok()) await new Promise((r) => { wake = r; });
    })(), what, 60_000);
    await until(() => counts.size === tabs, 'every subscriber');
    const payload = new Uint8Array(size);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      if (i - slowest() > WINDOW) await until(() => i - slowest() <= WINDOW, 'the subscribers to catch up');
      pub.publish(`${topic}/t`, payload);
      if (i % REPORT_EVERY === REPORT_EVERY - 1) await new Promise((r) => setTimeout(r, 0));
    }
    await until(() => slowest() >= n, 'the last messages').catch(() => {});
    const ms = performance.now() - t0;
    await pub.end();
    return { ms, delivered: Math.max(0, slowest()) };
  },

  async end() {
    await client?.end();
  },
};
