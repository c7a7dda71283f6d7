#!/usr/bin/env bash
# The demo: a relay with demo secrets on DEMO_PORT (default 8080) that also
# serves the player demo page, the committed samples published in a loop
# through the Go SDK (MPEG-TS in whole 1 s fragments, and fMP4 in 200 ms
# parts), and one URL to open in a browser: the page's compare view (the
# stream in parts played by hls.js and by the direct mode side by side), with
# PULL tokens valid for 24 hours for both streams, so that every mode of the
# page plays from it. Ctrl-C stops everything.
set -euo pipefail
# Own process groups for the children: Ctrl-C reaches this script only, and
# cleanup stops them in order.
set -m
cd "$(dirname "$0")/.."

port=${DEMO_PORT:-8080}
stream=${DEMO_STREAM:-demo/sample/640x360-30~400}
parts_stream=${DEMO_PARTS_STREAM:-demo/sample-ll/640x360-30~400}
pull_secret=demo-pull-secret
push_secret=demo-push-secret
url="ws://127.0.0.1:${port}/"

pids=()
cleanup() {
  trap - INT TERM EXIT
  # Newest first: the publisher sends CLOSE before the relay stops.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  echo "demo stopped"
}
trap cleanup INT TERM EXIT

HTTP_PORT=$port HTTP_BIND_ADDRESS=127.0.0.1 PULL_SECRET=$pull_secret PUSH_SECRET=$push_secret \
  DEMO_PAGE_ENABLED=YES LOG_FORMAT=console LOG_REQUESTS=YES bin/hlsrelay --env-file= &
pids+=($!)

for _ in $(seq 50); do
  if (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then break; fi
  sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null || { echo "the relay did not start on port ${port}" >&2; exit 1; }

bin/publish -url "$url" -stream "$stream" -secret "$push_secret" -sample &
pids+=($!)
bin/publish -url "$url" -stream "$parts_stream" -secret "$push_secret" -sample -cmaf &
pids+=($!)

# status PATH: the HTTP status the relay answers to GET PATH (bash only: a
# fresh machine may have no curl).
status() {
  local line
  exec 3<>"/dev/tcp/127.0.0.1/${port}" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1" >&3
  IFS=' ' read -r _ line _ <&3 || true
  exec 3<&-
  echo "${line:-0}"
}

# urlencode S: S for a URL query, "/" and "~" kept (stream ids read better).
urlencode() {
  local LC_ALL=C s=$1 out= c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case "$c" in
    [a-zA-Z0-9._~/-]) out+=$c ;;
    *) out+=$(printf '%%%02X' "'$c") ;;
    esac
  done
  printf '%s' "$out"
}

token=$(bin/token -action PULL -stream "$stream" -secret "$pull_secret" -ttl 24h)
parts_token=$(bin/token -action PULL -stream "$parts_stream" -secret "$pull_secret" -ttl 24h)
# Print the URL once both streams are on the relay (their HLS playlists exist).
for s in "$stream" "$parts_stream"; do
  t=$token
  [ "$s" = "$parts_stream" ] && t=$parts_token
  for _ in $(seq 50); do
    [ "$(status "/hls/$(urlencode "$s")/index.m3u8?token=${t}" 2>/dev/null)" = 200 ] && break
    sleep 0.1
  done
done
page="http://127.0.0.1:${port}/demo/?mode=compare&stream=$(urlencode "$parts_stream")&token=${parts_token}&fragments_stream=$(urlencode "$stream")&fragments_token=${token}"

cat <<MSG

  hlsrelay demo is running. Open this in a browser:

    ${page}

  The page opens on its compare view: the sample in 200 ms parts, played by hls.js
  (LL-HLS) and by the SDK's direct mode (parts appended to MSE) side by side, each with
  its live relay-to-screen latency. Its mode buttons switch to one player: hls.js with
  whole 1 s fragments (the MPEG-TS stream), hls.js with LL-HLS parts, or direct.

    relay     ${url}
    streams   ${stream}       (MPEG-TS, whole 1 s fragments)
              ${parts_stream}    (fMP4, 200 ms parts, 1 s fragments)
    secrets   PULL_SECRET=${pull_secret}  PUSH_SECRET=${push_secret}

  Watch it in a terminal (one line per fragment, with latency):
    bin/pull -url ${url} -stream '${stream}' -secret ${pull_secret}
  Save it and play it with any HLS player (ffplay, VLC):
    bin/pull -url ${url} -stream '${stream}' -secret ${pull_secret} -out /tmp/hlsrelay-demo
    ffplay /tmp/hlsrelay-demo/live.m3u8
  Load test it:
    bin/bench -url ${url} -pull-secret ${pull_secret} -push-secret ${push_secret} -viewers 100 -duration 10s

  Ctrl-C stops the demo.

MSG
wait -n "${pids[@]}"
