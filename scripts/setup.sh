#!/usr/bin/env bash
# Installs what building and testing wasmqtt needs, and only what is missing.
#
# Run it (`bash scripts/setup.sh`) or source it (`. scripts/setup.sh`, then
# call `wasmqtt_setup`). Every `ensure_*` function checks before it installs,
# so running it again is cheap. Each step prints how long it took.
#
# Needs: Rust via rustup (stable, the default toolchain). Everything else is
# fetched from crates.io, npm or Debian's apt repositories.

# When sourced, the caller's shell options stay the caller's.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
fi

WASMQTT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# wasm-bindgen-cli must match the wasm-bindgen crate exactly; Cargo.lock wins
# over this default once it pins one.
WASM_BINDGEN_DEFAULT_VERSION="0.2.130"
APT_PACKAGES=(chromium chromium-driver mosquitto)

# --- helpers ---------------------------------------------------------------

WASMQTT_TIMINGS=()
WASMQTT_FAILED=()

log() { printf '[wasmqtt] %s\n' "$*" >&2; }

# stop_pids and within: bounded waits on processes.
# shellcheck source=scripts/processes.sh
. "$WASMQTT_ROOT/scripts/processes.sh"

# step NAME COMMAND...: runs COMMAND (a command or a function) in a subshell
# with errexit on, prints its wall time and records it for `print_timings`.
# Returns COMMAND's status, so under `set -e` a failed step stops the script.
step() { _timed step "$@"; }

# check NAME COMMAND...: like step, but a failure is recorded in
# WASMQTT_FAILED and the script goes on; see `finish_checks`.
check() { _timed check "$@"; }

# Never call step/check inside `if`, `||` or `&&`: bash would then ignore
# errexit inside COMMAND.
_timed() {
    local mode="$1" name="$2"
    shift 2
    local WASMQTT_STEP=$name
    local start=$EPOCHREALTIME status had_e=0 secs
    [[ $- == *e* ]] && had_e=1
    log "==> $name"
    set +e
    (
        set -e
        "$@"
    )
    status=$?
    if ((had_e)); then set -e; fi
    secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    if ((status == 0)); then
        WASMQTT_TIMINGS+=("$(printf '%-36s %7ss' "$name" "$secs")")
        log "<== $name: ${secs}s"
        return 0
    fi
    WASMQTT_TIMINGS+=("$(printf '%-36s %7ss  FAILED (exit %d)' "$name" "$secs" "$status")")
    log "<== $name: FAILED (exit $status) after ${secs}s"
    if [[ $mode == check ]]; then
        WASMQTT_FAILED+=("$name")
        return 0
    fi
    return "$status"
}

print_timings() {
    ((${#WASMQTT_TIMINGS[@]})) || return 0
    log "timings:"
    local line
    for line in "${WASMQTT_TIMINGS[@]}"; do
        log "  $line"
    done
}

# Fails (status 1) if any `check` failed, naming them.
finish_checks() {
    if ((${#WASMQTT_FAILED[@]})); then
        log "FAILED: ${WASMQTT_FAILED[*]}"
        return 1
    fi
    log "all checks passed"
}

# Runs a command as root: directly if we are root, else through sudo.
as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        log "need root for: $*  (no sudo available)"
        return 1
    fi
}

# --- checks and installs ---------------------------------------------------

ensure_rust() {
    if ! command -v cargo >/dev/null 2>&1 || ! command -v rustup >/dev/null 2>&1; then
        log "cargo/rustup not found: install Rust (stable) with rustup first"
        return 1
    fi
    cargo --version
}

ensure_rust_components() {
    local missing=()
    cargo fmt --version >/dev/null 2>&1 || missing+=(rustfmt)
    cargo clippy --version >/dev/null 2>&1 || missing+=(clippy)
    # The npm build recompiles core and alloc for size (scripts/build-wasm.sh).
    rustup component list --installed | grep -q '^rust-src' || missing+=(rust-src)
    if ((${#missing[@]})); then
        rustup component add "${missing[@]}"
    else
        log "rustfmt, clippy and rust-src present"
    fi
}

ensure_wasm_target() {
    if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        log "target wasm32-unknown-unknown present"
    else
        rustup target add wasm32-unknown-unknown
    fi
}

# The wasm-bindgen version Cargo.lock pins, else the default above.
wasm_bindgen_version() {
    local lock="$WASMQTT_ROOT/Cargo.lock" v=""
    if [[ -f "$lock" ]]; then
        v=$(grep -A1 '^name = "wasm-bindgen"$' "$lock" | sed -n 's/^version = "\(.*\)"/\1/p' | head -n1)
    fi
    echo "${v:-$WASM_BINDGEN_DEFAULT_VERSION}"
}

# Takes ~3.5 min on 2 cores when it has to build. No --locked: the registry
# mirror lacks one of the CLI's pinned transitive versions.
ensure_wasm_bindgen_cli() {
    local want
    want=$(wasm_bindgen_version)
    if wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $want"; then
        log "wasm-bindgen-cli $want present"
    else
        cargo install wasm-bindgen-cli --version "$want"
    fi
}

# wasm-pack runs the browser tests (`wasm-pack test`, scripts/browser-test.sh)
# in `--mode no-install`, so it uses the wasm-bindgen-cli above and
# Debian's chromedriver. Built from the crate registry (~2-4.5 min once):
# the npm package of wasm-pack downloads a binary at install.
WASM_PACK_VERSION="0.15.1"
ensure_wasm_pack() {
    if wasm-pack --version 2>/dev/null | grep -qx "wasm-pack $WASM_PACK_VERSION"; then
        log "wasm-pack $WASM_PACK_VERSION present"
    else
        cargo install wasm-pack --locked --version "$WASM_PACK_VERSION"
    fi
}

apt_package_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# Chromium + chromedriver for browser tests, mosquitto as a reference broker.
ensure_apt_packages() {
    local missing=() pkg
    for pkg in "${APT_PACKAGES[@]}"; do
        apt_package_installed "$pkg" || missing+=("$pkg")
    done
    if ((${#missing[@]} == 0)); then
        log "apt packages present: ${APT_PACKAGES[*]}"
        return 0
    fi
    log "installing apt packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# npm dependencies (wasm-opt from npm `binaryen`, playwright-core, mqtt for
# interop and benchmarks), reinstalled only when the lockfile changed.
ensure_npm_deps() {
    local root="$WASMQTT_ROOT"
    if [[ ! -f "$root/package.json" ]]; then
        log "no package.json yet: skipping npm"
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        log "npm not found: install Node.js 20+"
        return 1
    fi
    local stamp="$root/node_modules/.package-lock.json"
    if [[ -f "$stamp" && -f "$root/package-lock.json" && ! "$root/package-lock.json" -nt "$stamp" ]]; then
        log "node_modules up to date"
    else
        (cd "$root" && npm ci --no-audit --no-fund)
    fi
}

# Vite 7 (the dashboard's bundler) needs Node.js 20.19+ or 22.12+.
ensure_node_for_vite() {
    if ! command -v node >/dev/null 2>&1; then
        log "node not found: install Node.js 20.19+ or 22.12+"
        return 1
    fi
    local v major minor
    v=$(node --version)
    v=${v#v}
    major=${v%%.*}
    minor=${v#*.}
    minor=${minor%%.*}
    if ((major > 22 || (major == 22 && minor >= 12) || (major == 20 && minor >= 19))); then
        log "node $v present"
    else
        log "node $v is too old for Vite 7: install Node.js 20.19+ or 22.12+"
        return 1
    fi
}

# The dashboard's own npm project (www/: Vite, uPlot, playwright-core, and
# the wasmqtt package itself linked from the repository root). Installed
# only when its lockfile is newer than the last install.
ensure_www_deps() {
    local www="$WASMQTT_ROOT/www"
    [[ -f "$www/package.json" ]] || return 0
    local stamp="$www/node_modules/.package-lock.json"
    if [[ -f "$stamp" && -f "$www/package-lock.json" && ! "$www/package-lock.json" -nt "$stamp" ]]; then
        log "www/node_modules up to date"
    elif [[ -f "$www/package-lock.json" ]]; then
        (cd "$www" && npm ci --no-audit --no-fund)
    else
        (cd "$www" && npm install --no-audit --no-fund)
    fi
}

# --- entry point -----------------------------------------------------------

wasmqtt_setup() {
    step "setup: rust" ensure_rust
    step "setup: rustfmt + clippy" ensure_rust_components
    step "setup: wasm32 target" ensure_wasm_target
    step "setup: wasm-bindgen-cli" ensure_wasm_bindgen_cli # ~3.5 min first time
    step "setup: wasm-pack" ensure_wasm_pack               # ~3 min first time
    step "setup: apt packages" ensure_apt_packages         # ~1 min first time
    step "setup: npm ci" ensure_npm_deps
}

# What the demo and the dashboard test need on top of wasmqtt_setup.
wasmqtt_setup_www() {
    step "setup: node for vite" ensure_node_for_vite
    step "setup: www npm ci" ensure_www_deps
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    trap print_timings EXIT
    wasmqtt_setup
    wasmqtt_setup_www
fi
