package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/publisher"
	"github.com/hlsrelay/hlsrelay/sdk-go/token"
	"github.com/hlsrelay/hlsrelay/server/internal/config"
	"github.com/hlsrelay/hlsrelay/server/internal/hlshttp/hlscheck"
)

// httpBase turns the relay's WebSocket URL into its HTTP origin.
func httpBase(wsURL string) string {
	u, err := url.Parse(wsURL)
	if err != nil {
		panic(err)
	}
	return "http://" + u.Host
}

// playlistURL is the HLS playlist of stream on the relay at base.
func playlistURL(base, stream string) string {
	parts := strings.Split(stream, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return base + "/hls/" + strings.Join(parts, "/") + "/index.m3u8"
}

type httpResult struct {
	status int
	header http.Header
	body   []byte
}

func httpGet(t *testing.T, rawURL string, header ...string) httpResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return httpResult{status: resp.StatusCode, header: resp.Header, body: body}
}

// sampleSegment is one segment of the committed sample stream.
type sampleSegment struct {
	duration time.Duration
	data     []byte
}

// readSample reads the committed sample (tools/internal/sample/data): a few
// seconds of H.264 + AAC in 1 s MPEG-TS segments.
func readSample(t *testing.T) []sampleSegment {
	t.Helper()
	dir := repoFile("tools", "internal", "sample", "data")
	raw, err := os.ReadFile(dir + "/sample.json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Segments []struct {
			Name     string  `json:"name"`
			Duration float64 `json:"duration"`
		} `json:"segments"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	var out []sampleSegment
	for _, s := range m.Segments {
		data, err := os.ReadFile(dir + "/" + s.Name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sampleSegment{time.Duration(s.Duration * float64(time.Second)), data})
	}
	return out
}

// publishSampleLive publishes the sample in real time, looping it (each loop
// marked as a discontinuity), until ctx ends. The first segment is sent at
// once; first receives once it was accepted.
func publishSampleLive(ctx context.Context, t *testing.T, pub *publisher.Publisher, segs []sampleSegment) <-chan struct{} {
	first := make(chan struct{})
	go func() {
		next := time.Now()
		for i := 0; ctx.Err() == nil; i++ {
			s := segs[i%len(segs)]
			err := pub.Send(ctx, publisher.Fragment{Duration: s.duration, Data: s.data, Disc: i > 0 && i%len(segs) == 0})
			if err != nil {
				if ctx.Err() == nil {
					t.Errorf("publish: %v", err)
				}
				return
			}
			if i == 0 {
				close(first)
			}
			next = next.Add(s.duration)
			select {
			case <-ctx.Done():
			case <-time.After(time.Until(next)):
			}
		}
	}()
	return first
}

func needTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("SKIPPED: %s is not on PATH (apt-get install ffmpeg); this test needs the real %s", name, name)
	}
	return path
}

// TestHLSFFmpegDecodesLiveStream: ffmpeg reads a live stream from the relay
// over HTTP (the token only in the playlist's query; ffmpeg resolves segment
// URLs without it) and decodes it without a single error.
func TestHLSFFmpegDecodesLiveStream(t *testing.T) {
	t.Parallel()
	ffmpeg := needTool(t, "ffmpeg")
	ffprobe := needTool(t, "ffprobe")
	wsURL := startRelay(t, nil)
	const stream = "room1/cam/640x360-30~400"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pub, _ := startPublisher(t, ctx, wsURL, stream)
	<-publishSampleLive(ctx, t, pub, readSample(t))
	src := playlistURL(httpBase(wsURL), stream) + "?token=" + pullToken(t, stream)

	// Three seconds of video and audio, decoded frame by frame: the live
	// playlist is reloaded while the publisher sends one segment a second.
	cmd := exec.CommandContext(ctx, ffmpeg, "-nostdin", "-v", "error", "-i", src, "-t", "3", "-f", "framemd5", "-")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("ffmpeg: %v\nstderr:\n%s", err, stderr.String())
	}
	frames := map[string]int{}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if idx, _, ok := strings.Cut(line, ","); ok && !strings.HasPrefix(line, "#") {
			frames[strings.TrimSpace(idx)]++
		}
	}
	// 30 fps video and 48 kHz AAC (1024 samples a frame) over about 3 s.
	if frames["0"] < 80 || frames["1"] < 120 {
		t.Errorf("decoded %d frames of stream 0 and %d of stream 1, want about 90 and 140", frames["0"], frames["1"])
	}

	probe := exec.CommandContext(ctx, ffprobe, "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", src)
	out, err := probe.Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	// MPEG-TS lists each stream under its program too.
	codecs := slices.Compact(slices.Sorted(slices.Values(strings.Fields(string(out)))))
	if !slices.Equal(codecs, []string{"aac", "h264"}) {
		t.Errorf("ffprobe found codecs %q, want h264 and aac", codecs)
	}
}

// reloader loads a playlist again and again and checks every version, and
// every reload, against RFC 8216.
type reloader struct {
	t    *testing.T
	url  string
	prev *hlscheck.Playlist
	all  []*hlscheck.Playlist
}

// load fetches the playlist once the relay has segment msn (blocking reload).
func (r *reloader) load(msn int) *hlscheck.Playlist {
	r.t.Helper()
	res := httpGet(r.t, fmt.Sprintf("%s&_HLS_msn=%d", r.url, msn))
	if res.status != http.StatusOK {
		r.t.Fatalf("playlist for msn %d: %d %s", msn, res.status, res.body)
	}
	p, err := hlscheck.Parse(res.body)
	if err != nil {
		r.t.Fatalf("playlist for msn %d: %v\n%s", msn, err, res.body)
	}
	if r.prev != nil {
		if err := hlscheck.CheckReload(r.prev, p); err != nil {
			r.t.Fatalf("reload for msn %d: %v\n%s", msn, err, res.body)
		}
	}
	if !p.CanBlockReload || p.LastSeq() < int64(msn) {
		r.t.Fatalf("playlist for msn %d: last segment %d, can block %v", msn, p.LastSeq(), p.CanBlockReload)
	}
	for _, s := range p.Segments {
		if s.ProgramDateTime.IsZero() {
			r.t.Fatalf("segment %d has no EXT-X-PROGRAM-DATE-TIME", s.Seq)
		}
	}
	r.prev = p
	r.all = append(r.all, p)
	return p
}

// TestHLSPlaylistsAcrossPublisherReconnect: a base-protocol publisher drops
// and comes back within the grace period. Every playlist and every reload
// keeps RFC 8216's rules; the reconnect shows as a discontinuity, and the
// discontinuity sequence counts it once it leaves the window. The end is an
// EXT-X-ENDLIST; a new instance of the stream has new segment URLs.
func TestHLSPlaylistsAcrossPublisherReconnect(t *testing.T) {
	t.Parallel()
	wsURL := startRelay(t, func(c *config.Config) {
		c.Buffer.MaxFragments = 3
		c.Limits.PublisherGrace = 10 * time.Second
	})
	const stream = "hls/reconnect"
	base := httpBase(wsURL)
	r := &reloader{t: t, url: playlistURL(base, stream) + "?token=" + pullToken(t, stream)}

	first := publish(t, wsURL, stream)
	for i := range 4 {
		first.sendFragment(1, []byte(fmt.Sprintf("before %d", i)))
		r.load(i)
	}
	first.conn.CloseNow() // dropped without CLOSE
	second := publish(t, wsURL, stream)
	for i := 4; i < 9; i++ {
		second.sendFragment(1, []byte(fmt.Sprintf("after %d", i)))
		p := r.load(i)
		if i == 4 {
			last := p.Segments[len(p.Segments)-1]
			if !last.Discontinuity {
				t.Fatalf("the first fragment after the reconnect has no EXT-X-DISCONTINUITY")
			}
		}
	}
	if got := r.prev.DiscontinuitySequence; got != 1 || r.prev.MediaSequence != 6 {
		t.Errorf("after the discontinuity left the window: media sequence %d, discontinuity sequence %d; want 6, 1", r.prev.MediaSequence, got)
	}
	oldURI := r.prev.Segments[0].URI

	// A request waiting for the next segment gets the end instead.
	waiting := make(chan httpResult, 1)
	go func() { waiting <- httpGet(t, r.url+"&_HLS_msn=9") }()
	time.Sleep(100 * time.Millisecond) // let it reach the relay; if not, it finds the stream gone (404)
	second.sendText("CLOSE")
	res := <-waiting
	if res.status == http.StatusOK {
		p, err := hlscheck.Parse(res.body)
		if err != nil || !p.EndList || p.LastSeq() != 8 {
			t.Errorf("answer at the end: %v, ENDLIST %v\n%s", err, p != nil && p.EndList, res.body)
		} else if err := hlscheck.CheckReload(r.prev, p); err != nil {
			t.Errorf("reload at the end: %v", err)
		}
	} else if res.status == http.StatusNotFound {
		t.Logf("the playlist request reached the relay after the end (404); the ENDLIST answer is covered by the hlshttp tests")
	} else {
		t.Errorf("answer at the end: %d %s", res.status, res.body)
	}

	// A new instance: its segment URLs differ; the old ones are gone.
	third := publish(t, wsURL, stream)
	third.sendFragment(1, []byte("new instance"))
	r.prev = nil
	p := r.load(0)
	if p.Segments[0].URI == oldURI || strings.SplitN(p.Segments[0].URI, "/", 2)[0] == strings.SplitN(oldURI, "/", 2)[0] {
		t.Errorf("the new instance reuses the epoch of its segment URLs: %q and %q", p.Segments[0].URI, oldURI)
	}
	old := httpGet(t, strings.TrimSuffix(playlistURL(base, stream), "index.m3u8")+oldURI)
	if old.status != http.StatusNotFound {
		t.Errorf("a segment of the ended instance: %d", old.status)
	}
}

// TestHLSAuthorization: playlist and segment requests go through the
// relay's authorisation plugin, with the token in the query, in the segment
// path or in an Authorization header.
func TestHLSAuthorization(t *testing.T) {
	t.Parallel()
	wsURL := startRelay(t, nil)
	base := httpBase(wsURL)
	const stream = "room1/cam/1280x720-30~2000"
	p := publish(t, wsURL, stream)
	p.sendFragment(1, []byte("fragment 0"))
	good := pullToken(t, stream)
	playlist := playlistURL(base, stream)

	ok := httpGet(t, playlist+"?token="+good+"&_HLS_msn=0")
	pl, err := hlscheck.Parse(ok.body)
	if ok.status != http.StatusOK || err != nil {
		t.Fatalf("good token in the query: %d %v\n%s", ok.status, err, ok.body)
	}
	dir := strings.TrimSuffix(playlist, "index.m3u8")
	segURI := pl.Segments[0].URI // carries the token in its path
	epoch := strings.SplitN(segURI, "/", 2)[0]
	if seg := httpGet(t, dir+segURI); seg.status != http.StatusOK || string(seg.body) != "fragment 0" {
		t.Fatalf("segment by its URI, no query: %d %q", seg.status, seg.body)
	}
	bearer := httpGet(t, playlist, "Authorization", "Bearer "+good)
	if bearer.status != http.StatusOK || !strings.Contains(string(bearer.body), epoch+"/-/0.ts") {
		t.Fatalf("good Bearer token: %d\n%s", bearer.status, bearer.body)
	}
	if seg := httpGet(t, dir+epoch+"/-/0.ts", "Authorization", "Bearer "+good); seg.status != http.StatusOK {
		t.Errorf("segment with a Bearer token: %d %s", seg.status, seg.body)
	}

	// No token: 401 for both.
	for _, u := range []string{playlist, dir + epoch + "/-/0.ts"} {
		if res := httpGet(t, u); res.status != http.StatusUnauthorized {
			t.Errorf("no token: %d %s", res.status, res.body)
		}
	}
	// Every way a PULL token can be wrong, and a token for another stream.
	cases := map[string]string{"another stream": pullToken(t, "room2/cam")}
	for _, c := range authCases(t, stream) {
		if c.action == "PULL" && c.token != "" {
			cases[c.name] = c.token
		}
	}
	for name, tok := range cases {
		for _, res := range []httpResult{
			httpGet(t, playlist+"?token="+url.QueryEscape(tok)),
			httpGet(t, playlist, "Authorization", "Bearer "+tok),
			httpGet(t, dir+epoch+"/"+url.PathEscape(tok)+"/0.ts"),
			httpGet(t, dir+epoch+"/-/0.ts?token="+url.QueryEscape(tok)),
		} {
			if res.status != http.StatusForbidden && !(res.status == http.StatusBadRequest && strings.ContainsAny(tok, " ")) {
				t.Errorf("%s: %d %s", name, res.status, res.body)
			}
			if bytes.Contains(res.body, []byte(tok)) {
				t.Errorf("%s: the answer contains the token", name)
			}
		}
	}
}

// TestHLSBlockingReload: a request for the next segment is answered when it
// is published; one too far ahead is refused; one that waits too long is
// answered 503.
func TestHLSBlockingReload(t *testing.T) {
	t.Parallel()
	wsURL := startRelay(t, func(c *config.Config) { c.HLS.MaxBlockWait = 300 * time.Millisecond })
	const stream = "hls/blocking"
	p := publish(t, wsURL, stream)
	p.sendFragment(1, []byte("0"))
	playlist := playlistURL(httpBase(wsURL), stream) + "?token=" + pullToken(t, stream)
	if res := httpGet(t, playlist+"&_HLS_msn=0"); res.status != http.StatusOK {
		t.Fatalf("msn 0: %d %s", res.status, res.body)
	}
	// Far ahead: refused at once (the last segment is 0, so 2 is the limit).
	if res := httpGet(t, playlist+"&_HLS_msn=3"); res.status != http.StatusBadRequest {
		t.Errorf("msn 3: %d %s", res.status, res.body)
	}
	// Nothing arrives: 503 once the wait is over.
	if res := httpGet(t, playlist+"&_HLS_msn=1"); res.status != http.StatusServiceUnavailable || res.header.Get("Retry-After") == "" {
		t.Errorf("msn 1 with no publisher activity: %d %s", res.status, res.body)
	}
	// The next segment arrives while the request waits.
	answer := make(chan httpResult, 1)
	go func() { answer <- httpGet(t, playlist+"&_HLS_msn=1") }()
	time.Sleep(50 * time.Millisecond)
	select {
	case res := <-answer:
		t.Fatalf("answered before segment 1 existed: %d %s", res.status, res.body)
	default:
	}
	p.sendFragment(1, []byte("1"))
	res := <-answer
	pl, err := hlscheck.Parse(res.body)
	if res.status != http.StatusOK || err != nil || pl.LastSeq() != 1 {
		t.Errorf("msn 1 after the publish: %d %v\n%s", res.status, err, res.body)
	}
}

// TestHLSPathsAndHealthChecks: only HLS resources below the prefix are HLS;
// every other GET still answers 200, as the existing server does; with the
// output disabled the HLS paths are plain 200s too.
func TestHLSPathsAndHealthChecks(t *testing.T) {
	t.Parallel()
	on := httpBase(startRelay(t, nil))
	off := httpBase(startRelay(t, func(c *config.Config) { c.HLS.Enabled = false }))
	custom := httpBase(startRelay(t, func(c *config.Config) {
		c.HLS.PathPrefix = "/live"
		c.HLS.CORSOrigins = "https://player.example.com"
	}))
	for _, tc := range []struct {
		url    string
		status int
	}{
		{custom + "/live/room1/cam/index.m3u8", 401},
		{custom + "/hls/room1/cam/index.m3u8", 200},
		{on + "/hls/", 200},
		{on + "/hls/room1/cam", 200},
		{on + "/anything/index.m3u8", 200},
		{on + "/hls/room1/cam/index.m3u8", 401},
		{on + "/hls/nobody/index.m3u8?token=" + sign(t, pullSecret, token.Pull, "nobody"), 404},
		{off + "/hls/room1/cam/index.m3u8", 200},
	} {
		if res := httpGet(t, tc.url); res.status != tc.status {
			t.Errorf("GET %s: %d, want %d", tc.url, res.status, tc.status)
		}
	}
	// CORS as configured: the default answers any origin, a list only its own.
	for _, tc := range []struct{ playlist, origin, want string }{
		{on + "/hls/room1/cam/index.m3u8", "https://anyone.example", "*"},
		{custom + "/live/room1/cam/index.m3u8", "https://player.example.com", "https://player.example.com"},
		{custom + "/live/room1/cam/index.m3u8", "https://anyone.example", ""},
	} {
		res := httpGet(t, tc.playlist, "Origin", tc.origin)
		if got := res.header.Get("Access-Control-Allow-Origin"); got != tc.want {
			t.Errorf("%s from %s: Access-Control-Allow-Origin %q, want %q", tc.playlist, tc.origin, got, tc.want)
		}
	}
}
