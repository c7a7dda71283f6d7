package hlshttp

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// FuzzParsePath: the parser never panics, rejects only with errBadPath, and
// what it accepts is a valid resource that survives a round trip through the
// URIs the playlist writes.
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
		case kindSegment:
			if res.epoch == "" || strings.ContainsRune(res.epoch, 0) || res.seq > maxSeq {
				t.Fatalf("bad segment %+v", res)
			}
			again = "/hls/" + escapeStream(res.stream) + "/" + string(appendSegmentURI(nil, res.epoch, res.token, res.seq))
		default:
			t.Fatalf("unknown kind in %+v", res)
		}
		back, err := parsePath(again, "/hls/")
		if err != nil || back != res {
			t.Fatalf("%s -> %+v -> %s -> %+v, %v", clip(path), res, clip(again), back, err)
		}
	})
}

// clip shortens long inputs in failure messages.
func clip(s string) string {
	if len(s) > 200 {
		return strconv.Quote(s[:200]) + "... (" + strconv.Itoa(len(s)) + " bytes)"
	}
	return strconv.Quote(s)
}
