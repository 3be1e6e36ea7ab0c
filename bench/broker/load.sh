#!/usr/bin/env bash
# Broker memory: idle connections (wasmqtt-broker and mosquitto in the same
# run) and login floods (wasmqtt-broker).
#
#   bash bench/broker/load.sh                       # 10,000 TCP + 10,000 WS, then logins
#   bash bench/broker/load.sh idle --tcp 2000 --ws 500
#   bash bench/broker/load.sh logins --no-backoff
#
# With no arguments it runs `idle`, `logins` and `logins --no-backoff`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if ! command -v mosquitto >/dev/null; then
    apt-get update -qq && apt-get install -y -qq mosquitto
fi
# Each side holds one descriptor per connection; the brokers inherit this.
ulimit -n "$(ulimit -Hn)"
cargo build --quiet --release -p wasmqtt-broker
cargo build --quiet --profile bench -p wasmqtt-broker-bench
if [ $# -gt 0 ]; then
    exec target/release/broker-load "$@"
fi
target/release/broker-load idle
target/release/broker-load logins
target/release/broker-load logins --no-backoff
