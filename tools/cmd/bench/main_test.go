package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/token"
	"github.com/hlsrelay/hlsrelay/tools/internal/bench"
	"github.com/hlsrelay/hlsrelay/tools/internal/relaytest"
)

func TestUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{name: "help", args: []string{"-h"}, wantCode: exitOK, wantErr: "(default 250000)"},
		{name: "no url", args: nil, wantCode: exitUsage, wantErr: "-url is required"},
		{name: "bad scheme", args: []string{"-url", "http://127.0.0.1/"}, wantCode: exitUsage, wantErr: "scheme must be ws or wss"},
		{name: "zero viewers", args: []string{"-url", "ws://127.0.0.1:1/", "-viewers", "0"}, wantCode: exitUsage, wantErr: "viewers 0 is out of range"},
		{name: "tiny fragment", args: []string{"-url", "ws://127.0.0.1:1/", "-fragment-size", "10"}, wantCode: exitUsage, wantErr: "fragment size"},
		{name: "negative idle", args: []string{"-url", "ws://127.0.0.1:1/", "-idle", "-1"}, wantCode: exitUsage, wantErr: "negative"},
		{name: "bad fraction", args: []string{"-url", "ws://127.0.0.1:1/", "-min-delivered", "2"}, wantCode: exitUsage, wantErr: "-min-delivered"},
		{name: "stray argument", args: []string{"-url", "ws://127.0.0.1:1/", "x"}, wantCode: exitUsage, wantErr: "unexpected argument"},
		{name: "relay down", args: []string{"-url", "ws://127.0.0.1:1/", "-viewers", "1", "-quiet"}, wantCode: exitFailed, wantErr: "publisher: connect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			code := run(t.Context(), tt.args, func(string) string { return "" }, &out, &errOut)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr %q", code, tt.wantCode, errOut.String())
			}
			if !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stderr %q lacks %q", errOut.String(), tt.wantErr)
			}
		})
	}
}

// TestLoadJSONWithSecrets runs a short load against the test relay, which
// checks tokens signed from the secrets in the environment.
func TestLoadJSONWithSecrets(t *testing.T) {
	t.Parallel()
	relay := relaytest.New(t, relaytest.Options{Authorize: func(action, stream, auth string) error {
		secret := map[string]string{"PUSH": "push-s", "PULL": "pull-s"}[action]
		return token.Verify([]byte(secret), auth, token.Action(action), stream, time.Time{})
	}})
	env := map[string]string{"PUSH_SECRET": "push-s", "PULL_SECRET": "pull-s"}
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{
		"-url", relay.URL(), "-stream", "bench/cli", "-viewers", "2", "-fragment-size", "5000",
		"-rate", "40", "-duration", "500ms", "-warmup", "0", "-json", "-min-delivered", "1",
	}, func(k string) string { return env[k] }, &out, &errOut)
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut.String())
	}
	var res bench.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out.String())
	}
	if res.Mode != "load" || res.Load == nil || res.Load.FragmentsSent != 20 || res.Load.DeliveredFraction != 1 {
		t.Errorf("result %+v load %+v", res, res.Load)
	}
	if !strings.Contains(errOut.String(), "viewers connected") {
		t.Errorf("no progress on stderr: %q", errOut.String())
	}
}

func TestIdleTable(t *testing.T) {
	t.Parallel()
	relay := relaytest.New(t, relaytest.Options{})
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"-url", relay.URL(), "-idle", "20", "-settle", "50ms", "-quiet"},
		func(string) string { return "" }, &out, &errOut)
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut.String())
	}
	flat := strings.Join(strings.Fields(out.String()), " ")
	for _, want := range []string{"mode idle", "20 connected, 0 failed of 20", "20 alive", "bench RSS/viewer"} {
		if !strings.Contains(flat, want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	if errOut.Len() != 0 {
		t.Errorf("-quiet printed %q", errOut.String())
	}
}
