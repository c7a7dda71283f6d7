#!/usr/bin/env bash
# Compares WebSocket viewers with HLS-over-HTTP viewers (blocking playlist
# reload) at the same bitrate: each scenario runs twice against a fresh
# bin/hlsrelay on loopback, once per transport, measured from outside by
# bin/bench with the relay's pid (CPU per GB, viewers per core, latency from
# the publisher's send to the viewer's last byte). Tokens are checked, as in
# production: the HLS viewers' every request goes through the auth plugin.
# Usage: scripts/bench-hls.sh [RUNS]   (default 3 runs of each)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
port=${BENCH_PORT:-18182}
url="ws://127.0.0.1:${port}/"
export PULL_SECRET=bench-pull-secret-0123456789abcdef PUSH_SECRET=bench-push-secret-0123456789abcdef

relay_pid=
start_relay() {
  HTTP_PORT=$port HTTP_BIND_ADDRESS=127.0.0.1 LOG_REQUESTS=NO LOG_INFO=NO bin/hlsrelay --env-file= 2>>"${TMPDIR:-/tmp}/hlsrelay-bench-hls.log" &
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

# scenario NAME VIEWERS FRAGMENT_SIZE RATE
scenario() {
  local name=$1 viewers=$2 size=$3 rate=$4
  for i in $(seq "$runs"); do
    for transport in websocket hls; do
      local flag=
      [ "$transport" = hls ] && flag=-hls
      start_relay
      echo "== $name, $transport, run $i"
      bin/bench -url "$url" $flag -viewers "$viewers" -fragment-size "$size" -rate "$rate" -duration 30s \
        -pid "$relay_pid" -quiet | grep -E 'delivered|latency|relay CPU|viewers/core|HLS retries|^bench|problem'
      stop_relay
    done
  done
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(go version | cut -d' ' -f3)"
scenario "20 viewers x 250 kB x 1/s (light load: the latency of the transport itself)" 20 250000 1
scenario "200 viewers x 250 kB x 10/s (20 Mbit/s each)" 200 250000 10
scenario "1000 viewers x 250 kB x 1/s (2 Mbit/s each, 1 s segments)" 1000 250000 1
