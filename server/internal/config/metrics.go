package config

import (
	"net"
	"strconv"
)

// MetricsConfig is the Prometheus metrics listener (docs/metrics.md).
type MetricsConfig struct {
	// Enabled serves /metrics on ListenAddress (METRICS_ENABLED, default
	// YES).
	Enabled bool
	// ListenAddress is host:port of the metrics listener, apart from the
	// public port (METRICS_LISTEN_ADDRESS, default 127.0.0.1:9090: this
	// machine only).
	ListenAddress string
	// TopStreams is how many streams, those with the most viewers, get a
	// viewer series of their own; the others are summed under
	// stream="_other" (METRICS_TOP_STREAMS, default 50).
	TopStreams int
}

// checkListenAddress accepts host:port where host is an IP address, a host
// name, or empty (all interfaces), and port is 0 (the system picks one) to
// 65535.
func checkListenAddress(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "is not host:port (e.g. 127.0.0.1:9090)"
	}
	if host != "" {
		if p := checkHost(host); p != "" {
			return "has host " + strconv.Quote(host) + ", which is not an IP address or host name"
		}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 || !isDigits(port) {
		return "has port " + strconv.Quote(port) + ", which is not 0 to 65535"
	}
	return ""
}

// metricsCrossCheck refuses one address for two listeners.
func (c *Config) metricsCrossCheck() []error {
	if c.Metrics.Enabled && c.Admin.Enabled && c.Metrics.ListenAddress == c.Admin.ListenAddress {
		return []error{settingError("METRICS_LISTEN_ADDRESS", "is also ADMIN_LISTEN_ADDRESS; give each listener its own port")}
	}
	return nil
}

// metricsWarnings are the warnings about the metrics listener.
func (c Config) metricsWarnings() []string {
	if !c.Metrics.Enabled {
		return nil
	}
	host, _, err := net.SplitHostPort(c.Metrics.ListenAddress)
	if err != nil || isLoopbackAddress(host) {
		return nil
	}
	return []string{"METRICS_LISTEN_ADDRESS " + c.Metrics.ListenAddress + " is reachable from other machines, without authentication:" +
		" anyone who reaches it reads stream ids, viewer counts and traffic; allow only your Prometheus servers (firewall) or bind to a private network"}
}
