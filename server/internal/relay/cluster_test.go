package relay

import (
	"net/url"
	"strings"
	"testing"

	"github.com/hlsrelay/hlsrelay/server/internal/config"
)

func TestExternalURL(t *testing.T) {
	base := config.Default()
	base.HTTP.Port = 8080
	tests := []struct {
		name         string
		mutate       func(*config.Config)
		want         string // exact; empty: any ws(s):// URL with a host and the port
		wantDetected bool
		wantErr      string
	}{
		{name: "configured", mutate: func(c *config.Config) { c.Server.ExternalURL = "wss://relay.example/ws" }, want: "wss://relay.example/ws"},
		{name: "bind address", mutate: func(c *config.Config) { c.HTTP.BindAddress = "10.1.2.3" }, want: "ws://10.1.2.3:8080/", wantDetected: true},
		{name: "path", mutate: func(c *config.Config) {
			c.HTTP.BindAddress = "10.1.2.3"
			c.Server.WebSocketPath = "/live/"
		}, want: "ws://10.1.2.3:8080/live/", wantDetected: true},
		{name: "all interfaces", mutate: func(*config.Config) {}, wantDetected: true},
		{name: "TLS only", mutate: func(c *config.Config) {
			c.HTTP.Enabled = false
			c.TLS.Enabled, c.TLS.Port = true, 8443
		}, wantDetected: true},
		{name: "port chosen by the system", mutate: func(c *config.Config) { c.HTTP.Port = 0 }, wantErr: "EXTERNAL_WEBSOCKET_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.mutate(&cfg)
			got, detected, err := externalURL(cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("externalURL = %q, %v; want an error naming %s", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || detected != tt.wantDetected {
				t.Fatalf("externalURL = %q, detected %v, %v", got, detected, err)
			}
			if tt.want != "" {
				if got != tt.want {
					t.Fatalf("externalURL = %q, want %q", got, tt.want)
				}
				return
			}
			u, err := url.Parse(got)
			if err != nil || u.Hostname() == "" || u.Port() == "" {
				t.Fatalf("externalURL = %q: not a URL with host and port", got)
			}
			if cfg.TLS.Enabled && !cfg.HTTP.Enabled && (u.Scheme != "wss" || u.Port() != "8443") {
				t.Fatalf("externalURL = %q, want wss:// on the TLS port", got)
			}
		})
	}
}
