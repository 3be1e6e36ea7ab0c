#!/usr/bin/env bash
# Browser end-to-end tests through `wasm-pack test`: the Rust API of the
# wasmqtt crate in headless Chromium against wasmqtt-broker and mosquitto
# (started here on free ports), then the example page's own tests.
#
#   bash scripts/browser-test.sh            # both crates
#   bash scripts/browser-test.sh wasmqtt    # one: wasmqtt or example-page
#   bash scripts/browser-test.sh wasmqtt rust_api   # and only tests whose name has this
#
# wasm-pack runs in `--mode no-install` with Debian's chromedriver named
# explicitly: it uses the wasm-bindgen-cli on PATH (scripts/setup.sh
# installs the version Cargo.lock pins) and never downloads a driver or a
# CLI of its own.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/brokers.sh
. scripts/brokers.sh
echo "wasmqtt-broker: $WASMQTT_BROKER_WS  mosquitto: $WASMQTT_MOSQUITTO_WS"

export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-120}
# The Chromium flags of webdriver.json, wherever wasm-pack runs from.
export WASM_BINDGEN_TEST_WEBDRIVER_JSON=${WASM_BINDGEN_TEST_WEBDRIVER_JSON:-$PWD/webdriver.json}

# wasm_pack_test DIR ARGS...: `wasm-pack test` in DIR, ARGS going to `cargo test`.
wasm_pack_test() {
    local dir=$1
    shift
    (cd "$dir" && wasm-pack test --mode no-install --headless --chrome \
        --chromedriver "$CHROMEDRIVER" -- "$@")
}

only=${1:-}
filter=()
[[ -n ${2:-} ]] && filter=(-- "$2")
if [[ -z $only || $only == wasmqtt ]]; then
    wasm_pack_test . --test browser --test worker "${filter[@]}"
fi
if [[ ( -z $only || $only == example-page ) && -f examples/page/Cargo.toml ]]; then
    wasm_pack_test examples/page "${filter[@]}"
fi
