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
	s.ext, s.parts = req.Ext, req.Ext && req.Parts
	if pub.Resumed() && !req.Ext {
		// A base-protocol publisher cannot say what it lost.
		pub.MarkDiscontinuity()
	}
	ok := protocol.OK{Ext: req.Ext, Epoch: pub.Epoch(), Next: pub.Next(), HasNext: true, Parts: s.parts}
	if s.parts {
		ok.Next, ok.NextPart = pub.NextPart()
	}
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
// (ended is true) or an error; with the parts extension also I + binary, P +
// binary and closing F messages.
func (s *session) receiveFragments(pub *hub.Publication) (ended bool, err error) {
	var scratch bytes.Buffer
	var pending pendingBinary
	for {
		typ, body, err := s.readMessage(s.m.cfg.HeartbeatTimeout, &scratch)
		if err != nil {
			return false, err
		}
		if typ == websocket.MessageBinary {
			if err := s.receiveBinary(pub, pending, body); err != nil {
				return false, err
			}
			whole := pending.fragment != nil
			pending = pendingBinary{}
			if !whole {
				continue
			}
			// A drain ends a publisher after a complete fragment, never in
			// the middle of one (for parts: after the closing F).
			if err := s.requestedStop(); err != nil {
				return false, err
			}
			continue
		}
		msg, err := parse(body)
		if err != nil {
			return false, err
		}
		switch {
		case msg.Type == protocol.TypeFragment:
			f, err := protocol.ParseFragment(msg)
			if err != nil {
				return false, &protocol.Error{Code: protocol.CodeProtocol, Message: err.Error()}
			}
			if f.Parts > 0 && s.parts {
				if err := s.closeFragment(pub, f); err != nil {
					return false, err
				}
				if err := s.requestedStop(); err != nil {
					return false, err
				}
				continue
			}
			f.Parts = 0
			pending = pendingBinary{fragment: &f}
		case msg.Type == protocol.TypePart && s.parts:
			p, err := protocol.ParsePart(msg)
			if err != nil {
				return false, &protocol.Error{Code: protocol.CodeProtocol, Message: err.Error()}
			}
			pending = pendingBinary{part: &p}
		case msg.Type == protocol.TypeInit && s.parts:
			pending = pendingBinary{init: true}
		case msg.Type == protocol.TypeHeartbeat:
		case msg.Type == protocol.TypeClose:
			return true, nil
		default:
			return false, protocolError("unexpected %s from a publisher", msg.Type)
		}
	}
}

// pendingBinary is what the next binary message of a publisher is.
type pendingBinary struct {
	fragment *protocol.Fragment
	part     *protocol.Part
	init     bool
}

// receiveBinary stores a publisher's binary message as what its preceding
// text message announced.
func (s *session) receiveBinary(pub *hub.Publication, pending pendingBinary, body []byte) error {
	data := bytes.Clone(body) // exact size: the ring keeps it
	switch {
	case pending.fragment != nil:
		f := pending.fragment
		pub.Append(hub.Input{
			Duration: f.Duration, Time: f.Time, Disc: f.Disc,
			Seq: f.Seq, HasSeq: f.HasSeq, Data: data,
		})
	case pending.part != nil:
		p := pending.part
		_, err := pub.AppendPart(hub.PartInput{
			Seq: p.Seq, HasSeq: p.HasSeq, Index: p.Index, Duration: p.Duration,
			Independent: p.Independent, Time: p.Time, Disc: p.Disc, Data: data,
		})
		switch {
		case errors.Is(err, hub.ErrFragmentTooLarge):
			return &protocol.Error{Code: protocol.CodeMessageTooLarge, Message: err.Error()}
		case err != nil && !errors.Is(err, hub.ErrNotPublisher): // displaced: closing anyway
			return protocolError("%v", err)
		}
	case pending.init:
		pub.SetInit(data)
	default:
		return protocolError("binary message without a preceding F")
	}
	s.m.cfg.Metrics.Received(len(body))
	return nil
}

// closeFragment handles the F that closes a fragment sent in parts.
func (s *session) closeFragment(pub *hub.Publication, f protocol.Fragment) error {
	_, err := pub.CloseFragment(hub.CloseInput{
		Duration: f.Duration, Parts: f.Parts, Seq: f.Seq, HasSeq: f.HasSeq,
	})
	if err != nil && !errors.Is(err, hub.ErrNotPublisher) {
		return protocolError("%v", err)
	}
	return nil
}
