#!/usr/bin/env bash
# The broker-agnostic JS tests (tests/js/brokers.test.mjs) with rumqttd
# added to the brokers scripts/brokers.sh starts. Not part of
# scripts/test.sh: building rumqttd takes minutes. Installs rumqttd into
# target/tools on first use. rumqttd's WebSocket listener speaks MQTT 3.1.1
# and answers only the subprotocol `mqtt`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin=target/tools/bin/rumqttd
[[ -x $bin ]] || cargo install rumqttd --version 0.20.0 --root target/tools

dir=$(mktemp -d)
pid=
cleanup() {
    [[ -n $pid ]] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
    rm -rf "$dir"
}
trap cleanup EXIT

# rumqttd does not report the port it bound: ask the OS for a free one.
ws=$(python3 -c '
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$dir/rumqttd.toml" <<CONF
id = 0

[router]
id = 0
max_connections = 1000
max_outgoing_packet_count = 200
max_segment_size = 104857600
max_segment_count = 10

[ws.1]
name = "ws-1"
listen = "127.0.0.1:$ws"
next_connection_delay_ms = 1
    [ws.1.connections]
    connection_timeout_ms = 60000
    max_client_id_len = 256
    throttle_delay_ms = 0
    max_payload_size = 20480
    max_inflight_count = 500
    max_inflight_size = 1024
CONF
"$bin" --quiet -c "$dir/rumqttd.toml" > "$dir/rumqttd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$ws") 2>/dev/null && break
    sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$ws") 2>/dev/null || {
    cat "$dir/rumqttd.log" >&2
    echo "rumqttd did not start" >&2
    exit 1
}
export WASMQTT_RUMQTTD_WS="ws://127.0.0.1:$ws/mqtt"
bash scripts/js-test.sh tests/js/brokers.test.mjs
