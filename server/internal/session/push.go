package session

import (
	"bytes"
	"errors"

	"github.com/coder/websocket"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/policy"
)

func (s *session) runPush(msg protocol.Message) error {
	req, err := protocol.ParsePush(msg)
	if err != nil {
		return &protocol.Error{Code: protocol.CodeProtocol, Message: err.Error()}
	}
	if err := s.authorize(s.request(policy.Push, req.Stream, req.Auth)); err != nil {
		return err
	}
	pub, err := s.m.cfg.Hub.Publish(req.Stream, hub.PublishOptions{
		Epoch: req.Epoch,
		// A reconnected publisher took over: this connection is stale.
		OnDisplaced: func() { s.conn.CloseNow() },
	})
	if errors.Is(err, hub.ErrStreamBusy) {
		return &protocol.Error{Code: protocol.CodeStreamBusy, Message: "stream " + req.Stream + " is being published by another connection"}
	}
	if err != nil {
		return err
	}
	s.ext = req.Ext
	if pub.Resumed() && !req.Ext {
		// A base-protocol publisher cannot say what it lost.
		pub.MarkDiscontinuity()
	}
	ok := protocol.OK{Ext: req.Ext, Epoch: pub.Epoch(), Next: pub.Next(), HasNext: true}
	if err := s.writeText(protocol.AppendOK(nil, ok)); err != nil {
		pub.Detach()
		return err
	}
	s.started.Store(true)
	s.m.cfg.Log.Info().Str("stream", req.Stream).Str("remote", s.remote).Str("epoch", pub.Epoch()).
		Bool("resumed", pub.Resumed()).Msg("publisher connected")

	ended, err := s.receiveFragments(pub)
	if ended {
		pub.End()
		s.m.cfg.Log.Info().Str("stream", req.Stream).Msg("stream ended by publisher")
		s.conn.Close(websocket.StatusNormalClosure, "")
		return errClosed
	}
	pub.Detach()
	s.m.cfg.Log.Info().Str("stream", req.Stream).Err(err).Msg("publisher disconnected without CLOSE")
	return err
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
			pending = nil
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
