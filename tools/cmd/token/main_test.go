package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/hlsrelay/hlsrelay/sdk-go/token"
)

func runCmd(t *testing.T, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestSign(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte("file-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		env        map[string]string
		args       []string
		wantSecret string
		wantAction token.Action
	}{
		{name: "flag secret", args: []string{"-action", "PULL", "-stream", "room1/cam", "-secret", "s1"}, wantSecret: "s1", wantAction: token.Pull},
		{name: "lower-case action", args: []string{"-action", "push", "-stream", "room1/cam", "-secret", "s1"}, wantSecret: "s1", wantAction: token.Push},
		{name: "PULL_SECRET", env: map[string]string{"PULL_SECRET": "pull-env", "PUSH_SECRET": "push-env"}, args: []string{"-stream", "room1/cam"}, wantSecret: "pull-env", wantAction: token.Pull},
		{name: "PUSH_SECRET", env: map[string]string{"PULL_SECRET": "pull-env", "PUSH_SECRET": "push-env"}, args: []string{"-action", "PUSH", "-stream", "room1/cam"}, wantSecret: "push-env", wantAction: token.Push},
		{name: "flag beats env", env: map[string]string{"PULL_SECRET": "pull-env"}, args: []string{"-stream", "room1/cam", "-secret", "s2"}, wantSecret: "s2", wantAction: token.Pull},
		{name: "secret file", args: []string{"-stream", "room1/cam", "-secret-file", secretFile}, wantSecret: "file-secret", wantAction: token.Pull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCmd(t, tt.env, "", append(tt.args, "-ttl", "10m")...)
			if code != exitOK {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			tok := strings.TrimSpace(out)
			if err := token.Verify([]byte(tt.wantSecret), tok, tt.wantAction, "room1/cam", time.Time{}); err != nil {
				t.Fatalf("printed token does not verify: %v", err)
			}
			var claims jwt.RegisteredClaims
			if _, _, err := jwt.NewParser().ParseUnverified(tok, &claims); err != nil {
				t.Fatal(err)
			}
			if left := time.Until(claims.ExpiresAt.Time); left < 9*time.Minute || left > 11*time.Minute {
				t.Errorf("expires in %v, want about 10m", left)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	good, err := token.Sign([]byte("s"), token.Pull, "room1/cam", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Subject:   "PULL:room1/cam",
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(-time.Minute)),
	}).SignedString([]byte("s"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		wantOut  string
	}{
		{name: "valid", args: []string{"-verify", good, "-stream", "room1/cam", "-secret", "s"}, wantCode: exitOK, wantOut: "valid: PULL:room1/cam, expires "},
		{name: "from stdin", args: []string{"-verify", "-", "-stream", "room1/cam", "-secret", "s"}, stdin: good + "\n", wantCode: exitOK, wantOut: "valid:"},
		{name: "wrong secret", args: []string{"-verify", good, "-stream", "room1/cam", "-secret", "x"}, wantCode: exitInvalid, wantOut: "invalid: token signature is invalid"},
		{name: "wrong stream", args: []string{"-verify", good, "-stream", "room1/other", "-secret", "s"}, wantCode: exitInvalid, wantOut: "invalid: token is for another action or stream"},
		{name: "wrong action", args: []string{"-verify", good, "-action", "PUSH", "-stream", "room1/cam", "-secret", "s"}, wantCode: exitInvalid, wantOut: "another action or stream"},
		{name: "expired", args: []string{"-verify", expired, "-stream", "room1/cam", "-secret", "s"}, wantCode: exitInvalid, wantOut: "invalid: token has expired"},
		{name: "garbage", args: []string{"-verify", "abc", "-stream", "room1/cam", "-secret", "s"}, wantCode: exitInvalid, wantOut: "invalid: token is malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCmd(t, nil, tt.stdin, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tt.wantCode, out, errOut)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("stdout %q lacks %q", out, tt.wantOut)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		wantErr string
	}{
		{name: "no stream", args: []string{"-secret", "s"}, wantErr: "-stream is required"},
		{name: "bad action", args: []string{"-action", "PEEK", "-stream", "a", "-secret", "s"}, wantErr: "want PUSH or PULL"},
		{name: "no secret", env: map[string]string{"PUSH_SECRET": "p"}, args: []string{"-stream", "a"}, wantErr: "set PULL_SECRET"},
		{name: "both secrets", args: []string{"-stream", "a", "-secret", "s", "-secret-file", "f"}, wantErr: "not both"},
		{name: "missing secret file", args: []string{"-stream", "a", "-secret-file", "/nonexistent/secret"}, wantErr: "-secret-file"},
		{name: "bad ttl", args: []string{"-stream", "a", "-secret", "s", "-ttl", "-1h"}, wantErr: "not positive"},
		{name: "stray argument", args: []string{"-stream", "a", "-secret", "s", "extra"}, wantErr: "unexpected argument"},
		{name: "unknown flag", args: []string{"-nope"}, wantErr: "flag provided but not defined"},
		{name: "bad stream", args: []string{"-stream", strings.Repeat("x", 300), "-secret", "s"}, wantErr: "255"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := runCmd(t, tt.env, "", tt.args...)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, exitUsage, out, errOut)
			}
			if out != "" {
				t.Errorf("printed %q on a usage error", out)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr %q lacks %q", errOut, tt.wantErr)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	code, _, errOut := runCmd(t, nil, "", "-h")
	if code != exitOK {
		t.Errorf("-h exit %d", code)
	}
	for _, want := range []string{"PULL_SECRET", "-ttl", "(default 1h0m0s)", "Exit status"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}
