package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/policy"
	"github.com/hlsrelay/hlsrelay/server/internal/wsconn"
)

// session is one WebSocket connection. Its reader runs in run(); writes
// happen from the hub's subscriber goroutine, the heartbeat sweep, or run(),
// serialised by wmu so that an F and its binary are never split.
type session struct {
	m       *Manager
	conn    *websocket.Conn
	netConn *wsconn.Conn
	remote  string
	header  http.Header
	query   url.Values

	ext       bool // the client negotiated protocol extensions
	parts     bool // ... and the parts extension (fMP4/CMAF in parts)
	started   atomic.Bool
	lastWrite atomic.Int64 // Unix ns of the last message sent
	wmu       sync.Mutex
	ctl       control // identity and requested stop (control.go)

	// leaveRole ends the connection's count under its current role; used
	// by the session's own goroutine only.
	leaveRole func()
	// joined is when a viewer's delivery started: fragments that arrived
	// before it are its backlog, not timed as delivery latency. Set before
	// the first write, read by the subscriber goroutines.
	joined time.Time
}

// errClosed is how a session ends once it already told the client why.
var errClosed = errors.New("session closed")

func (s *session) log() *zerolog.Logger { return &s.m.cfg.Log }

func (s *session) run() {
	defer s.conn.CloseNow()
	// Limits are enforced by readMessage, so that an oversize message is
	// answered with E instead of a bare close.
	s.conn.SetReadLimit(-1)

	msg, err := s.readFirst()
	if err != nil {
		s.fail(err)
		return
	}
	switch msg.Type {
	case protocol.TypePush:
		err = s.runPush(msg)
	case protocol.TypePull:
		err = s.runPull(msg)
	default:
		err = protocolError("the first message must be PUSH or PULL, got %s", msg.Type)
	}
	s.fail(err)
}

func (s *session) readFirst() (protocol.Message, error) {
	typ, body, err := s.readMessage(s.m.cfg.FirstMessageTimeout, nil)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return protocol.Message{}, protocolError("no PUSH or PULL within %s", s.m.cfg.FirstMessageTimeout)
		}
		return protocol.Message{}, err
	}
	if typ != websocket.MessageText {
		return protocol.Message{}, protocolError("the first message must be PUSH or PULL, got a binary message")
	}
	return parse(body)
}

func parse(body []byte) (protocol.Message, error) {
	msg, err := protocol.Parse(body)
	if err != nil {
		return msg, &protocol.Error{Code: protocol.CodeProtocol, Message: err.Error()}
	}
	return msg, nil
}

// readMessage reads one message within timeout. A publisher passes scratch:
// its binary messages are read into it (reused), up to MaxBinarySize, and the
// returned slice is valid until the next call. Everything else is bounded by
// MaxTextSize.
func (s *session) readMessage(timeout time.Duration, scratch *bytes.Buffer) (websocket.MessageType, []byte, error) {
	if err := s.armRead(timeout); err != nil {
		return 0, nil, err
	}
	typ, r, err := s.conn.Reader(context.Background())
	if err != nil {
		return 0, nil, s.stopped(err)
	}
	// Only a publisher (scratch != nil) may send fragment-sized messages.
	limit, kind, buf := s.m.cfg.MaxTextSize, "text", new(bytes.Buffer)
	if typ == websocket.MessageBinary {
		kind = "binary"
		if scratch != nil {
			limit, buf = s.m.cfg.MaxBinarySize, scratch
		}
	}
	buf.Reset()
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return 0, nil, s.stopped(err)
	}
	if n > limit {
		return 0, nil, &protocol.Error{
			Code:    protocol.CodeMessageTooLarge,
			Message: fmt.Sprintf("%s message larger than %d bytes", kind, limit),
		}
	}
	return typ, buf.Bytes(), nil
}

// request builds the policy request for this connection. The HTTP headers
// and query are handed over once: the session does not keep them.
func (s *session) request(action policy.Action, stream, token string) *policy.Request {
	req := &policy.Request{
		Action: action, Stream: stream, Token: token,
		RemoteAddr: s.remote, Header: s.header, Query: s.query,
	}
	s.header, s.query = nil, nil
	return req
}

func (s *session) authorize(req *policy.Request) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.m.cfg.AuthTimeout)
	defer cancel()
	d := s.m.cfg.Authorizer.Authorize(ctx, req)
	if d.Allowed {
		s.logRequest(req.Action, req.Stream, "accepted", nil)
		return nil
	}
	code := d.Code
	if code == "" {
		code = protocol.CodeAuth
	}
	err := &protocol.Error{Code: code, Message: d.Reason}
	s.logRequest(req.Action, req.Stream, "refused", err)
	return err
}

func (s *session) logRequest(action policy.Action, stream, outcome string, err error) {
	level := zerolog.DebugLevel
	if s.m.cfg.LogRequests {
		level = zerolog.InfoLevel
	}
	s.log().WithLevel(level).Str("remote", s.remote).Str("action", string(action)).
		Str("stream", stream).Str("outcome", outcome).Err(err).Msg("request")
}

// fail ends the session after err: a protocol error is sent to the client
// as E, then the socket closes.
func (s *session) fail(err error) {
	if err == nil || errors.Is(err, errClosed) {
		return
	}
	var perr *protocol.Error
	if errors.As(err, &perr) {
		s.m.cfg.Metrics.Refused(perr.Code)
		_ = s.writeText(protocol.AppendError(nil, perr))
		s.log().Debug().Str("remote", s.remote).Str("code", perr.Code).Str("reason", perr.Message).Msg("closing with error")
		s.conn.Close(s.closingStatus(err, perr.Code), perr.Code)
		return
	}
	if websocket.CloseStatus(err) == -1 && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.EOF) {
		s.log().Debug().Str("remote", s.remote).Err(err).Msg("connection ended")
	}
}

// setRole counts the connection under role from now on.
func (s *session) setRole(role string) {
	s.leaveRole()
	s.leaveRole = s.m.cfg.Metrics.Connected(role)
}

func closeStatus(code string) websocket.StatusCode {
	switch code {
	case protocol.CodeMessageTooLarge:
		return websocket.StatusMessageTooBig
	case protocol.CodeUnavailable, protocol.CodeTooManyStreams, protocol.CodeTooManyViewers:
		return websocket.StatusTryAgainLater
	}
	return websocket.StatusPolicyViolation
}

func protocolError(format string, args ...any) error {
	return &protocol.Error{Code: protocol.CodeProtocol, Message: fmt.Sprintf(format, args...)}
}

// writeText sends one text message.
func (s *session) writeText(b []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.writeLocked(func() error {
		return s.conn.Write(context.Background(), websocket.MessageText, b)
	})
}

// writeLocked runs write under one write deadline; the caller holds wmu. A
// failed write closes the connection.
func (s *session) writeLocked(write func() error) error {
	_ = s.netConn.SetWriteDeadline(time.Now().Add(s.m.cfg.WriteTimeout))
	err := write()
	// A stale deadline would fail the library's own control frames later.
	_ = s.netConn.SetWriteDeadline(time.Time{})
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			// A viewer that accepts nothing for WriteTimeout is dropped
			// with a reset: what the kernel still holds for it is
			// discarded instead of trickling out for minutes.
			s.netConn.Abort()
		}
		s.conn.CloseNow()
		return err
	}
	s.lastWrite.Store(time.Now().UnixNano())
	return nil
}

var heartbeatMessage = []byte(protocol.TypeHeartbeat)

// heartbeat sends H; the caller holds wmu, heartbeat releases it.
func (s *session) heartbeat() {
	defer s.wmu.Unlock()
	_ = s.writeLocked(func() error {
		return s.conn.Write(context.Background(), websocket.MessageText, heartbeatMessage)
	})
}
