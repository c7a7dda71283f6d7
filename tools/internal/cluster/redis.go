package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// Redis is a redis-server on 127.0.0.1, without persistence: a restart
// starts empty, like a Redis that lost its data.
type Redis struct {
	Port   int
	dir    string
	binary string
	proc   *process
}

// StartRedis starts redis-server (found in PATH) on port, logging into dir.
func StartRedis(ctx context.Context, port int, dir string) (*Redis, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server not found: install it (Debian: apt-get install redis-server; scripts/install-test-deps.sh does)")
	}
	r := &Redis{Port: port, dir: dir, binary: bin}
	return r, r.start(ctx)
}

// Addr is host:port.
func (r *Redis) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.Port)) }

func (r *Redis) start(ctx context.Context) error {
	cmd := exec.Command(r.binary, "--port", strconv.Itoa(r.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--protected-mode", "yes")
	p, err := startProcess("redis-server", cmd, filepath.Join(r.dir, "redis.log"))
	if err != nil {
		return err
	}
	r.proc = p
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.waitPort(ctx, r.Addr()); err != nil {
		p.kill()
		return fmt.Errorf("redis-server: %w", err)
	}
	return nil
}

// Kill kills redis-server with SIGKILL.
func (r *Redis) Kill() { r.proc.kill() }

// Restart starts redis-server again on the same port, empty.
func (r *Redis) Restart(ctx context.Context) error {
	if !r.proc.exited() {
		r.proc.kill()
	}
	return r.start(ctx)
}

// Stop stops redis-server.
func (r *Redis) Stop() { r.proc.stop(5 * time.Second) }
