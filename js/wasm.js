// The wasm the `wasmqtt` entry runs and its glue (`#wasm` in package.json
// "imports"). The `wasmqtt/store` entry is the same JS bundled with the
// `wasmqtt-store` condition, which picks js/store/wasm.js instead.
export { WasmClient, initSync } from '../pkg/wasmqtt.js';

// Beside the bundle; bundlers follow this `new URL(…, import.meta.url)`.
export const wasmUrl = new URL('wasmqtt_bg.wasm', import.meta.url);
