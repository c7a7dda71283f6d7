package main

import (
	"bufio"
	"context"
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

// TestAdminWithoutToken: the admin API on and no token refuses to start,
// naming the setting.
func TestAdminWithoutToken(t *testing.T) {
	t.Parallel()
	bin := buildRelay(t)
	cmd := exec.Command(bin, "--env-file=")
	cmd.Env = append(os.Environ(), "ADMIN_ENABLED=YES", "HTTP_PORT="+strconv.Itoa(freePort(t)))
	out, err := cmd.CombinedOutput()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 2 {
		t.Fatalf("exit: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "ADMIN_TOKEN (--admin-token): is required when ADMIN_ENABLED is YES") {
		t.Fatalf("the error does not name ADMIN_TOKEN:\n%s", out)
	}
}

// TestSecondSignalStopsAtOnce: SIGTERM starts a drain that waits for a
// publisher's next fragment (up to half of a 30 s bound); a second SIGTERM
// closes everything and the process exits at once, with status 0.
func TestSecondSignalStopsAtOnce(t *testing.T) {
	t.Parallel()
	bin := buildRelay(t)
	dir := t.TempDir()
	port := freePort(t)
	cmd := exec.Command(bin, "--env-file=")
	cmd.Env = append(os.Environ(), "HTTP_BIND_ADDRESS=127.0.0.1", "HTTP_PORT="+strconv.Itoa(port),
		"SHUTDOWN_TIMEOUT_SECONDS=30", "METRICS_ENABLED=NO", "LOG_FORMAT=json",
		"PLUGIN_CACHE_DIR="+filepath.Join(dir, "cache"))
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	logs := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs <- sc.Text()
		}
		close(logs)
		exited <- cmd.Wait()
	}()
	defer func() { _ = cmd.Process.Kill() }()
	waitForLog(t, logs, "hlsrelay listening")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pub, _, err := websocket.Dial(ctx, "ws://127.0.0.1:"+strconv.Itoa(port)+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.CloseNow()
	_ = pub.Write(ctx, websocket.MessageText, []byte("PUSH:stream=signals&auth="))
	if _, b, err := pub.Read(ctx); err != nil || string(b) != "OK" {
		t.Fatalf("PUSH answered %q %v", b, err)
	}

	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitForLog(t, logs, "draining; send the signal again to stop at once")
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-exited:
		t.Fatalf("the relay exited before the publisher's next fragment: %v", err)
	default:
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	second := time.Now()
	go func() {
		for range logs {
		}
	}()
	select {
	case err := <-exited:
		t.Logf("exited %v after the second SIGTERM (%v after the first; the drain alone would have waited up to 15 s)",
			time.Since(second).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
		if err != nil {
			t.Fatalf("exit status: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the relay did not stop within 5 s of the second SIGTERM")
	}
}
