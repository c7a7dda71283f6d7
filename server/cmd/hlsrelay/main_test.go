package main

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// buildRelay builds the hlsrelay binary once per test binary run.
func buildRelay(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hlsrelay")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestBinary(t *testing.T) {
	t.Parallel()
	bin := buildRelay(t)

	t.Run("help lists settings with their variables", func(t *testing.T) {
		t.Parallel()
		out, err := exec.Command(bin, "--help").CombinedOutput()
		if err != nil {
			t.Fatalf("--help: %v\n%s", err, out)
		}
		for _, want := range []string{"--http-port", "HTTP_PORT", "--pull-secret", "PUBLISHER_GRACE_SECONDS"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("--help does not mention %s", want)
			}
		}
	})

	t.Run("bad value names the setting and the value", func(t *testing.T) {
		t.Parallel()
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "HTTP_PORT=80x")
		cmd.Dir = t.TempDir()
		out, err := cmd.CombinedOutput()
		if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 2 {
			t.Fatalf("exit: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "HTTP_PORT") || !strings.Contains(string(out), "80x") {
			t.Fatalf("the error does not name the setting and value:\n%s", out)
		}
	})

	t.Run("serves with settings from .env and environment", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		port := freePort(t)
		env := "HTTP_BIND_ADDRESS=127.0.0.1\nHTTP_PORT=" + strconv.Itoa(port) + "\nWEBSOCKET_PREFIX=/ws\nPULL_SECRET=from-dotenv\n"
		if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(env), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		cmd := exec.CommandContext(ctx, bin)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PUSH_SECRET=from-env", "LOG_FORMAT=json", "PLUGIN_CACHE_DIR="+filepath.Join(dir, "cache"))
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
		logs := make(chan string, 100)
		go func() {
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				logs <- sc.Text()
			}
			close(logs)
		}()
		waitForLog(t, logs, "hlsrelay listening")

		base := "http://127.0.0.1:" + strconv.Itoa(port)
		for _, path := range []string{"/healthz", "/anything"} {
			resp, err := http.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d", path, resp.StatusCode)
			}
		}
		// The WebSocket endpoint is at WEBSOCKET_PREFIX from .env; an
		// unknown stream is OK then CLOSE (the PULL secret from .env is set,
		// so a PULL without a token is refused).
		conn, _, err := websocket.Dial(ctx, "ws://127.0.0.1:"+strconv.Itoa(port)+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.CloseNow()
		_ = conn.Write(ctx, websocket.MessageText, []byte("PULL:stream=x&auth=none"))
		_, b, err := conn.Read(ctx)
		if err != nil || !strings.HasPrefix(string(b), "E:code=AUTH_ERROR") {
			t.Fatalf("got %q %v", b, err)
		}

		// SIGHUP reloads the plugins; decisions go on.
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitForLog(t, logs, "policy plugins reloaded")
		conn2, _, err := websocket.Dial(ctx, "ws://127.0.0.1:"+strconv.Itoa(port)+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer conn2.CloseNow()
		_ = conn2.Write(ctx, websocket.MessageText, []byte("PULL:stream=x&auth=none"))
		if _, b, err := conn2.Read(ctx); err != nil || !strings.HasPrefix(string(b), "E:code=AUTH_ERROR") {
			t.Fatalf("after reload: got %q %v", b, err)
		}
	})
}

func waitForLog(t *testing.T, logs <-chan string, want string) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case line, ok := <-logs:
			if !ok {
				t.Fatalf("relay exited before logging %q", want)
			}
			if strings.Contains(line, want) {
				return
			}
		case <-timeout:
			t.Fatalf("no %q in the relay's log", want)
		}
	}
}
