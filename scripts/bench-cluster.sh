#!/usr/bin/env bash
# Runs the cluster figures of docs/benchmarks.md on a local cluster
# (bin/cluster: Redis, publisher-1, publisher-2, relay-1 via the registry,
# relay-2 chained behind relay-1):
#   - delivery latency with 200 viewers x 250 kB x 10/s at the publishing
#     node (0 hops), at relay-1 (1 hop) and at relay-2 (2 hops);
#   - time to first fragment for a new viewer, direct and through one hop.
# Usage: scripts/bench-cluster.sh [RUNS]   (default 3 runs of each)
set -euo pipefail
set -m
cd "$(dirname "$0")/.."
runs=${1:-3}
base=${BENCH_BASE_PORT:-18300}
origin="ws://127.0.0.1:$((base + 1))/"
relay1="ws://127.0.0.1:$((base + 3))/"
relay2="ws://127.0.0.1:$((base + 4))/"
secret=demo-pull-secret

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(go version | cut -d' ' -f3)"
bin/cluster -base-port "$base" -no-sample -dir "${TMPDIR:-/tmp}/hlsrelay-bench-cluster" >/dev/null &
cluster_pid=$!
trap 'kill -INT $cluster_pid 2>/dev/null; wait $cluster_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$((base + 4))") 2>/dev/null && break
  sleep 0.1
done

for i in $(seq "$runs"); do
  for target in "0 hops:" "1 hop:$relay1" "2 hops:$relay2"; do
    name=${target%%:*} pull=${target#*:}
    echo "== 200 viewers x 250 kB x 10/s, $name, run $i"
    bin/bench -url "$origin" ${pull:+-pull-url "$pull"} -stream "bench/hops/$i/${name// /}" \
      -push-secret demo-push-secret -pull-secret "$secret" \
      -viewers 200 -fragment-size 250000 -rate 10 -duration 20s -quiet | grep -E 'delivered|latency'
  done
done

for i in $(seq "$runs"); do
  echo "== time to first fragment (200 new streams), run $i"
  go test ./tools/internal/cluster -run '^$' -bench FirstFragment -benchtime 200x | grep Benchmark
done
