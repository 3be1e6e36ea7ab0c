#!/usr/bin/env bash
# Throughput of wasmqtt-broker against mosquitto on loopback.
#
#   bash bench/broker/run.sh                 # full run: 8 scenarios x 3 reps x 2 brokers
#   bash bench/broker/run.sh --reps 5 --seconds 3 --only qos1
#
# Builds the release broker and the load generator (bench profile:
# opt-level 3), installs mosquitto if it is missing, then runs
# target/release/broker-bench with the arguments given (see --help).
# Results: target/bench/broker.json and target/bench/broker.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if ! command -v mosquitto >/dev/null; then
    apt-get update -qq && apt-get install -y -qq mosquitto
fi
cargo build --quiet --release -p wasmqtt-broker
cargo build --quiet --profile bench -p wasmqtt-broker-bench
exec target/release/broker-bench "$@"
