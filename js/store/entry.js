// wasmqtt/store: the whole client, as `wasmqtt`, over the wasm built with
// the session store, and the stores to pass as its `store` option.
export * from '../index.js';
export { default } from '../index.js';
export { indexedDBStore, memoryStore } from './index.js';
