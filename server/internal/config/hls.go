package config

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// HLSConfig is the HLS-over-HTTP output: every stream as a live playlist
// and MPEG-TS segments (docs/hls-http.md).
type HLSConfig struct {
	// Enabled serves the output (HLS_HTTP_ENABLED, default YES). It is
	// authorised by the same PULL tokens as the WebSocket.
	Enabled bool
	// PathPrefix is the path below which playlists and segments are served
	// (HLS_HTTP_PATH_PREFIX, default "/hls/").
	PathPrefix string
	// CORSOrigins is "*", a comma-separated list of origins, or empty for
	// no CORS headers (HLS_HTTP_CORS_ORIGINS, default "*"). Use
	// CORSOriginList.
	CORSOrigins string
	// MaxBlockedRequests bounds the playlist requests waiting at the same
	// time on this node (HLS_HTTP_MAX_BLOCKED_REQUESTS, default 10000).
	MaxBlockedRequests int
	// MaxBlockWait bounds one blocking playlist request
	// (HLS_HTTP_MAX_BLOCK_SECONDS, default 20 s); the wait is also at most
	// three target durations.
	MaxBlockWait time.Duration
}

// CORSOriginList returns CORSOrigins split at commas, without blanks.
func (h HLSConfig) CORSOriginList() []string {
	var list []string
	for _, o := range strings.Split(h.CORSOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			list = append(list, o)
		}
	}
	return list
}

// checkOrigins accepts "*" or comma-separated origins: scheme://host[:port],
// with no path, query or fragment.
func checkOrigins(s string) string {
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" || item == "*" {
			continue
		}
		u, err := url.Parse(item)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return "has " + strconv.Quote(item) + ", which is not * or an origin such as https://player.example.com"
		}
	}
	return ""
}
