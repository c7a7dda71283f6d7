package host

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Benchmarks run the WAT fixture "good" and, if HLSRELAY_BENCH_JWTAUTH
// names a build of plugins/jwtauth, that Go guest with an HS256 token:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -ldflags='-s -w' -o /tmp/jwtauth.wasm ./plugins/jwtauth
//	HLSRELAY_BENCH_JWTAUTH=/tmp/jwtauth.wasm go test -run '^$' -bench . ./plugins/host
//
// Each runs on three runtimes: "instrument" (the host's interrupt checks,
// what the relay uses), "closeoncontextdone" (wazero's mechanism) and
// "nodeadline" (no enforcement, the floor), to measure what enforcing call
// deadlines costs.

type benchGuest struct {
	name   string
	wasm   []byte
	config string
	req    *Request
}

const benchSecret = "bench-secret"

func benchGuests(b *testing.B) []benchGuest {
	gs := []benchGuest{{name: "wat", wasm: fixture(b, "good"), config: "public/", req: pull("public/cam", "")}}
	if path := os.Getenv("HLSRELAY_BENCH_JWTAUTH"); path != "" {
		wasm, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		gs = append(gs, benchGuest{name: "jwtauth", wasm: wasm,
			config: "pull_secret=" + benchSecret + "&push_allowed=true",
			req:    pull("room1/cam", hs256Token("PULL:room1/cam", benchSecret, time.Now().Add(time.Hour)))})
	}
	return gs
}

// hs256Token makes the token of the documented scheme.
func hs256Token(sub, secret string, exp time.Time) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body := enc.EncodeToString([]byte(fmt.Sprintf(`{"sub":%q,"exp":%d}`, sub, exp.Unix())))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(head + "." + body))
	return head + "." + body + "." + enc.EncodeToString(mac.Sum(nil))
}

var benchRuntimes = sync.OnceValues(func() (map[string]*Runtime, error) {
	ctx := context.Background()
	on, err := NewRuntime(ctx, RuntimeConfig{})
	if err != nil {
		return nil, err
	}
	wz, err := NewRuntime(ctx, RuntimeConfig{deadlines: deadlineWazero})
	if err != nil {
		return nil, err
	}
	off, err := NewRuntime(ctx, RuntimeConfig{deadlines: deadlineNone})
	return map[string]*Runtime{"instrument": on, "closeoncontextdone": wz, "nodeadline": off}, err
})

// forEach runs fn for every guest on both runtimes.
func forEach(b *testing.B, cfg PluginConfig, fn func(b *testing.B, p *Plugin, g benchGuest)) {
	rts, err := benchRuntimes()
	if err != nil {
		b.Fatal(err)
	}
	for _, g := range benchGuests(b) {
		for _, mode := range []string{"instrument", "closeoncontextdone", "nodeadline"} {
			b.Run(g.name+"/"+mode, func(b *testing.B) {
				c := cfg
				c.Name, c.Wasm, c.Config, c.Role = g.name, g.wasm, []byte(g.config), RoleAuthorize
				c.CallTimeout = time.Second // measure stalls of a shared machine, do not fail on them
				p, err := rts[mode].Load(context.Background(), c)
				if err != nil {
					b.Fatal(err)
				}
				defer p.Close(context.Background())
				d, err := p.Authorize(context.Background(), g.req)
				if err != nil || !d.Allowed {
					b.Fatalf("benchmark request not allowed: %+v %v", d, err)
				}
				fn(b, p, g)
			})
		}
	}
}

func BenchmarkAuthorize(b *testing.B) {
	forEach(b, PluginConfig{}, func(b *testing.B, p *Plugin, g benchGuest) {
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Authorize(ctx, g.req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAuthorizeParallel(b *testing.B) {
	forEach(b, PluginConfig{PoolSize: runtime.GOMAXPROCS(0)}, func(b *testing.B, p *Plugin, g benchGuest) {
		ctx := context.Background()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := p.Authorize(ctx, g.req); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkAuthorizeCached(b *testing.B) {
	p := load(b, testRuntime(b), "good", PluginConfig{Config: []byte("public/"), MaxCacheTTL: time.Minute})
	ctx := context.Background()
	req := pull("public/cam", "")
	b.ReportAllocs()
	for b.Loop() {
		if d, err := p.Authorize(ctx, req); err != nil || !d.Allowed {
			b.Fatal(d, err)
		}
	}
}

// BenchmarkLatency reports the p50 and p99 of single calls, one at a time.
func BenchmarkLatency(b *testing.B) {
	forEach(b, PluginConfig{}, func(b *testing.B, p *Plugin, g benchGuest) {
		ctx := context.Background()
		lat := make([]time.Duration, 0, 1<<16)
		for b.Loop() {
			start := time.Now()
			if _, err := p.Authorize(ctx, g.req); err != nil {
				b.Fatal(err)
			}
			if len(lat) < cap(lat) {
				lat = append(lat, time.Since(start))
			}
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
		b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	})
}

// BenchmarkInstance measures creating an instance (ns/op) and the memory an
// idle instance holds (heap-B/instance: Go heap, which includes the guest's
// linear memory; rss-B/instance: resident set, compiled code excluded as it
// is shared).
func BenchmarkInstance(b *testing.B) {
	forEach(b, PluginConfig{PoolSize: 64}, func(b *testing.B, p *Plugin, g benchGuest) {
		ctx := context.Background()
		const n = 32
		heap0, rss0 := memNow()
		held := make([]*instance, 0, n)
		for range n {
			p.slots <- struct{}{}
			in, err := p.newInstance(ctx)
			if err != nil {
				b.Fatal(err)
			}
			held = append(held, in)
		}
		heap1, rss1 := memNow()
		for _, in := range held {
			p.discard(ctx, in)
		}
		for b.Loop() {
			p.slots <- struct{}{}
			in, err := p.newInstance(ctx)
			if err != nil {
				b.Fatal(err)
			}
			p.discard(ctx, in)
		}
		b.ReportMetric(float64(heap1-heap0)/n, "heap-B/instance")
		b.ReportMetric(float64(rss1-rss0)/n, "rss-B/instance")
	})
}

func memNow() (heap, rss int64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	statm, _ := os.ReadFile("/proc/self/statm")
	if f := strings.Fields(string(statm)); len(f) > 1 {
		pages, _ := strconv.ParseInt(f[1], 10, 64)
		rss = pages * int64(os.Getpagesize())
	}
	return int64(ms.HeapAlloc), rss
}

// BenchmarkLoad measures Load in a new Runtime (as at process start): cold
// compiles every time, cached reads the on-disk compilation cache.
func BenchmarkLoad(b *testing.B) {
	for _, g := range benchGuests(b) {
		for _, mode := range []string{"cold", "cached"} {
			b.Run(g.name+"/"+mode, func(b *testing.B) {
				ctx := context.Background()
				dir := ""
				if mode == "cached" {
					dir = b.TempDir()
					loadOnce(b, ctx, dir, g)
				}
				for b.Loop() {
					loadOnce(b, ctx, dir, g)
				}
			})
		}
	}
}

func loadOnce(b *testing.B, ctx context.Context, dir string, g benchGuest) {
	r, err := NewRuntime(ctx, RuntimeConfig{CacheDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	p, err := r.Load(ctx, PluginConfig{Name: g.name, Wasm: g.wasm, Config: []byte(g.config), Role: RoleAuthorize})
	if err != nil {
		b.Fatal(err)
	}
	_ = p.Close(ctx)
	_ = r.Close(ctx)
}
