// The timers the wasm client arms (one per client: the session's next
// deadline). A hidden page's own timers are throttled (Chrome: after five
// minutes hidden, chained timers wake at most once a minute), so while the
// page is hidden they run in a small dedicated worker, loaded from a file
// next to this one the first time it is needed (no blob: URL, so it works
// under a strict Content-Security-Policy). Where workers are missing or
// fail to load, and in workers, the page's own timers. A timer armed
// before the page was hidden stays where it is: intensive throttling
// starts only minutes later, and the client re-arms on every wake-up.

// The worker: undefined until needed, null if unavailable.
let worker;
// Worker timer ids start above any id the page's setTimeout gives.
let last = 2 ** 31;
// Callbacks of armed worker timers by id. The client clears each timer
// once it has fired, which takes it out.
const waiting = new Map();

/** `setTimeout(f, ms)`, in the worker while the page is hidden. */
export function setTimer(f, ms) {
  if (globalThis.document?.hidden && worker !== null) {
    try {
      if (!worker) {
        worker = new Worker(new URL('./timer-worker.js', import.meta.url), { type: 'module' });
        worker.onmessage = (e) => waiting.get(e.data)?.();
        // It cannot load (blocked, offline): page timers from now on; what
        // it held fires now, early, and the client re-arms.
        worker.onerror = () => waiting.forEach((f) => f((worker = null)));
      }
      worker.postMessage([++last, ms]);
      waiting.set(last, f);
      return last;
    } catch {
      worker = null;
    }
  }
  return setTimeout(f, ms);
}

/** `clearTimeout` for what `setTimer` gave. A cleared worker timer still
 * comes back from the worker, to no one. */
export function clearTimer(id) {
  waiting.delete(id) || clearTimeout(id);
}
