package relay

import (
	"context"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/hlshttp"
	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/policy"
	"github.com/hlsrelay/hlsrelay/server/internal/upstream"
)

// attachHLS adds the HLS-over-HTTP output to the node's HTTP handler when
// HLS_HTTP_ENABLED is YES. Requests are authorised by auth and streams found
// through router, this node and other nodes alike, as WebSocket PULLs are.
func (r *Relay) attachHLS(auth policy.Authorizer, router policy.Router) {
	c := r.cfg.HLS
	if !c.Enabled {
		return
	}
	r.hls = hlshttp.New(hlshttp.Config{
		Prefix:       c.PathPrefix,
		Authorizer:   auth,
		Locator:      clusterLocator{hub: r.hub, router: router, upstream: r.upstream},
		CORSOrigins:  c.CORSOriginList(),
		MaxBlocked:   c.MaxBlockedRequests,
		MaxBlockWait: c.MaxBlockWait,
		Log:          r.log,
		LogRequests:  r.cfg.Log.Requests,
		Metrics:      r.metrics,
	})
	r.handler.HLS = r.hls
}

// clusterLocator finds the stream of an HLS request as a WebSocket PULL
// finds its stream: the route's sources in order, this node's own streams,
// then a pull from another node (one per stream per node, shared with the
// WebSocket viewers). Each request counts as viewer activity.
type clusterLocator struct {
	hub      *hub.Hub
	router   policy.Router
	upstream *upstream.Manager
}

func (l clusterLocator) Locate(ctx context.Context, req *policy.Request) (*hub.Stream, error) {
	d := l.router.Route(ctx, req)
	if d.Rejected {
		code := d.Code
		if code == "" {
			code = protocol.CodeAuth
		}
		return nil, &protocol.Error{Code: code, Message: d.Reason}
	}
	for i, src := range d.Sources {
		if src.Kind != policy.SourceLocal {
			via := upstream.ParseVia(req.Header.Get(upstream.ViaHeader))
			return l.upstream.Ensure(ctx, upstream.Request{Stream: req.Stream, Token: req.Token, Via: via}, upstream.Remote(d.Sources[i:]))
		}
		if s := l.hub.Stream(req.Stream); s != nil {
			return s, nil
		}
	}
	return nil, hub.ErrNotFound
}

// closeHLS answers the waiting playlist requests, so that the shutdown does
// not wait for them.
func (r *Relay) closeHLS() {
	if r.hls != nil {
		r.hls.Close()
	}
}
