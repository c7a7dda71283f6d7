package cluster

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// NodeConfig describes one relay node.
type NodeConfig struct {
	// Name identifies the node (NODE_ID) and names its log file.
	Name string
	// Binary is the relay executable (bin/hlsrelay).
	Binary string
	// Port is the HTTP port on 127.0.0.1.
	Port int
	// MetricsPort is the port of the node's /metrics on 127.0.0.1; 0 lets
	// the system choose one (nodes on one host must not share it).
	MetricsPort int
	// Env holds the node's settings (environment variables) beyond the
	// listener, node id and external URL.
	Env map[string]string
	// LogDir, if set, receives <Name>.log.
	LogDir string
}

// Node is a running relay process.
type Node struct {
	cfg  NodeConfig
	proc *process
}

// StartNode starts a relay and waits until it listens.
func StartNode(ctx context.Context, cfg NodeConfig) (*Node, error) {
	n := &Node{cfg: cfg}
	return n, n.start(ctx)
}

// URL is the node's WebSocket URL.
func (n *Node) URL() string { return fmt.Sprintf("ws://127.0.0.1:%d/", n.cfg.Port) }

// MetricsURL is the node's Prometheus endpoint, or "" if its port was left
// to the system.
func (n *Node) MetricsURL() string {
	if n.cfg.MetricsPort == 0 {
		return ""
	}
	return fmt.Sprintf("http://127.0.0.1:%d/metrics", n.cfg.MetricsPort)
}

// Name is the node's name.
func (n *Node) Name() string { return n.cfg.Name }

// Config returns the node's configuration.
func (n *Node) Config() NodeConfig { return n.cfg }

func (n *Node) start(ctx context.Context) error {
	env := map[string]string{
		"HTTP_PORT":              strconv.Itoa(n.cfg.Port),
		"HTTP_BIND_ADDRESS":      "127.0.0.1",
		"EXTERNAL_WEBSOCKET_URL": n.URL(),
		"NODE_ID":                n.cfg.Name,
		"LOG_FORMAT":             "json",
		"METRICS_LISTEN_ADDRESS": fmt.Sprintf("127.0.0.1:%d", n.cfg.MetricsPort),
	}
	for k, v := range n.cfg.Env {
		env[k] = v
	}
	cmd := exec.Command(n.cfg.Binary, "--env-file=")
	cmd.Env = os.Environ()
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	logPath := ""
	if n.cfg.LogDir != "" {
		logPath = filepath.Join(n.cfg.LogDir, n.cfg.Name+".log")
	}
	p, err := startProcess(n.cfg.Name, cmd, logPath)
	if err != nil {
		return err
	}
	n.proc = p
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := p.waitPort(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(n.cfg.Port))); err != nil {
		p.kill()
		return err
	}
	return nil
}

// Kill kills the relay with SIGKILL: no CLOSE, no registry withdrawal.
func (n *Node) Kill() { n.proc.kill() }

// Stop stops the relay with SIGTERM.
func (n *Node) Stop() { n.proc.stop(10 * time.Second) }

// Restart starts a stopped or killed node again with the same settings.
func (n *Node) Restart(ctx context.Context) error {
	if !n.proc.exited() {
		n.proc.kill()
	}
	return n.start(ctx)
}

// Pid is the relay's process id.
func (n *Node) Pid() int { return n.proc.cmd.Process.Pid }

// Exited reports whether the relay process has exited.
func (n *Node) Exited() bool { return n.proc.exited() }

// Log returns the node's log (the newest 4 MB).
func (n *Node) Log() []byte { return n.proc.out.bytes() }

// LogLine is one JSON log line of a relay.
type LogLine map[string]any

// Str returns the string field k.
func (l LogLine) Str(k string) string {
	s, _ := l[k].(string)
	return s
}

// LogLines returns the node's JSON log lines for which match is true.
func (n *Node) LogLines(match func(LogLine) bool) []LogLine {
	var out []LogLine
	sc := bufio.NewScanner(bytes.NewReader(n.Log()))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l LogLine
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue
		}
		if match(l) {
			out = append(out, l)
		}
	}
	return out
}

// Pulls counts the PULL requests for stream this node accepted.
func (n *Node) Pulls(stream string) int {
	return len(n.LogLines(func(l LogLine) bool {
		return l.Str("message") == "request" && l.Str("action") == "PULL" &&
			l.Str("stream") == stream && l.Str("outcome") == "accepted"
	}))
}
