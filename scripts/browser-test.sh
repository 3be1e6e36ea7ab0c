#!/usr/bin/env bash
# Browser end-to-end tests: the wasm client in headless Chromium against
# wasmqtt-broker and mosquitto (started here on free ports).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/brokers.sh
. scripts/brokers.sh
echo "wasmqtt-broker: $WASMQTT_BROKER_WS  mosquitto: $WASMQTT_MOSQUITTO_WS"

export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-120}
cargo test --target wasm32-unknown-unknown -p wasmqtt --test browser
