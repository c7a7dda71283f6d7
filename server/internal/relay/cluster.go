package relay

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"

	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/config"
	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/metrics"
	"github.com/hlsrelay/hlsrelay/server/internal/registry"
)

// newRegistry connects the publish registry if it is enabled (nil
// otherwise). Nothing is asked of Redis yet, so a node starts while Redis
// is down.
func newRegistry(c config.RegistryConfig, m *metrics.Metrics, log zerolog.Logger) (*registry.Registry, error) {
	if !c.Enabled {
		return nil, nil
	}
	rc := registry.Config{
		MasterName:      c.MasterName,
		RefreshInterval: c.RefreshInterval,
		TTL:             c.EntryTTL(),
		NodeTTL:         c.NodeTTL,
		Metrics:         m,
	}
	switch {
	case c.URL != "":
		if err := rc.ApplyURL(c.URL); err != nil {
			return nil, fmt.Errorf("PUB_REG_REDIS_URL: %w", err)
		}
	case c.Addresses != "":
		rc.Addrs, rc.Password, rc.UseTLS = c.AddressList(), c.Password, c.UseTLS
	default:
		rc.Addrs, rc.Password, rc.UseTLS = []string{c.Addr()}, c.Password, c.UseTLS
	}
	return registry.New(rc, log)
}

// announcer claims the streams published on this node in the registry.
type announcer struct {
	reg *registry.Registry
	hub *hub.Hub
	url string // this node's external URL
	log zerolog.Logger
	// draining reports that the node drains: its entries are withdrawn,
	// and nothing is claimed or marked any more.
	draining func() bool
}

func (a *announcer) Claim(ctx context.Context, stream string) error {
	if a.draining() {
		return &protocol.Error{Code: protocol.CodeUnavailable, Message: "this node is shutting down; publish to another node"}
	}
	err := a.reg.Claim(ctx, stream, a.url)
	var claimed *registry.ClaimedError
	if errors.As(err, &claimed) {
		return &protocol.Error{Code: protocol.CodeStreamBusy,
			Message: "stream " + stream + " is being published on another node (" + claimed.Owner + ")"}
	}
	return err
}

func (a *announcer) Idle(stream string) {
	if a.draining() {
		return // withdrawn by the drain
	}
	if err := a.reg.MarkIdle(context.Background(), stream, a.url); err != nil {
		a.log.Warn().Err(err).Str("stream", stream).Msg("cannot mark the stream idle in the registry")
	}
}

// Withdraw removes the entry of an ended stream, unless a new instance of
// it started here meanwhile.
func (a *announcer) Withdraw(stream string) {
	if a.hub.Stream(stream) != nil || !a.reg.Claimed(stream, a.url) {
		return
	}
	if err := a.reg.Withdraw(context.Background(), stream, a.url); err != nil {
		a.log.Warn().Err(err).Str("stream", stream).Msg("registry entry not withdrawn; it lapses after its TTL")
	}
}

// pluginRegistry answers the plugins' registry_lookup.
type pluginRegistry struct{ reg *registry.Registry }

func (p pluginRegistry) Lookup(ctx context.Context, key string) ([]byte, bool, error) {
	return p.reg.Get(ctx, key)
}

// newInstanceID names this process in the Via header of its upstream
// pulls: random, so that two nodes on one host never look alike.
func newInstanceID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// externalURL is the URL other nodes reach this one at: the configured one,
// or one made of this host's address and the listener's port (plain HTTP
// preferred, since TLS needs a name that matches the certificate).
func externalURL(cfg config.Config) (u string, detected bool, err error) {
	if cfg.Server.ExternalURL != "" {
		return cfg.Server.ExternalURL, false, nil
	}
	scheme, bind, port := "ws", cfg.HTTP.BindAddress, cfg.HTTP.Port
	if !cfg.HTTP.Enabled {
		scheme, bind, port = "wss", cfg.TLS.BindAddress, cfg.TLS.Port
	}
	if port == 0 {
		return "", false, errors.New("EXTERNAL_WEBSOCKET_URL must be set when the port is chosen by the system (0)")
	}
	host := bind
	if ip := net.ParseIP(bind); bind == "" || ip != nil && ip.IsUnspecified() {
		host = hostAddress(scheme == "wss")
	}
	v := url.URL{Scheme: scheme, Host: net.JoinHostPort(host, strconv.Itoa(port)), Path: cfg.Server.WebSocketPath}
	return v.String(), true, nil
}

// hostAddress is the first global unicast address of this host (IPv4
// first), or its name when TLS wants a name or no address is found.
func hostAddress(preferName bool) string {
	name, _ := os.Hostname()
	if preferName && name != "" {
		return name
	}
	addrs, _ := net.InterfaceAddrs()
	var v6 string
	for _, a := range addrs {
		ipnet, ok := a.(*net.IPNet)
		if !ok || !ipnet.IP.IsGlobalUnicast() {
			continue
		}
		if ipnet.IP.To4() != nil {
			return ipnet.IP.String()
		}
		if v6 == "" {
			v6 = ipnet.IP.String()
		}
	}
	switch {
	case v6 != "":
		return v6
	case name != "":
		return name
	}
	return "127.0.0.1"
}
