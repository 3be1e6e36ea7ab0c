/**
 * The async iterator behind `client.messages(filter)`, for the core client
 * and the shared-mode proxy alike: `subscribe(handler)` subscribes with a
 * handler that queues what it gets; `release(handler)` runs when the loop
 * ends (it removes the handler and unsubscribes if nothing else holds the
 * filter).
 */
export function messageIterator(subscribe, release) {
  const queue = [];
  let wake = null;
  let done = false;
  const handler = (topic, payload, packet) => {
    queue.push({ topic, payload, packet });
    wake?.();
  };
  const subscribed = subscribe(handler);
  // A failed subscribe is reported by next(); unawaited, it is not an unhandled rejection.
  subscribed.catch(() => {});
  return {
    [Symbol.asyncIterator]() { return this; },
    async next() {
      await subscribed;
      while (!done && queue.length === 0) await new Promise((r) => (wake = r));
      wake = null;
      return done && queue.length === 0 ? { done: true, value: undefined } : { done: false, value: queue.shift() };
    },
    async return() {
      done = true;
      wake?.();
      await release(handler);
      return { done: true, value: undefined };
    },
  };
}
