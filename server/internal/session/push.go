package session

import (
	"bytes"
	"context"
	"errors"

	"github.com/coder/websocket"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/metrics"
	"github.com/hlsrelay/hlsrelay/server/internal/policy"
)

func (s *session) runPush(msg protocol.Message) error {
	req, err := protocol.ParsePush(msg)
	if err != nil {
		return &protocol.Error{Code: protocol.CodeProtocol, Message: err.Error()}
	}
	if err := s.begin(RolePublisher, req.Stream, req.Ext); err != nil {
		return err
	}
	if err := s.authorize(s.request(policy.Push, req.Stream, req.Auth)); err != nil {
		return err
	}
	if err := s.claim(req.Stream); err != nil {
		return err
	}
	pub, err := s.publish(req)
	if err != nil {
		s.withdrawUnlessLive(req.Stream)
		return err
	}
	s.ext = req.Ext
	if pub.Resumed() && !req.Ext {
		// A base-protocol publisher cannot say what it lost.
		pub.MarkDiscontinuity()
	}
	ok := protocol.OK{Ext: req.Ext, Epoch: pub.Epoch(), Next: pub.Next(), HasNext: true}
	if err := s.writeText(protocol.AppendOK(nil, ok)); err != nil {
		s.detach(pub)
		return err
	}
	s.started.Store(true)
	s.setRole(metrics.RolePublisher)
	s.m.cfg.Log.Info().Str("stream", req.Stream).Str("remote", s.remote).Str("epoch", pub.Epoch()).
		Bool("resumed", pub.Resumed()).Msg("publisher connected")

	ended, err := s.receiveFragments(pub)
	if ended {
		pub.End()
		s.m.cfg.Log.Info().Str("stream", req.Stream).Msg("stream ended by publisher")
		s.conn.Close(websocket.StatusNormalClosure, "")
		return errClosed
	}
	if errors.Is(err, errDraining) {
		// The node is going away, not the stream: its viewers get what is
		// due to them, then are told to continue on another node, where
		// the publisher goes too.
		pub.Stream().Drain()
		s.m.cfg.Log.Info().Str("stream", req.Stream).Msg("publisher sent to another node: this node is draining")
		return err
	}
	s.detach(pub)
	s.m.cfg.Log.Info().Str("stream", req.Stream).Err(err).Msg("publisher disconnected without CLOSE")
	return err
}

// publish makes this connection the stream's publisher. A stream this node
// is pulling from another node is handed over to the local publisher (the
// publisher moved here); its viewers stay.
func (s *session) publish(req protocol.Push) (*hub.Publication, error) {
	opts := hub.PublishOptions{
		Epoch: req.Epoch,
		// A reconnected publisher took over: this connection is stale.
		OnDisplaced: func() { s.conn.CloseNow() },
	}
	pub, err := s.m.cfg.Hub.Publish(req.Stream, opts)
	if errors.Is(err, hub.ErrStreamBusy) && s.m.cfg.Upstream != nil && s.m.cfg.Upstream.Yield(req.Stream) {
		pub, err = s.m.cfg.Hub.Publish(req.Stream, opts)
	}
	if errors.Is(err, hub.ErrStreamBusy) {
		return nil, &protocol.Error{Code: protocol.CodeStreamBusy, Message: "stream " + req.Stream + " is being published by another connection"}
	}
	if errors.Is(err, hub.ErrTooManyStreams) {
		return nil, &protocol.Error{Code: protocol.CodeTooManyStreams, Message: "this node has as many live streams as it allows; publish to another node"}
	}
	return pub, err
}

// claim announces the stream in the publish registry. Another node
// publishing it refuses the PUSH; an unreachable registry does not (the
// claim is made when it is back).
func (s *session) claim(stream string) error {
	if s.m.cfg.Announcer == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.m.cfg.AuthTimeout)
	defer cancel()
	err := s.m.cfg.Announcer.Claim(ctx, stream)
	var perr *protocol.Error
	if errors.As(err, &perr) {
		return perr
	}
	if err != nil {
		s.log().Warn().Err(err).Str("stream", stream).Msg("stream not announced in the publish registry yet; it will be when the registry answers")
	}
	return nil
}

// withdrawUnlessLive withdraws a claim made for a PUSH that was then
// refused, unless the stream lives on here.
func (s *session) withdrawUnlessLive(stream string) {
	if s.m.cfg.Announcer != nil && s.m.cfg.Hub.Stream(stream) == nil {
		s.m.cfg.Announcer.Withdraw(stream)
	}
}

// detach lets go of the stream after the publisher dropped without CLOSE:
// it stays live here for the grace period, and the registry lets another
// node take it over meanwhile (the publisher may reconnect there).
func (s *session) detach(pub *hub.Publication) {
	pub.Detach()
	if s.m.cfg.Announcer != nil && !pub.Stream().Stats().Publishing {
		s.m.cfg.Announcer.Idle(pub.Stream().ID())
	}
}

// receiveFragments reads F + binary pairs into the stream until CLOSE
// (ended is true) or an error.
func (s *session) receiveFragments(pub *hub.Publication) (ended bool, err error) {
	var scratch bytes.Buffer
	var pending *protocol.Fragment
	for {
		typ, body, err := s.readMessage(s.m.cfg.HeartbeatTimeout, &scratch)
		if err != nil {
			return false, err
		}
		if typ == websocket.MessageBinary {
			if pending == nil {
				return false, protocolError("binary message without a preceding F")
			}
			pub.Append(hub.Input{
				Duration: pending.Duration, Time: pending.Time, Disc: pending.Disc,
				Seq: pending.Seq, HasSeq: pending.HasSeq,
				Data: bytes.Clone(body), // exact size: the ring keeps it
			})
			s.m.cfg.Metrics.Received(len(body))
			pending = nil
			// A drain ends a publisher after a complete fragment, never
			// in the middle of one.
			if err := s.requestedStop(); err != nil {
				return false, err
			}
			continue
		}
		msg, err := parse(body)
		if err != nil {
			return false, err
		}
		switch msg.Type {
		case protocol.TypeFragment:
			f, err := protocol.ParseFragment(msg)
			if err != nil {
				return false, &protocol.Error{Code: protocol.CodeProtocol, Message: err.Error()}
			}
			pending = &f
		case protocol.TypeHeartbeat:
		case protocol.TypeClose:
			return true, nil
		default:
			return false, protocolError("unexpected %s from a publisher", msg.Type)
		}
	}
}
