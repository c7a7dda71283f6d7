package relay

import (
	"context"
	"os"
	"strconv"
	"time"
)

// watchPluginFiles reloads the policy plugins when one of the plugin files
// the configuration names changes (size or modification time), checking
// every interval. A failed reload keeps the running plugins and is retried
// only after the next change.
func (r *Relay) watchPluginFiles(ctx context.Context, interval time.Duration) {
	files := make([]string, 0, 2)
	for _, f := range []string{r.cfg.Plugins.AuthFile, r.cfg.Plugins.RouteFile} {
		if f != "" {
			files = append(files, f)
		}
	}
	if len(files) == 0 || interval <= 0 || r.plugins == nil {
		return
	}
	last := fileStamps(files)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := fileStamps(files)
		if now == last {
			continue
		}
		last = now
		started := time.Now()
		if err := r.plugins.Reload(ctx); err != nil {
			r.log.Error().Err(err).Msg("a plugin file changed but does not load; the previous plugins keep serving")
			continue
		}
		r.log.Info().Dur("took", time.Since(started)).Msg("policy plugins reloaded (file changed)")
	}
}

// fileStamps summarises the files' sizes and modification times.
func fileStamps(files []string) string {
	var b []byte
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			b = append(b, "missing;"...)
			continue
		}
		b = append(b, st.ModTime().Format(time.RFC3339Nano)...)
		b = append(b, '/')
		b = strconv.AppendInt(b, st.Size(), 10)
		b = append(b, ';')
	}
	return string(b)
}
