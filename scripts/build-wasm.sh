#!/usr/bin/env bash
# Builds the npm package's wasm: cargo (release, size-tuned), wasm-bindgen
# --target web into pkg/, then binaryen's wasm-opt -Oz. Prints the sizes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo build --release --target wasm32-unknown-unknown -p wasmqtt
wasm-bindgen --target web --no-typescript --out-dir pkg \
    target/wasm32-unknown-unknown/release/wasmqtt.wasm
# Debian's wasm-opt 108 emits modules Chromium rejects; use npm binaryen.
node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --strip-debug --strip-producers \
    pkg/wasmqtt_bg.wasm -o pkg/wasmqtt_bg.wasm
for f in pkg/wasmqtt_bg.wasm pkg/wasmqtt.js js/index.js; do
    printf '%-24s %8d bytes raw %8d gzip -9\n' "$f" "$(wc -c < "$f")" "$(gzip -9c "$f" | wc -c)"
done
