package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/tools/internal/relaytest"
)

// fakeHLS serves what relaytest recorded of stream as an HLS output with
// blocking playlist reload, the way hlsrelay's does: every fragment listed
// (epoch "e"), a playlist for _HLS_msn=N answered once fragment N exists,
// EXT-X-ENDLIST after the publisher's CLOSE.
func fakeHLS(t *testing.T, relay *relaytest.Server, stream, wantToken string) *httptest.Server {
	t.Helper()
	dir := "/hls/" + stream + "/"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == dir+"index.m3u8":
			if r.URL.Query().Get("token") != wantToken {
				http.Error(w, "bad token", http.StatusForbidden)
				return
			}
			want := 1
			if msn := r.URL.Query().Get("_HLS_msn"); msn != "" {
				n, _ := strconv.Atoi(msn)
				want = n + 1
			}
			ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
			defer cancel()
			err := relay.Wait(ctx, func(s *relaytest.Server) bool {
				return len(s.Fragments(stream)) >= want || s.ClosedByPublisher(stream)
			})
			if err != nil {
				http.Error(w, "timeout", http.StatusServiceUnavailable)
				return
			}
			var b strings.Builder
			b.WriteString("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n")
			for i := range relay.Fragments(stream) {
				fmt.Fprintf(&b, "#EXTINF:0.020,\ne/%s/%d.ts\n", wantToken, i)
			}
			if relay.ClosedByPublisher(stream) {
				b.WriteString("#EXT-X-ENDLIST\n")
			}
			_, _ = w.Write([]byte(b.String()))
		case strings.HasPrefix(r.URL.Path, dir+"e/"+wantToken+"/"):
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, dir+"e/"+wantToken+"/"), ".ts"))
			frags := relay.Fragments(stream)
			if err != nil || n < 0 || n >= len(frags) {
				http.NotFound(w, r)
				return
			}
			_, _ = w.Write(frags[n].Data)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRunLoadHLS(t *testing.T) {
	t.Parallel()
	relay := relaytest.New(t, relaytest.Options{})
	hls := fakeHLS(t, relay, "bench/test", "tok")
	cfg := quickLoad(relay.URL())
	cfg.HLS, cfg.HLSURL, cfg.PullAuth = true, hls.URL+"/hls/", "tok"
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	res, err := RunLoad(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	l := res.Load
	if l.Transport != "hls" {
		t.Errorf("transport %q", l.Transport)
	}
	if l.FragmentsSent != 50 || l.FragmentsReceived != 150 || l.DeliveredFraction != 1 {
		t.Errorf("delivered %d of %d (%.3f) with %d sent", l.FragmentsReceived, l.FragmentsExpected, l.DeliveredFraction, l.FragmentsSent)
	}
	if l.Corrupt+l.Foreign+l.OutOfOrder+l.Missing+l.ProtocolErrors != 0 {
		t.Errorf("integrity errors: %+v", l)
	}
	if l.EndedCleanly != 3 || l.Disconnected != 0 {
		t.Errorf("%d viewers saw the end, %d disconnected; want 3, 0", l.EndedCleanly, l.Disconnected)
	}
	if l.LatencyMS.Samples != 150 || l.LatencyMS.P50 <= 0 {
		t.Errorf("latency %+v", l.LatencyMS)
	}
	if res.Server == nil || res.Server.ViewersPerCore <= 0 || res.Server.CPUWindowSeconds <= 0 {
		t.Errorf("server readings %+v", res.Server)
	}
	for _, p := range res.Problems {
		if !strings.Contains(p, "late") {
			t.Errorf("problem: %s", p)
		}
	}
}

func TestHLSPlaylistURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{URL: "ws://127.0.0.1:8080/", Stream: "room1/cam a"}, "http://127.0.0.1:8080/hls/room1/cam%20a/index.m3u8"},
		{Config{URL: "wss://relay.example/ws", Stream: "s", PullAuth: "a b"}, "https://relay.example/hls/s/index.m3u8?token=a+b"},
		{Config{URL: "ws://a:1/", PullURL: "ws://b:2/", Stream: "s"}, "http://b:2/hls/s/index.m3u8"},
		{Config{URL: "ws://a:1/", HLSURL: "http://cdn.example/live", Stream: "s"}, "http://cdn.example/live/s/index.m3u8"},
	} {
		u, err := hlsPlaylistURL(tc.cfg)
		if err != nil || u.String() != tc.want {
			t.Errorf("%+v: %v, %v; want %s", tc.cfg, u, err, tc.want)
		}
	}
	if _, err := hlsPlaylistURL(Config{URL: "ws://a/", HLSURL: "ftp://x/", Stream: "s"}); err == nil {
		t.Error("an ftp:// HLS URL was accepted")
	}
}
