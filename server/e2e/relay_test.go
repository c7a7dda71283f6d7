// Package e2e tests a relay node over real sockets with the base protocol
// (raw messages, as an existing client sends them) and with the Go SDK.
package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/sdk-go/token"
	"github.com/hlsrelay/hlsrelay/server/internal/config"
	"github.com/hlsrelay/hlsrelay/server/internal/relay"
)

const (
	pullSecret = "pull-secret-for-tests"
	pushSecret = "push-secret-for-tests"
)

// startRelay runs a relay node on a free loopback port until the test ends
// and returns its WebSocket URL.
func startRelay(t *testing.T, mutate func(*config.Config)) string {
	t.Helper()
	cfg := config.Default()
	cfg.HTTP.BindAddress = "127.0.0.1"
	cfg.HTTP.Port = 0
	cfg.Auth.PullSecret = pullSecret
	cfg.Auth.PushSecret = pushSecret
	cfg.Auth.PushAllowed = true
	cfg.Server.ShutdownTimeout = time.Second
	if mutate != nil {
		mutate(&cfg)
	}
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	r, err := relay.New(cfg, log)
	if err != nil {
		t.Fatalf("relay.New: %v", err)
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

func sign(t *testing.T, secret string, action token.Action, stream string) string {
	t.Helper()
	tok, err := token.Sign([]byte(secret), action, stream, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func pushToken(t *testing.T, stream string) string {
	return sign(t, pushSecret, token.Push, stream)
}

func pullToken(t *testing.T, stream string) string {
	return sign(t, pullSecret, token.Pull, stream)
}
