// Command hlsrelay is the hlsrelay relay node: a low-latency live-video relay
// that speaks the HLS WebSocket CDN protocol.
//
// Settings come from flags, the environment and a .env file; run
// `hlsrelay --help` for the list, or see docs/configuration.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/server/internal/config"
	"github.com/hlsrelay/hlsrelay/server/internal/registry"
	"github.com/hlsrelay/hlsrelay/server/internal/relay"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	cfg, err := config.Load(args, os.Environ(), ".env")
	if errors.Is(err, config.ErrHelp) {
		_ = config.Usage(os.Stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "hlsrelay: %v\n", err)
		fmt.Fprintln(os.Stderr, "Run hlsrelay --help for the settings.")
		return 2
	}
	// Millisecond timestamps: fragments arrive several times a second.
	zerolog.TimeFieldFormat = time.RFC3339Nano
	log := relay.NewLogger(cfg.Log, os.Stderr)
	registry.SetRedisLogger(log)
	for _, w := range cfg.Warnings() {
		log.Warn().Msg(w)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	var running atomic.Pointer[relay.Relay]
	go drainOnSignals(sigs, cancel, &running, log)
	started := time.Now()
	r, err := relay.New(ctx, cfg, log, relay.Options{})
	if err != nil {
		log.Error().Err(err).Msg("cannot start")
		return 1
	}
	running.Store(r)
	log.Info().Dur("plugins_loaded_in", time.Since(started)).Msg("policy plugins ready")
	if err := r.Listen(); err != nil {
		log.Error().Err(err).Msg("cannot listen")
		return 1
	}
	ev := log.Info()
	if a := r.HTTPAddr(); a != nil {
		ev = ev.Str("http", a.String())
	}
	if a := r.TLSAddr(); a != nil {
		ev = ev.Str("https", a.String())
	}
	if a := r.AdminAddr(); a != nil {
		ev = ev.Str("admin", a.String())
	}
	ev.Str("websocket_path", cfg.Server.WebSocketPath).Str("env_file", cfg.EnvFile).Msg("hlsrelay listening")

	go reloadOnHangup(ctx, r, log)
	if err := r.Serve(ctx); err != nil {
		log.Error().Err(err).Msg("serve")
		return 1
	}
	log.Info().Msg("hlsrelay stopped")
	return 0
}

// drainOnSignals starts a graceful drain at the first SIGTERM or SIGINT
// (cancel ends Serve's context), and cuts it short at the second: every
// connection is then closed at once (docs/deployment.md).
func drainOnSignals(sigs <-chan os.Signal, cancel context.CancelFunc, running *atomic.Pointer[relay.Relay], log zerolog.Logger) {
	sig := <-sigs
	log.Info().Str("signal", sig.String()).Msg("draining; send the signal again to stop at once")
	cancel()
	sig = <-sigs
	log.Warn().Str("signal", sig.String()).Msg("second signal: closing every connection now")
	if r := running.Load(); r != nil {
		r.Abort()
	}
}

// reloadOnHangup reloads the policy plugins on SIGHUP.
func reloadOnHangup(ctx context.Context, r *relay.Relay, log zerolog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			started := time.Now()
			if err := r.ReloadPlugins(ctx); err != nil {
				log.Error().Err(err).Msg("plugin reload failed; the previous plugins keep serving")
				continue
			}
			log.Info().Dur("took", time.Since(started)).Msg("policy plugins reloaded")
		}
	}
}
