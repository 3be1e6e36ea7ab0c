#!/usr/bin/env bash
# Builds the npm package's wasm: cargo (release, size-tuned), wasm-bindgen
# --target web into pkg/, binaryen's wasm-opt -Oz, then shorter names for
# what the wasm and the glue share, and one minified module for the JS
# (pkg/index.js, the package's entry point). The same again with the
# session store (pkg/wasmqtt_store_bg.wasm, pkg/store.js: `wasmqtt/store`).
# Prints the sizes; the budget is the core's.
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
    build_std=1
else
    echo "build-wasm: rust-src is missing (rustup component add rust-src):" \
        "using the prebuilt core, ~4 KB gzip larger" >&2
    build_std=
    out=target
fi

# wasm_build NAME [CARGO ARGS]: the size-tuned wasm and its glue as
# pkg/NAME_bg.wasm and pkg/NAME.js. Both builds share the target dir (cargo
# keeps each feature set's artifacts apart), so the rebuilt core is shared.
wasm_build() {
    local name=$1
    shift
    if [[ -n $build_std ]]; then
        RUSTC_BOOTSTRAP=1 \
        RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none" \
            cargo build --release --target wasm32-unknown-unknown -p wasmqtt --target-dir "$out" \
            -Zbuild-std=core,alloc -Zbuild-std-features=optimize_for_size "$@"
    else
        cargo build --release --target wasm32-unknown-unknown -p wasmqtt "$@"
    fi
    wasm-bindgen --target web --no-typescript --out-dir pkg --out-name "$name" \
        "$out/wasm32-unknown-unknown/release/wasmqtt.wasm"
    # Debian's wasm-opt 108 emits modules Chromium rejects; use npm binaryen.
    # --flatten --rereloop first: rebuilt control flow that -Oz then shrinks
    # further (-0.4 KB gzip); --converge: repeat -Oz while it still shrinks.
    node_modules/.bin/wasm-opt --flatten --rereloop -Oz -Oz --converge --enable-bulk-memory \
        --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
        --strip-debug --strip-producers --strip-target-features \
        "pkg/${name}_bg.wasm" -o "pkg/${name}_bg.wasm"
    # Short names for the imports and exports the wasm and its glue share
    # (wasm-bindgen's are long and hashed, so they barely compress).
    node scripts/minify-names.mjs "pkg/${name}_bg.wasm" "pkg/${name}.js"
    # The glue is generated code: ship it minified.
    node_modules/.bin/esbuild "pkg/${name}.js" --minify --format=esm --log-level=warning \
        --allow-overwrite --outfile="pkg/${name}.js"
}

# The core wasm, and the session store's (cargo feature `store`: the
# session's journal and restore), which only `wasmqtt/store` loads.
wasm_build wasmqtt
# The core's wasm as cargo built it (names kept), for bench/browser/run.sh
# --profile: the store build next overwrites cargo's output file.
cp "$out/wasm32-unknown-unknown/release/wasmqtt.wasm" "$out/wasmqtt-core.wasm"
wasm_build wasmqtt_store --features store

# bundle ENTRY OUT STORE [ESBUILD ARGS]: the JS API, option checks and glue
# as one minified module, which finds its wasm beside itself; bundlers
# follow its `new URL('…_bg.wasm', import.meta.url)`. STORE (true/false)
# keeps or drops the store's code in js/ (`globalThis.WASMQTT_STORE`).
bundle() {
    local entry=$1 outfile=$2 store=$3
    shift 3
    node_modules/.bin/esbuild "$entry" --bundle --minify --format=esm --log-level=warning \
        --define:globalThis.WASMQTT_STORE="$store" "$@" --outfile="$outfile"
    # terser's second compress pass takes another ~3 % off what esbuild left.
    node_modules/.bin/terser "$outfile" --module --compress passes=2 --mangle --output "$outfile"
}
bundle js/index.js pkg/index.js false
cp js/node.js pkg/node.js
# `wasmqtt/store`: the same client over the store's wasm (`#wasm` resolved
# with the `wasmqtt-store` condition, package.json "imports"), plus the
# stores; loaded only by pages that import it.
bundle js/store/entry.js pkg/store.js true --conditions=wasmqtt-store
# The timer worker, fetched next to pkg/index.js only while a page is hidden.
node_modules/.bin/esbuild js/timer-worker.js --minify --format=esm --log-level=warning \
    --outfile=pkg/timer-worker.js
# Shared mode (wasmqtt/shared), its own entry point: the tab-side proxy
# and its SharedWorker, each importing the core from ./index.js beside it.
for f in shared shared-worker; do
    node_modules/.bin/esbuild "js/$f.js" --bundle --minify --format=esm --log-level=warning \
        --external:./index.js --outfile="pkg/$f.js"
    node_modules/.bin/terser "pkg/$f.js" --module --compress passes=2 --mangle --output "pkg/$f.js"
done
# gzip_total FILE...: prints each file's size and returns the gzip sum in $sum.
gzip_total() {
    sum=0
    local f gz
    for f in "$@"; do
        gz=$(gzip -9c "$f" | wc -c)
        sum=$((sum + gz))
        printf '%-28s %8d bytes raw %8d gzip -9\n' "$f" "$(wc -c < "$f")" "$gz"
    done
}
gzip_total pkg/wasmqtt_bg.wasm pkg/index.js
total=$sum
printf '%-28s %26d gzip -9\n' "total (wasmqtt)" "$total"
printf '%-28s %8d bytes raw %8d gzip -9 (only in hidden pages; not in the total)\n' \
    pkg/timer-worker.js "$(wc -c < pkg/timer-worker.js)" "$(gzip -9c pkg/timer-worker.js | wc -c)"
# What a page that imports `wasmqtt/store` loads instead: not in the budget.
gzip_total pkg/wasmqtt_store_bg.wasm pkg/store.js
printf '%-28s %26d gzip -9 (instead of the core; not in the budget)\n' "total (wasmqtt/store)" "$sum"
# Shared mode: loaded on top of the core by pages that import it.
for f in pkg/shared.js pkg/shared-worker.js; do
    printf '%-28s %8d bytes raw %8d gzip -9 (shared mode only; not in the total)\n' \
        "$f" "$(wc -c < "$f")" "$(gzip -9c "$f" | wc -c)"
done
# The size budget (bytes, gzip -9 of what a page loads), when one is given.
if [[ -n ${WASMQTT_SIZE_BUDGET:-} ]] && ((total > WASMQTT_SIZE_BUDGET)); then
    echo "build-wasm: $total bytes gzip is over the budget of $WASMQTT_SIZE_BUDGET" >&2
    exit 1
fi
