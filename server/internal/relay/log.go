package relay

import (
	"io"
	"log"
	"strings"

	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/server/internal/config"
)

// NewLogger builds the node's logger from the LOG_* switches: JSON or
// console lines on w, at the lowest enabled level, dropping levels that are
// switched off above it (LOG_INFO=NO with LOG_DEBUG=YES is allowed).
func NewLogger(cfg config.LogConfig, w io.Writer) zerolog.Logger {
	if cfg.Format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000"}
	}
	level, err := zerolog.ParseLevel(cfg.MinLevel())
	if err != nil {
		level = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(level).Hook(levelFilter(cfg)).With().Timestamp().Logger()
}

func levelFilter(cfg config.LogConfig) zerolog.HookFunc {
	return func(e *zerolog.Event, level zerolog.Level, _ string) {
		if level >= zerolog.FatalLevel || level == zerolog.NoLevel {
			return
		}
		if !cfg.Enabled(level.String()) {
			e.Discard()
		}
	}
}

// newStdLogger routes net/http's own messages (TLS handshake errors and the
// like) to the node's logger at debug level.
func newStdLogger(l zerolog.Logger) *log.Logger {
	return log.New(stdWriter{l}, "", 0)
}

type stdWriter struct{ l zerolog.Logger }

func (w stdWriter) Write(p []byte) (int, error) {
	w.l.Debug().Str("source", "net/http").Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}
