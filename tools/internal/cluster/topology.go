package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// Options configure a local cluster.
type Options struct {
	// Binary is the relay executable. Required.
	Binary string
	// Dir receives the logs. Required.
	Dir string
	// BasePort: Redis listens on BasePort and the nodes on the next four
	// ports; the nodes' metrics on BasePort+101 to BasePort+104. 0 picks
	// free ports.
	BasePort int
	// PullSecret and PushSecret are shared by every node.
	PullSecret, PushSecret string
	// Env holds extra settings for every node (e.g. shorter timeouts).
	Env map[string]string
}

// Topology is the existing project's test network: Redis, two publishing
// nodes that announce their streams in the registry, relay-1 that finds
// streams through the registry, and relay-2 chained behind relay-1 through
// RELAY_FROM_URL.
type Topology struct {
	Redis       *Redis
	Publisher1  *Node
	Publisher2  *Node
	Relay1      *Node
	Relay2      *Node
	nodesInStop []*Node
}

// Nodes returns the relay nodes in start order.
func (t *Topology) Nodes() []*Node {
	return []*Node{t.Publisher1, t.Publisher2, t.Relay1, t.Relay2}
}

// Start starts the cluster; on error whatever started is stopped again.
func Start(ctx context.Context, opts Options) (*Topology, error) {
	if opts.Binary == "" || opts.Dir == "" {
		return nil, errors.New("cluster: Binary and Dir are required")
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	if _, err := os.Stat(opts.Binary); err != nil {
		return nil, fmt.Errorf("cluster: relay binary: %w (run make build)", err)
	}
	ports, err := clusterPorts(opts.BasePort)
	if err != nil {
		return nil, err
	}
	metricsBase := 0
	if opts.BasePort > 0 {
		metricsBase = opts.BasePort + 100
	}
	metricsPorts, err := clusterPorts(metricsBase)
	if err != nil {
		return nil, err
	}
	t := &Topology{}
	if t.Redis, err = StartRedis(ctx, ports[0], opts.Dir); err != nil {
		return nil, err
	}
	if err := t.startNodes(ctx, opts, ports[1:], metricsPorts[1:]); err != nil {
		t.Stop()
		return nil, err
	}
	return t, nil
}

func (t *Topology) startNodes(ctx context.Context, opts Options, ports, metricsPorts []int) error {
	registry := map[string]string{
		"PUB_REG_REDIS_ENABLED": "YES",
		"PUB_REG_REDIS_HOST":    "127.0.0.1",
		"PUB_REG_REDIS_PORT":    strconv.Itoa(t.Redis.Port),
	}
	specs := []struct {
		node  **Node
		name  string
		extra map[string]string
	}{
		{&t.Publisher1, "publisher-1", registry},
		{&t.Publisher2, "publisher-2", registry},
		{&t.Relay1, "relay-1", merge(registry, map[string]string{"PUSH_ALLOWED": "NO"})},
		{&t.Relay2, "relay-2", nil}, // RELAY_FROM_URL set below
	}
	for i, s := range specs {
		env := merge(opts.common(), s.extra)
		if s.node == &t.Relay2 {
			env = merge(env, map[string]string{
				"RELAY_FROM_ENABLED": "YES", "RELAY_FROM_URL": t.Relay1.URL(), "PUSH_ALLOWED": "NO",
			})
		}
		n, err := StartNode(ctx, NodeConfig{Name: s.name, Binary: opts.Binary, Port: ports[i], MetricsPort: metricsPorts[i], Env: env, LogDir: opts.Dir})
		if err != nil {
			return err
		}
		*s.node = n
		t.nodesInStop = append(t.nodesInStop, n)
	}
	return nil
}

// common is what every node of the cluster shares.
func (o Options) common() map[string]string {
	return merge(map[string]string{
		"PULL_SECRET":              o.PullSecret,
		"PUSH_SECRET":              o.PushSecret,
		"LOG_REQUESTS":             "YES",
		"SHUTDOWN_TIMEOUT_SECONDS": "2",
	}, o.Env)
}

// Stop stops the nodes (newest first) and Redis.
func (t *Topology) Stop() {
	for i := len(t.nodesInStop) - 1; i >= 0; i-- {
		t.nodesInStop[i].Stop()
	}
	if t.Redis != nil {
		t.Redis.Stop()
	}
}

func clusterPorts(base int) ([]int, error) {
	ports := make([]int, 5)
	for i := range ports {
		if base > 0 {
			ports[i] = base + i
			continue
		}
		p, err := FreePort()
		if err != nil {
			return nil, fmt.Errorf("cluster: free port: %w", err)
		}
		ports[i] = p
	}
	return ports, nil
}

// merge returns a copy of a with b's entries added.
func merge(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
