package session

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/coder/websocket"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/hub"
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
	if err := s.authorize(preq); err != nil {
		return err
	}
	s.ext = req.Ext
	route, err := s.route(preq)
	if err != nil {
		return err
	}
	start := hub.Start{MaxInitial: req.MaxInitialFragments, Epoch: req.Resume.Epoch, After: req.Resume.After}
	sub, err := s.subscribe(route, preq, via, start)
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

// looped reports whether a relayed PULL already passed through this node,
// or through too many: it is then served from local streams only.
func (s *session) looped(via []string) bool {
	if len(via) >= upstream.MaxHops {
		return true
	}
	return s.m.cfg.InstanceID != "" && slices.Contains(via, s.m.cfg.InstanceID)
}

// subscribe tries the sources in order and subscribes to the first that has
// the stream: this node's own streams, or (from the first other source on)
// a pull from another node.
func (s *session) subscribe(sources []policy.Source, req *policy.Request, via []string, start hub.Start) (*hub.Subscription, error) {
	for i, src := range sources {
		if src.Kind != policy.SourceLocal {
			if s.m.cfg.Upstream == nil || req.OnlySource {
				continue
			}
			return s.subscribeUpstream(sources[i:], req, via, start)
		}
		sub, err := s.m.cfg.Hub.Subscribe(req.Stream, start, s)
		if errors.Is(err, hub.ErrNotFound) {
			continue
		}
		return sub, err
	}
	return nil, hub.ErrNotFound
}

// upstreamTimeout bounds the search for a stream on other nodes.
const upstreamTimeout = 10 * time.Second

// subscribeUpstream subscribes to the stream as pulled from the first of
// sources that has it. A source that cannot be asked (the registry or the
// upstream node is unreachable) refuses the PULL with UNAVAILABLE, so that
// the viewer retries instead of concluding that the stream does not exist.
func (s *session) subscribeUpstream(sources []policy.Source, req *policy.Request, via []string, start hub.Start) (*hub.Subscription, error) {
	ctx, cancel := context.WithTimeout(context.Background(), upstreamTimeout)
	defer cancel()
	_, err := s.m.cfg.Upstream.Ensure(ctx, upstream.Request{Stream: req.Stream, Token: req.Token, Via: via}, upstream.Remote(sources))
	if err != nil && !errors.Is(err, hub.ErrNotFound) {
		s.log().Warn().Err(err).Str("stream", req.Stream).Str("remote", s.remote).Msg("cannot fetch the stream from another node")
		return nil, &protocol.Error{Code: protocol.CodeUnavailable, Message: "stream " + req.Stream + " cannot be fetched from another node now; try again"}
	}
	if err != nil {
		return nil, err
	}
	return s.m.cfg.Hub.Subscribe(req.Stream, start, s)
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
