// Shared mode where SharedWorker does not exist (Chrome on Android, some
// Safari versions): the tabs of one broker URL elect a leader with a Web
// Lock; the leader runs the hub (js/shared-hub.js) and every tab, the
// leader's own included, talks to it over one BroadcastChannel. When the
// leader closes, its lock passes to the next tab waiting for it, whose new
// hub announces itself ('leader'); the tabs then join it again (see
// js/shared.js for what happens to their calls in flight).
import { Hub } from './shared-hub.js';

/** A link to the current leader's hub; `receive(message)` gets what the hub says to this tab. */
export function leaderLink(url, id, receive) {
  const name = `wasmqtt ${url}`;
  const channel = new BroadcastChannel(name);
  channel.onmessage = ({ data }) => {
    if (data.to === id || data.to === '*') receive(data);
  };
  let hub = null;
  let stop;
  const stopped = new Promise((resolve) => { stop = resolve; });
  const abort = new AbortController();
  navigator.locks.request(`wasmqtt leader ${url}`, { signal: abort.signal }, () => {
    const out = new BroadcastChannel(name);
    hub = new Hub((to, m) => out.postMessage({ ...m, to }), () => {}, stop);
    out.onmessage = ({ data }) => { if (data.from) hub.receive(data); };
    out.postMessage({ t: 'leader', to: '*', epoch: hub.epoch });
    // Leadership lasts until the hub has no tab left or this tab ends.
    return stopped.then(() => out.close());
  }).catch(() => {});
  return {
    post: (m) => channel.postMessage(m),
    async close() {
      abort.abort();
      await hub?.close();
      stop();
      channel.close();
    },
  };
}
