#!/usr/bin/env bash
# Starts wasmqtt-broker (with test control) and mosquitto on free loopback
# ports for the browser tests. Source it; it exports
#   WASMQTT_BROKER_WS     ws:// URL of wasmqtt-broker
#   WASMQTT_BROKER_TCP    host:port of its TCP listener
#   WASMQTT_MOSQUITTO_WS  ws:// URL of mosquitto
# and stops both when the shell exits.

BROKER_DIR=$(mktemp -d)
cargo build --quiet --release -p wasmqtt-broker

# wasmqtt-broker binds port 0 and prints the ports it got.
target/release/wasmqtt-broker --tcp 127.0.0.1:0 --ws 127.0.0.1:0 --test-control \
    --log warn > "$BROKER_DIR/broker.out" 2> "$BROKER_DIR/broker.err" &
BROKER_PID=$!
for _ in $(seq 100); do
    grep -q '^LISTENING' "$BROKER_DIR/broker.out" 2>/dev/null && break
    sleep 0.1
done
line=$(grep '^LISTENING' "$BROKER_DIR/broker.out") || {
    cat "$BROKER_DIR/broker.err" >&2
    echo "wasmqtt-broker did not start" >&2
    exit 1
}
tcp=${line#*tcp=}; tcp=${tcp%% *}
ws=${line#*ws=}
export WASMQTT_BROKER_TCP=$tcp
export WASMQTT_BROKER_WS="ws://$ws/mqtt"

# mosquitto cannot bind port 0 for its WebSocket listener: ask the OS for
# free ports and hand them over.
read -r mq_tcp mq_ws < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
cat > "$BROKER_DIR/mosquitto.conf" <<CONF
persistence false
allow_anonymous true
listener $mq_tcp 127.0.0.1
listener $mq_ws 127.0.0.1
protocol websockets
CONF
mosquitto -c "$BROKER_DIR/mosquitto.conf" > "$BROKER_DIR/mosquitto.log" 2>&1 &
MOSQUITTO_PID=$!
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$mq_ws") 2>/dev/null && break
    sleep 0.1
done
export WASMQTT_MOSQUITTO_WS="ws://127.0.0.1:$mq_ws"

stop_brokers() {
    kill "$BROKER_PID" "$MOSQUITTO_PID" 2>/dev/null || true
    wait "$BROKER_PID" "$MOSQUITTO_PID" 2>/dev/null || true
    rm -rf "$BROKER_DIR"
}
trap stop_brokers EXIT
