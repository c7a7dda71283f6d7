package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/session"
)

// fakeNode is a Node whose streams live in a real hub and whose other
// answers are set by the test.
type fakeNode struct {
	hub     *hub.Hub
	conns   []session.Info
	kicked  []uint64
	reload  error
	drained int
}

func (n *fakeNode) Streams() []*hub.Stream              { return n.hub.Streams() }
func (n *fakeNode) Stream(id string) *hub.Stream        { return n.hub.Stream(id) }
func (n *fakeNode) Relayed(string) bool                 { return false }
func (n *fakeNode) Connections() []session.Info         { return n.conns }
func (n *fakeNode) ClosePublishers(string) int          { return 1 }
func (n *fakeNode) ReloadPlugins(context.Context) error { return n.reload }
func (n *fakeNode) Status() NodeStatus                  { return NodeStatus{NodeID: "n1"} }
func (n *fakeNode) Kick(id uint64) bool {
	n.kicked = append(n.kicked, id)
	return id == 7
}
func (n *fakeNode) Drain(context.Context) DrainResult {
	n.drained++
	return DrainResult{Publishers: 2}
}

const token = "s3cret-token-for-the-admin-api-tests"

func do(t *testing.T, h http.Handler, method, path, auth string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s %s: not JSON: %q", method, path, rec.Body.String())
	}
	return rec, body
}

func TestAuth(t *testing.T) {
	t.Parallel()
	node := &fakeNode{hub: hub.New(hub.Config{})}
	h := New(token, node, zerolog.Nop())
	for _, auth := range []string{"", "Bearer", "Bearer ", "Bearer x", "Bearer " + token + "x", "Token " + token, token} {
		for _, req := range [][2]string{{"GET", "/v1/streams"}, {"POST", "/v1/drain"}, {"DELETE", "/v1/connections/7"}, {"GET", "/nothing"}} {
			rec, _ := do(t, h, req[0], req[1], auth)
			if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s with %q: %d", req[0], req[1], auth, rec.Code)
			}
		}
	}
	if node.drained != 0 || len(node.kicked) != 0 {
		t.Fatalf("refused requests acted: drained %d, kicked %v", node.drained, node.kicked)
	}
	if rec, _ := do(t, New("", node, zerolog.Nop()), "GET", "/v1/node", "Bearer "); rec.Code != http.StatusUnauthorized {
		t.Errorf("an empty token accepted a request: %d", rec.Code)
	}
	if rec, body := do(t, h, "GET", "/v1/node", "Bearer "+token); rec.Code != 200 || body["node_id"] != "n1" {
		t.Errorf("GET /v1/node: %d %v", rec.Code, body)
	}
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	node := &fakeNode{hub: hub.New(hub.Config{}), reload: errors.New("bad plugin")}
	pub, _ := node.hub.Publish("a/b", hub.PublishOptions{})
	for range 4 {
		pub.Append(hub.Input{Duration: 2, Data: make([]byte, 1000)})
	}
	node.conns = []session.Info{{ID: 7, Role: session.RolePublisher, Stream: "a/b", Remote: "192.0.2.1:1", Since: time.Now()}}
	h := New(token, node, zerolog.Nop())
	auth := "Bearer " + token
	for _, tc := range []struct {
		method, path string
		status       int
		want         string // in the body
	}{
		{"GET", "/v1/streams", 200, `"bitrate_bps": 4000`},
		{"GET", "/v1/streams/a%2Fb", 200, `"role": "publisher"`},
		{"GET", "/v1/streams/a/b", 200, `"connection_id": 7`},
		{"GET", "/v1/streams/nope", 404, "no live stream"},
		{"GET", "/v1/connections?stream=a/b", 200, `"remote": "192.0.2.1:1"`},
		{"GET", "/v1/connections?stream=other", 200, `"connections": []`},
		{"DELETE", "/v1/connections/8", 404, "no open connection 8"},
		{"DELETE", "/v1/connections/x", 400, "a connection id is a number"},
		{"POST", "/v1/plugins/reload", 500, "bad plugin"},
		{"GET", "/v1/drain", 405, "takes POST"},
		{"GET", "/v1/nothing", 404, "no such endpoint"},
		{"DELETE", "/v1/connections/7", 200, `"closed": true`},
		{"POST", "/v1/drain", 200, `"publishers": 2`},
		{"DELETE", "/v1/streams/a%2Fb", 200, `"publishers": 1`},
		{"GET", "/v1/streams", 200, `"streams": []`},
	} {
		rec, _ := do(t, h, tc.method, tc.path, auth)
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("%s %s: %d %s\nwant %d with %s", tc.method, tc.path, rec.Code, rec.Body.String(), tc.status, tc.want)
		}
		if rec.Code == 405 && rec.Header().Get("Allow") != "POST" {
			t.Errorf("%s %s: Allow %q", tc.method, tc.path, rec.Header().Get("Allow"))
		}
	}
	if _, ok := pub.Append(hub.Input{Duration: 1, Data: []byte("x")}); ok {
		t.Error("the closed stream still takes fragments")
	}
}
