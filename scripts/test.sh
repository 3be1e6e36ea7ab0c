#!/usr/bin/env bash
# Runs every test and check, installing what is missing first (setup.sh):
# formatting; clippy for the workspace, the fuzz crate and the wasm32
# client; the workspace's Rust tests; the npm package build held to its
# size budget; the TypeScript types; the browser, JS package, dashboard and
# interop suites; the tests of the child-process functions they rely on.
#
#   bash scripts/test.sh
#
# Every check runs even if an earlier one failed; the script exits non-zero
# if any failed, and prints each step's time and one line of test totals.
# No step can hang: each runs under a time limit (see `within` in
# processes.sh) and the whole run stops at WASMQTT_TEST_MINUTES (default 85)
# minutes; a step that runs out of time is named in the log and fails.
# PROPTEST_CASES (proptest's case count per property, default 256) is
# passed through from the environment, e.g.
#   PROPTEST_CASES=10000 bash scripts/test.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Doc tests first, so the last runner summary printed is the main one.
run_tests() {
    if command -v cargo-nextest >/dev/null 2>&1; then
        cargo test --workspace --doc 2>&1 | tee -a "$TEST_LOG"
        cargo nextest run --workspace 2>&1 | tee -a "$TEST_LOG"
    else
        cargo test --workspace 2>&1 | tee -a "$TEST_LOG"
    fi
}

# The bounded child-process functions every suite below stops its processes
# with (tests/support/).
run_support_tests() {
    node --test --test-reporter=spec --test-timeout=60000 tests/support/ 2>&1 | tee -a "$TEST_LOG"
}

# `wasm-pack test` in headless Chromium against both brokers: the wasmqtt
# crate's browser tests, then the example page's.
run_browser_tests() {
    bash scripts/browser-test.sh 2>&1 | tee -a "$TEST_LOG"
}

# The npm package's API in pages, a Web Worker and a Vite app (Playwright).
run_js_tests() {
    bash scripts/js-test.sh 2>&1 | tee -a "$TEST_LOG"
}

# The live dashboard against the demo stack (Playwright).
run_dashboard_tests() {
    bash scripts/dashboard-test.sh 2>&1 | tee -a "$TEST_LOG"
}

# Third-party clients (MQTT.js, paho-mqtt, mosquitto_pub/sub) against the
# broker; only its closing "interop: N passed, N failed" line is counted.
run_interop_tests() {
    local out status=0
    out=$(mktemp)
    bash scripts/interop-test.sh 2>&1 | tee "$out" || status=$?
    grep '^interop: ' "$out" >> "$TEST_LOG" || true
    rm -f "$out"
    return "$status"
}

# `bash scripts/test.sh --step FUNCTION` runs one of the functions above:
# how they run as programs under a time limit.
if [[ ${1:-} == --step ]]; then
    TEST_LOG=${TEST_LOG:-/dev/null}
    "$2"
    exit
fi

# Adds up libtest's "test result:" lines, nextest's "Summary" line and
# node --test's "ℹ pass/fail/skipped" lines into one closing line:
# "tests: N passed, N failed, N skipped".
print_test_totals() {
    [[ -s "$1" ]] || return 0
    sed 's/\x1b\[[0-9;]*m//g' "$1" | awk '
        /^test result: / {
            for (i = 1; i <= NF; i++) {
                if ($(i + 1) ~ /^passed/) p += $i
                if ($(i + 1) ~ /^failed/) f += $i
                if ($(i + 1) ~ /^ignored/) s += $i
            }
            found = 1
        }
        /^ *Summary \[/ {
            line = $0
            sub(/.*tests? run: /, "", line)
            n = split(line, parts, /, */)
            for (i = 1; i <= n; i++) {
                split(parts[i], w, " ")
                if (w[2] == "passed") p += w[1]
                else if (w[2] == "failed") f += w[1]
                else if (w[2] == "skipped") s += w[1]
            }
            found = 1
        }
        /^ℹ (pass|fail|skipped) [0-9]+$/ {
            if ($2 == "pass") p += $3
            else if ($2 == "fail") f += $3
            else s += $3
            found = 1
        }
        /^interop: [0-9]+ passed, [0-9]+ failed$/ {
            p += $2
            f += $4
            found = 1
        }
        END { if (found) printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }
    '
}

# shellcheck source=scripts/setup.sh
. scripts/setup.sh

# Test output is also kept here, to add up the counts at the end.
TEST_LOG=$(mktemp)
export TEST_LOG
trap 'print_timings; print_test_totals "$TEST_LOG"; rm -f "$TEST_LOG"' EXIT

WASMQTT_DEADLINE=$(($(date +%s) + ${WASMQTT_TEST_MINUTES:-85} * 60))
log "PROPTEST_CASES=${PROPTEST_CASES:-<proptest default>}; stops after ${WASMQTT_TEST_MINUTES:-85} minutes"

# Each step's limit in seconds is generous: a fresh machine builds
# everything once; a step that needs more is hanging.
this=scripts/test.sh
step "setup" within 1200 bash scripts/setup.sh

check "fmt" within 120 cargo fmt --all --check
check "fmt (fuzz crate)" within 120 cargo fmt --manifest-path fuzz/Cargo.toml --check
check "clippy" within 1200 cargo clippy --workspace --all-targets -- -D warnings
# Keeps the fuzz target compiling as the codec changes (stable is enough to
# check it; fuzzing itself needs nightly, see README).
check "clippy (fuzz crate)" within 600 cargo clippy --manifest-path fuzz/Cargo.toml --bins -- -D warnings
check "tests" within 1200 bash "$this" --step run_tests
check "child-process tests" within 120 bash "$this" --step run_support_tests
check "clippy (wasm32)" within 600 cargo clippy --target wasm32-unknown-unknown -p wasmqtt --all-targets -- -D warnings
# The tests turn on the `store` feature (a dev-dependency); the core npm
# wasm has it off, and the session crate alone too: both checked as built.
check "clippy (wasm32, no store)" within 600 cargo clippy --target wasm32-unknown-unknown -p wasmqtt --lib -- -D warnings
check "clippy (session, no store)" within 600 cargo clippy -p wasmqtt-session --all-targets -- -D warnings
# The package, held to its size budget (README: 50 KB gzip).
check "npm package build (50,000 B gzip budget)" within 900 env WASMQTT_SIZE_BUDGET=50000 bash scripts/build-wasm.sh
check "typescript types" within 180 node_modules/.bin/tsc -p js/tsconfig.json
check "browser tests" within 900 bash "$this" --step run_browser_tests
# The Rust API's docs as docs.rs shows them (broken links fail), and the
# example Rust page built as a Rust web app builds (prints its size).
check "docs (rust-api)" within 600 env RUSTDOCFLAGS="-D warnings" cargo doc -p wasmqtt --features rust-api --no-deps
check "example page build" within 600 bash scripts/example-page.sh
check "js package tests" within 900 bash "$this" --step run_js_tests
check "dashboard tests" within 900 bash "$this" --step run_dashboard_tests
check "interop tests" within 900 bash "$this" --step run_interop_tests

finish_checks
