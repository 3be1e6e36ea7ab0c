#!/usr/bin/env bash
# Starts the brokers the browser and JS tests use, on free loopback ports.
# Source it; it exports
#   WASMQTT_BROKER_WS       ws:// URL of wasmqtt-broker (with --test-control)
#   WASMQTT_BROKER_TCP      host:port of its TCP listener
#   WASMQTT_BROKER_AUTH_WS  ws:// URL of a second wasmqtt-broker started with
#                           --no-anonymous and a password file holding the
#                           user WASMQTT_AUTH_USER / WASMQTT_AUTH_PASSWORD
#                           (Argon2) and WASMQTT_SCRAM_USER /
#                           WASMQTT_SCRAM_PASSWORD (SCRAM-SHA-256)
#   WASMQTT_MOSQUITTO_WS    ws:// URL of mosquitto
#   WASMQTT_AEDES_WS        ws:// URL of aedes (npm; MQTT 3.1.1 only)
# and stops them all when the shell exits.

# shellcheck source=scripts/processes.sh
. "$(dirname "${BASH_SOURCE[0]}")/processes.sh"

BROKER_DIR=$(mktemp -d)
BROKER_PIDS=()
cargo build --quiet --release -p wasmqtt-broker

stop_brokers() {
    stop_pids 5 "${BROKER_PIDS[@]}"
    rm -rf "$BROKER_DIR"
}
trap stop_brokers EXIT

# start_wasmqtt_broker NAME ARGS...: starts target/release/wasmqtt-broker on
# port 0 and sets NAME_tcp / NAME_ws to the host:port it printed.
# listening_line OUT ERR NAME: the LISTENING line a server prints to OUT
# once it is up, waiting at most 10 s; else prints ERR and fails.
listening_line() {
    for _ in $(seq 100); do
        grep -q '^LISTENING' "$1" 2>/dev/null && break
        sleep 0.1
    done
    grep '^LISTENING' "$1" || {
        cat "$2" >&2
        echo "$3 did not start" >&2
        return 1
    }
}

start_wasmqtt_broker() {
    local name=$1 out="$BROKER_DIR/$1.out" err="$BROKER_DIR/$1.err" line
    shift
    target/release/wasmqtt-broker --tcp 127.0.0.1:0 --ws 127.0.0.1:0 --log warn "$@" \
        > "$out" 2> "$err" &
    BROKER_PIDS+=($!)
    line=$(listening_line "$out" "$err" "wasmqtt-broker ($name)") || return 1
    local tcp=${line#*tcp=}
    tcp=${tcp%% *}
    printf -v "${name}_tcp" '%s' "$tcp"
    printf -v "${name}_ws" '%s' "${line#*ws=}"
}

start_wasmqtt_broker main --test-control || exit 1
export WASMQTT_BROKER_TCP=$main_tcp
export WASMQTT_BROKER_WS="ws://$main_ws/mqtt"

export WASMQTT_AUTH_USER=alice
export WASMQTT_AUTH_PASSWORD=wonderland
# A second user with SCRAM-SHA-256 credentials, for enhanced authentication.
export WASMQTT_SCRAM_USER=bob
export WASMQTT_SCRAM_PASSWORD=builder
{
    echo "$WASMQTT_AUTH_PASSWORD" | target/release/wasmqtt-broker --hash-password "$WASMQTT_AUTH_USER"
    echo "$WASMQTT_SCRAM_PASSWORD" | target/release/wasmqtt-broker --hash-password "$WASMQTT_SCRAM_USER" --scram
} > "$BROKER_DIR/passwords" || exit 1
start_wasmqtt_broker auth --no-anonymous --password-file "$BROKER_DIR/passwords" || exit 1
export WASMQTT_BROKER_AUTH_WS="ws://$auth_ws/mqtt"

# mosquitto cannot bind port 0 for its WebSocket listener: ask the OS for
# free ports and hand them over.
read -r mq_tcp mq_ws < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
# max_queued_messages: mosquitto drops QoS 1/2 messages for a subscriber
# with more than 1,000 waiting (its default); the session store tests
# deliver 2,000 in one burst and count every one.
cat > "$BROKER_DIR/mosquitto.conf" <<CONF
persistence false
allow_anonymous true
max_queued_messages 10000
listener $mq_tcp 127.0.0.1
listener $mq_ws 127.0.0.1
protocol websockets
CONF
mosquitto -c "$BROKER_DIR/mosquitto.conf" > "$BROKER_DIR/mosquitto.log" 2>&1 &
BROKER_PIDS+=($!)
mq_up=0
for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$mq_ws") 2>/dev/null; then
        mq_up=1
        break
    fi
    sleep 0.1
done
if ((!mq_up)); then
    cat "$BROKER_DIR/mosquitto.log" >&2
    echo "mosquitto did not start" >&2
    exit 1
fi
export WASMQTT_MOSQUITTO_WS="ws://127.0.0.1:$mq_ws"

# aedes (npm), a broker we did not write; MQTT 3.1.1 only.
node tests/brokers/aedes.mjs > "$BROKER_DIR/aedes.out" 2> "$BROKER_DIR/aedes.err" &
BROKER_PIDS+=($!)
aedes_line=$(listening_line "$BROKER_DIR/aedes.out" "$BROKER_DIR/aedes.err" aedes) || exit 1
export WASMQTT_AEDES_WS="ws://${aedes_line#*ws=}/mqtt"
