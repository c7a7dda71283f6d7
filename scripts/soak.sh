#!/usr/bin/env bash
# The soak benchmark of docs/benchmarks.md (not run in CI): one relay,
# 1,000 viewers, a publisher that drops its connection without CLOSE and
# pushes again every minute, for 10 minutes; the relay's RSS and goroutines
# are sampled every minute. Pass: every fragment reaches every viewer
# (delivered 1.0000, 0 missing) and the samples do not grow.
# Usage: scripts/soak.sh [DURATION]   (default 10m)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-10m}
port=${SOAK_PORT:-18191}
metrics_port=${SOAK_METRICS_PORT:-18192}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(go version | cut -d' ' -f3)"
HTTP_PORT=$port HTTP_BIND_ADDRESS=127.0.0.1 LOG_REQUESTS=NO LOG_INFO=NO \
  METRICS_LISTEN_ADDRESS=127.0.0.1:$metrics_port bin/hlsrelay --env-file= 2>>"${TMPDIR:-/tmp}/hlsrelay-soak.log" &
relay_pid=$!
trap 'kill $relay_pid 2>/dev/null; wait $relay_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null && break
  sleep 0.1
done

bin/bench -url "ws://127.0.0.1:${port}/" -stream soak/1 -viewers 1000 \
  -fragment-size 100000 -rate 2 -duration "$duration" -warmup 5s \
  -publisher-reconnect 1m -sample-every 1m \
  -pid "$relay_pid" -metrics-url "http://127.0.0.1:${metrics_port}/metrics" -quiet
