package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/config"
	"github.com/hlsrelay/hlsrelay/server/internal/policy"
	"github.com/hlsrelay/hlsrelay/server/internal/relay"
)

// BenchmarkPullHandshake measures complete PULL handshakes (TCP connect,
// WebSocket upgrade, PULL with a valid token, OK, close) against a relay
// whose decisions come from the default WASM plugins, and against the same
// relay with the in-process JWT check.
func BenchmarkPullHandshake(b *testing.B) {
	for _, mode := range []string{"plugins", "in-process"} {
		b.Run(mode, func(b *testing.B) {
			url := benchRelay(b, mode == "in-process")
			const stream = "bench/handshake"
			tok := pullTokenB(b, stream)
			msg := []byte(string(protocol.AppendPull(nil, protocol.Pull{Stream: stream, Auth: tok, MaxInitialFragments: -1})))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := handshake(url, msg); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "handshakes/s")
		})
	}
}

func handshake(url string, pull []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return err
	}
	defer conn.CloseNow()
	if err := conn.Write(ctx, websocket.MessageText, pull); err != nil {
		return err
	}
	_, b, err := conn.Read(ctx)
	if err != nil {
		return err
	}
	if string(b) != "OK" {
		return fmt.Errorf("got %q", b)
	}
	return nil
}

func benchRelay(b *testing.B, inProcess bool) string {
	b.Helper()
	cfg := config.Default()
	cfg.HTTP.BindAddress, cfg.HTTP.Port = "127.0.0.1", 0
	cfg.Auth.PullSecret, cfg.Auth.PushSecret = pullSecret, pushSecret
	cfg.Plugins.CacheDir = pluginCache
	cfg.Plugins.DecisionCacheTTL = 0 // every handshake runs the plugin
	var opts relay.Options
	if inProcess {
		opts.Authorizer = &policy.JWT{PullSecret: pullSecret, PushSecret: pushSecret, PushAllowed: true}
		opts.Router = localOnly{}
	}
	r, err := relay.New(context.Background(), cfg, zerolog.Nop(), opts)
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Listen(); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.Serve(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	// A live stream, so that each PULL is answered OK and stays open until
	// the client closes.
	p, _, err := websocket.Dial(ctx, fmt.Sprintf("ws://%s/", r.HTTPAddr()), nil)
	if err != nil {
		b.Fatal(err)
	}
	_ = p.Write(ctx, websocket.MessageText, protocol.AppendPush(nil, protocol.Push{Stream: "bench/handshake", Auth: signB(b, pushSecret, "PUSH", "bench/handshake")}))
	if _, m, err := p.Read(ctx); err != nil || string(m) != "OK" {
		b.Fatalf("publisher: %q %v", m, err)
	}
	return fmt.Sprintf("ws://%s/", r.HTTPAddr())
}

type localOnly struct{}

func (localOnly) Route(context.Context, *policy.Request) policy.RouteDecision {
	return policy.RouteDecision{Sources: []policy.Source{{Kind: policy.SourceLocal}}}
}
