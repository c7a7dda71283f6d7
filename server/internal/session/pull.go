package session

import (
	"context"
	"errors"
	"os"
	"slices"
	"time"

	"github.com/coder/websocket"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/metrics"
	"github.com/hlsrelay/hlsrelay/server/internal/policy"
	"github.com/hlsrelay/hlsrelay/server/internal/upstream"
)

var closeMessage = []byte(protocol.TypeClose)

func (s *session) runPull(msg protocol.Message) error {
	req, err := protocol.ParsePull(msg)
	if err != nil {
		return &protocol.Error{Code: protocol.CodeProtocol, Message: err.Error()}
	}
	preq := s.request(policy.Pull, req.Stream, req.Auth)
	via := upstream.ParseVia(preq.Header.Get(upstream.ViaHeader))
	preq.OnlySource = req.OnlySource || s.looped(via)
	role := RoleViewer
	if len(via) > 0 {
		role = RoleRelay
	}
	if err := s.begin(role, req.Stream, req.Ext); err != nil {
		return err
	}
	if err := s.authorize(preq); err != nil {
		return err
	}
	s.ext, s.parts = req.Ext, req.Ext && req.Parts
	route, err := s.route(preq)
	if err != nil {
		return err
	}
	start := hub.Start{Parts: s.parts, MaxInitial: req.MaxInitialFragments, Epoch: req.Resume.Epoch, After: req.Resume.After}
	sub, err := s.subscribe(route, preq, via, start)
	if errors.Is(err, hub.ErrNotFound) {
		if err := s.refuseIfDraining(); err != nil {
			return err // the drain may have ended the stream here
		}
		// The base protocol's answer for a stream found nowhere.
		if err := s.writeText(protocol.AppendOK(nil, protocol.OK{Ext: req.Ext, Parts: s.parts})); err != nil {
			return err
		}
		s.WriteEnd()
		return errClosed
	}
	if err != nil {
		return err
	}
	defer sub.Close()
	if err := s.refuseIfDraining(); err != nil {
		return err
	}
	ok := protocol.OK{Ext: req.Ext, Epoch: sub.Epoch(), Parts: s.parts}
	if s.parts {
		// The live edge, so that a relay pulling the stream knows when it
		// has caught up with the backlog.
		ok.Next, ok.NextPart = sub.LiveEdge()
		ok.HasNext = true
	}
	if err := s.writeText(protocol.AppendOK(nil, ok)); err != nil {
		return err
	}
	s.started.Store(true)
	s.setRole(metrics.RoleViewer)
	s.joined = time.Now()
	s.ctl.sub = sub
	sub.Start()
	return s.receiveViewerMessages()
}

// route asks the router where to look for the stream.
func (s *session) route(req *policy.Request) ([]policy.Source, error) {
	if s.m.cfg.Router == nil {
		return []policy.Source{{Kind: policy.SourceLocal}}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.m.cfg.AuthTimeout)
	defer cancel()
	d := s.m.cfg.Router.Route(ctx, req)
	return d.Sources, d.Err()
}

// looped reports whether a relayed PULL already passed through this node,
// or through too many: it is then served from local streams only.
func (s *session) looped(via []string) bool {
	if len(via) >= upstream.MaxHops {
		return true
	}
	return s.m.cfg.InstanceID != "" && slices.Contains(via, s.m.cfg.InstanceID)
}

// subscribe subscribes to the stream from the first of sources that has
// it: this node's own streams, or a pull from another node. A source that
// cannot be asked (the registry or the upstream node is unreachable)
// refuses the PULL with UNAVAILABLE, so that the viewer retries instead of
// concluding that the stream does not exist.
func (s *session) subscribe(sources []policy.Source, req *policy.Request, via []string, start hub.Start) (*hub.Subscription, error) {
	if s.m.cfg.Upstream != nil {
		ctx, cancel := context.WithTimeout(context.Background(), upstreamTimeout)
		defer cancel()
		_, err := s.m.cfg.Upstream.Locate(ctx, upstream.Request{Stream: req.Stream, Token: req.Token, Via: via}, sources, req.OnlySource)
		switch {
		case errors.Is(err, hub.ErrNotFound), errors.Is(err, hub.ErrTooManyStreams):
			return nil, limitError(err)
		case err != nil:
			s.log().Warn().Err(err).Str("stream", req.Stream).Str("remote", s.remote).Msg("cannot fetch the stream from another node")
			return nil, &protocol.Error{Code: protocol.CodeUnavailable, Message: "stream " + req.Stream + " cannot be fetched from another node now; try again"}
		}
	} else if !slices.ContainsFunc(sources, func(src policy.Source) bool { return src.Kind == policy.SourceLocal }) {
		return nil, hub.ErrNotFound
	}
	sub, err := s.m.cfg.Hub.Subscribe(req.Stream, start, s)
	return sub, limitError(err)
}

// upstreamTimeout bounds the search for a stream on other nodes.
const upstreamTimeout = 10 * time.Second

// limitError turns the hub's capacity refusals into the protocol's errors;
// other errors are returned as they are.
func limitError(err error) error {
	switch {
	case errors.Is(err, hub.ErrTooManyViewers):
		return &protocol.Error{Code: protocol.CodeTooManyViewers, Message: "this stream has as many viewers on this node as it allows; try another node"}
	case errors.Is(err, hub.ErrTooManyStreams):
		return &protocol.Error{Code: protocol.CodeTooManyStreams, Message: "this node has as many live streams as it allows, and cannot relay another one; try another node"}
	}
	return err
}

// receiveViewerMessages reads what a viewer may send after OK: heartbeats,
// or CLOSE when it leaves.
func (s *session) receiveViewerMessages() error {
	for {
		typ, body, err := s.readMessage(s.m.cfg.HeartbeatTimeout, nil)
		if err != nil {
			return err
		}
		if typ == websocket.MessageBinary {
			return protocolError("a viewer may not send binary messages")
		}
		msg, err := parse(body)
		if err != nil {
			return err
		}
		switch msg.Type {
		case protocol.TypeHeartbeat:
		case protocol.TypeClose:
			s.conn.Close(websocket.StatusNormalClosure, "")
			return errClosed
		default:
			return protocolError("unexpected %s from a viewer", msg.Type)
		}
	}
}

// WriteFragment implements hub.Sink: the F message and its binary, written
// back to back under one deadline and, corked, in one system call. A
// fragment that arrived in parts goes out as one binary message of its
// parts (frames of one message), for viewers that did not ask for parts.
func (s *session) WriteFragment(f *hub.Fragment, disc bool) error {
	err := s.writePair(f.Header(s.ext, disc), func() error {
		if f.Data != nil {
			return s.conn.Write(context.Background(), websocket.MessageBinary, f.Data)
		}
		return s.writeParts(f.Parts())
	})
	s.countDelivery(f.Len(), f.Arrival, err)
	return err
}

// writeParts writes parts as one binary message.
func (s *session) writeParts(parts []*hub.Part) error {
	w, err := s.conn.Writer(context.Background(), websocket.MessageBinary)
	if err != nil {
		return err
	}
	for _, p := range parts {
		if _, err := w.Write(p.Data); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}

// writePair writes a text message and the binary message it announces
// under one deadline and, corked, in as few system calls as possible.
func (s *session) writePair(text []byte, writeBinary func() error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.writeLocked(func() error {
		s.netConn.Cork()
		err := s.conn.Write(context.Background(), websocket.MessageText, text)
		if err == nil {
			err = writeBinary()
		}
		if uerr := s.netConn.Uncork(); err == nil {
			err = uerr
		}
		return err
	})
}

var initMessage = protocol.AppendInit(nil)

// WriteInit implements hub.PartSink: I and the init segment.
func (s *session) WriteInit(init *hub.Init) error {
	return s.writePair(initMessage, func() error {
		return s.conn.Write(context.Background(), websocket.MessageBinary, init.Data)
	})
}

// WritePart implements hub.PartSink: P and the part, the moment it exists.
func (s *session) WritePart(f *hub.Fragment, p *hub.Part, disc bool) error {
	err := s.writePair(f.PartHeader(p, disc), func() error {
		return s.conn.Write(context.Background(), websocket.MessageBinary, p.Data)
	})
	s.countDelivery(len(p.Data), p.Arrival, err)
	return err
}

// WriteFragmentEnd implements hub.PartSink: the F that closes a fragment
// sent in parts.
func (s *session) WriteFragmentEnd(f *hub.Fragment) error {
	return s.writeText(f.CloseHeader())
}

// countDelivery counts a fragment written to the viewer (timed from its
// arrival unless it is backlog from before the viewer joined), or the
// viewer dropped for a write that timed out.
func (s *session) countDelivery(size int, arrival time.Time, err error) {
	m := s.m.cfg.Metrics
	switch {
	case m == nil:
	case err == nil:
		if arrival.Before(s.joined) {
			arrival = time.Time{}
		}
		m.Sent(size, arrival)
	case errors.Is(err, os.ErrDeadlineExceeded):
		m.DroppedViewer(metrics.DropWriteTimeout)
	}
}

// WriteEnd implements hub.Sink: CLOSE, then the socket closes; when a drain
// ended the stream, E:code=UNAVAILABLE instead (endDrained).
func (s *session) WriteEnd() {
	if s.endDrained() {
		return
	}
	if err := s.writeText(closeMessage); err != nil {
		return
	}
	s.conn.Close(websocket.StatusNormalClosure, "")
}
