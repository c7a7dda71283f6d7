package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

// ViaHeader carries the instance ids of the relays a pull passed through,
// comma-separated, oldest first. A relay that finds its own id in it, or
// more than MaxHops ids, serves the PULL from its own streams only: relay
// loops in misconfigured chains end there instead of going round.
const ViaHeader = "Hlsrelay-Via"

// MaxHops is the longest chain of relays a pull may pass through.
const MaxHops = 8

// ParseVia returns the ids in a Via header value.
func ParseVia(v string) []string {
	if v == "" {
		return nil
	}
	ids := strings.Split(v, ",")
	for i := range ids {
		ids[i] = strings.TrimSpace(ids[i])
	}
	return ids
}

// errNotFound: the upstream answered the PULL with an empty stream.
var errNotFound = errors.New("stream not found upstream")

// conn is one upstream pull connection after its OK.
type conn struct {
	ws    *websocket.Conn
	url   string
	epoch string // the upstream stream instance; "" from a base-protocol relay
	ext   bool
	parts bool // the upstream confirmed the parts extension
	// edge is the upstream's live edge when it answered (parts only):
	// fragment edgeSeq with edgeParts parts. What precedes it is backlog.
	edgeSeq, edgeParts uint64
	hasEdge            bool
	// first holds a message read while telling "found" from "not found" on
	// a base-protocol relay; it is handed out before any other.
	first *message
}

// message is one received protocol message; Data is set for a fragment.
type message struct {
	msg  protocol.Message
	meta protocol.Fragment
	part protocol.Part // for P
	data []byte        // the binary after F (whole), P or I
}

type dialParams struct {
	url        string
	pull       protocol.Pull
	via        string
	timeout    time.Duration
	maxMessage int64
}

// dial connects to an upstream relay and sends the PULL. It returns
// errNotFound if the relay does not have the stream and a *protocol.Error if
// it refused the PULL.
func dial(ctx context.Context, p dialParams) (*conn, error) {
	dctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	h := http.Header{}
	h.Set(ViaHeader, p.via)
	ws, _, err := websocket.Dial(dctx, p.url, &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		return nil, fmt.Errorf("upstream %s: %w", p.url, err)
	}
	ws.SetReadLimit(p.maxMessage)
	c := &conn{ws: ws, url: p.url}
	if err := c.handshake(dctx, p.pull); err != nil {
		ws.CloseNow()
		return nil, err
	}
	return c, nil
}

// handshake sends the PULL and reads the OK. A relay with extensions names
// the stream instance in its OK when it has the stream; a base-protocol
// relay says so only with what follows: CLOSE at once for a stream it does
// not have.
func (c *conn) handshake(ctx context.Context, pull protocol.Pull) error {
	if err := c.ws.Write(ctx, websocket.MessageText, protocol.AppendPull(nil, pull)); err != nil {
		return fmt.Errorf("upstream %s: send PULL: %w", c.url, err)
	}
	m, err := c.read(ctx)
	if err != nil {
		return err
	}
	if m.msg.Type != protocol.TypeOK {
		return fmt.Errorf("upstream %s: answered PULL with %s", c.url, m.msg.Type)
	}
	ok, err := protocol.ParseOK(m.msg)
	if err != nil {
		return fmt.Errorf("upstream %s: %w", c.url, err)
	}
	c.ext, c.epoch, c.parts = ok.Ext, ok.Epoch, ok.Parts
	c.edgeSeq, c.edgeParts, c.hasEdge = ok.Next, ok.NextPart, ok.Parts && ok.HasNext
	if c.ext && c.epoch != "" {
		return nil
	}
	return c.probe(ctx)
}

// probe reads the first message after an OK without a stream instance:
// CLOSE means the relay has no such stream. A relay that stays silent until
// the deadline has the stream but no fragment yet.
func (c *conn) probe(ctx context.Context) error {
	m, err := c.read(ctx)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		// websocket.Conn closes itself when a read's context ends.
		return fmt.Errorf("upstream %s: no answer after OK: %w", c.url, err)
	case err != nil:
		return err
	case m.msg.Type == protocol.TypeClose:
		return errNotFound
	}
	c.first = &m
	return nil
}

// read returns the next message: a fragment (F and its binary), H, CLOSE or
// OK. An E message is returned as a *protocol.Error.
func (c *conn) read(ctx context.Context) (message, error) {
	if m := c.first; m != nil {
		c.first = nil
		return *m, nil
	}
	typ, body, err := c.ws.Read(ctx)
	if err != nil {
		return message{}, fmt.Errorf("upstream %s: %w", c.url, err)
	}
	if typ != websocket.MessageText {
		return message{}, fmt.Errorf("upstream %s: binary message without F", c.url)
	}
	msg, err := protocol.Parse(body)
	if err != nil {
		return message{}, fmt.Errorf("upstream %s: %w", c.url, err)
	}
	m := message{msg: msg}
	switch msg.Type {
	case protocol.TypeError:
		perr, _ := protocol.ParseError(msg)
		return message{}, perr
	case protocol.TypeFragment:
		if m.meta, err = protocol.ParseFragment(msg); err != nil {
			return message{}, fmt.Errorf("upstream %s: %w", c.url, err)
		}
		if m.meta.Parts > 0 && c.parts {
			return m, nil // closes a fragment sent in parts: no binary
		}
		m.meta.Parts = 0
		return c.readBinary(ctx, m)
	case protocol.TypePart:
		if !c.parts {
			return m, nil // not negotiated: ignored, as unknown types are
		}
		if m.part, err = protocol.ParsePart(msg); err != nil {
			return message{}, fmt.Errorf("upstream %s: %w", c.url, err)
		}
		return c.readBinary(ctx, m)
	case protocol.TypeInit:
		if !c.parts {
			return m, nil
		}
		return c.readBinary(ctx, m)
	}
	return m, nil
}

// readBinary reads the binary message that m announced into m.data.
func (c *conn) readBinary(ctx context.Context, m message) (message, error) {
	typ, data, err := c.ws.Read(ctx)
	if err != nil {
		return message{}, fmt.Errorf("upstream %s: %s: %w", c.url, m.msg.Type, err)
	}
	if typ != websocket.MessageBinary {
		return message{}, fmt.Errorf("upstream %s: %s not followed by a binary message", c.url, m.msg.Type)
	}
	m.data = data
	return m, nil
}

// heartbeat sends H.
func (c *conn) heartbeat(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, []byte(protocol.TypeHeartbeat))
}

func (c *conn) close() { c.ws.CloseNow() }

// reachedEdge reports whether m, from this connection, is at or past the
// upstream's live edge as of its OK: the backlog is then in. Connections
// without a known edge count as caught up at once.
func (c *conn) reachedEdge(m message) bool {
	if !c.hasEdge || c.edgeSeq == 0 && c.edgeParts == 0 {
		return true
	}
	switch m.msg.Type {
	case protocol.TypePart:
		return m.part.Seq > c.edgeSeq || m.part.Seq == c.edgeSeq && m.part.Index+1 >= c.edgeParts
	case protocol.TypeFragment: // fragment Seq is complete
		return m.meta.Seq >= c.edgeSeq || c.edgeParts == 0 && m.meta.Seq+1 == c.edgeSeq
	}
	return false
}
