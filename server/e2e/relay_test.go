// Package e2e tests a relay node over real sockets with the base protocol
// (raw messages, as an existing client sends them) and with the Go SDK.
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/sdk-go/token"
	"github.com/hlsrelay/hlsrelay/server/internal/config"
	"github.com/hlsrelay/hlsrelay/server/internal/relay"
)

// pluginCache is a compilation cache shared by the relays of this test
// binary, so that each compiles the default plugins at most once.
var pluginCache = filepath.Join(os.TempDir(), "hlsrelay-e2e-plugin-cache")

const (
	pullSecret = "pull-secret-for-tests"
	pushSecret = "push-secret-for-tests"
)

// startRelay runs a relay node on a free loopback port until the test ends
// and returns its WebSocket URL.
func startRelay(t *testing.T, mutate func(*config.Config)) string {
	t.Helper()
	return startRelayWith(t, mutate, nil)
}

// startRelayWith is startRelay that also hands the relay to got.
func startRelayWith(t *testing.T, mutate func(*config.Config), got func(r interface{ ReloadPlugins(context.Context) error })) string {
	t.Helper()
	cfg := config.Default()
	cfg.HTTP.BindAddress = "127.0.0.1"
	cfg.HTTP.Port = 0
	cfg.Auth.PullSecret = pullSecret
	cfg.Auth.PushSecret = pushSecret
	cfg.Auth.PushAllowed = true
	cfg.Server.ShutdownTimeout = time.Second
	cfg.Plugins.CacheDir = pluginCache
	cfg.Plugins.CacheEnabled = true
	// Relays of parallel tests must not contend for the default 9090.
	cfg.Metrics.ListenAddress = "127.0.0.1:0"
	if mutate != nil {
		mutate(&cfg)
	}
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	r, err := relay.New(context.Background(), cfg, log, relay.Options{})
	if err != nil {
		t.Fatalf("relay.New: %v", err)
	}
	if got != nil {
		got(r)
	}
	if err := r.Listen(); err != nil {
		t.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return fmt.Sprintf("ws://%s%s", r.HTTPAddr(), cfg.Server.WebSocketPath)
}

func sign(t testing.TB, secret string, action token.Action, stream string) string {
	t.Helper()
	tok, err := token.Sign([]byte(secret), action, stream, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func signB(b testing.TB, secret, action, stream string) string {
	return sign(b, secret, token.Action(action), stream)
}

func pullTokenB(b testing.TB, stream string) string {
	return sign(b, pullSecret, token.Pull, stream)
}

func pushToken(t *testing.T, stream string) string {
	return sign(t, pushSecret, token.Push, stream)
}

func pullToken(t *testing.T, stream string) string {
	return sign(t, pullSecret, token.Pull, stream)
}
