package config

import (
	"slices"
	"strings"
	"testing"
)

func TestMetricsSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		environ []string
		warn    string // the start of the expected warning; "" for none
	}{
		{"default: loopback", nil, ""},
		{"loopback name", []string{"METRICS_LISTEN_ADDRESS=localhost:9100"}, ""},
		{"IPv6 loopback", []string{"METRICS_LISTEN_ADDRESS=[::1]:9100"}, ""},
		{"all interfaces", []string{"METRICS_LISTEN_ADDRESS=:9090"}, "METRICS_LISTEN_ADDRESS :9090 is reachable from other machines"},
		{"private address", []string{"METRICS_LISTEN_ADDRESS=10.0.0.5:9090"}, "METRICS_LISTEN_ADDRESS 10.0.0.5:9090 is reachable from other machines"},
		{"off", []string{"METRICS_ENABLED=NO", "METRICS_LISTEN_ADDRESS=0.0.0.0:9090"}, ""},
	} {
		t.Run("warnings/"+tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(nil, tc.environ, "")
			if err != nil {
				t.Fatal(err)
			}
			got := c.metricsWarnings()
			if tc.warn == "" {
				if len(got) != 0 {
					t.Errorf("warnings %q, want none", got)
				}
				return
			}
			if len(got) != 1 || !strings.HasPrefix(got[0], tc.warn) {
				t.Fatalf("warnings %q, want one starting with %q", got, tc.warn)
			}
			if !slices.Contains(c.Warnings(), got[0]) {
				t.Error("Warnings does not report the metrics warning")
			}
		})
	}

	t.Run("one address for metrics and the admin API", func(t *testing.T) {
		t.Parallel()
		environ := []string{"ADMIN_ENABLED=YES", "ADMIN_TOKEN=0123456789abcdef0123456789abcdef", "ADMIN_LISTEN_ADDRESS=127.0.0.1:9090"}
		_, err := Load(nil, environ, "")
		want := "METRICS_LISTEN_ADDRESS (--metrics-listen-address): is also ADMIN_LISTEN_ADDRESS; give each listener its own port"
		if err == nil || err.Error() != want {
			t.Fatalf("error %v, want %q", err, want)
		}
		if _, err := Load(nil, append(environ, "METRICS_ENABLED=NO"), ""); err != nil {
			t.Errorf("metrics off: %v", err)
		}
	})
}
