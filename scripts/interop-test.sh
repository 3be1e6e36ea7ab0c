#!/usr/bin/env bash
# Interop tests: real third-party MQTT clients against wasmqtt-broker.
#
#   bash scripts/interop-test.sh
#
# Installs what is missing (npm `mqtt` 5.x from package.json, a Python venv
# with paho-mqtt 2.x and pytest under target/interop-venv, mosquitto-clients
# from Debian), builds the release broker, starts it on ports the OS picks,
# and runs three suites against it:
#   MQTT.js            tests/interop/mqttjs.test.mjs            (TCP + WebSocket)
#   paho-mqtt          tests/interop/test_paho.py               (TCP + WebSocket)
#   mosquitto clients  tests/interop/mosquitto_clients.test.mjs (TCP, v5 + v3.1.1)
# Ends with one line "interop: N passed, N failed" and exits non-zero if any
# suite failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/processes.sh
. scripts/processes.sh

VENV=target/interop-venv
# Each suite's limit in seconds, and each test's in milliseconds.
SUITE_LIMIT=600
TEST_TIMEOUT_MS=60000
log() { printf '\n== %s\n' "$*"; }

# --- what the suites need -----------------------------------------------
if ! node -e "require.resolve('mqtt')" >/dev/null 2>&1; then
    log "installing npm devDependencies (mqtt)"
    npm install --no-audit --no-fund
fi
if ! "$VENV/bin/python" -c 'import paho.mqtt, pytest, sys; sys.exit(paho.mqtt.__version__[0] != "2")' 2>/dev/null; then
    log "installing paho-mqtt 2.x and pytest into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check 'paho-mqtt>=2,<3' pytest
fi
if ! command -v mosquitto_sub >/dev/null || ! command -v mosquitto_rr >/dev/null; then
    log "installing mosquitto-clients"
    apt-get update -qq && apt-get install -y -qq mosquitto-clients
fi

log "building wasmqtt-broker (release)"
cargo build --quiet --release -p wasmqtt-broker

# --- the broker ----------------------------------------------------------
# It binds port 0 and prints the ports it got as its only line on stdout.
BROKER_LOG=$(mktemp)
coproc BROKER { exec target/release/wasmqtt-broker --tcp 127.0.0.1:0 --ws 127.0.0.1:0 --log warn 2>"$BROKER_LOG"; }
BROKER_PID_SAVED=$BROKER_PID
RESULTS=$(mktemp -d)
cleanup() {
    stop_pids 5 "$BROKER_PID_SAVED"
    if [[ -s "$BROKER_LOG" ]]; then
        echo "-- broker stderr (warnings and errors):"
        tail -n 50 "$BROKER_LOG"
    fi
    rm -rf "$BROKER_LOG" "$RESULTS"
}
trap cleanup EXIT
if ! read -r -t 30 line <&"${BROKER[0]}" || [[ $line != LISTENING* ]]; then
    cat "$BROKER_LOG" >&2
    echo "wasmqtt-broker did not start" >&2
    exit 1
fi
tcp=${line#*tcp=}; tcp=${tcp%% *}
ws=${line#*ws=}
export WASMQTT_BROKER_TCP=$tcp
export WASMQTT_BROKER_WS="ws://$ws/mqtt"
log "wasmqtt-broker: tcp=$WASMQTT_BROKER_TCP ws=$WASMQTT_BROKER_WS"

# --- the suites ----------------------------------------------------------
declare -A PASSED FAILED
run_suite() {
    local name=$1; shift
    log "$name"
    local out="$RESULTS/$name.log" status=0
    WASMQTT_STEP="interop suite $name" within "$SUITE_LIMIT" "$@" 2>&1 | tee "$out" || status=$?
    local p f
    # node --test (spec reporter): "ℹ pass N" / "ℹ fail N"; pytest: "N passed, M failed".
    p=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$out" | tail -n1)
    f=$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$out" | tail -n1)
    if [[ -z $p ]]; then
        p=$(grep -Eo '[0-9]+ passed' "$out" | tail -n1 | cut -d' ' -f1 || true)
        f=$(grep -Eo '[0-9]+ (failed|errors?)' "$out" | awk '{s += $1} END {print s + 0}' || true)
    fi
    PASSED[$name]=${p:-0}
    FAILED[$name]=${f:-0}
    # A runner that crashed before counting still fails the run.
    if [[ $status -ne 0 && ${FAILED[$name]} -eq 0 ]]; then FAILED[$name]=1; fi
}

run_suite mqttjs node --test --test-reporter=spec --test-timeout="$TEST_TIMEOUT_MS" tests/interop/mqttjs.test.mjs
run_suite paho "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/interop/test_paho.py
run_suite mosquitto-clients node --test --test-reporter=spec --test-timeout="$TEST_TIMEOUT_MS" tests/interop/mosquitto_clients.test.mjs

log "summary"
total_p=0 total_f=0
for name in mqttjs paho mosquitto-clients; do
    printf '  %-18s %3d passed, %d failed\n' "$name" "${PASSED[$name]}" "${FAILED[$name]}"
    total_p=$((total_p + PASSED[$name]))
    total_f=$((total_f + FAILED[$name]))
done
echo "interop: $total_p passed, $total_f failed"
[[ $total_f -eq 0 ]]
