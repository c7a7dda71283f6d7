package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/config"
	"github.com/hlsrelay/hlsrelay/server/internal/relay"
)

const adminToken = "admin-token-for-tests-0123456789abcdef"

// startRelayNode is startRelay that also returns the relay itself.
func startRelayNode(t *testing.T, mutate func(*config.Config)) (string, *relay.Relay) {
	t.Helper()
	var node *relay.Relay
	url := startRelayWith(t, mutate, func(r interface{ ReloadPlugins(context.Context) error }) { node = r.(*relay.Relay) })
	return url, node
}

// adminClient calls a relay's admin API.
type adminClient struct {
	t    *testing.T
	base string
}

// call sends method path with token (none if empty) and decodes the JSON
// answer into out (if not nil).
func (a adminClient) call(method, path, token string, out any) int {
	a.t.Helper()
	req, err := http.NewRequest(method, a.base+path, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		a.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(body, out); err != nil {
			a.t.Fatalf("%s %s: %v in %s", method, path, err, body)
		}
	}
	return resp.StatusCode
}

// must calls and fails the test unless the answer is 200.
func (a adminClient) must(method, path string, out any) {
	a.t.Helper()
	if st := a.call(method, path, adminToken, out); st != http.StatusOK {
		a.t.Fatalf("%s %s: status %d", method, path, st)
	}
}

type adminStream struct {
	ID        string `json:"id"`
	Epoch     string `json:"epoch"`
	Source    string `json:"source"`
	Publisher struct {
		Connected    bool   `json:"connected"`
		ConnectionID uint64 `json:"connection_id"`
		Remote       string `json:"remote"`
	} `json:"publisher"`
	Viewers     int     `json:"viewers"`
	BitrateBps  int64   `json:"bitrate_bps"`
	Window      float64 `json:"window_seconds"`
	Fragments   int     `json:"fragments"`
	Bytes       int64   `json:"bytes"`
	Published   uint64  `json:"published"`
	AgeSeconds  float64 `json:"age_seconds"`
	Connections []struct {
		ID     uint64 `json:"id"`
		Role   string `json:"role"`
		Remote string `json:"remote"`
	} `json:"connections"`
}

// pushExt connects an extension publisher and waits for OK.
func pushExt(t *testing.T, wsURL, stream string) *wire {
	t.Helper()
	p := dial(t, wsURL)
	p.sendText(string(protocol.AppendPush(nil, protocol.Push{Stream: stream, Auth: pushToken(t, stream), Ext: true})))
	if ok := p.readText(); !strings.HasPrefix(ok, "OK:ext=1") {
		t.Fatalf("PUSH answered %q", ok)
	}
	return p
}

// expectStop reads an E message with code, then expects the WebSocket to
// close with status.
func (w *wire) expectStop(code string, status websocket.StatusCode) {
	w.t.Helper()
	text := w.readText()
	msg, err := protocol.Parse([]byte(text))
	if err != nil || msg.Type != protocol.TypeError {
		w.t.Fatalf("expected E:code=%s, got %q", code, text)
	}
	if e, _ := protocol.ParseError(msg); e.Code != code {
		w.t.Fatalf("expected E:code=%s, got %q", code, text)
	}
	_, b, err := w.read(5 * time.Second)
	if err == nil {
		w.t.Fatalf("expected the close after %q, got %q", text, truncate(b))
	}
	if got := websocket.CloseStatus(err); got != status {
		w.t.Fatalf("after %q: close status %d (%v), want %d", text, got, err, status)
	}
}

// TestAdminAPI: the token is required and compared exactly; streams and
// connections are listed with their figures; a kick, a stream close and a
// plugin reload do what they say on real sockets; a drain sends everyone
// elsewhere and stops the node.
func TestAdminAPI(t *testing.T) {
	t.Parallel()
	wsURL, node := startRelayNode(t, func(c *config.Config) {
		c.Admin = config.AdminConfig{Enabled: true, ListenAddress: "127.0.0.1:0", Token: adminToken}
		c.Server.ShutdownTimeout = 4 * time.Second
		c.Limits.PublisherGrace = time.Minute
	})
	api := adminClient{t: t, base: "http://" + node.AdminAddr().String()}
	if strings.Contains(node.AdminAddr().String(), strings.TrimPrefix(strings.TrimSuffix(wsURL, "/"), "ws://")) {
		t.Fatal("the admin API shares the public listener")
	}

	t.Run("auth", func(t *testing.T) {
		api := adminClient{t: t, base: api.base}
		for _, tc := range []struct {
			name, path, header string
			want               int
		}{
			{"no token", "/v1/streams", "", 401},
			{"wrong token", "/v1/streams", "Bearer " + adminToken + "x", 401},
			{"token prefix", "/v1/streams", "Bearer " + adminToken[:len(adminToken)-1], 401},
			{"token in another case", "/v1/streams", "Bearer " + strings.ToUpper(adminToken), 401},
			{"basic scheme", "/v1/streams", "Basic " + adminToken, 401},
			{"empty bearer", "/v1/streams", "Bearer ", 401},
			{"unknown path without token", "/v1/nothing", "", 401},
			{"unknown path with token", "/v1/nothing", "Bearer " + adminToken, 404},
			{"right token", "/v1/streams", "Bearer " + adminToken, 200},
			{"scheme in lower case", "/v1/node", "bearer " + adminToken, 200},
		} {
			req, _ := http.NewRequest(http.MethodGet, api.base+tc.path, nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.want)
			}
			if tc.want == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s: 401 without WWW-Authenticate", tc.name)
			}
		}
		// A write without the token changes nothing.
		if st := api.call(http.MethodPost, "/v1/drain", "", nil); st != 401 {
			t.Fatalf("drain without a token: %d", st)
		}
		waitHealth(t, httpBase(wsURL), http.StatusOK)
	})

	const stream = "admin/cam 1"
	escaped := "/v1/streams/" + url.PathEscape(stream)
	pub := pushExt(t, wsURL, stream)
	v1, v2 := view(t, wsURL, stream, 0), view(t, wsURL, stream, 0)
	frag := make([]byte, 2000)
	for range 3 {
		pub.sendFragment(0.5, frag)
		for _, v := range []*wire{v1, v2} {
			v.readFragment()
		}
	}

	t.Run("list", func(t *testing.T) {
		api := adminClient{t: t, base: api.base}
		var list struct{ Streams []adminStream }
		api.must(http.MethodGet, "/v1/streams", &list)
		if len(list.Streams) != 1 {
			t.Fatalf("streams %+v", list.Streams)
		}
		s := list.Streams[0]
		t.Logf("GET /v1/streams: %+v", s)
		if s.ID != stream || s.Source != "local" || !s.Publisher.Connected || s.Publisher.Remote == "" ||
			s.Viewers != 2 || s.Fragments != 3 || s.Published != 3 || s.Bytes < 3*2000 || s.Epoch == "" || s.AgeSeconds <= 0 {
			t.Errorf("stream %+v", s)
		}
		// 2000 bytes every 0.5 s.
		if s.BitrateBps != 32000 || s.Window != 1.5 {
			t.Errorf("bitrate %d bps over %v s, want 32000 over 1.5", s.BitrateBps, s.Window)
		}
		var one adminStream
		api.must(http.MethodGet, escaped, &one)
		roles := map[string]int{}
		for _, c := range one.Connections {
			roles[c.Role]++
		}
		if roles["publisher"] != 1 || roles["viewer"] != 2 || len(one.Connections) != 3 {
			t.Errorf("connections of the stream: %+v", one.Connections)
		}
		if st := api.call(http.MethodGet, "/v1/streams/"+url.PathEscape("no/such"), adminToken, nil); st != 404 {
			t.Errorf("unknown stream: %d", st)
		}
		var conns struct{ Connections []struct{ ID uint64 } }
		api.must(http.MethodGet, "/v1/connections?stream="+url.QueryEscape(stream), &conns)
		if len(conns.Connections) != 3 {
			t.Errorf("connections of the stream: %+v", conns)
		}
	})

	var one adminStream
	api.must(http.MethodGet, escaped, &one)
	viewerIDs := []uint64{}
	for _, c := range one.Connections {
		if c.Role == "viewer" {
			viewerIDs = append(viewerIDs, c.ID)
		}
	}

	t.Run("kick", func(t *testing.T) {
		api := adminClient{t: t, base: api.base}
		if st := api.call(http.MethodDelete, "/v1/connections/abc", adminToken, nil); st != 400 {
			t.Errorf("kick abc: %d", st)
		}
		if st := api.call(http.MethodDelete, "/v1/connections/999999", adminToken, nil); st != 404 {
			t.Errorf("kick an unknown id: %d", st)
		}
		// Ids grow in connection order: the first viewer is v1.
		api.must(http.MethodDelete, fmt.Sprintf("/v1/connections/%d", viewerIDs[0]), nil)
		v1.expectStop(protocol.CodeClosedByOperator, websocket.StatusPolicyViolation)
		// The other viewer and the publisher go on.
		pub.sendFragment(0.5, frag)
		v2.readFragment()
		var one adminStream
		api.must(http.MethodGet, escaped, &one)
		if len(one.Connections) != 2 || one.Viewers != 1 {
			t.Errorf("after the kick: %d connections, %d viewers", len(one.Connections), one.Viewers)
		}
	})

	t.Run("reload", func(t *testing.T) {
		api := adminClient{t: t, base: api.base}
		var got struct {
			Reloaded bool  `json:"reloaded"`
			TookMs   int64 `json:"took_ms"`
		}
		api.must(http.MethodPost, "/v1/plugins/reload", &got)
		t.Logf("POST /v1/plugins/reload: %+v", got)
		if !got.Reloaded {
			t.Fatalf("reload: %+v", got)
		}
		// The reloaded plugins decide: a good token passes, a bad one not.
		v := view(t, wsURL, stream, 0)
		v.conn.CloseNow()
		bad := dial(t, wsURL)
		bad.sendText(pullMsg(stream, "not-a-token", 0))
		bad.expectError(protocol.CodeAuth)
		if st := api.call(http.MethodGet, "/v1/plugins/reload", adminToken, nil); st != http.StatusMethodNotAllowed {
			t.Errorf("GET of the reload: %d", st)
		}
	})

	t.Run("close stream", func(t *testing.T) {
		api := adminClient{t: t, base: api.base}
		var got struct {
			Closed     bool `json:"closed"`
			Viewers    int  `json:"viewers"`
			Publishers int  `json:"publishers"`
		}
		api.must(http.MethodDelete, escaped, &got)
		if !got.Closed || got.Viewers != 1 || got.Publishers != 1 {
			t.Errorf("close: %+v", got)
		}
		v2.expectText("CLOSE")
		v2.expectClosed() // answers the relay's close frame
		pub.expectStop(protocol.CodeClosedByOperator, websocket.StatusPolicyViolation)
		var list struct{ Streams []adminStream }
		api.must(http.MethodGet, "/v1/streams", &list)
		if len(list.Streams) != 0 {
			t.Errorf("streams after the close: %+v", list.Streams)
		}
		if st := api.call(http.MethodDelete, escaped, adminToken, nil); st != 404 {
			t.Errorf("closing it again: %d", st)
		}
	})

	t.Run("drain", func(t *testing.T) {
		api := adminClient{t: t, base: api.base}
		const stream = "admin/drain"
		pub := pushExt(t, wsURL, stream)
		v := view(t, wsURL, stream, 0)
		pub.sendFragment(1, []byte("first"))
		v.readFragment()

		start := time.Now()
		type drained struct {
			Publishers   int   `json:"publishers"`
			Viewers      int   `json:"viewers"`
			Forced       int   `json:"forced"`
			PublishersMs int64 `json:"publishers_ms"`
			TookMs       int64 `json:"took_ms"`
		}
		answer := make(chan drained, 1)
		go func() {
			var d drained
			if st := api.call(http.MethodPost, "/v1/drain", adminToken, &d); st != 200 {
				t.Errorf("drain: status %d", st)
			}
			answer <- d
		}()
		// While the publisher has not sent its next fragment, the node is
		// draining: not ready, and refusing new connections.
		waitHealth(t, httpBase(wsURL), http.StatusServiceUnavailable)
		notReady := time.Since(start)
		_, resp, err := websocket.Dial(context.Background(), wsURL, nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Hlsrelay-Error") != protocol.CodeUnavailable {
			t.Fatalf("a handshake while draining: %v %+v", err, resp)
		}
		var status struct{ Draining bool }
		api.must(http.MethodGet, "/v1/node", &status)
		if !status.Draining {
			t.Error("GET /v1/node does not say draining")
		}
		pub.sendFragment(1, []byte("last"))
		if _, b := v.readFragment(); string(b) != "last" {
			t.Fatalf("the viewer got %q, want the publisher's last fragment", b)
		}
		v.expectStop(protocol.CodeUnavailable, websocket.StatusGoingAway)
		pub.expectStop(protocol.CodeUnavailable, websocket.StatusGoingAway)
		d := <-answer
		t.Logf("drain via the admin API: not ready after %v; answer %+v after %v", notReady, d, time.Since(start))
		if d.Publishers != 1 || d.Viewers != 1 || d.Forced != 0 {
			t.Errorf("drain answer %+v", d)
		}
		// The node stops: its listeners close.
		deadline := time.Now().Add(3 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", strings.TrimSuffix(strings.TrimPrefix(wsURL, "ws://"), "/"), time.Second)
			if err != nil {
				break
			}
			c.Close()
			if time.Now().After(deadline) {
				t.Fatal("the node still listens after the drain")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// waitHealth waits until base's /healthz answers status.
func waitHealth(t *testing.T, base string, status int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == status {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz never answered %d (last: %v %v)", status, resp, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestAdminAPIOff: with ADMIN_ENABLED=NO nothing listens on the admin
// address, and a relay refuses to start with the API on and no token.
func TestAdminAPIOff(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, node := startRelayNode(t, func(c *config.Config) {
		c.Admin = config.AdminConfig{Enabled: false, ListenAddress: addr, Token: adminToken}
	})
	if node.AdminAddr() != nil {
		t.Fatalf("admin listener %v with ADMIN_ENABLED=NO", node.AdminAddr())
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("something listens on %s with the admin API off", addr)
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s: %v, want connection refused", addr, err)
	}

	cfg := config.Default()
	cfg.Admin = config.AdminConfig{Enabled: true, ListenAddress: "127.0.0.1:0"}
	if _, err := relay.New(context.Background(), cfg, zerolog.Nop(), relay.Options{}); err == nil || !strings.Contains(err.Error(), "ADMIN_TOKEN") {
		t.Fatalf("relay.New with the admin API and no token: %v", err)
	}
}
