#!/usr/bin/env bash
# JS-level tests of the npm package in headless Chromium (playwright-core,
# the system's Chromium): the API from a page, inside a Web Worker, and the
# packed package built into a Vite 7 app. Builds the wasm first when pkg/ is
# older than the Rust sources, and starts the brokers (scripts/brokers.sh).
#
#   bash scripts/js-test.sh [node --test arguments, e.g. tests/js/api.test.mjs]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

wasm=pkg/wasmqtt_bg.wasm
if [[ ! -f $wasm || ! -f pkg/wasmqtt.js || ! -f pkg/wasmqtt_store_bg.wasm || ! -f pkg/store.js ]] ||
    [[ -n $(find src crates/codec crates/session js Cargo.toml Cargo.lock -newer "$wasm" -print -quit) ]]; then
    echo "pkg/ is missing or older than the sources: building the wasm"
    bash scripts/build-wasm.sh
fi

# shellcheck source=scripts/brokers.sh
. scripts/brokers.sh
echo "wasmqtt-broker: $WASMQTT_BROKER_WS  auth: $WASMQTT_BROKER_AUTH_WS  mosquitto: $WASMQTT_MOSQUITTO_WS"

# A test that hangs fails after five minutes instead of holding the run up
# (the packed-package test installs Vite from the registry on a fresh machine).
if (($#)); then
    node --test --test-reporter=spec --test-timeout=300000 "$@"
else
    node --test --test-reporter=spec --test-timeout=300000 tests/js/
fi
