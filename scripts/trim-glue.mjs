// Shortens the diagnostics of the wasm-bindgen glue's loader, which cost
// more of the bundle than they are worth: the error for a failed fetch
// keeps the status and URL, the warning for a wasm served with the wrong
// MIME type keeps the browser's error, and the warning for the old-style
// `init` argument goes (our entry point always passes an object). Each text must be found exactly,
// so a wasm-bindgen update that changes them fails the build here.
//
//   node scripts/trim-glue.mjs pkg/wasmqtt.js
import { readFileSync, writeFileSync } from 'node:fs';

const REPLACE = [
  ["`failed to fetch Wasm: ${module.status} ${module.statusText} fetching '${module.url}'`",
    '`${module.status} ${module.url}`'],
  // The browser's own error already names the MIME type.
  ['"`WebAssembly.instantiateStreaming` failed because your server does not serve Wasm with '
    + '`application/wasm` MIME type. Falling back to `WebAssembly.instantiate` which is slower. '
    + 'Original error:\\n", e', 'e'],
  ["console.warn('using deprecated parameters for the initialization function; pass a single object instead')", ''],
];

const [path] = process.argv.slice(2);
let js = readFileSync(path, 'utf8');
for (const [from, to] of REPLACE) {
  if (!js.includes(from)) throw new Error(`trim-glue: not found in ${path}: ${from}`);
  js = js.replace(from, to);
}
writeFileSync(path, js);
