// At most one redraw per animation frame: messages only mark what changed,
// and the page paints it once per frame however many arrived in between.
// A hidden tab gets no frames, so nothing is drawn until it is seen again.

const tasks = new Set();
let queued = false;

/** Runs `task` in the next animation frame (once, however often asked). */
export function onFrame(task) {
  tasks.add(task);
  if (queued) return;
  queued = true;
  requestAnimationFrame(run);
}

function run() {
  queued = false;
  const due = [...tasks];
  tasks.clear();
  for (const task of due) task();
}

/** The page's element with this id. */
export const $ = (id) => document.getElementById(id);

/** A DOM element: el('td', { class: 'num' }, 'text', child…). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

/** Sets text only when it changed (no layout work for equal values). */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}
