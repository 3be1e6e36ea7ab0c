// Where the page's life meets the connection: reconnect at once when the
// network or the tab comes back. A page being frozen (tab freezing:
// freeze/resume; back/forward cache: pagehide/pageshow) cannot keep a
// connection: `client` emits `freeze` and the connection is closed (the
// `error`, `close` and `offline` that follow come from that); when the page
// thaws it emits `resume` and the session resumes at once. Returns what
// stops watching.
export function watchEnvironment(conn, client) {
  let frozen = false;
  const doc = globalThis.document;
  const wake = () => conn.wake();
  // A pagehide that unloads closes the connection a moment early; the
  // pageshow of a first load finds nothing frozen.
  const freeze = () => {
    if (frozen) return;
    frozen = true;
    client.emit('freeze');
    conn.wake(true);
  };
  const thaw = () => {
    if (!frozen) return;
    frozen = false;
    client.emit('resume');
    wake();
  };
  const events = [[globalThis, 'online', wake], [doc, 'visibilitychange', () => doc.hidden || wake()],
    [doc, 'freeze', freeze], [doc, 'resume', thaw], [globalThis, 'pagehide', freeze], [globalThis, 'pageshow', thaw]];
  for (const [target, name, f] of events) target?.addEventListener?.(name, f);
  return () => { for (const [target, name, f] of events) target?.removeEventListener?.(name, f); };
}
