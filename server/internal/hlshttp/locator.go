package hlshttp

import (
	"context"

	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/policy"
)

// Locator finds the local hub stream that serves an authorised PULL,
// starting an upstream pull if the route resolution says so; it returns
// hub.ErrNotFound if the stream is found nowhere. Every call counts as viewer
// activity for the stream (keeps an upstream pull open).
//
// The handler calls Locate for every playlist and segment request, after the
// request was authorised. Implementations must be safe for concurrent use.
type Locator interface {
	Locate(ctx context.Context, req *policy.Request) (*hub.Stream, error)
}

// LocalLocator finds streams published on this node only.
type LocalLocator struct {
	Hub *hub.Hub
}

// Locate implements Locator.
func (l LocalLocator) Locate(_ context.Context, req *policy.Request) (*hub.Stream, error) {
	if s := l.Hub.Stream(req.Stream); s != nil {
		return s, nil
	}
	return nil, hub.ErrNotFound
}
