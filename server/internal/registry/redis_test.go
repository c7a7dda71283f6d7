package registry

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// redisServer is a real redis-server child process for one test, on a port
// of its own, without persistence.
type redisServer struct {
	t    *testing.T
	port int
	args []string

	mu  sync.Mutex
	cmd *exec.Cmd
}

// startRedis starts a redis-server for t and stops it when t ends. It skips t
// if redis-server is not installed. extra are added to the command line.
func startRedis(t *testing.T, extra ...string) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not on PATH; install Redis to run the registry integration tests")
	}
	s := &redisServer{t: t, port: freePort(t), args: extra}
	s.start()
	t.Cleanup(s.stop)
	return s
}

// freePort returns a TCP port that was free a moment ago (redis-server
// cannot be told to pick one itself).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *redisServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// start runs redis-server on s.port and waits until it answers PING.
func (s *redisServer) start() {
	s.t.Helper()
	args := append([]string{
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--loglevel", "warning",
	}, s.args...)
	cmd := exec.Command("redis-server", args...)
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := s.ping(); err == nil {
			break
		} else if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			s.t.Fatalf("redis-server on port %d did not answer PING: %v\n%s", s.port, err, out.String())
		}
		select {
		case err := <-exited:
			s.t.Fatalf("redis-server on port %d exited: %v\n%s", s.port, err, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	// Reap the process whenever it ends; stop waits for that.
	go func() {
		<-exited
		s.mu.Lock()
		if s.cmd == cmd {
			s.cmd = nil
		}
		s.mu.Unlock()
	}()
}

// ping sends an inline PING (with AUTH if the server requires a password)
// over a fresh connection.
func (s *redisServer) ping() error {
	conn, err := net.DialTimeout("tcp", s.addr(), time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	rd := bufio.NewReader(conn)
	for i, a := range s.args {
		if a == "--requirepass" && i+1 < len(s.args) {
			if _, err := fmt.Fprintf(conn, "AUTH %s\r\n", s.args[i+1]); err != nil {
				return err
			}
			if _, err := rd.ReadString('\n'); err != nil {
				return err
			}
		}
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := rd.ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// stop kills redis-server and waits until its port is closed.
func (s *redisServer) stop() {
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		gone := s.cmd == nil
		s.mu.Unlock()
		if gone {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.t.Errorf("redis-server on port %d did not exit", s.port)
}

// listenSilently listens on addr and accepts connections that it never
// answers, like a hung server, until t ends.
func listenSilently(t *testing.T, addr string) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l
}
