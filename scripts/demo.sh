#!/usr/bin/env bash
# The main job: build the client and the broker, start the broker, and serve
# the live device-monitoring page (www/) that uses the npm package.
#
#   bash scripts/demo.sh
#
# Today only the codec exists: this builds everything that does, then says
# plainly what is missing and exits non-zero.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/setup.sh
. scripts/setup.sh
trap print_timings EXIT

step "setup" wasmqtt_setup
step "build workspace" cargo build --workspace --release
step "build client (wasm32)" cargo build --release --target wasm32-unknown-unknown -p wasmqtt

wasm=${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/wasmqtt.wasm
if [[ -f "$wasm" ]]; then
    log "client wasm: $wasm ($(wc -c <"$wasm") bytes, before wasm-bindgen and wasm-opt)"
fi

missing=()
[[ -d www ]] || missing+=("the demo page (www/)")
[[ -f package.json ]] || missing+=("the npm package (package.json)")
missing+=("the broker binary (crates/broker is a placeholder)")
missing+=("the browser client API (src/ only re-exports the codec)")

{
    echo
    echo "wasmqtt demo: NOT IMPLEMENTED YET"
    echo "  Built: the codec and session engine crates, and the client crate for wasm32-unknown-unknown."
    echo "  Missing:"
    printf '    - %s\n' "${missing[@]}"
    echo "  There is no broker to start and no page to serve yet, so there is no demo."
} >&2
exit 1
