package relay

import (
	"context"

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
		Locator:      clusterLocator{router: router, upstream: r.upstream},
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
	router   policy.Router
	upstream *upstream.Manager
}

func (l clusterLocator) Locate(ctx context.Context, req *policy.Request) (*hub.Stream, error) {
	d := l.router.Route(ctx, req)
	if err := d.Err(); err != nil {
		return nil, err
	}
	via := upstream.ParseVia(req.Header.Get(upstream.ViaHeader))
	return l.upstream.Locate(ctx, upstream.Request{Stream: req.Stream, Token: req.Token, Via: via}, d.Sources, req.OnlySource)
}

// closeHLS answers the waiting playlist requests, so that the shutdown does
// not wait for them.
func (r *Relay) closeHLS() {
	if r.hls != nil {
		r.hls.Close()
	}
}
