// Package relaytest runs a minimal in-process relay that speaks only the base
// protocol, for the tools' own tests: publishers PUSH fragments, viewers PULL
// them, and the test inspects what arrived. It is deliberately simple
// (unbounded recording, a channel per viewer) and is not a model for the real
// relay in server/.
package relaytest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

// Options configure a Server. The zero value accepts everyone.
type Options struct {
	// Authorize, if set, checks each PUSH ("PUSH") and PULL ("PULL"); an
	// error is answered with E:code=AUTH_ERROR and the socket is closed.
	Authorize func(action, stream, auth string) error
	// ViewerQueue is how many fragments a viewer may lag behind before it
	// misses fragments. Defaults to 256.
	ViewerQueue int
	// DropPublisherAfter, if positive, makes the relay close a publisher's
	// socket without a word after that many fragments on that connection,
	// to exercise reconnects.
	DropPublisherAfter int
	// Tamper, if set, replaces the bytes of fragment n (0-based, per
	// stream) as sent to viewers; what the relay records is unchanged.
	Tamper func(n int, data []byte) []byte
}

// Fragment is a fragment received from a publisher.
type Fragment struct {
	// Header is the F message that preceded the binary message.
	Header protocol.Message
	Data   []byte
}

// Server is a running test relay.
type Server struct {
	opts Options
	http *httptest.Server

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every change
	streams  map[string]*stream
	pushes   int
	errs     []error
	messages []string // every text message received, in order
}

type stream struct {
	live      bool
	closed    bool // publisher sent CLOSE
	fragments []Fragment
	viewers   map[*viewer]struct{}
}

type viewer struct {
	ch chan *Fragment // nil fragment: CLOSE
}

// New starts a Server; it is stopped when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.ViewerQueue <= 0 {
		opts.ViewerQueue = 256
	}
	s := &Server{opts: opts, streams: map[string]*stream{}, changed: make(chan struct{})}
	s.http = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.http.Close)
	return s
}

// URL returns the relay's ws:// URL.
func (s *Server) URL() string {
	return "ws" + strings.TrimPrefix(s.http.URL, "http") + "/"
}

// Fragments returns the fragments published to stream so far.
func (s *Server) Fragments(stream string) []Fragment {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.streams[stream]; st != nil {
		return append([]Fragment(nil), st.fragments...)
	}
	return nil
}

// Messages returns every text message the relay received, in order.
func (s *Server) Messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.messages...)
}

// Pushes returns how many PUSH messages the relay accepted.
func (s *Server) Pushes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pushes
}

// Errors returns the protocol violations the relay saw from clients.
func (s *Server) Errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

// Viewers returns how many viewers are subscribed to stream.
func (s *Server) Viewers(stream string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.streams[stream]; st != nil {
		return len(st.viewers)
	}
	return 0
}

// ClosedByPublisher reports whether the publisher of stream sent CLOSE.
func (s *Server) ClosedByPublisher(stream string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.streams[stream]
	return st != nil && st.closed
}

// Wait blocks until cond returns true, or ctx ends. cond runs after every
// change and may call the Server's methods.
func (s *Server) Wait(ctx context.Context, cond func(*Server) bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond(s) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("relaytest: condition not met: %w", ctx.Err())
		}
	}
}

// WaitFragments waits until stream has at least n fragments and returns them.
func (s *Server) WaitFragments(ctx context.Context, stream string, n int) ([]Fragment, error) {
	var got []Fragment
	err := s.Wait(ctx, func(s *Server) bool {
		got = s.Fragments(stream)
		return len(got) >= n
	})
	return got, err
}

func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) record(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
	s.notifyLocked()
}

func (s *Server) fail(err error) {
	s.record(func() { s.errs = append(s.errs, err) })
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(64 << 20)
	ctx := r.Context()

	typ, text, err := c.Read(ctx)
	if err != nil {
		return
	}
	if typ != websocket.MessageText {
		s.refuse(ctx, c, protocol.CodeProtocol, "first message must be PUSH or PULL")
		return
	}
	s.record(func() { s.messages = append(s.messages, string(text)) })
	m, err := protocol.Parse(text)
	if err != nil {
		s.refuse(ctx, c, protocol.CodeProtocol, err.Error())
		return
	}
	switch m.Type {
	case protocol.TypePush:
		p, err := protocol.ParsePush(m)
		if err != nil {
			s.refuse(ctx, c, protocol.CodeProtocol, err.Error())
			return
		}
		if s.opts.Authorize != nil {
			if err := s.opts.Authorize("PUSH", p.Stream, p.Auth); err != nil {
				s.refuse(ctx, c, protocol.CodeAuth, err.Error())
				return
			}
		}
		s.servePush(ctx, c, p.Stream)
	case protocol.TypePull:
		p, err := protocol.ParsePull(m)
		if err != nil {
			s.refuse(ctx, c, protocol.CodeProtocol, err.Error())
			return
		}
		if s.opts.Authorize != nil {
			if err := s.opts.Authorize("PULL", p.Stream, p.Auth); err != nil {
				s.refuse(ctx, c, protocol.CodeAuth, err.Error())
				return
			}
		}
		s.servePull(ctx, c, p)
	default:
		s.refuse(ctx, c, protocol.CodeProtocol, "first message must be PUSH or PULL")
	}
}

func (s *Server) refuse(ctx context.Context, c *websocket.Conn, code, msg string) {
	s.fail(fmt.Errorf("refused: %s: %s", code, msg))
	_ = c.Write(ctx, websocket.MessageText, protocol.AppendError(nil, &protocol.Error{Code: code, Message: msg}))
	c.Close(websocket.StatusPolicyViolation, code)
}

func (s *Server) servePush(ctx context.Context, c *websocket.Conn, id string) {
	var st *stream
	s.record(func() {
		st = s.streams[id]
		if st == nil {
			st = &stream{viewers: map[*viewer]struct{}{}}
			s.streams[id] = st
		}
		st.live, st.closed = true, false
		s.pushes++
	})
	defer s.record(func() {
		if !st.live {
			return
		}
		st.live = false
		for v := range st.viewers {
			close(v.ch)
		}
		clear(st.viewers)
	})
	if err := c.Write(ctx, websocket.MessageText, []byte(protocol.TypeOK)); err != nil {
		return
	}
	var header *protocol.Message
	received := 0
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) == -1 && !errors.Is(err, context.Canceled) {
				s.fail(fmt.Errorf("publisher %s: read: %w", id, err))
			}
			return
		}
		if typ == websocket.MessageBinary {
			if header == nil {
				s.refuse(ctx, c, protocol.CodeProtocol, "binary message without F")
				return
			}
			f := &Fragment{Header: *header, Data: data}
			header = nil
			s.record(func() {
				st.fragments = append(st.fragments, *f)
				if s.opts.Tamper != nil {
					f = &Fragment{Header: f.Header, Data: s.opts.Tamper(len(st.fragments)-1, f.Data)}
				}
				for v := range st.viewers {
					select {
					case v.ch <- f:
					default: // a slow viewer misses it
					}
				}
			})
			received++
			if s.opts.DropPublisherAfter > 0 && received >= s.opts.DropPublisherAfter {
				c.CloseNow()
				return
			}
			continue
		}
		s.record(func() { s.messages = append(s.messages, string(data)) })
		m, err := protocol.Parse(data)
		if err != nil {
			s.refuse(ctx, c, protocol.CodeProtocol, err.Error())
			return
		}
		switch m.Type {
		case protocol.TypeFragment:
			if _, err := protocol.ParseFragment(m); err != nil {
				s.refuse(ctx, c, protocol.CodeProtocol, err.Error())
				return
			}
			if header != nil {
				s.refuse(ctx, c, protocol.CodeProtocol, "F without its binary message")
				return
			}
			header = &m
		case protocol.TypeHeartbeat:
		case protocol.TypeClose:
			s.record(func() {
				st.closed, st.live = true, false
				for v := range st.viewers {
					close(v.ch)
				}
				clear(st.viewers)
			})
			c.Close(websocket.StatusNormalClosure, "")
			return
		default:
			s.refuse(ctx, c, protocol.CodeProtocol, "unexpected "+m.Type)
			return
		}
	}
}

func (s *Server) servePull(ctx context.Context, c *websocket.Conn, p protocol.Pull) {
	v := &viewer{ch: make(chan *Fragment, s.opts.ViewerQueue)}
	live := false
	s.record(func() {
		st := s.streams[p.Stream]
		if st == nil || !st.live {
			return
		}
		live = true
		backlog := st.fragments
		if p.MaxInitialFragments >= 0 && len(backlog) > p.MaxInitialFragments {
			backlog = backlog[len(backlog)-p.MaxInitialFragments:]
		}
		for i := range backlog {
			select {
			case v.ch <- &backlog[i]:
			default:
			}
		}
		st.viewers[v] = struct{}{}
	})
	if err := c.Write(ctx, websocket.MessageText, []byte(protocol.TypeOK)); err != nil {
		return
	}
	if !live {
		_ = c.Write(ctx, websocket.MessageText, []byte(protocol.TypeClose))
		c.Close(websocket.StatusNormalClosure, "")
		return
	}
	defer s.record(func() {
		if st := s.streams[p.Stream]; st != nil {
			delete(st.viewers, v)
		}
	})
	// Drain whatever the viewer sends (heartbeats) so control frames are
	// handled; CloseRead would close on any data message.
	readErr := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.Read(ctx); err != nil {
				readErr <- err
				return
			}
		}
	}()
	for {
		select {
		case f, ok := <-v.ch:
			if !ok {
				_ = c.Write(ctx, websocket.MessageText, []byte(protocol.TypeClose))
				c.Close(websocket.StatusNormalClosure, "")
				return
			}
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := c.Write(wctx, websocket.MessageText, []byte(f.Header.String()))
			if err == nil {
				err = c.Write(wctx, websocket.MessageBinary, f.Data)
			}
			cancel()
			if err != nil {
				return
			}
		case <-readErr:
			return
		}
	}
}
