// wasmqtt for Node (the `node` export condition): the same API, with the
// wasm read from disk, as Node's fetch has no file: URLs. Node 22+ has a
// global WebSocket; on Node 20 pass one as the `WebSocket` option (the ws
// package's). Shipped as pkg/node.js, beside pkg/index.js and the wasm.
import { readFile } from 'node:fs/promises';
import { init } from './index.js';

// Started at import; a failure is reported by the first `connect`.
init(readFile(new URL('wasmqtt_bg.wasm', import.meta.url))).catch(() => {});

export * from './index.js';
export { default } from './index.js';
