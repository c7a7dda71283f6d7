package relay

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// certReloader serves the TLS certificate and reloads it when its files
// change (checked every TLS_CHECK_RELOAD_SECONDS), without a restart. A
// failed reload keeps the previous certificate and logs why.
type certReloader struct {
	certFile, keyFile string
	interval          time.Duration
	log               zerolog.Logger

	mu      sync.RWMutex
	cert    *tls.Certificate
	modTime time.Time

	failedMod time.Time // files of this time failed to load (run only)
}

func newCertReloader(certFile, keyFile string, interval time.Duration, log zerolog.Logger) (*certReloader, error) {
	c := &certReloader{certFile: certFile, keyFile: keyFile, interval: interval, log: log}
	if err := c.load(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *certReloader) load() error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate (TLS_CERTIFICATE %s, TLS_PRIVATE_KEY %s): %w", c.certFile, c.keyFile, err)
	}
	mod := c.latestModTime()
	c.mu.Lock()
	c.cert, c.modTime = &cert, mod
	c.mu.Unlock()
	return nil
}

func (c *certReloader) latestModTime() time.Time {
	var latest time.Time
	for _, f := range []string{c.certFile, c.keyFile} {
		if st, err := os.Stat(f); err == nil && st.ModTime().After(latest) {
			latest = st.ModTime()
		}
	}
	return latest
}

func (c *certReloader) certificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.cert, nil
}

func (c *certReloader) run(ctx context.Context) {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.mu.RLock()
			known := c.modTime
			c.mu.RUnlock()
			if !c.latestModTime().After(known) {
				continue
			}
			if err := c.load(); err != nil {
				// Tried again at every check (a renewal may be half
				// written), but said once per change of the files.
				ev := c.log.Debug()
				if mod := c.latestModTime(); !mod.Equal(c.failedMod) {
					ev, c.failedMod = c.log.Error(), mod
				}
				ev.Err(err).Msg("TLS certificate reload failed; keeping the previous certificate")
				continue
			}
			c.log.Info().Str("certificate", c.certFile).Msg("TLS certificate reloaded")
		}
	}
}
