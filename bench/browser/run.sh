#!/usr/bin/env bash
# The browser benchmark, in one command:
#   bash bench/browser/run.sh                 # everything, 3 repetitions
#   bash bench/browser/run.sh --reps 5 --scenarios qos0-64B,qos0-1KiB
#   bash bench/browser/run.sh --profile --scenarios qos0-64B --brokers wasmqtt-broker
#   bash bench/browser/run.sh --fanout [--reps 3 --n 10000]   # 3 tabs: shared mode vs 3 connections
# Builds the wasm package (scripts/build-wasm.sh) and the release broker,
# installs this directory's npm packages (mqtt@5, playwright-core) if missing,
# stages a snapshot of what the page loads in target/bench/site (so a rebuild
# of pkg/ mid-run cannot mix versions), then runs run.mjs, which starts
# wasmqtt-broker and mosquitto on free ports, serves the page, drives
# /usr/bin/chromium and writes target/bench/browser.json (+ .md).
# BENCH_SKIP_BUILD=1 reuses pkg/ and target/release/wasmqtt-broker as they are.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"

profile=0
for a in "$@"; do [[ $a == --profile ]] && profile=1; done

# Root devDependencies scripts/build-wasm.sh uses (binaryen, esbuild).
[[ -x node_modules/.bin/wasm-opt && -x node_modules/.bin/esbuild ]] || npm ci --no-audit --no-fund
[[ -d "$HERE/node_modules/playwright-core" && -d "$HERE/node_modules/mqtt" ]] ||
    (cd "$HERE" && npm ci --no-audit --no-fund)

if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    bash scripts/build-wasm.sh
    cargo build --quiet --release -p wasmqtt-broker
fi

# A snapshot of the npm package as published: package.json and its `files`.
# The page imports the package's entry module (its `exports`) from there.
site=target/bench/site
rm -rf "$site" && mkdir -p "$site/wasmqtt"
cp package.json "$site/wasmqtt/"
node -e 'for (const f of require("./package.json").files) console.log(f)' |
    while read -r f; do
        mkdir -p "$site/wasmqtt/$(dirname "$f")"
        cp -r "$f" "$site/wasmqtt/$f"
    done

# The tab fan-out (fanout.mjs) has its own runner and options.
if [[ ${1:-} == --fanout ]]; then
    shift
    exec node "$HERE/fanout.mjs" "$@"
fi

args=()
if ((profile)); then
    # Same code, with the wasm name section kept so profiles show Rust
    # function names (wasm-opt drops names unless -g).
    # Unbundled (js/index.js + fresh glue), as the shipped bundle's glue
    # has renamed imports that only match the shipped wasm.
    site=target/bench/site-profile
    rm -rf "$site" && mkdir -p "$site/wasmqtt/js" "$site/wasmqtt/pkg"
    cp js/*.js "$site/wasmqtt/js/"
    # `#wasm` (package.json "imports") is for bundlers: a browser needs the path.
    sed -i "s|from '#wasm'|from './wasm.js'|" "$site/wasmqtt/js/index.js"
    echo '{ "exports": { ".": "./js/index.js" } }' > "$site/wasmqtt/package.json"
    # The core wasm scripts/build-wasm.sh built (target/wasm-size unless
    # rust-src is missing), not the store's it built after it.
    wasm=target/wasm-size/wasmqtt-core.wasm
    [[ -f $wasm ]] || wasm=target/wasmqtt-core.wasm
    wasm-bindgen --target web --no-typescript --out-dir "$site/wasmqtt/pkg" --out-name wasmqtt "$wasm"
    node_modules/.bin/wasm-opt -Oz -g --enable-bulk-memory --enable-nontrapping-float-to-int \
        --enable-sign-ext --enable-mutable-globals --strip-producers \
        "$site/wasmqtt/pkg/wasmqtt_bg.wasm" -o "$site/wasmqtt/pkg/wasmqtt_bg.wasm"
    # js/index.js looks for the wasm beside itself.
    cp "$site/wasmqtt/pkg/wasmqtt_bg.wasm" "$site/wasmqtt/js/"
    args=(--site "$ROOT/$site")
fi

exec node "$HERE/run.mjs" "${args[@]}" "$@"
