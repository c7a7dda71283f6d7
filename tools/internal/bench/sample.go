package bench

import (
	"bufio"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hlsrelay/hlsrelay/tools/internal/procstat"
)

// sample records the relay's RSS and goroutines every SampleEvery until the
// returned stop is called (more than once is fine).
func (r *run) sample(start time.Time) (stop func()) {
	if r.cfg.SampleEvery <= 0 || r.res.Server == nil && r.cfg.MetricsURL == "" {
		return func() {}
	}
	if r.res.Server == nil {
		r.res.Server = &ServerResult{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	samples := []Sample{}
	wg.Go(func() {
		t := time.NewTicker(r.cfg.SampleEvery)
		defer t.Stop()
		for {
			s := r.readSample(ctx, start)
			mu.Lock()
			samples = append(samples, s)
			mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			wg.Wait()
			r.res.Server.Samples = append(samples, r.readSample(context.Background(), start))
		})
	}
}

func (r *run) readSample(ctx context.Context, start time.Time) Sample {
	s := Sample{Seconds: time.Since(start).Seconds(), Goroutines: -1}
	if r.cfg.PID > 0 {
		s.RSSBytes, _ = procstat.RSS(r.cfg.PID)
	}
	if r.cfg.MetricsURL != "" {
		if n, err := scrapeGoroutines(ctx, r.cfg.MetricsURL); err == nil {
			s.Goroutines = n
		}
	}
	return s
}

// scrapeGoroutines reads go_goroutines from a Prometheus text endpoint.
func scrapeGoroutines(ctx context.Context, url string) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int64(f), err
		}
	}
	return 0, errNoGoroutines
}

var errNoGoroutines = errors.New("go_goroutines not found")
