#!/usr/bin/env bash
# make-sample.sh regenerates the sample stream embedded by
# tools/internal/sample: about 6 s of test pattern (burnt-in timecode and
# frame counter) with a 440 Hz tone and a beep every second, 640x360 at 30 fps,
# H.264 baseline + AAC, a keyframe every second, cut by ffmpeg's HLS muxer
# into 1 s MPEG-TS segments (seg000.ts ...). It also writes sample.json,
# which lists each segment with its exact duration (from the playlist's
# EXTINF), size and SHA-256.
#
# Usage: tools/sample/make-sample.sh [OUTPUT_DIR]
#   OUTPUT_DIR defaults to tools/internal/sample/data beside this script.
# Environment: FFMPEG (default ffmpeg), SECONDS_TOTAL (default 6),
#   VIDEO_BITRATE (default 300k), AUDIO_BITRATE (default 48k).
#
# The output is committed; run this only to change the sample, then run
# `go test ./internal/sample/` in tools/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$(cd "$here/../internal/sample" && pwd)/data}"
ffmpeg="${FFMPEG:-ffmpeg}"
total="${SECONDS_TOTAL:-6}"
vbitrate="${VIDEO_BITRATE:-300k}"
abitrate="${AUDIO_BITRATE:-48k}"

command -v "$ffmpeg" >/dev/null || { echo "make-sample.sh: $ffmpeg not found (apt-get install ffmpeg)" >&2; exit 1; }
command -v jq >/dev/null || { echo "make-sample.sh: jq not found (apt-get install jq)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The timecode and frame counter need drawtext (libfreetype) and a font;
# without them the plain test pattern is used.
font=""
for f in /usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf \
	"$(fc-match -f '%{file}' monospace 2>/dev/null || true)"; do
	if [[ -n "$f" && -r "$f" ]]; then font="$f"; break; fi
done
vfilter="testsrc2=size=640x360:rate=30:duration=$total"
if [[ -n "$font" ]] && [[ "$("$ffmpeg" -hide_banner -filters 2>/dev/null)" == *" drawtext "* ]]; then
	vfilter+=",drawtext=fontfile=$font:timecode='00\:00\:00\:00':rate=30:fontsize=40:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=8:x=(w-tw)/2:y=h-th-24"
	vfilter+=",drawtext=fontfile=$font:text='hlsrelay sample  frame %{frame_num}':fontsize=24:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=6:x=(w-tw)/2:y=20"
else
	echo "make-sample.sh: no drawtext filter or no font; no burnt-in timecode" >&2
fi

"$ffmpeg" -hide_banner -loglevel error -y \
	-f lavfi -i "$vfilter" \
	-f lavfi -i "sine=frequency=440:beep_factor=4:sample_rate=48000:duration=$total" \
	-map 0:v -map 1:a \
	-c:v libx264 -profile:v baseline -level 3.0 -pix_fmt yuv420p -preset veryslow -tune zerolatency \
	-b:v "$vbitrate" -maxrate "$vbitrate" -bufsize "$vbitrate" \
	-g 30 -keyint_min 30 -sc_threshold 0 -force_key_frames 'expr:gte(t,n_forced*1)' \
	-c:a aac -b:a "$abitrate" -ac 1 -ar 48000 \
	-f hls -hls_time 1 -hls_list_size 0 -hls_playlist_type vod \
	-hls_segment_type mpegts -hls_segment_filename "$work/seg%03d.ts" \
	"$work/sample.m3u8"

# Turn "#EXTINF:1.000000," followed by the segment name into JSON entries.
entries="$(awk '/^#EXTINF:/ { sub(/^#EXTINF:/, ""); sub(/,.*/, ""); d = $0; next }
	/^[^#]/ && d != "" { printf "%s %s\n", $0, d; d = "" }' "$work/sample.m3u8")"
[[ -n "$entries" ]] || { echo "make-sample.sh: no segments in the playlist" >&2; exit 1; }

mkdir -p "$out"
rm -f "$out"/seg*.ts "$out"/sample.json
json='[]'
while read -r name duration; do
	cp "$work/$name" "$out/$name"
	size="$(stat -c %s "$out/$name")"
	sum="$(sha256sum "$out/$name" | cut -d' ' -f1)"
	json="$(jq -c --arg n "$name" --argjson d "$duration" --argjson s "$size" --arg h "$sum" \
		'. + [{name: $n, duration: $d, size: $s, sha256: $h}]' <<<"$json")"
done <<<"$entries"

jq --argjson segs "$json" -n '{
	description: "hlsrelay sample stream: testsrc2 + timecode, 440 Hz tone with a beep each second; 640x360 30 fps H.264 baseline + AAC mono 48 kHz, 1 s MPEG-TS segments. Regenerate with tools/sample/make-sample.sh.",
	segments: $segs
}' >"$out/sample.json"

echo "make-sample.sh: wrote $(jq '.segments | length' "$out/sample.json") segments, $(cat "$out"/seg*.ts | wc -c) bytes, to $out" >&2
