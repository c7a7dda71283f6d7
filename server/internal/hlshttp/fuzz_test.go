package hlshttp

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// FuzzParsePath: the parser never panics, rejects only with errBadPath, and
// what it accepts is a valid resource (playlist, segment, part or init
// segment) that survives a round trip through the URIs the playlist writes.
func FuzzParsePath(f *testing.F) {
	for _, tc := range pathCases {
		f.Add(tc.path)
	}
	f.Fuzz(func(t *testing.T, path string) {
		res, err := parsePath(path, "/hls/")
		if err != nil {
			if !errors.Is(err, errBadPath) {
				t.Fatalf("error %v does not wrap errBadPath", err)
			}
			return
		}
		if !looksLikeResource(path, "/hls/") {
			t.Fatalf("%q parsed, but Handles would not route it", path)
		}
		var again string
		switch res.kind {
		case kindPlaylist:
			again = "/hls/" + escapeStream(res.stream) + "/" + playlistName
		case kindSegment, kindPart, kindInit:
			if res.epoch == "" || strings.ContainsRune(res.epoch, 0) || res.seq > maxSeq || res.part > maxSeq || res.gen > maxSeq {
				t.Fatalf("bad segment %+v", res)
			}
			if (res.kind == kindInit) != (res.gen > 0) || (res.part > 0 && res.kind != kindPart) || (res.fmp4 && res.kind != kindSegment) {
				t.Fatalf("fields of another kind in %+v", res)
			}
			again = "/hls/" + escapeStream(res.stream) + "/" + string(appendResourceURI(nil, res))
		default:
			t.Fatalf("unknown kind in %+v", res)
		}
		back, err := parsePath(again, "/hls/")
		if err != nil || back != res {
			t.Fatalf("%s -> %+v -> %s -> %+v, %v", clip(path), res, clip(again), back, err)
		}
	})
}

// appendResourceURI appends the URI that the playlist writes for a
// segment, part or init segment resource.
func appendResourceURI(b []byte, res resource) []byte {
	b = appendSegmentDir(b, res.epoch, res.token)
	switch {
	case res.kind == kindPart:
		return appendPartName(b, res.seq, res.part)
	case res.kind == kindInit:
		return appendInitName(b, res.gen)
	case res.fmp4:
		return appendFMP4SegmentName(b, res.seq)
	}
	return appendSegmentName(b, res.seq)
}

// clip shortens long inputs in failure messages.
func clip(s string) string {
	if len(s) > 200 {
		return strconv.Quote(s[:200]) + "... (" + strconv.Itoa(len(s)) + " bytes)"
	}
	return strconv.Quote(s)
}
