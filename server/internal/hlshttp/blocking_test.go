package hlshttp

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/server/internal/hlshttp/hlscheck"
	"github.com/hlsrelay/hlsrelay/server/internal/policy"
)

// getAsync requests path in the background.
func (f *fixture) getAsync(path string) <-chan response {
	ch := make(chan response, 1)
	go func() {
		req, err := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
		if err != nil {
			ch <- response{status: -1, body: err.Error()}
			return
		}
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			ch <- response{status: -1, body: err.Error()}
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		ch <- response{status: resp.StatusCode, header: resp.Header, body: string(body)}
	}()
	return ch
}

// waitBlocked waits until n requests wait in the handler.
func (f *fixture) waitBlocked(n int) {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for f.h.Blocked() != n {
		if time.Now().After(deadline) {
			f.t.Fatalf("%d requests blocked, want %d", f.h.Blocked(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func receive(t *testing.T, ch <-chan response) response {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no response")
	}
	return response{}
}

func lastSeq(t *testing.T, body string) int64 {
	t.Helper()
	p, err := hlscheck.Parse([]byte(body))
	if err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	return p.LastSeq()
}

func openFixture(t *testing.T, mutate func(*Config)) *fixture {
	return newFixture(t, func(c *Config) {
		c.Authorizer = &policy.JWT{}
		if mutate != nil {
			mutate(c)
		}
	})
}

// TestBlockingReloadAnswersWhenTheFragmentLands: a request for the next
// media sequence number waits in the handler and is answered by the append
// that makes it exist, with that segment in the playlist.
func TestBlockingReloadAnswersWhenTheFragmentLands(t *testing.T) {
	t.Parallel()
	f := openFixture(t, nil)
	pub := f.publish("s")
	f.appendN(pub, 2) // seq 0, 1

	// An existing one is answered at once.
	if r := f.get("/hls/s/index.m3u8?_HLS_msn=1"); r.status != http.StatusOK || lastSeq(t, r.body) != 1 {
		t.Fatalf("existing msn: %d\n%s", r.status, r.body)
	}
	ch := f.getAsync("/hls/s/index.m3u8?_HLS_msn=2")
	f.waitBlocked(1)
	select {
	case r := <-ch:
		t.Fatalf("answered before the fragment existed: %d\n%s", r.status, r.body)
	default:
	}
	f.appendN(pub, 1) // seq 2
	r := receive(t, ch)
	if r.status != http.StatusOK || lastSeq(t, r.body) != 2 {
		t.Fatalf("after the append: %d\n%s", r.status, r.body)
	}
	if !strings.Contains(r.body, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n") {
		t.Errorf("no CAN-BLOCK-RELOAD:\n%s", r.body)
	}
	f.waitBlocked(0)
}

func TestBlockingReloadTooFarAhead(t *testing.T) {
	t.Parallel()
	f := openFixture(t, func(c *Config) { c.MaxBlockWait = 20 * time.Millisecond })
	f.appendN(f.publish("s"), 2) // last is 1
	// last+2 may be waited for (and times out here); last+3 is refused.
	if r := f.get("/hls/s/index.m3u8?_HLS_msn=3"); r.status != http.StatusServiceUnavailable {
		t.Errorf("msn last+2: %d %q", r.status, r.body)
	}
	r := f.get("/hls/s/index.m3u8?_HLS_msn=4")
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "more than two segments") {
		t.Errorf("msn last+3: %d %q", r.status, r.body)
	}
}

func TestBlockingReloadTimesOut(t *testing.T) {
	t.Parallel()
	f := openFixture(t, func(c *Config) { c.MaxBlockWait = 30 * time.Millisecond })
	f.appendN(f.publish("s"), 1)
	r := f.get("/hls/s/index.m3u8?_HLS_msn=1")
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "did not arrive") {
		t.Errorf("%d %v %q", r.status, r.header, r.body)
	}
	f.waitBlocked(0)
}

func TestBlockedRequestsAreBounded(t *testing.T) {
	t.Parallel()
	f := openFixture(t, func(c *Config) { c.MaxBlocked = 1 })
	pub := f.publish("s")
	f.appendN(pub, 1)
	first := f.getAsync("/hls/s/index.m3u8?_HLS_msn=1")
	f.waitBlocked(1)
	r := f.get("/hls/s/index.m3u8?_HLS_msn=1")
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "too many") {
		t.Errorf("second blocked request: %d %q", r.status, r.body)
	}
	// Requests that need no wait are still served.
	if r := f.get("/hls/s/index.m3u8?_HLS_msn=0"); r.status != http.StatusOK {
		t.Errorf("non-blocking request: %d", r.status)
	}
	f.appendN(pub, 1)
	if r := receive(t, first); r.status != http.StatusOK {
		t.Errorf("first: %d", r.status)
	}
}

func TestEndReleasesBlockedRequests(t *testing.T) {
	t.Parallel()
	f := openFixture(t, nil)
	pub := f.publish("s")
	f.appendN(pub, 2)
	ch := f.getAsync("/hls/s/index.m3u8?_HLS_msn=2")
	f.waitBlocked(1)
	pub.End()
	r := receive(t, ch)
	p, err := hlscheck.Parse([]byte(r.body))
	if r.status != http.StatusOK || err != nil || !p.EndList || p.LastSeq() != 1 {
		t.Fatalf("%d %v\n%s", r.status, err, r.body)
	}
}

func TestCloseReleasesBlockedRequests(t *testing.T) {
	t.Parallel()
	f := openFixture(t, nil)
	f.appendN(f.publish("s"), 1)
	ch := f.getAsync("/hls/s/index.m3u8?_HLS_msn=1")
	f.waitBlocked(1)
	f.h.Close()
	if r := receive(t, ch); r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "shutting down") {
		t.Errorf("blocked at close: %d %q", r.status, r.body)
	}
	if r := f.get("/hls/s/index.m3u8?_HLS_msn=1"); r.status != http.StatusServiceUnavailable {
		t.Errorf("after close: %d", r.status)
	}
	if r := f.get("/hls/s/index.m3u8"); r.status != http.StatusOK {
		t.Errorf("a request that needs no wait after close: %d", r.status)
	}
}

// TestFirstPlaylistWaitsForAFragment: a live playlist lists at least one
// segment, so a stream without fragments answers when the first arrives.
func TestFirstPlaylistWaitsForAFragment(t *testing.T) {
	t.Parallel()
	f := openFixture(t, nil)
	pub := f.publish("s")
	ch := f.getAsync("/hls/s/index.m3u8")
	f.waitBlocked(1)
	f.appendN(pub, 1)
	if r := receive(t, ch); r.status != http.StatusOK || lastSeq(t, r.body) != 0 {
		t.Errorf("%d\n%s", r.status, r.body)
	}
}

func TestClientLeavingFreesItsSlot(t *testing.T) {
	t.Parallel()
	f := openFixture(t, nil)
	f.appendN(f.publish("s"), 1)
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+"/hls/s/index.m3u8?_HLS_msn=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := f.srv.Client().Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	f.waitBlocked(1)
	cancel()
	<-done
	f.waitBlocked(0)
}
