// Package admin is the relay's admin API: JSON over HTTP on a listener of
// its own, for the node's operator (docs/admin-api.md). Every request must
// carry the configured bearer token; the API lists streams and connections,
// closes a stream, kicks a connection, reloads the policy plugins and drains
// the node.
package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/session"
)

// Node is the relay node the API operates on.
type Node interface {
	// Streams are the node's live streams.
	Streams() []*hub.Stream
	// Stream is the live stream id, or nil.
	Stream(id string) *hub.Stream
	// Relayed reports whether the node pulls stream from another node.
	Relayed(stream string) bool
	// Connections are the node's open WebSocket connections.
	Connections() []session.Info
	// Kick ends connection id; false if there is none.
	Kick(id uint64) bool
	// ClosePublishers ends the connections publishing stream here.
	ClosePublishers(stream string) int
	// ReloadPlugins loads the policy plugins again and swaps them in.
	ReloadPlugins(ctx context.Context) error
	// Drain drains the node (then it stops) and returns once its
	// connections are gone or the drain's bound has passed.
	Drain(ctx context.Context) DrainResult
	// Status describes the node.
	Status() NodeStatus
}

// NodeStatus is the answer of GET /v1/node.
type NodeStatus struct {
	NodeID      string    `json:"node_id"`
	URL         string    `json:"url,omitempty"`
	Draining    bool      `json:"draining"`
	Started     time.Time `json:"started"`
	Streams     int       `json:"streams"`
	Connections int       `json:"connections"`
}

// DrainResult is the answer of POST /v1/drain.
type DrainResult struct {
	// Publishers and Viewers count the connections told to go to another
	// node; Forced those still open at the bound, closed without a word.
	Publishers int `json:"publishers"`
	Viewers    int `json:"viewers"`
	Forced     int `json:"forced"`
	// PublishersMs is how long the publishers took to finish their
	// fragment; TookMs the whole drain.
	PublishersMs int64 `json:"publishers_ms"`
	TookMs       int64 `json:"took_ms"`
}

// Handler serves the API. Its fields must be set before it serves.
type Handler struct {
	// Token is the bearer token requests must carry. An empty Token
	// refuses every request.
	Token string
	Node  Node
	Log   zerolog.Logger

	routes *http.ServeMux
}

// New returns the API's handler.
func New(token string, node Node, log zerolog.Logger) *Handler {
	h := &Handler{Token: token, Node: node, Log: log.With().Str("component", "admin").Logger()}
	m := http.NewServeMux()
	m.HandleFunc("GET /v1/node", h.status)
	m.HandleFunc("GET /v1/streams", h.listStreams)
	m.HandleFunc("GET /v1/streams/{id...}", h.getStream)
	m.HandleFunc("DELETE /v1/streams/{id...}", h.closeStream)
	m.HandleFunc("GET /v1/connections", h.listConnections)
	m.HandleFunc("DELETE /v1/connections/{id}", h.kick)
	m.HandleFunc("POST /v1/plugins/reload", h.reload)
	m.HandleFunc("POST /v1/drain", h.drain)
	h.routes = m
	return h
}

// ServeHTTP checks the token, then serves the request. Every request
// without the right token is answered 401, whatever its path, so that the
// API reveals nothing to a caller without it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !h.authorized(r) {
		h.Log.Warn().Str("remote", r.RemoteAddr).Str("method", r.Method).Str("path", r.URL.Path).
			Msg("admin request without a valid token")
		w.Header().Set("WWW-Authenticate", `Bearer realm="hlsrelay-admin"`)
		writeJSON(w, http.StatusUnauthorized, errorBody("a valid admin token is required (Authorization: Bearer TOKEN)"))
		return
	}
	if _, pattern := h.routes.Handler(r); pattern == "" {
		h.noRoute(w, r)
		return
	}
	h.routes.ServeHTTP(w, r)
}

// noRoute answers a request that no endpoint serves: 405 with Allow if the
// path exists for other methods, 404 otherwise; JSON, as every answer.
func (h *Handler) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		other := r.Clone(r.Context())
		other.Method = m
		if _, pattern := h.routes.Handler(other); pattern != "" && m != r.Method {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		writeJSON(w, http.StatusNotFound, errorBody("no such endpoint: "+r.Method+" "+r.URL.Path+" (see docs/admin-api.md)"))
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeJSON(w, http.StatusMethodNotAllowed, errorBody(r.URL.Path+" takes "+strings.Join(allow, " or ")))
}

// authorized compares the request's bearer token with Token in constant
// time: both are hashed first, so neither their contents nor their lengths
// show in the time taken.
func (h *Handler) authorized(r *http.Request) bool {
	if h.Token == "" {
		return false
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	want := sha256.Sum256([]byte(h.Token))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

func (h *Handler) status(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, h.Node.Status())
}

func (h *Handler) listStreams(w http.ResponseWriter, _ *http.Request) {
	conns := h.Node.Connections()
	streams := h.Node.Streams()
	out := make([]streamJSON, 0, len(streams))
	for _, s := range streams {
		out = append(out, h.describe(s, conns))
	}
	sortStreams(out)
	writeJSON(w, http.StatusOK, map[string]any{"streams": out})
}

func (h *Handler) getStream(w http.ResponseWriter, r *http.Request) {
	s := h.Node.Stream(r.PathValue("id"))
	if s == nil {
		writeJSON(w, http.StatusNotFound, errorBody("no live stream "+strconv.Quote(r.PathValue("id"))+" on this node"))
		return
	}
	conns := h.Node.Connections()
	body := h.describe(s, conns)
	body.Connections = []connectionJSON{}
	for _, c := range conns {
		if c.Stream == s.ID() {
			body.Connections = append(body.Connections, describeConnection(c))
		}
	}
	writeJSON(w, http.StatusOK, body)
}

func (h *Handler) closeStream(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s := h.Node.Stream(id)
	if s == nil {
		writeJSON(w, http.StatusNotFound, errorBody("no live stream "+strconv.Quote(id)+" on this node"))
		return
	}
	viewers := s.Stats().Subscribers
	// The stream ends first, so that the publisher's drop cannot leave it
	// in its grace period: viewers get what is due to them, then CLOSE.
	s.Close()
	publishers := h.Node.ClosePublishers(id)
	h.Log.Info().Str("remote", r.RemoteAddr).Str("stream", id).Int("viewers", viewers).
		Int("publishers", publishers).Msg("stream closed by the operator")
	writeJSON(w, http.StatusOK, map[string]any{
		"closed": true, "stream": id, "viewers": viewers, "publishers": publishers,
	})
}

func (h *Handler) listConnections(w http.ResponseWriter, r *http.Request) {
	stream, filter := r.URL.Query()["stream"]
	out := []connectionJSON{}
	for _, c := range h.Node.Connections() {
		if filter && c.Stream != stream[0] {
			continue
		}
		out = append(out, describeConnection(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"connections": out})
}

func (h *Handler) kick(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody("a connection id is a number, as GET /v1/connections lists them"))
		return
	}
	if !h.Node.Kick(id) {
		writeJSON(w, http.StatusNotFound, errorBody("no open connection "+strconv.FormatUint(id, 10)))
		return
	}
	h.Log.Info().Str("remote", r.RemoteAddr).Uint64("connection", id).Msg("connection closed by the operator")
	writeJSON(w, http.StatusOK, map[string]any{"closed": true, "id": id})
}

func (h *Handler) reload(w http.ResponseWriter, r *http.Request) {
	started := time.Now()
	if err := h.Node.ReloadPlugins(r.Context()); err != nil {
		h.Log.Error().Err(err).Msg("plugin reload failed; the previous plugins keep serving")
		writeJSON(w, http.StatusInternalServerError, errorBody("reload failed, the previous plugins keep serving: "+err.Error()))
		return
	}
	took := time.Since(started)
	h.Log.Info().Str("remote", r.RemoteAddr).Dur("took", took).Msg("policy plugins reloaded by the operator")
	writeJSON(w, http.StatusOK, map[string]any{"reloaded": true, "took_ms": took.Milliseconds()})
}

func (h *Handler) drain(w http.ResponseWriter, r *http.Request) {
	h.Log.Info().Str("remote", r.RemoteAddr).Msg("drain requested by the operator")
	writeJSON(w, http.StatusOK, h.Node.Drain(r.Context()))
}

// streamJSON is one stream in the API's answers.
type streamJSON struct {
	ID        string         `json:"id"`
	Epoch     string         `json:"epoch"`
	Source    string         `json:"source"` // "local" or "relayed"
	Publisher *publisherJSON `json:"publisher"`
	Viewers   int            `json:"viewers"`
	// BitrateBps is the media bitrate over the buffered fragments: their
	// bytes over their durations.
	BitrateBps    int64   `json:"bitrate_bps"`
	WindowSeconds float64 `json:"window_seconds"`
	// Fragments and Bytes are buffered now; Published counts the
	// fragments of this stream instance (the next sequence number).
	Fragments   int              `json:"fragments"`
	Bytes       int64            `json:"bytes"`
	Published   uint64           `json:"published"`
	Started     time.Time        `json:"started"`
	AgeSeconds  float64          `json:"age_seconds"`
	Connections []connectionJSON `json:"connections,omitempty"`
}

// publisherJSON is a stream's publisher: a connection here, or the pull
// from another node.
type publisherJSON struct {
	Connected    bool   `json:"connected"`
	ConnectionID uint64 `json:"connection_id,omitempty"`
	Remote       string `json:"remote,omitempty"`
}

type connectionJSON struct {
	ID          uint64    `json:"id"`
	Role        string    `json:"role"`
	Stream      string    `json:"stream,omitempty"`
	Remote      string    `json:"remote"`
	Ext         bool      `json:"ext"`
	ConnectedAt time.Time `json:"connected_at"`
	AgeSeconds  float64   `json:"age_seconds"`
}

func (h *Handler) describe(s *hub.Stream, conns []session.Info) streamJSON {
	st := s.Stats()
	win := s.Window()
	var bits int64
	var seconds float64
	for _, f := range win.Fragments {
		bits += int64(f.Len()) * 8
		seconds += f.Duration
	}
	out := streamJSON{
		ID: st.ID, Epoch: st.Epoch, Source: "local", Viewers: st.Subscribers,
		WindowSeconds: round3(seconds), Fragments: st.Fragments, Bytes: st.Bytes, Published: st.Next,
		Started: st.Started.UTC(), AgeSeconds: round3(time.Since(st.Started).Seconds()),
		Publisher: &publisherJSON{Connected: st.Publishing},
	}
	if seconds > 0 {
		out.BitrateBps = int64(float64(bits) / seconds)
	}
	if h.Node.Relayed(st.ID) {
		out.Source = "relayed"
	}
	for _, c := range conns {
		if c.Role == session.RolePublisher && c.Stream == st.ID && st.Publishing {
			out.Publisher.ConnectionID, out.Publisher.Remote = c.ID, c.Remote
		}
	}
	return out
}

func describeConnection(c session.Info) connectionJSON {
	return connectionJSON{
		ID: c.ID, Role: c.Role, Stream: c.Stream, Remote: c.Remote, Ext: c.Ext,
		ConnectedAt: c.Since.UTC(), AgeSeconds: round3(time.Since(c.Since).Seconds()),
	}
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

func errorBody(msg string) map[string]string { return map[string]string{"error": msg} }

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(body)
}

func sortStreams(s []streamJSON) {
	slices.SortFunc(s, func(a, b streamJSON) int { return strings.Compare(a.ID, b.ID) })
}
