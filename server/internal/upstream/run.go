package upstream

import (
	"context"
	"errors"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/policy"
)

// errEnded: the upstream sent CLOSE.
var errEnded = errors.New("stream ended upstream")

// errReleased: the local stream no longer takes this pull's fragments.
var errReleased = errors.New("local stream released")

// run pumps fragments from c into the local stream and, when the source is
// lost, finds the stream again, until the stream ends, the pull is stopped,
// or failover gives up.
func (p *pull) run(ctx context.Context, c *conn) {
	defer p.m.wg.Done()
	defer close(p.done)
	log := p.m.cfg.Log.With().Str("stream", p.stream).Logger()
	var lastSeq uint64
	var hasSeq, disc bool
	var open openFragment
	for {
		p.setCurrent(c)
		err := p.pump(ctx, c, &lastSeq, &hasSeq, disc, &open)
		p.markCaughtUp()
		p.setCurrent(nil)
		c.close()
		epoch, url := c.epoch, c.url
		if ctx.Err() != nil || errors.Is(err, errReleased) {
			p.finish(!p.yield.Load())
			return
		}
		log.Info().Err(err).Str("upstream", url).Msg("upstream lost; looking for the stream again")
		var resume *protocol.Resume
		if hasSeq && epoch != "" {
			resume = &protocol.Resume{Epoch: epoch, After: lastSeq}
		}
		c = p.failover(ctx, url, errors.Is(err, errEnded), resume)
		if ctx.Err() == nil { // not a shutdown
			p.m.cfg.Metrics.UpstreamFailed(c != nil)
		}
		if c == nil && ctx.Err() != nil {
			// Stopped while looking: by Yield (a publisher moved here and
			// continues the stream) or by Close.
			p.finish(!p.yield.Load())
			return
		}
		if c == nil {
			log.Info().Msg("upstream stream not found again; ending it for local viewers")
			p.finish(true)
			return
		}
		// Fragments continue without a gap only from the same instance.
		disc = c.epoch == "" || c.epoch != epoch
		hasSeq = false
		if disc {
			open = openFragment{} // sequence numbers of another instance
		}
		log.Info().Str("upstream", c.url).Bool("continuous", !disc).Msg("relaying from upstream again")
	}
}

// finish forgets the pull and ends the local stream (end) or leaves it
// live for its grace period.
func (p *pull) finish(end bool) {
	p.m.forget(p)
	p.m.cfg.Metrics.UpstreamPull(-1)
	if end {
		p.pub.End()
	} else {
		p.pub.Detach()
	}
}

// failover looks for the stream again until Failover has passed. After the
// upstream ended the stream (ended), only a different node the registry now
// names counts: the stream moved there.
func (p *pull) failover(ctx context.Context, lost string, ended bool, resume *protocol.Resume) *conn {
	deadline := time.Now().Add(p.m.cfg.Failover)
	delay := 50 * time.Millisecond
	for {
		prefer := p.takeMove()
		if ended && prefer == "" {
			prefer = p.registryOwner(ctx, lost)
			if prefer == "" {
				return nil
			}
		}
		c, err := p.connect(ctx, prefer, resume)
		if err == nil {
			return c
		}
		if ended || time.Now().Add(delay).After(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

// registryOwner returns the node the registry names for the stream if it
// is another than exclude and this node; "" otherwise.
func (p *pull) registryOwner(ctx context.Context, exclude string) string {
	if p.m.cfg.Registry == nil {
		return ""
	}
	for _, src := range p.sources {
		if src.Kind != policy.SourceRegistry {
			continue
		}
		url, found, err := p.m.cfg.Registry.Lookup(ctx, p.stream)
		if err != nil || !found || url == exclude || url == p.m.cfg.SelfURL {
			return ""
		}
		return url
	}
	return ""
}

// pump copies fragments from c into the local stream until c fails or
// ends. The first fragment is marked disc if asked.
func (p *pull) pump(ctx context.Context, c *conn, lastSeq *uint64, hasSeq *bool, disc bool, open *openFragment) error {
	hbCtx, stopHeartbeat := context.WithCancel(ctx)
	defer stopHeartbeat()
	go p.heartbeat(hbCtx, c)
	idle := 2*p.m.cfg.HeartbeatInterval + 5*time.Second
	for {
		rctx, cancel := context.WithTimeout(ctx, idle)
		m, err := c.read(rctx)
		cancel()
		if err != nil {
			return err
		}
		if err := p.apply(m, lastSeq, hasSeq, &disc, open); err != nil {
			return err
		}
		if c.reachedEdge(m) {
			p.markCaughtUp()
		}
	}
}

// apply puts one message from upstream into the local stream. The first
// fragment or part is marked disc if asked.
func (p *pull) apply(m message, lastSeq *uint64, hasSeq *bool, disc *bool, open *openFragment) error {
	switch m.msg.Type {
	case protocol.TypeClose:
		return errEnded
	case protocol.TypeFragment:
		if m.meta.Parts > 0 {
			p.closeParts(m.meta, open)
			*lastSeq, *hasSeq = m.meta.Seq, m.meta.HasSeq
			return nil
		}
		in := hub.Input{Duration: m.meta.Duration, Time: m.meta.Time, Disc: m.meta.Disc || *disc, Data: m.data}
		p.m.cfg.Metrics.Received(len(m.data))
		if _, ok := p.pub.Append(in); !ok {
			return errReleased
		}
		*disc = false
		*lastSeq, *hasSeq = m.meta.Seq, m.meta.HasSeq
		p.lastFragment.Store(time.Now().UnixNano())
	case protocol.TypePart:
		if m.data == nil {
			return nil // parts not negotiated
		}
		p.m.cfg.Metrics.Received(len(m.data))
		if !p.appendPart(m.part, m.data, open, *disc) {
			return errReleased
		}
		*disc = false
		p.lastFragment.Store(time.Now().UnixNano())
	case protocol.TypeInit:
		if m.data != nil {
			p.pub.SetInit(m.data)
		}
	}
	// H, and message types of later protocol versions: nothing to do.
	return nil
}

// heartbeat sends H upstream every HeartbeatInterval, so that the upstream
// relay keeps a quiet viewer connection open.
func (p *pull) heartbeat(ctx context.Context, c *conn) {
	t := time.NewTicker(p.m.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.heartbeat(ctx); err != nil {
				return
			}
		}
	}
}

// watch ends the pull after Inactivity without viewers and, for a stream
// found through the registry, moves it when the registry names another node
// while no fragment arrives (the publisher moved).
func (p *pull) watch(ctx context.Context) {
	defer p.m.wg.Done()
	tick := min(time.Second, p.m.cfg.Inactivity/4)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if p.pub.Stream().Stats().Subscribers > 0 {
			p.touch()
		}
		if time.Since(time.Unix(0, p.lastActive.Load())) > p.m.cfg.Inactivity {
			p.m.cfg.Log.Info().Str("stream", p.stream).Dur("inactivity", p.m.cfg.Inactivity).Msg("no viewers; closing the upstream pull")
			p.cancel()
			return
		}
		p.checkMoved(ctx)
	}
}

// stallAfter is how long a registry pull waits for a fragment before it
// asks the registry whether the stream moved.
const stallAfter = 2 * time.Second

func (p *pull) checkMoved(ctx context.Context) {
	if time.Since(time.Unix(0, p.lastFragment.Load())) < stallAfter {
		return
	}
	p.mu.Lock()
	cur := p.current
	p.mu.Unlock()
	if cur == nil {
		return
	}
	if url := p.registryOwner(ctx, cur.url); url != "" {
		p.m.cfg.Log.Info().Str("stream", p.stream).Str("from", cur.url).Str("to", url).Msg("stream moved to another node")
		p.move(url)
	}
}

// openFragment is the upstream fragment whose parts this node is
// receiving: its upstream number and the local one. After a reconnect that
// resumes the same instance, the upstream sends that fragment again from
// its first part, and the local stream drops the parts it has.
type openFragment struct {
	active   bool
	upstream uint64
	local    uint64
}

// appendPart relays one part into the local stream; false if the local
// stream is no longer this pull's.
func (p *pull) appendPart(part protocol.Part, data []byte, open *openFragment, disc bool) bool {
	in := hub.PartInput{Index: part.Index, Duration: part.Duration, Independent: part.Independent,
		Time: part.Time, Disc: part.Disc || disc, Data: data}
	continues := open.active && part.HasSeq && part.Seq == open.upstream
	if continues {
		in.Seq, in.HasSeq = open.local, true
	} else if in.Index != 0 {
		return true // the middle of a fragment this node did not see start: wait for the next
	}
	_, err := p.pub.AppendPart(in)
	switch {
	case errors.Is(err, hub.ErrNotPublisher):
		return false
	case err != nil:
		p.m.cfg.Log.Warn().Err(err).Str("stream", p.stream).Msg("upstream part dropped")
		return true
	}
	if !continues { // part 0 opened a local fragment: remember its number
		local, _ := p.pub.NextPart()
		*open = openFragment{active: part.HasSeq, upstream: part.Seq, local: local}
	}
	return true
}

// closeParts relays the F that closes a fragment sent in parts.
func (p *pull) closeParts(f protocol.Fragment, open *openFragment) {
	if !open.active || !f.HasSeq || f.Seq != open.upstream {
		return
	}
	_, err := p.pub.CloseFragment(hub.CloseInput{Duration: f.Duration, Parts: f.Parts, Seq: open.local, HasSeq: true})
	if err != nil {
		p.m.cfg.Log.Warn().Err(err).Str("stream", p.stream).Msg("upstream fragment close dropped")
	}
	*open = openFragment{}
}
