#!/usr/bin/env bash
# Runs the load figures of docs/benchmarks.md: each scenario against a fresh
# bin/hlsrelay on loopback, measured from outside by bin/bench (base protocol
# only) with the relay's pid, and the plain-TCP floor by bin/tcpfloor.
# Usage: scripts/bench-relay.sh [RUNS]   (default 3 runs of each)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
port=${BENCH_PORT:-18181}
url="ws://127.0.0.1:${port}/"

relay_pid=
start_relay() {
  HTTP_PORT=$port HTTP_BIND_ADDRESS=127.0.0.1 LOG_REQUESTS=NO LOG_INFO=NO bin/hlsrelay --env-file= 2>>"${TMPDIR:-/tmp}/hlsrelay-bench.log" &
  relay_pid=$!
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null && return
    sleep 0.1
  done
  echo "relay did not start" >&2
  exit 1
}
stop_relay() {
  kill "$relay_pid" 2>/dev/null || true
  wait "$relay_pid" 2>/dev/null || true
}
trap stop_relay EXIT

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(go version | cut -d' ' -f3)"
for i in $(seq "$runs"); do
  start_relay
  echo "== idle viewers, run $i"
  bin/bench -url "$url" -idle 5000 -settle 5s -pid "$relay_pid" -quiet | grep -E 'viewers|RSS'
  stop_relay
done
for i in $(seq "$runs"); do
  start_relay
  echo "== 200 viewers x 250 kB x 10/s, run $i"
  bin/bench -url "$url" -viewers 200 -fragment-size 250000 -rate 10 -duration 30s -pid "$relay_pid" -quiet |
    grep -E 'delivered|latency|throughput|integrity|relay CPU|relay RSS'
  stop_relay
done
for i in $(seq "$runs"); do
  echo "== plain TCP floor, run $i"
  bin/tcpfloor -mode two
  bin/tcpfloor -mode one
done
