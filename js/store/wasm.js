// The wasm of the `wasmqtt/store` entry: the client built with the session
// store's journal and restore (cargo feature `store`), and its glue.
export { WasmClient, initSync } from '../../pkg/wasmqtt_store.js';

export const wasmUrl = new URL('wasmqtt_store_bg.wasm', import.meta.url);
