package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/publisher"
	"github.com/hlsrelay/hlsrelay/sdk-go/token"
	"github.com/hlsrelay/hlsrelay/tools/internal/leaktest"
	"github.com/hlsrelay/hlsrelay/tools/internal/playlist"
	"github.com/hlsrelay/hlsrelay/tools/internal/relaytest"
	"github.com/hlsrelay/hlsrelay/tools/internal/sample"
)

func TestMain(m *testing.M) {
	os.Exit(leaktest.Main(m))
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func runPull(ctx context.Context, env map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errOut syncBuffer
	code = run(ctx, args, func(k string) string { return env[k] }, &out, &errOut, false)
	return code, out.String(), errOut.String()
}

func TestUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{name: "help", args: []string{"-h"}, wantCode: exitOK, wantErr: "(default 1s)"},
		{name: "no url", args: []string{"-stream", "s"}, wantCode: exitUsage, wantErr: "-url is required"},
		{name: "no stream", args: []string{"-url", "ws://127.0.0.1:1/"}, wantCode: exitUsage, wantErr: "-stream is required"},
		{name: "bad url", args: []string{"-url", "http://x/", "-stream", "s"}, wantCode: exitUsage, wantErr: "ws"},
		{name: "negative count", args: []string{"-url", "ws://127.0.0.1:1/", "-stream", "s", "-count", "-1"}, wantCode: exitUsage, wantErr: "-count"},
		{name: "bad max-initial", args: []string{"-url", "ws://127.0.0.1:1/", "-stream", "s", "-max-initial", "-2"}, wantCode: exitUsage, wantErr: "-max-initial"},
		{name: "stray argument", args: []string{"-url", "ws://127.0.0.1:1/", "-stream", "s", "x"}, wantCode: exitUsage, wantErr: "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, errOut := runPull(t.Context(), nil, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, errOut)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, errOut)
			}
		})
	}
}

// publish starts a publisher on the test relay and sends the sample's
// segments; the caller closes it.
func publish(t *testing.T, relay *relaytest.Server, stream string, n int) *publisher.Publisher {
	t.Helper()
	pub, err := publisher.New(publisher.Options{URL: relay.URL(), Stream: stream, QueueLength: 20})
	if err != nil {
		t.Fatal(err)
	}
	segs := sample.Segments()
	for i := range n {
		s := segs[i%len(segs)]
		if err := pub.Send(t.Context(), publisher.Fragment{Duration: s.Duration, Data: s.Data}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := relay.WaitFragments(ctx, stream, n); err != nil {
		t.Fatal(err)
	}
	return pub
}

func TestSaveUntilEnd(t *testing.T) {
	t.Parallel()
	relay := relaytest.New(t, relaytest.Options{})
	pub := publish(t, relay, "room1/rec", 3)
	dir := filepath.Join(t.TempDir(), "rec")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()

	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errOut := runPull(ctx, nil, "-url", relay.URL(), "-stream", "room1/rec", "-out", dir, "-json")
		done <- result{code, out, errOut}
	}()
	// The viewer gets the 3 buffered fragments; then the stream ends.
	if err := relay.Wait(ctx, func(*relaytest.Server) bool { return relay.Viewers("room1/rec") == 1 }); err != nil {
		t.Fatal(err)
	}
	if err := pub.Close(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	var lines []line
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	for {
		var l line
		if err := dec.Decode(&l); err != nil {
			break
		}
		lines = append(lines, l)
	}
	if len(lines) != 3 {
		t.Fatalf("printed %d fragments, want 3:\n%s", len(lines), r.stdout)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "live.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := playlist.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Entries) != 3 || !p.EndList {
		t.Fatalf("playlist %+v", p)
	}
	segs := sample.Segments()
	for i, e := range p.Entries {
		data, err := os.ReadFile(filepath.Join(dir, e.URI))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, segs[i].Data) || e.Duration != segs[i].Duration || lines[i].File != e.URI {
			t.Errorf("segment %d (%s) differs from %s", i, e.URI, segs[i].Name)
		}
	}
	if !strings.Contains(r.stderr, "the stream ended") {
		t.Errorf("stderr lacks the end:\n%s", r.stderr)
	}
}

func TestCount(t *testing.T) {
	t.Parallel()
	relay := relaytest.New(t, relaytest.Options{})
	pub := publish(t, relay, "room1/count", 4)
	defer pub.Close(context.Background())
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	code, out, errOut := runPull(ctx, nil, "-url", relay.URL(), "-stream", "room1/count", "-count", "2")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	if n := strings.Count(out, "\n"); n != 2 {
		t.Errorf("printed %d lines, want 2:\n%s", n, out)
	}
	if !strings.Contains(out, "bytes=47564") {
		t.Errorf("first line does not describe the first sample segment:\n%s", out)
	}
}

func TestRefused(t *testing.T) {
	t.Parallel()
	relay := relaytest.New(t, relaytest.Options{Authorize: func(action, stream, auth string) error {
		if err := token.Verify([]byte("right"), auth, token.Action(action), stream, time.Time{}); err != nil {
			return errors.New("invalid token")
		}
		return nil
	}})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	code, _, errOut := runPull(ctx, map[string]string{"PULL_SECRET": "wrong"}, "-url", relay.URL(), "-stream", "room1/x")
	if code != exitFailed || !strings.Contains(errOut, "AUTH_ERROR") {
		t.Errorf("exit %d; stderr:\n%s", code, errOut)
	}
}
