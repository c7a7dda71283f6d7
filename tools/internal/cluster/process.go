// Package cluster starts and stops the processes of a local hlsrelay
// cluster: a real redis-server and relay nodes (bin/hlsrelay), in the
// topology of the existing project's test network. The cluster launcher
// (tools/cmd/cluster) and the cluster's integration tests use it.
package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// process is one child process whose output is kept in memory (bounded)
// and, if logPath is set, appended to a file.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *tailBuffer
	done chan struct{}
	err  error // why it exited; read after done
}

func startProcess(name string, cmd *exec.Cmd, logPath string) (*process, error) {
	p := &process{name: name, cmd: cmd, out: &tailBuffer{max: 4 << 20}, done: make(chan struct{})}
	var w interface{ Write([]byte) (int, error) } = p.out
	if logPath != "" {
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("%s: log file: %w", name, err)
		}
		w = &teeWriter{a: p.out, b: f}
	}
	cmd.Stdout, cmd.Stderr = w, w
	// Own process group: a Ctrl-C in the launcher's terminal reaches the
	// launcher only, which then stops the children in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: start %s: %w", name, cmd.Path, err)
	}
	go func() {
		p.err = cmd.Wait()
		if c, ok := w.(*teeWriter); ok {
			c.b.Close()
		}
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the exit.
func (p *process) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM, waits up to grace, then kills.
func (p *process) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.kill()
	}
}

// waitPort waits until addr accepts TCP connections, the process exits, or
// ctx ends.
func (p *process) waitPort(ctx context.Context, addr string) error {
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before listening on %s (%v):\n%s", p.name, addr, p.err, p.out.tail(2048))
		case <-ctx.Done():
			return fmt.Errorf("%s: not listening on %s: %w", p.name, addr, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.buf.Bytes())
}

func (t *tailBuffer) tail(n int) string {
	b := t.bytes()
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

type teeWriter struct {
	a *tailBuffer
	b *os.File
}

func (w *teeWriter) Write(p []byte) (int, error) {
	_, _ = w.a.Write(p)
	_, err := w.b.Write(p)
	if err != nil && !errors.Is(err, os.ErrClosed) {
		return 0, err
	}
	return len(p), nil
}
