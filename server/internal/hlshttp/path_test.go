package hlshttp

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// pathCases drive TestParsePath and seed FuzzParsePath.
var pathCases = []struct {
	name, path string
	want       resource // kind 0: an error
}{
	{"playlist", "/hls/room1/cam/1280x720-30~2000/index.m3u8",
		resource{kind: kindPlaylist, stream: "room1/cam/1280x720-30~2000"}},
	{"playlist, escaped slash", "/hls/room1%2Fcam/index.m3u8",
		resource{kind: kindPlaylist, stream: "room1/cam"}},
	{"playlist, escaped characters", "/hls/a%20b%3Fc%23d%25/index.m3u8",
		resource{kind: kindPlaylist, stream: "a b?c#d%"}},
	{"playlist, unicode", "/hls/caf%C3%A9/%E2%98%83/index.m3u8",
		resource{kind: kindPlaylist, stream: "café/☃"}},
	{"playlist, stream ending in a slash", "/hls/room1//index.m3u8",
		resource{kind: kindPlaylist, stream: "room1/"}},
	{"playlist, stream named like a segment path", "/hls/a/k3j4h5g6f7/-/5.ts/index.m3u8",
		resource{kind: kindPlaylist, stream: "a/k3j4h5g6f7/-/5.ts"}},
	{"segment without token", "/hls/room1/cam/k3j4h5g6f7/-/17.ts",
		resource{kind: kindSegment, stream: "room1/cam", epoch: "k3j4h5g6f7", seq: 17}},
	{"segment with token", "/hls/room1/cam/k3j4h5g6f7/eyJh.eyJz.sig/0.ts",
		resource{kind: kindSegment, stream: "room1/cam", epoch: "k3j4h5g6f7", token: "eyJh.eyJz.sig", seq: 0}},
	{"segment with an escaped slash in the token", "/hls/s/e/a%2Fb/1.ts",
		resource{kind: kindSegment, stream: "s", epoch: "e", token: "a/b", seq: 1}},
	{"segment with a token that is a dash", "/hls/s/e/%2D/1.ts",
		resource{kind: kindSegment, stream: "s", epoch: "e", token: "-", seq: 1}},
	{"segment of the largest number", "/hls/s/e/-/9007199254740991.ts",
		resource{kind: kindSegment, stream: "s", epoch: "e", seq: 1<<53 - 1}},
	{"segment of a stream named index.m3u8", "/hls/index.m3u8/e/-/1.ts",
		resource{kind: kindSegment, stream: "index.m3u8", epoch: "e", seq: 1}},
	{"fmp4 segment", "/hls/room1/cam/k3j4h5g6f7/-/17.m4s",
		resource{kind: kindSegment, stream: "room1/cam", epoch: "k3j4h5g6f7", seq: 17, fmp4: true}},
	{"part", "/hls/room1/cam/k3j4h5g6f7/eyJh.eyJz.sig/17.3.m4s",
		resource{kind: kindPart, stream: "room1/cam", epoch: "k3j4h5g6f7", token: "eyJh.eyJz.sig", seq: 17, part: 3}},
	{"part 0 of segment 0", "/hls/s/e/-/0.0.m4s",
		resource{kind: kindPart, stream: "s", epoch: "e"}},
	{"part of the largest number", "/hls/s/e/-/9007199254740991.9007199254740991.m4s",
		resource{kind: kindPart, stream: "s", epoch: "e", seq: 1<<53 - 1, part: 1<<53 - 1}},
	{"init segment", "/hls/room1/cam/k3j4h5g6f7/-/init-1.mp4",
		resource{kind: kindInit, stream: "room1/cam", epoch: "k3j4h5g6f7", gen: 1}},
	{"init segment with token", "/hls/s/e/a%2Fb/init-12.mp4",
		resource{kind: kindInit, stream: "s", epoch: "e", token: "a/b", gen: 12}},
	{"stream named like a part", "/hls/a/e/-/1.2.m4s/e/-/3.m4s",
		resource{kind: kindSegment, stream: "a/e/-/1.2.m4s", epoch: "e", seq: 3, fmp4: true}},

	{"empty stream", "/hls//index.m3u8", resource{}},
	{"no stream", "/hls/index.m3u8", resource{}},
	{"other prefix", "/live/s/index.m3u8", resource{}},
	{"bad escape", "/hls/a%zz/index.m3u8", resource{}},
	{"control character", "/hls/a%0Ab/index.m3u8", resource{}},
	{"stream of 256 characters", "/hls/" + strings.Repeat("x", 256) + "/index.m3u8", resource{}},
	{"segment number with leading zero", "/hls/s/e/-/01.ts", resource{}},
	{"segment number with sign", "/hls/s/e/-/+1.ts", resource{}},
	{"segment number too large", "/hls/s/e/-/9007199254740992.ts", resource{}},
	{"segment number empty", "/hls/s/e/-/.ts", resource{}},
	{"segment without epoch", "/hls/e/-/1.ts", resource{}},
	{"segment with empty epoch", "/hls/s//-/1.ts", resource{}},
	{"segment with empty token", "/hls/s/e//1.ts", resource{}},
	{"epoch too long", "/hls/s/" + strings.Repeat("e", 65) + "/-/1.ts", resource{}},
	{"token too long", "/hls/s/e/" + strings.Repeat("t", 2049) + "/1.ts", resource{}},
	{"token with a space", "/hls/s/e/a%20b/1.ts", resource{}},
	{"token not ASCII", "/hls/s/e/%C3%BC/1.ts", resource{}},
	{"not a resource", "/hls/s/e/-/1.mp4", resource{}},
	{"part number with leading zero", "/hls/s/e/-/1.01.m4s", resource{}},
	{"part number empty", "/hls/s/e/-/1..m4s", resource{}},
	{"part without segment number", "/hls/s/e/-/.1.m4s", resource{}},
	{"part number too large", "/hls/s/e/-/1.9007199254740992.m4s", resource{}},
	{"part number with a sign", "/hls/s/e/-/1.-1.m4s", resource{}},
	{"part of three numbers", "/hls/s/e/-/1.2.3.m4s", resource{}},
	{"part number escaped", "/hls/s/e/-/1.%32.m4s", resource{}},
	{"fmp4 segment number with leading zero", "/hls/s/e/-/01.m4s", resource{}},
	{"init generation 0", "/hls/s/e/-/init-0.mp4", resource{}},
	{"init generation with leading zero", "/hls/s/e/-/init-01.mp4", resource{}},
	{"init without generation", "/hls/s/e/-/init.mp4", resource{}},
	{"init generation empty", "/hls/s/e/-/init-.mp4", resource{}},
	{"init of another name", "/hls/s/e/-/moov-1.mp4", resource{}},
	{"init without epoch", "/hls/e/-/init-1.mp4", resource{}},
	{"part without token", "/hls/s/e/1.2.m4s", resource{}},
	{"path too long", "/hls/" + strings.Repeat("a/", 8193) + "index.m3u8", resource{}},
}

func TestParsePath(t *testing.T) {
	t.Parallel()
	for _, tc := range pathCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parsePath(tc.path, "/hls/")
			if tc.want.kind == 0 {
				if err == nil || !errors.Is(err, errBadPath) {
					t.Fatalf("parsed as %+v (err %v), want an errBadPath", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestLooksLikeResource(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]bool{
		"/hls/s/index.m3u8":     true,
		"/hls/s/e/-/1.ts":       true,
		"/hls/s/e/-/1.m4s":      true,
		"/hls/s/e/-/1.2.m4s":    true,
		"/hls/s/e/-/init-1.mp4": true,
		"/hls/s/e/-/1.m4":       false,
		"/hls/x.ts":             true, // malformed, but answered by the HLS handler (400)
		"/hls/":                 false,
		"/hls/s":                false,
		"/hls/s/index.m3u8x":    false,
		"/s/index.m3u8":         false,
		"/healthz":              false,
		"/":                     false,
	} {
		if got := looksLikeResource(path, "/hls/"); got != want {
			t.Errorf("looksLikeResource(%q) = %v, want %v", path, got, want)
		}
	}
}

// escapeStream writes a stream id into a URL path, as a player would.
func escapeStream(id string) string {
	parts := strings.Split(id, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// TestSegmentURIRoundTrip: what the playlist writes (segment, part and init
// segment URIs), resolved against the playlist's URL, parses back to the same
// resource.
func TestSegmentURIRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ stream, epoch, token string }{
		{"room1/cam/1280x720-30~2000", "k3j4h5g6f7", ""},
		{"room1/cam", "k3j4h5g6f7", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJQVUxMIn0.c2ln"},
		{"a b/?#%", "e", "to/ken?&=%"},
		{"s", "e", "-"},
		{"café/☃/", "epoch", "t~"},
	} {
		playlistURL, err := url.Parse("http://relay.example/hls/" + escapeStream(tc.stream) + "/index.m3u8?token=x")
		if err != nil {
			t.Fatal(err)
		}
		if pl, err := parsePath(playlistURL.EscapedPath(), "/hls/"); err != nil || pl.stream != tc.stream {
			t.Fatalf("%q: playlist path parsed as %+v, %v", tc.stream, pl, err)
		}
		for _, want := range []resource{
			{kind: kindSegment, seq: 42},
			{kind: kindSegment, seq: 42, fmp4: true},
			{kind: kindPart, seq: 42, part: 7},
			{kind: kindInit, gen: 3},
		} {
			want.stream, want.epoch, want.token = tc.stream, tc.epoch, tc.token
			rel := string(appendResourceURI(nil, want))
			ref, err := url.Parse(rel)
			if err != nil {
				t.Fatalf("%q: URI %q: %v", tc.stream, rel, err)
			}
			seg := playlistURL.ResolveReference(ref)
			if seg.RawQuery != "" {
				t.Errorf("%q: the URL %s kept a query", tc.stream, seg)
			}
			got, err := parsePath(seg.EscapedPath(), "/hls/")
			if err != nil || got != want {
				t.Errorf("%q: %s parsed as %+v, %v; want %+v", tc.stream, seg, got, err, want)
			}
			if strings.ContainsAny(rel, "\"\r\n,") {
				t.Errorf("%q: URI %q cannot be a quoted-string attribute", tc.stream, rel)
			}
		}
	}
}
