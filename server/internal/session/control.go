package session

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/hub"
)

// This file is what an operator does to sessions: list them, end one, and
// drain the node (docs/admin-api.md, docs/deployment.md).

// Roles of Info.Role.
const (
	RolePending   = "pending"   // no PUSH or PULL accepted yet
	RolePublisher = "publisher" // a PUSH
	RoleViewer    = "viewer"    // a PULL
	RoleRelay     = "relay"     // a PULL from another relay node (it carried Hlsrelay-Via)
)

// Info describes one connection.
type Info struct {
	// ID names the connection while it lasts; ids are not reused.
	ID     uint64
	Role   string
	Stream string // empty while pending
	Remote string // the client's address, as net/http saw it
	Ext    bool   // the client negotiated protocol extensions
	Since  time.Time
}

// The stops an operator or a drain requests. Each is an E message, then the
// WebSocket closes with its status.
var (
	// errDraining tells a client that this node is going away and that it
	// should connect again (a load balancer sends it to another node).
	errDraining = &stopError{
		err:    &protocol.Error{Code: protocol.CodeUnavailable, Message: "this node is shutting down; connect again to continue on another node"},
		status: websocket.StatusGoingAway,
	}
	errKicked = &stopError{
		err:    &protocol.Error{Code: protocol.CodeClosedByOperator, Message: "the operator closed this connection"},
		status: websocket.StatusPolicyViolation,
	}
	errStreamClosed = &stopError{
		err:    &protocol.Error{Code: protocol.CodeClosedByOperator, Message: "the operator closed this stream"},
		status: websocket.StatusPolicyViolation,
	}
)

// stopError is a requested end of a session: the E message it sends and the
// WebSocket close status that follows.
type stopError struct {
	err    *protocol.Error
	status websocket.StatusCode
}

func (e *stopError) Error() string { return e.err.Error() }
func (e *stopError) Unwrap() error { return e.err }

// closeHandshakeWait is how long a stopped session waits for the client's
// answer to its close frame. Closing the socket with the client's data still
// unread would reset the connection, and the client could lose the E
// message that explains why.
const closeHandshakeWait = 2 * time.Second

// control is a session's identity and the stop requested of it.
type control struct {
	id    uint64
	since time.Time
	// Set once by begin, under Manager.mu.
	role, stream string
	ext          bool
	// sub is a viewer's subscription, set before its delivery starts.
	sub *hub.Subscription

	mu       sync.Mutex
	stop     *stopError // requested, nil if none
	soft     bool       // stop after the next complete fragment, or at limit
	limit    time.Time  // a soft stop's bound
	deadline time.Time  // the read deadline in force
}

// managerControl is the Manager's part: ids and the drain.
type managerControl struct {
	nextID   atomic.Uint64
	draining bool // guarded by Manager.mu
}

// begin records what the connection does. It refuses while the node
// drains, so that a drain knows every publisher it has to wait for.
func (s *session) begin(role, stream string, ext bool) error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if s.m.ctl.draining {
		return errDraining
	}
	s.ctl.role, s.ctl.stream, s.ctl.ext = role, stream, ext
	return nil
}

// refuseIfDraining returns errDraining while the node drains: a viewer is
// told to go elsewhere rather than answered OK by a node that is leaving
// (or OK then CLOSE for a stream the drain already ended here).
func (s *session) refuseIfDraining() error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if s.m.ctl.draining {
		return errDraining
	}
	return nil
}

// armRead sets the read deadline of the next read to timeout from now, or
// earlier for a soft stop's bound; a requested hard stop is returned
// instead of reading.
func (s *session) armRead(timeout time.Duration) error {
	c := &s.ctl
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop != nil && !c.soft {
		return c.stop
	}
	d := time.Now().Add(timeout)
	if c.stop != nil && c.limit.Before(d) {
		d = c.limit
	}
	c.deadline = d
	return s.netConn.SetReadDeadline(d)
}

// stopped returns the requested stop, if any, in place of err: a read that
// failed because a stop moved its deadline reports the stop.
func (s *session) stopped(err error) error {
	if stop := s.requestedStop(); stop != nil {
		return stop
	}
	return err
}

// requestedStop returns the requested stop, or nil. A publisher calls it
// after each complete fragment.
func (s *session) requestedStop() error {
	s.ctl.mu.Lock()
	defer s.ctl.mu.Unlock()
	if s.ctl.stop == nil {
		return nil
	}
	return s.ctl.stop
}

// requestStop asks the session to end with stop: at once (a read in
// progress is interrupted), or, if soft, after its next complete fragment
// and at the latest at limit. A hard stop is never softened.
func (s *session) requestStop(stop *stopError, soft bool, limit time.Time) {
	c := &s.ctl
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop != nil && !c.soft {
		return
	}
	c.stop, c.soft = stop, soft
	at := time.Now()
	if soft {
		c.limit, at = limit, limit
	}
	if c.deadline.IsZero() || at.Before(c.deadline) {
		c.deadline = at
		_ = s.netConn.SetReadDeadline(at)
	}
}

// closingStatus is the WebSocket status that closes a session that failed
// with err, whose E message has code. After a requested stop it also gives
// the close handshake time to complete: the stop may have moved the read
// deadline to the past.
func (s *session) closingStatus(err error, code string) websocket.StatusCode {
	var stop *stopError
	if !errors.As(err, &stop) {
		return closeStatus(code)
	}
	s.ctl.mu.Lock()
	s.ctl.deadline = time.Now().Add(closeHandshakeWait)
	_ = s.netConn.SetReadDeadline(s.ctl.deadline)
	s.ctl.mu.Unlock()
	return stop.status
}

// endDrained tells a viewer whose stream the drain ended to continue on
// another node (E:code=UNAVAILABLE, then close status 1001), and reports
// whether it did; otherwise WriteEnd sends CLOSE as usual.
func (s *session) endDrained() bool {
	if s.ctl.sub == nil || !s.ctl.sub.Stream().Draining() {
		return false
	}
	if err := s.writeText(protocol.AppendError(nil, errDraining.err)); err != nil {
		return true
	}
	s.conn.Close(errDraining.status, errDraining.err.Code)
	return true
}

// info returns the session's description; the caller holds Manager.mu.
func (s *session) info() Info {
	i := Info{ID: s.ctl.id, Role: s.ctl.role, Stream: s.ctl.stream, Remote: s.remote, Ext: s.ctl.ext, Since: s.ctl.since}
	if i.Role == "" {
		i.Role = RolePending
	}
	return i
}

// Sessions returns a snapshot of the open connections, in id order.
func (m *Manager) Sessions() []Info {
	m.mu.Lock()
	out := make([]Info, 0, len(m.sessions))
	for s := range m.sessions {
		out = append(out, s.info())
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Info) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Kick ends connection id: it is sent E:code=CLOSED_BY_OPERATOR and closed
// (a publisher's stream stays live for its grace period, as after any
// drop). It reports whether the connection was found.
func (m *Manager) Kick(id uint64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for s := range m.sessions {
		if s.ctl.id == id {
			s.requestStop(errKicked, false, time.Time{})
			return true
		}
	}
	return false
}

// ClosePublishers ends the connections that publish stream on this node
// with E:code=CLOSED_BY_OPERATOR, and returns how many there were. Used
// after the stream itself was closed, so the publisher's drop does not
// leave it in its grace period.
func (m *Manager) ClosePublishers(stream string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for s := range m.sessions {
		if s.ctl.role == RolePublisher && s.ctl.stream == stream {
			s.requestStop(errStreamClosed, false, time.Time{})
			n++
		}
	}
	return n
}

// Drain starts draining the node's connections and returns how many
// publishers it waits for. From now on new PUSHes and PULLs are refused with
// E:code=UNAVAILABLE and close status 1001 (Going Away); connections that
// have not sent one yet get that answer at once. Each publisher ends after
// its next complete fragment, and at the latest at publishersBy: its stream
// is then drained (hub.Stream.Drain), so its viewers receive every fragment
// due to them, then the same E. Streams without a publisher here are drained
// by the caller (hub.Stream.Drain). Calls after the first do nothing.
func (m *Manager) Drain(publishersBy time.Time) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ctl.draining {
		return 0
	}
	m.ctl.draining = true
	publishers := 0
	for s := range m.sessions {
		switch s.ctl.role {
		case "":
			s.requestStop(errDraining, false, time.Time{})
		case RolePublisher:
			s.requestStop(errDraining, true, publishersBy)
			publishers++
		}
	}
	return publishers
}

// Draining reports whether Drain was called.
func (m *Manager) Draining() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ctl.draining
}

// WaitPublishers waits until no publisher is connected or ctx is done; it
// reports whether none is left.
func (m *Manager) WaitPublishers(ctx context.Context) bool {
	return m.waitUntil(ctx, func(s *session) bool { return s.ctl.role != RolePublisher })
}

// Wait waits until every session has ended or ctx is done; it reports
// whether every one ended.
func (m *Manager) Wait(ctx context.Context) bool {
	return m.waitUntil(ctx, func(*session) bool { return false })
}

// waitUntil polls until every open session satisfies ok. Draining is rare
// and short, so a poll costs less than a notification on every session's
// end.
func (m *Manager) waitUntil(ctx context.Context, ok func(*session) bool) bool {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		m.mu.Lock()
		done := true
		for s := range m.sessions {
			if !ok(s) {
				done = false
				break
			}
		}
		m.mu.Unlock()
		if done {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
}
