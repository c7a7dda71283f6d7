package bench

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hlsrelay/hlsrelay/tools/internal/playlist"
)

// HLS viewers (Config.HLS) read the stream as a player of hlsrelay's
// HLS-over-HTTP output does with blocking playlist reload: ask for the
// playlist with _HLS_msn set to the next segment, which the relay answers
// the moment that segment exists, then GET the segment. Each viewer starts
// at the live edge (the newest segment of its first playlist), like a
// WebSocket viewer with max_initial_fragments=0. Latency is measured the
// same way: from the publisher's send to the last byte of the segment.

// DefaultHLSPrefix is the relay's default HLS_HTTP_PATH_PREFIX.
const DefaultHLSPrefix = "/hls/"

// hlsPlaylistURL returns the playlist URL of the run's stream: cfg.HLSURL
// (the prefix's URL) or, by default, the viewers' relay URL with http(s)
// for ws(s) and the default prefix; the token goes into the query.
func hlsPlaylistURL(cfg Config) (*url.URL, error) {
	base := cfg.HLSURL
	if base == "" {
		pull := cfg.URL
		if cfg.PullURL != "" {
			pull = cfg.PullURL
		}
		u, err := url.Parse(pull)
		if err != nil {
			return nil, fmt.Errorf("relay URL: %w", err)
		}
		scheme := "http"
		if u.Scheme == "wss" {
			scheme = "https"
		}
		base = scheme + "://" + u.Host + DefaultHLSPrefix
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: HLS URL %q is not an http:// or https:// URL", ErrConfig, base)
	}
	parts := strings.Split(cfg.Stream, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	u.Path, u.RawPath = "", strings.TrimSuffix(u.EscapedPath(), "/")+"/"+strings.Join(parts, "/")+"/index.m3u8"
	if p, err := url.PathUnescape(u.RawPath); err == nil {
		u.Path = p
	}
	if cfg.PullAuth != "" {
		u.RawQuery = "token=" + url.QueryEscape(cfg.PullAuth)
	} else {
		u.RawQuery = ""
	}
	return u, nil
}

// hlsClient is the HTTP side of the HLS viewers: one transport with a
// keep-alive connection per viewer.
type hlsClient struct {
	client   *http.Client
	playlist *url.URL
	retries  atomic.Int64 // 503 answers (a blocking request that waited its longest)
}

func newHLSClient(cfg Config) (*hlsClient, error) {
	pl, err := hlsPlaylistURL(cfg)
	if err != nil {
		return nil, err
	}
	sources := loopbackSources("ws://"+pl.Host, cfg.Viewers)
	transport := &http.Transport{
		Proxy:               nil,
		DialContext:         sourceDialer(sources),
		TLSHandshakeTimeout: 10 * time.Second,
		DisableCompression:  true,
		MaxIdleConns:        cfg.Viewers + 16,
		MaxIdleConnsPerHost: cfg.Viewers + 16,
		IdleConnTimeout:     90 * time.Second,
	}
	if cfg.Insecure {
		transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // -insecure is an explicit opt-in for self-signed test relays
	}
	return &hlsClient{client: &http.Client{Transport: transport}, playlist: pl}, nil
}

// sourceDialer dials from one of sources loopback addresses in turn (see
// loopbackSources).
func sourceDialer(sources int) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if sources <= 1 {
		return (&net.Dialer{Timeout: 10 * time.Second}).DialContext
	}
	var next atomic.Uint32
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		i := next.Add(1) % uint32(sources)
		local := &net.TCPAddr{IP: net.IPv4(127, 0, byte(i>>8), byte(i&0xff)+1)}
		d := net.Dialer{Timeout: 10 * time.Second, LocalAddr: local}
		return d.DialContext(ctx, network, addr)
	}
}

// close drops the idle keep-alive connections. A nil client is fine.
func (c *hlsClient) close() {
	if c != nil {
		c.client.CloseIdleConnections()
	}
}

// errHLSGone: the playlist answered 404, the stream is gone.
var errHLSGone = errors.New("playlist not found (stream ended)")

// fetchPlaylist GETs the playlist; msn >= 0 asks for a blocking reload.
// A 503 is reported as (nil, nil): ask again.
func (c *hlsClient) fetchPlaylist(ctx context.Context, msn int64) (*playlist.Playlist, error) {
	u := *c.playlist
	if msn >= 0 {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += "_HLS_msn=" + strconv.FormatInt(msn, 10)
	}
	resp, err := c.get(ctx, u.String())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case err != nil:
		return nil, fmt.Errorf("playlist: %w", err)
	case resp.StatusCode == http.StatusServiceUnavailable:
		c.retries.Add(1)
		return nil, nil
	case resp.StatusCode == http.StatusNotFound:
		return nil, errHLSGone
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("playlist: HTTP %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return playlist.Parse(body)
}

func (c *hlsClient) get(ctx context.Context, rawURL string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	return c.client.Do(req)
}

// startViewers connects the run's viewers: WebSocket PULLs, or HLS viewers
// (then it returns their client; close it when the run ends).
func (r *run) startViewers(ctx context.Context, checker func() *Checker, expected int) (*hlsClient, error) {
	if !r.cfg.HLS {
		r.connectViewers(ctx, checker, expected)
		return nil, nil
	}
	c, err := newHLSClient(r.cfg)
	if err != nil {
		return nil, err
	}
	r.connectHLSViewers(ctx, c, checker, expected)
	return c, nil
}

// connectHLSViewers starts cfg.Viewers HLS viewers. They count as connected
// at once; each one's first playlist request waits for the first fragment.
func (r *run) connectHLSViewers(ctx context.Context, c *hlsClient, checker func() *Checker, expected int) {
	samples := max(maxLatencySamples/r.cfg.Viewers, 1000)
	for range r.cfg.Viewers {
		v := newViewer(nil, r.clock, checker(), expected, samples)
		vctx, cancel := context.WithCancel(ctx)
		v.stop = cancel
		r.viewers = append(r.viewers, v)
		go v.hlsLoop(vctx, c)
	}
	r.res.Connect = ConnectResult{Viewers: r.cfg.Viewers, Connected: r.cfg.Viewers}
	r.cfg.Logf("%d HLS viewers started (%s)", r.cfg.Viewers, c.playlist.Redacted())
}

// hlsLoop follows the playlist until the stream ends or ctx is done.
func (v *viewer) hlsLoop(ctx context.Context, c *hlsClient) {
	defer close(v.done)
	next := int64(-1) // before the first playlist
	for ctx.Err() == nil {
		pl, err := c.fetchPlaylist(ctx, next)
		if err != nil {
			v.hlsEnd(ctx, err, next >= 0 && errors.Is(err, errHLSGone))
			return
		}
		if pl == nil {
			// 503: the wait ended without the segment; ask again soon.
			_ = sleep(ctx, 50*time.Millisecond)
			continue
		}
		if next < 0 && len(pl.Entries) > 0 {
			next = int64(pl.Entries[len(pl.Entries)-1].Sequence) // start at the newest
		}
		if err := v.hlsSegments(ctx, c, pl, &next); err != nil {
			v.hlsEnd(ctx, err, false)
			return
		}
		if pl.EndList {
			v.gotClose = true
			return
		}
	}
}

// hlsSegments GETs every listed segment from next on.
func (v *viewer) hlsSegments(ctx context.Context, c *hlsClient, pl *playlist.Playlist, next *int64) error {
	for _, e := range pl.Entries {
		if int64(e.Sequence) < *next {
			continue
		}
		ref, err := url.Parse(e.URI)
		if err != nil {
			v.protoErrs++
			return fmt.Errorf("segment URI %q: %w", e.URI, err)
		}
		resp, err := c.get(ctx, c.playlist.ResolveReference(ref).String())
		if err != nil {
			return err
		}
		if resp.StatusCode == http.StatusOK {
			err = v.readFragment(resp.Body)
		} // else the segment left the window: counted as missing by the next one
		resp.Body.Close()
		if err != nil {
			return err
		}
		*next = int64(e.Sequence) + 1
	}
	return nil
}

// hlsEnd records why a viewer stopped: the stream ended (gone), the bench
// stopped it, or an error.
func (v *viewer) hlsEnd(ctx context.Context, err error, gone bool) {
	switch {
	case gone:
		v.gotClose = true
	case ctx.Err() != nil:
	default:
		v.readErr = err
	}
}
