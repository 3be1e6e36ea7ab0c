#!/usr/bin/env bash
# Builds the npm package's wasm: cargo (release, size-tuned), wasm-bindgen
# --target web into pkg/, binaryen's wasm-opt -Oz, then shorter names for
# what the wasm and the glue share, and one minified module for the JS
# (pkg/index.js, the package's entry point). Prints the sizes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Size: core and alloc are rebuilt for size, with panics as a bare trap
# (no messages, locations or Debug formatting: our panic handler traps
# anyway), which saves ~4 KB gzip over the prebuilt ones. That needs the
# rust-src component and flags stable Rust keeps unstable, hence
# RUSTC_BOOTSTRAP for this one build; its own target dir keeps the flags
# away from every other build. Without rust-src, the prebuilt core is used.
out=target/wasm-size
if rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
    RUSTC_BOOTSTRAP=1 \
    RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none" \
        cargo build --release --target wasm32-unknown-unknown -p wasmqtt --target-dir "$out" \
        -Zbuild-std=core,alloc -Zbuild-std-features=optimize_for_size
else
    echo "build-wasm: rust-src is missing (rustup component add rust-src):" \
        "using the prebuilt core, ~4 KB gzip larger" >&2
    out=target
    cargo build --release --target wasm32-unknown-unknown -p wasmqtt
fi
wasm-bindgen --target web --no-typescript --out-dir pkg \
    "$out/wasm32-unknown-unknown/release/wasmqtt.wasm"
# Debian's wasm-opt 108 emits modules Chromium rejects; use npm binaryen.
# --flatten --rereloop first: rebuilt control flow that -Oz then shrinks
# further (-0.4 KB gzip); --converge: repeat -Oz while it still shrinks.
node_modules/.bin/wasm-opt --flatten --rereloop -Oz -Oz --converge --enable-bulk-memory \
    --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
    --strip-debug --strip-producers --strip-target-features \
    pkg/wasmqtt_bg.wasm -o pkg/wasmqtt_bg.wasm
# Short names for the imports and exports the wasm and its glue share
# (wasm-bindgen's are long and hashed, so they barely compress).
node scripts/minify-names.mjs pkg/wasmqtt_bg.wasm pkg/wasmqtt.js
# The glue is generated code: ship it minified.
node_modules/.bin/esbuild pkg/wasmqtt.js --minify --format=esm --log-level=warning \
    --allow-overwrite --outfile=pkg/wasmqtt.js
# What the package ships: the JS API, option checks and glue as one
# minified module, which finds the wasm beside itself; bundlers follow its
# `new URL('wasmqtt_bg.wasm', import.meta.url)`. Node's entry imports it.
node_modules/.bin/esbuild js/index.js --bundle --minify --format=esm \
    --log-level=warning --outfile=pkg/index.js
cp js/node.js pkg/node.js
# terser's second compress pass takes another ~3 % off what esbuild left.
node_modules/.bin/terser pkg/index.js --module --compress passes=2 --mangle \
    --output pkg/index.js
# The session store (`wasmqtt/store`): its own module, loaded only by
# pages that import it; it talks to the client through the options.
node_modules/.bin/esbuild js/store/index.js --bundle --minify --format=esm --log-level=warning \
    --outfile=pkg/store.js
# The timer worker, fetched next to pkg/index.js only while a page is hidden.
node_modules/.bin/esbuild js/timer-worker.js --minify --format=esm --log-level=warning \
    --outfile=pkg/timer-worker.js
total=0
for f in pkg/wasmqtt_bg.wasm pkg/index.js; do
    gz=$(gzip -9c "$f" | wc -c)
    total=$((total + gz))
    printf '%-24s %8d bytes raw %8d gzip -9\n' "$f" "$(wc -c < "$f")" "$gz"
done
printf '%-24s %26d gzip -9\n' "total" "$total"
printf '%-24s %8d bytes raw %8d gzip -9 (only in hidden pages; not in the total)\n' \
    pkg/timer-worker.js "$(wc -c < pkg/timer-worker.js)" "$(gzip -9c pkg/timer-worker.js | wc -c)"
printf '%-24s %8d bytes raw %8d gzip -9 (only in pages that import wasmqtt/store; not in the total)\n' \
    pkg/store.js "$(wc -c < pkg/store.js)" "$(gzip -9c pkg/store.js | wc -c)"
# The size budget (bytes, gzip -9 of what a page loads), when one is given.
if [[ -n ${WASMQTT_SIZE_BUDGET:-} ]] && ((total > WASMQTT_SIZE_BUDGET)); then
    echo "build-wasm: $total bytes gzip is over the budget of $WASMQTT_SIZE_BUDGET" >&2
    exit 1
fi
