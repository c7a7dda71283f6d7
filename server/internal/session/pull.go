package session

import (
	"context"
	"errors"

	"github.com/coder/websocket"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/policy"
)

var closeMessage = []byte(protocol.TypeClose)

func (s *session) runPull(msg protocol.Message) error {
	req, err := protocol.ParsePull(msg)
	if err != nil {
		return &protocol.Error{Code: protocol.CodeProtocol, Message: err.Error()}
	}
	preq := s.request(policy.Pull, req.Stream, req.Auth)
	preq.OnlySource = req.OnlySource
	if err := s.authorize(preq); err != nil {
		return err
	}
	s.ext = req.Ext
	route, err := s.route(preq)
	if err != nil {
		return err
	}
	start := hub.Start{MaxInitial: req.MaxInitialFragments, Epoch: req.Resume.Epoch, After: req.Resume.After}
	sub, err := s.subscribe(route, req.Stream, start)
	if errors.Is(err, hub.ErrNotFound) {
		// The base protocol's answer for a stream found nowhere.
		if err := s.writeText(protocol.AppendOK(nil, protocol.OK{Ext: req.Ext})); err != nil {
			return err
		}
		s.WriteEnd()
		return errClosed
	}
	if err != nil {
		return err
	}
	defer sub.Close()
	if err := s.writeText(protocol.AppendOK(nil, protocol.OK{Ext: req.Ext, Epoch: sub.Epoch()})); err != nil {
		return err
	}
	s.started.Store(true)
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
	if d.Rejected {
		code := d.Code
		if code == "" {
			code = protocol.CodeAuth
		}
		return nil, &protocol.Error{Code: code, Message: d.Reason}
	}
	return d.Sources, nil
}

// subscribe tries the sources in order and subscribes to the first that has
// the stream. Sources other than this node are served by the cluster
// (registry and upstream pulls); until a node has them configured they find
// nothing.
func (s *session) subscribe(sources []policy.Source, stream string, start hub.Start) (*hub.Subscription, error) {
	for _, src := range sources {
		if src.Kind != policy.SourceLocal {
			continue
		}
		sub, err := s.m.cfg.Hub.Subscribe(stream, start, s)
		if errors.Is(err, hub.ErrNotFound) {
			continue
		}
		return sub, err
	}
	return nil, hub.ErrNotFound
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
// back to back under one deadline and, corked, in one system call.
func (s *session) WriteFragment(f *hub.Fragment, disc bool) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.writeLocked(func() error {
		s.netConn.Cork()
		err := s.conn.Write(context.Background(), websocket.MessageText, f.Header(s.ext, disc))
		if err == nil {
			err = s.conn.Write(context.Background(), websocket.MessageBinary, f.Data)
		}
		if uerr := s.netConn.Uncork(); err == nil {
			err = uerr
		}
		return err
	})
}

// WriteEnd implements hub.Sink: CLOSE, then the socket closes.
func (s *session) WriteEnd() {
	if err := s.writeText(closeMessage); err != nil {
		return
	}
	s.conn.Close(websocket.StatusNormalClosure, "")
}
