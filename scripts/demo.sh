#!/usr/bin/env bash
# The main job: build everything and run the live device-monitoring demo.
#
#   bash scripts/demo.sh [options]        (or: npm start)
#
# Builds the client's wasm (pkg/), wasmqtt-broker and wasmqtt-devices in
# release, and the dashboard (www/, with Vite); then starts the broker (TCP
# and WebSocket), the simulated devices (on the broker's TCP port) and a
# static server for www/dist, prints the URL, and opens it when it can.
# Ctrl-C stops everything.
#
# Options (and the environment variables that set them):
#   --host ADDR        address to listen on (DEMO_HOST; default 127.0.0.1,
#                      0.0.0.0 to show the dashboard to other machines)
#   --port N           broker WebSocket port (DEMO_WS_PORT; default: a free one)
#   --tcp-port N       broker TCP port (DEMO_TCP_PORT; default: a free one)
#   --http-port N      dashboard port (DEMO_HTTP_PORT; default: a free one)
#   --devices N        simulated devices, 1 to 1000 (DEMO_DEVICES; default 12;
#                      500 with --rate 2 is the fleet the page is tested with)
#   --rate R           telemetry messages/s per device (DEMO_RATE; default 1)
#   --revive-after S   seconds a killed device stays down, 0 for good
#                      (DEMO_REVIVE_AFTER; default 10)
#   --no-open          do not open a browser (DEMO_NO_OPEN=1)
#   --no-build         run what was built last time (DEMO_NO_BUILD=1)
#   --build-only       build everything, start nothing
# DEMO_READY_FILE=PATH: once everything is up, write {"url", "ws", "tcp", …}
# there as JSON (tests wait for it); it is removed on exit.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/setup.sh
. scripts/setup.sh

HOST=${DEMO_HOST:-127.0.0.1}
WS_PORT=${DEMO_WS_PORT:-0}
TCP_PORT=${DEMO_TCP_PORT:-0}
HTTP_PORT=${DEMO_HTTP_PORT:-0}
DEVICES=${DEMO_DEVICES:-12}
RATE=${DEMO_RATE:-1}
REVIVE_AFTER=${DEMO_REVIVE_AFTER:-10}
OPEN=$((${DEMO_NO_OPEN:-0} == 0))
BUILD=$((${DEMO_NO_BUILD:-0} == 0))
RUN=1
READY_FILE=${DEMO_READY_FILE:-}

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
need() { [[ $# -ge 2 && -n $2 ]] || { echo "demo.sh: $1 needs a value" >&2; exit 2; }; }
while (($#)); do
    case $1 in
        --host) need "$@"; HOST=$2; shift ;;
        --port | --ws-port) need "$@"; WS_PORT=$2; shift ;;
        --tcp-port) need "$@"; TCP_PORT=$2; shift ;;
        --http-port) need "$@"; HTTP_PORT=$2; shift ;;
        --devices) need "$@"; DEVICES=$2; shift ;;
        --rate) need "$@"; RATE=$2; shift ;;
        --revive-after) need "$@"; REVIVE_AFTER=$2; shift ;;
        --no-open) OPEN=0 ;;
        --no-build) BUILD=0 ;;
        --build-only) RUN=0 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "demo.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

TARGET=${CARGO_TARGET_DIR:-target}
BROKER_BIN=$TARGET/release/wasmqtt-broker
DEVICES_BIN=$TARGET/release/wasmqtt-devices

# --- build -----------------------------------------------------------------

# shellcheck disable=SC2317  # called through step
build_www() { (cd www && npm run --silent build); }

if ((BUILD)); then
    trap print_timings EXIT
    step "setup" wasmqtt_setup
    step "setup (www)" wasmqtt_setup_www
    step "build client wasm (pkg/)" bash scripts/build-wasm.sh
    step "build broker + devices (release)" cargo build --release -p wasmqtt-broker -p wasmqtt-devices
    step "build dashboard (www/dist)" build_www
    print_timings
    trap - EXIT
fi
((RUN)) || exit 0

for f in "$BROKER_BIN" "$DEVICES_BIN" www/dist/index.html; do
    [[ -e $f ]] || { log "$f is missing: run without --no-build first"; exit 1; }
done

# --- run -------------------------------------------------------------------

RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/wasmqtt-demo.XXXXXX")
PIDS=()
NAMES=()

# shellcheck disable=SC2317  # the EXIT trap
stop_all() {
    local status=$? i newest_first=()
    trap - EXIT INT TERM
    # Newest first: the page server, the devices (they disconnect with
    # their wills), then the broker; SIGKILL for any still up after 5 s.
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        newest_first+=("${PIDS[i]}")
    done
    stop_pids 5 "${newest_first[@]}"
    [[ -n $READY_FILE ]] && rm -f "$READY_FILE"
    rm -rf "$RUN_DIR"
    ((${#PIDS[@]})) && log "demo stopped"
    exit "$status"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME COMMAND...: runs COMMAND in the background, stdout to
# $RUN_DIR/NAME.out and stderr to $RUN_DIR/NAME.log.
start() {
    local name=$1
    shift
    "$@" >"$RUN_DIR/$name.out" 2>"$RUN_DIR/$name.log" &
    PIDS+=($!)
    NAMES+=("$name")
}

# await_line NAME REGEX SECONDS: prints the first stdout line of NAME that
# matches, waiting until it appears, the process dies or time runs out.
await_line() {
    local name=$1 regex=$2 deadline=$((SECONDS + $3)) pid=${PIDS[-1]} line
    while :; do
        if line=$(grep -m1 -E "$regex" "$RUN_DIR/$name.out" 2>/dev/null); then
            echo "$line"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            log "$name exited before it was ready:"
            sed 's/^/    /' "$RUN_DIR/$name.log" >&2
            return 1
        fi
        if ((SECONDS >= deadline)); then
            log "$name was not ready within $3 s; its log:"
            sed 's/^/    /' "$RUN_DIR/$name.log" >&2
            return 1
        fi
        sleep 0.1
    done
}

# The port after the last colon of HOST:PORT or [V6]:PORT.
port_of() { echo "${1##*:}"; }
# HOST:PORT, with brackets around an IPv6 host.
addr() {
    case $1 in
        *:*) echo "[$1]:$2" ;;
        *) echo "$1:$2" ;;
    esac
}
# Where this machine reaches the servers: loopback when they listen on
# every interface.
case $HOST in
    0.0.0.0) LOCAL=127.0.0.1 ;;
    :: | '[::]') LOCAL=::1 ;;
    *) LOCAL=${HOST#[}; LOCAL=${LOCAL%]} ;;
esac
URL_HOST=$LOCAL
[[ $URL_HOST == *:* ]] && URL_HOST="[$URL_HOST]"
LISTEN=${HOST#[}
LISTEN=${LISTEN%]}

start broker "$BROKER_BIN" --tcp "$(addr "$LISTEN" "$TCP_PORT")" \
    --ws "$(addr "$LISTEN" "$WS_PORT")" --log warn
line=$(await_line broker '^LISTENING' 20)
tcp=${line#*tcp=}
tcp=${tcp%% *}
ws=${line#*ws=}
tcp_port=$(port_of "$tcp")
ws_port=$(port_of "$ws")

start devices "$DEVICES_BIN" --broker "$(addr "$LOCAL" "$tcp_port")" \
    --devices "$DEVICES" --rate "$RATE" --revive-after "$REVIVE_AFTER"
# A minute, plus time for a big fleet's connections on a busy machine.
await_line devices '^READY' $((60 + DEVICES / 5)) >/dev/null

printf '{"wsPort": %d, "wsPath": "/mqtt"}\n' "$ws_port" >"$RUN_DIR/config.json"
start http node www/serve.mjs www/dist --host "$LISTEN" --port "$HTTP_PORT" --config "$RUN_DIR/config.json"
line=$(await_line http '^SERVING' 20)
http_port=$(port_of "${line%/}")
url="http://$URL_HOST:$http_port/"

if [[ -n $READY_FILE ]]; then
    cat >"$READY_FILE.tmp" <<JSON
{"url": "$url", "ws": "ws://$URL_HOST:$ws_port/mqtt", "tcp": "$URL_HOST:$tcp_port", "wsPort": $ws_port, "tcpPort": $tcp_port, "httpPort": $http_port, "devices": $DEVICES, "runDir": "$RUN_DIR"}
JSON
    mv "$READY_FILE.tmp" "$READY_FILE"
fi

cat >&2 <<EOF

  wasmqtt demo is running

    Dashboard   $url
    Broker      ws://$URL_HOST:$ws_port/mqtt (WebSocket), $URL_HOST:$tcp_port (TCP)
    Devices     $DEVICES simulated devices, $RATE msg/s each, back ${REVIVE_AFTER}s after a kill
    Kill one    the Kill button on its tile, or
                mosquitto_pub -h $URL_HOST -p $tcp_port -t sim/kill -m dev-03
    Logs        $RUN_DIR/{broker,devices,http}.log

EOF
case $LISTEN in
    0.0.0.0 | ::) log "listening on every interface: other machines use http://<this machine's address>:$http_port/" ;;
esac
printf '  Press Ctrl-C to stop.\n\n' >&2

if ((OPEN)) && [[ -n ${DISPLAY:-}${WAYLAND_DISPLAY:-} ]] && command -v xdg-open >/dev/null 2>&1; then
    xdg-open "$url" >/dev/null 2>&1 || true
fi

# Runs until Ctrl-C, or until one of the three dies.
status=0
wait -n "${PIDS[@]}" || status=$?
for i in "${!PIDS[@]}"; do
    if ! kill -0 "${PIDS[i]}" 2>/dev/null; then
        log "${NAMES[i]} exited (status $status); its log:"
        tail -n 20 "$RUN_DIR/${NAMES[i]}.log" | sed 's/^/    /' >&2
    fi
done
exit 1
