#!/usr/bin/env bash
# make-cmaf-sample.sh regenerates the fMP4/CMAF sample embedded by
# tools/internal/sample: the same picture and sound as make-sample.sh (test
# pattern with burnt-in timecode and frame counter, 440 Hz tone with a beep
# every second, 640x360 at 30 fps, H.264 baseline + AAC mono 48 kHz), as one
# fragmented MP4 with audio and video muxed: an init segment (ftyp + moov)
# then a moof + mdat chunk every 200 ms, a key frame exactly every second
# (every fifth chunk), no edit list.
#
# It lasts 8 s rather than 6: 8 s is the shortest whole number of seconds
# that is also a whole number of AAC frames at 48 kHz (375 x 1024 samples),
# so audio and video have exactly the same duration and a loop of the sample
# (each pass shifted by 8 s) keeps them in sync forever.
#
# It writes cmaf.mp4 and cmaf.json (size, SHA-256 and the encoding facts).
#
# Usage: tools/sample/make-cmaf-sample.sh [OUTPUT_DIR]
#   OUTPUT_DIR defaults to tools/internal/sample/data beside this script.
# Environment: FFMPEG (default ffmpeg), VIDEO_BITRATE (default 300k),
#   AUDIO_BITRATE (default 48k).
#
# The output is committed; run this only to change the sample, then run
# `go test ./internal/sample/` in tools/, which parses it with sdk-go/cmaf
# and checks the chunk durations and key frames.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$(cd "$here/../internal/sample" && pwd)/data}"
ffmpeg="${FFMPEG:-ffmpeg}"
total=8
vbitrate="${VIDEO_BITRATE:-300k}"
abitrate="${AUDIO_BITRATE:-48k}"

command -v "$ffmpeg" >/dev/null || { echo "make-cmaf-sample.sh: $ffmpeg not found (apt-get install ffmpeg)" >&2; exit 1; }
command -v jq >/dev/null || { echo "make-cmaf-sample.sh: jq not found (apt-get install jq)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

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
	echo "make-cmaf-sample.sh: no drawtext filter or no font; no burnt-in timecode" >&2
fi

# fMP4 options (see docs/cmaf-ingest.md):
#   empty_moov          the moov holds no samples, so the init segment comes first
#   delay_moov          ...written once the first chunk is cut (no warning about
#                       the AAC encoder's negative start)
#   default_base_moof   sample offsets relative to each moof: chunks stand alone
#   frag_keyframe       a chunk starts at every key frame...
#   -frag_duration      ...and after 200 ms (6 frames at 30 fps)
#   skip_trailer        no mfra index at the end
#   cmaf                the cmfc brand
#   -use_editlist 0     no edit list: players that append chunks one by one
#                       (MSE) take the timestamps as they are
#   -frames:a 375       exactly 8 s of AAC frames (the encoder would add one)
#   -threads 1          x264 output that does not change from run to run
"$ffmpeg" -hide_banner -loglevel error -y \
	-f lavfi -i "$vfilter" \
	-f lavfi -i "sine=frequency=440:beep_factor=4:sample_rate=48000:duration=$total" \
	-map 0:v -map 1:a \
	-c:v libx264 -threads 1 -profile:v baseline -level 3.0 -pix_fmt yuv420p -preset veryslow -tune zerolatency \
	-b:v "$vbitrate" -maxrate "$vbitrate" -bufsize "$vbitrate" \
	-g 30 -keyint_min 30 -sc_threshold 0 -force_key_frames 'expr:gte(t,n_forced*1)' \
	-c:a aac -b:a "$abitrate" -ac 1 -ar 48000 -frames:a 375 \
	-f mp4 -movflags +empty_moov+delay_moov+default_base_moof+frag_keyframe+skip_trailer+cmaf \
	-frag_duration 200000 -use_editlist 0 \
	"$work/cmaf.mp4"

mkdir -p "$out"
cp "$work/cmaf.mp4" "$out/cmaf.mp4"
size="$(stat -c %s "$out/cmaf.mp4")"
sum="$(sha256sum "$out/cmaf.mp4" | cut -d' ' -f1)"
jq -n --arg h "$sum" --argjson s "$size" --argjson d "$total" '{
	description: "hlsrelay fMP4/CMAF sample: testsrc2 + timecode, 440 Hz tone with a beep each second; 640x360 30 fps H.264 baseline + AAC mono 48 kHz muxed; init segment then a moof+mdat chunk every 200 ms, a key frame every 1 s. Regenerate with tools/sample/make-cmaf-sample.sh.",
	name: "cmaf.mp4",
	duration: $d,
	chunk_duration: 0.2,
	gop: 1,
	size: $s,
	sha256: $h
}' >"$out/cmaf.json"

echo "make-cmaf-sample.sh: wrote cmaf.mp4 ($size bytes) and cmaf.json to $out" >&2
