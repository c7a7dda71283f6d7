package publisher

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/internal/backoff"
	"github.com/hlsrelay/hlsrelay/sdk-go/internal/relayconn"
	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/sdk-go/token"
)

// run connects, publishes, and reconnects after failures until the
// publisher is closed.
func (p *Publisher) run(ctx context.Context) {
	defer close(p.done)
	retry := backoff.Backoff{Min: p.opts.RetryDelay, Max: p.opts.MaxRetryDelay}
	immediate := false // the last attempt was made without a delay
	for {
		if p.nothingToDeliver() {
			return
		}
		delivered, err := p.session(ctx, &retry)
		if delivered {
			p.mu.Lock()
			p.flushed = true
			p.mu.Unlock()
			return
		}
		if ctx.Err() != nil {
			return
		}
		p.report(err)
		delay := retry.Next()
		// A draining relay tells its publishers to go elsewhere: the next
		// node should have the stream before the viewers look for it. Never
		// twice in a row, so a relay that keeps answering so is not
		// hammered.
		if isUnavailable(err) && !immediate {
			delay = 0
		}
		immediate = delay == 0
		if p.onRetry != nil {
			p.onRetry(delay)
		}
		if !p.pause(ctx, delay) {
			return
		}
	}
}

// nothingToDeliver reports whether Close was called and no fragment awaits
// a connection; it then marks the publisher flushed.
func (p *Publisher) nothingToDeliver() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing && p.q.unsent() == 0 {
		p.flushed = true
		return true
	}
	return false
}

// pause waits d before the next attempt; it returns false if the publisher
// must stop instead.
func (p *Publisher) pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		case <-p.wake:
			if p.nothingToDeliver() {
				return false
			}
		}
	}
}

// isUnavailable reports whether err is the relay's E:code=UNAVAILABLE.
func isUnavailable(err error) bool {
	var perr *protocol.Error
	return errors.As(err, &perr) && perr.Code == protocol.CodeUnavailable
}

func (p *Publisher) report(err error) {
	if p.opts.OnError == nil {
		return
	}
	var perr *protocol.Error
	if !errors.As(err, &perr) {
		err = fmt.Errorf("publisher: stream %s: %w", p.opts.Stream, err)
	}
	p.opts.OnError(err)
}

// session runs one connection: dial, PUSH, then write fragments until the
// connection fails or, after Close, CLOSE has been sent (delivered true).
func (p *Publisher) session(ctx context.Context, retry *backoff.Backoff) (delivered bool, err error) {
	url := p.opts.URL
	if p.opts.URLFunc != nil {
		if url, err = p.opts.URLFunc(ctx); err != nil {
			return false, fmt.Errorf("relay URL: %w", err)
		}
	}
	auth := p.opts.Token
	if p.opts.Secret != "" {
		if auth, err = token.Sign([]byte(p.opts.Secret), token.Push, p.opts.Stream, p.opts.TokenTTL); err != nil {
			return false, err
		}
	}
	// The epoch of the last connection lets this one take over if the relay
	// has not noticed yet that the old connection died.
	p.mu.Lock()
	epoch := p.q.epoch
	p.mu.Unlock()
	push := protocol.AppendPush(nil, protocol.Push{Stream: p.opts.Stream, Auth: auth, Ext: true, Epoch: epoch, Parts: p.opts.Parts})
	conn, ok, err := relayconn.Dial(ctx, url, push, p.timing)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	retry.Reset()
	p.mu.Lock()
	p.q.accept(ok)
	p.connected = true
	noParts := p.opts.Parts && !p.q.parts && !p.noParts
	p.noParts = p.noParts || noParts
	p.mu.Unlock()
	if noParts {
		p.report(fmt.Errorf("relay at %s: %w", url, ErrPartsUnsupported))
	}
	defer func() {
		p.mu.Lock()
		p.connected = false
		p.mu.Unlock()
	}()
	if p.opts.OnReady != nil {
		p.opts.OnReady()
	}

	readErr := make(chan error, 1)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		readErr <- readLoop(conn)
	}()
	defer func() {
		conn.Close()
		<-readDone
	}()
	return p.writeLoop(ctx, conn, readErr)
}

// writeLoop writes queued fragments as they come; after Close, once the
// queue is empty, it sends CLOSE and closes the connection.
func (p *Publisher) writeLoop(ctx context.Context, conn *relayconn.Conn, readErr <-chan error) (bool, error) {
	// A failed write usually follows the relay's E: report the E.
	failed := func(err error) (bool, error) {
		conn.Close()
		var perr *protocol.Error
		if rerr := <-readErr; errors.As(rerr, &perr) {
			return false, perr
		}
		return false, err
	}
	var header []byte
	for {
		p.mu.Lock()
		w, ok := p.q.take()
		ext, closing, unsent := p.q.ext, p.closing, p.q.unsent()
		p.mu.Unlock()
		if ok {
			var err error
			switch w.kind {
			case writeWhole:
				header = protocol.AppendFragment(header[:0], w.frag, ext)
				err = conn.WriteFragment(header, w.data)
			case writeInit:
				err = conn.WriteFragment(protocol.AppendInit(header[:0]), w.data)
			case writePart:
				header = protocol.AppendPart(header[:0], w.part)
				err = conn.WriteFragment(header, w.data)
			case writeEnd:
				header = protocol.AppendFragment(header[:0], w.frag, ext)
				err = conn.WriteText(header)
			}
			if err != nil {
				p.mu.Lock()
				p.q.requeue(w)
				p.mu.Unlock()
				return failed(err)
			}
			continue
		}
		if closing && unsent == 0 {
			if err := conn.WriteText([]byte(protocol.TypeClose)); err != nil {
				return failed(err)
			}
			// CLOSE is written; whether the relay acknowledges the
			// WebSocket close in time no longer matters.
			_ = conn.CloseGracefully(ctx)
			return true, nil
		}
		select {
		case <-p.wake:
		case err := <-readErr:
			return false, err
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// readLoop reads what the relay sends a publisher (heartbeats, or an E
// before it closes) until the connection fails.
func readLoop(conn *relayconn.Conn) error {
	for {
		m, err := conn.Read(0)
		switch {
		case m.Binary || errors.Is(err, relayconn.ErrTooLarge):
			return errors.New("relay sent a binary message to a publisher")
		case err != nil:
			return err
		}
		switch m.Text.Type {
		case protocol.TypeError:
			perr, _ := protocol.ParseError(m.Text)
			return perr
		case protocol.TypeClose:
			return errors.New("relay sent CLOSE to a publisher")
		case protocol.TypeFragment, protocol.TypeOK, protocol.TypePush, protocol.TypePull:
			return fmt.Errorf("relay sent an unexpected %s", m.Text.Type)
		}
		// H, and message types of later protocol versions: ignored.
	}
}
