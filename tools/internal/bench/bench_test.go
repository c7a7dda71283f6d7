package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/tools/internal/relaytest"
)

func quickLoad(url string) Config {
	return Config{
		URL:          url,
		Stream:       "bench/test",
		Viewers:      3,
		FragmentSize: 10_000,
		Rate:         50,
		Duration:     time.Second,
		Warmup:       100 * time.Millisecond,
		Drain:        3 * time.Second,
		PID:          os.Getpid(),
	}
}

func TestRunLoad(t *testing.T) {
	t.Parallel()
	relay := relaytest.New(t, relaytest.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	res, err := RunLoad(ctx, quickLoad(relay.URL()))
	if err != nil {
		t.Fatal(err)
	}
	l := res.Load
	if l == nil {
		t.Fatal("no load result")
	}
	if l.FragmentsSent != 50 {
		t.Errorf("sent %d measured fragments, want 50", l.FragmentsSent)
	}
	if l.FragmentsExpected != 150 || l.FragmentsReceived != 150 || l.DeliveredFraction != 1 {
		t.Errorf("delivered %d of %d (%.3f), want 150 of 150", l.FragmentsReceived, l.FragmentsExpected, l.DeliveredFraction)
	}
	if l.LatencyMS.Samples != 150 || l.LatencyMS.Max <= 0 || l.LatencyMS.P50 > l.LatencyMS.P99 {
		t.Errorf("latency %+v", l.LatencyMS)
	}
	if l.Corrupt+l.Foreign+l.OutOfOrder+l.Missing+l.ProtocolErrors != 0 {
		t.Errorf("integrity errors: %+v", l)
	}
	if l.EndedCleanly != 3 || l.Disconnected != 0 {
		t.Errorf("%d viewers got CLOSE, %d disconnected; want 3, 0", l.EndedCleanly, l.Disconnected)
	}
	if l.BytesDelivered != 150*10_000 || l.MBPerSecond <= 0 {
		t.Errorf("bytes %d, %.3f MB/s", l.BytesDelivered, l.MBPerSecond)
	}
	if res.Server == nil || res.Server.RSSBeforeBytes <= 0 || res.Server.BytesInCPUWindow <= 0 {
		t.Errorf("server readings %+v", res.Server)
	}
	// Late sends depend on the machine's load while the tests run in
	// parallel; every other problem is a failure.
	for _, p := range res.Problems {
		if !strings.Contains(p, "late") {
			t.Errorf("problem: %s", p)
		}
	}
	if !relay.ClosedByPublisher("bench/test") {
		t.Error("the publisher did not send CLOSE")
	}
	var table bytes.Buffer
	if err := WriteTable(&table, res); err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(table.String()), " ")
	for _, want := range []string{"delivered 1.0000 (150 of 150)", "latency ms p50", "integrity 0 out of order"} {
		if !strings.Contains(flat, want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	raw, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(`"delivered_fraction":1`)) {
		t.Errorf("JSON lacks delivered_fraction: %s", raw)
	}
}

func TestRunLoadDetectsDamage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tamper func(n int, data []byte) []byte
		check  func(t *testing.T, l *LoadResult)
	}{
		{
			name: "flipped byte",
			tamper: func(n int, data []byte) []byte {
				if n%7 != 3 {
					return data
				}
				c := bytes.Clone(data)
				c[len(c)/2] ^= 0xff
				return c
			},
			check: func(t *testing.T, l *LoadResult) {
				if l.Corrupt == 0 {
					t.Error("no corrupt fragment counted")
				}
			},
		},
		{
			name: "truncated",
			tamper: func(n int, data []byte) []byte {
				if n%5 != 1 {
					return data
				}
				return data[:len(data)-1]
			},
			check: func(t *testing.T, l *LoadResult) {
				if l.Corrupt == 0 {
					t.Error("no corrupt fragment counted")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			relay := relaytest.New(t, relaytest.Options{Tamper: tt.tamper})
			res, err := RunLoad(t.Context(), quickLoad(relay.URL()))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, res.Load)
			if res.Load.DeliveredFraction >= 1 {
				t.Errorf("delivered fraction %.3f despite damage", res.Load.DeliveredFraction)
			}
			if len(res.Problems) == 0 {
				t.Error("no problem reported")
			}
		})
	}
}

func TestRunLoadAuth(t *testing.T) {
	t.Parallel()
	relay := relaytest.New(t, relaytest.Options{Authorize: func(action, stream, auth string) error {
		if auth != action+"-ok" {
			return errors.New("bad token")
		}
		return nil
	}})
	cfg := quickLoad(relay.URL())
	cfg.Duration = 200 * time.Millisecond

	cfg.PushAuth = "wrong"
	if _, err := RunLoad(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "AUTH_ERROR") {
		t.Errorf("bad push token: err = %v, want an AUTH_ERROR", err)
	}

	cfg.PushAuth, cfg.PullAuth = "PUSH-ok", "wrong"
	if _, err := RunLoad(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "no viewer could connect") {
		t.Errorf("bad pull token: err = %v", err)
	}

	cfg.PullAuth = "PULL-ok"
	res, err := RunLoad(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Connect.Connected != 3 || res.Load.DeliveredFraction != 1 {
		t.Errorf("connected %d, delivered %.3f", res.Connect.Connected, res.Load.DeliveredFraction)
	}
}

func TestRunIdle(t *testing.T) {
	t.Parallel()
	relay := relaytest.New(t, relaytest.Options{})
	res, err := RunIdle(t.Context(), Config{
		URL:     relay.URL(),
		Stream:  "bench/idle",
		Viewers: 50,
		Settle:  100 * time.Millisecond,
		PID:     os.Getpid(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Idle == nil || res.Idle.Alive != 50 || res.Connect.Connected != 50 {
		t.Fatalf("idle %+v connect %+v", res.Idle, res.Connect)
	}
	if res.Server == nil || res.Server.RSSAfterBytes <= 0 {
		t.Errorf("server %+v", res.Server)
	}
	if len(res.Problems) != 0 {
		t.Errorf("problems: %q", res.Problems)
	}
}

func TestRunIdleWithoutPublisher(t *testing.T) {
	t.Parallel()
	relay := relaytest.New(t, relaytest.Options{})
	res, err := RunIdle(t.Context(), Config{
		URL: relay.URL(), Stream: "bench/none", Viewers: 5, Settle: 50 * time.Millisecond, NoPublisher: true,
	})
	// The relay answers OK then CLOSE for an unknown stream: either the
	// connection fails, or the viewers end at once; both must be reported.
	if err == nil && len(res.Problems) == 0 {
		t.Error("idle viewers of an unpublished stream: no error and no problem reported")
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	base := func() Config {
		return Config{URL: "ws://127.0.0.1:1/", Stream: "s", Viewers: 1}
	}
	tests := []struct {
		name   string
		change func(*Config)
		ok     bool
	}{
		{name: "defaults", change: func(*Config) {}, ok: true},
		{name: "http URL", change: func(c *Config) { c.URL = "http://127.0.0.1/" }},
		{name: "no host", change: func(c *Config) { c.URL = "ws:///x" }},
		{name: "empty stream", change: func(c *Config) { c.Stream = "" }},
		{name: "zero viewers", change: func(c *Config) { c.Viewers = 0 }},
		{name: "too many viewers", change: func(c *Config) { c.Viewers = MaxViewers + 1 }},
		{name: "tiny fragment", change: func(c *Config) { c.FragmentSize = 8 }},
		{name: "huge fragment", change: func(c *Config) { c.FragmentSize = MaxFragmentSize + 1 }},
		{name: "negative rate", change: func(c *Config) { c.Rate = -1 }},
		{name: "rate too high", change: func(c *Config) { c.Rate = MaxRate + 1 }},
		{name: "endless", change: func(c *Config) { c.Duration = MaxDuration + time.Second }},
		{name: "negative pid", change: func(c *Config) { c.PID = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := base()
			tt.change(&c)
			c.setDefaults()
			err := c.validate()
			if (err == nil) != tt.ok {
				t.Fatalf("validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrConfig) {
				t.Errorf("error %v does not wrap ErrConfig", err)
			}
		})
	}
}

func TestPercentiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []uint32
		want Percentiles
	}{
		{name: "empty", in: nil, want: Percentiles{}},
		{name: "one", in: []uint32{1500}, want: Percentiles{Samples: 1, P50: 1.5, P90: 1.5, P99: 1.5, Max: 1.5, Mean: 1.5}},
		{
			name: "hundred",
			in: func() []uint32 {
				var s []uint32
				for i := 100; i >= 1; i-- {
					s = append(s, uint32(i*1000))
				}
				return s
			}(),
			want: Percentiles{Samples: 100, P50: 50, P90: 90, P99: 99, Max: 100, Mean: 50.5},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := percentiles(tt.in); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestIsType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		msg, typ string
		want     bool
	}{
		{"F:duration=1", "F", true},
		{"f:duration=1", "F", true},
		{"F", "F", true},
		{"FOO", "F", false},
		{"H", "H", true},
		{"CLOSE", "CLOSE", true},
		{"close", "CLOSE", true},
		{"CLOS", "CLOSE", false},
		{"E:code=X", "E", true},
		{"", "H", false},
	}
	for _, tt := range tests {
		t.Run(tt.msg+"/"+tt.typ, func(t *testing.T) {
			t.Parallel()
			if got := isType([]byte(tt.msg), tt.typ); got != tt.want {
				t.Errorf("isType(%q, %q) = %v", tt.msg, tt.typ, got)
			}
		})
	}
}
