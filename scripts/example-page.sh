#!/usr/bin/env bash
# Builds the example Rust page (examples/page) the way a Rust web app on
# wasmqtt's Rust API is built: `wasm-pack build --target web --release`
# into examples/page/pkg/, then binaryen's wasm-opt -Oz (npm's; wasm-pack's
# own would be downloaded). Prints what a browser loads, gzip -9.
#
#   bash scripts/example-page.sh
#   python3 -m http.server -d examples/page 8000   # then open
#   http://localhost:8000/?url=ws://localhost:8080/mqtt&filter=%23
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

(cd examples/page && wasm-pack build --mode no-install --target web --release --no-typescript)
wasm=examples/page/pkg/example_page_bg.wasm
node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --strip-debug --strip-producers \
    "$wasm" -o "$wasm"
total=0
for f in "$wasm" examples/page/pkg/example_page.js examples/page/pkg/snippets/*/js/timers.js; do
    gz=$(gzip -9c "$f" | wc -c)
    total=$((total + gz))
    printf '%-48s %8d bytes raw %8d gzip -9\n' "${f#examples/page/}" "$(wc -c < "$f")" "$gz"
done
printf '%-48s %26d gzip -9\n' "total" "$total"
