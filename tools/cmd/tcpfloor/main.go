// Command tcpfloor measures the CPU cost of the plain TCP writes that a relay
// cannot avoid: it sends a fragment-sized buffer to N loopback sockets at a
// fixed rate, with no WebSocket framing and no relay logic, and prints its
// own CPU seconds per GB sent. Compare bench's relay figure with it.
//
// The readers run in a child process (this binary with -reader), so the
// figure is the sender's alone, as bench's -pid figure is the relay's alone.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "tcpfloor:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("tcpfloor", flag.ContinueOnError)
	conns := fs.Int("conns", 200, "sockets to write to")
	size := fs.Int("size", 250000, "bytes written to each socket per round")
	rate := fs.Int("rate", 10, "rounds per second")
	rounds := fs.Int("rounds", 100, "rounds to send")
	mode := fs.String("mode", "two", "one: one write of the buffer; two: an 80-byte write then the buffer (as the relay does); writev: both in one writev")
	reader := fs.String("reader", "", "internal: run as the reader process, connecting to this address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *reader != "" {
		return read(*reader, *conns)
	}
	if *mode != "one" && *mode != "two" && *mode != "writev" {
		return fmt.Errorf("-mode %q: want one, two or writev", *mode)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "-reader", l.Addr().String(), "-conns", strconv.Itoa(*conns))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	socks := make([]net.Conn, 0, *conns)
	for range *conns {
		_ = l.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
		c, err := l.Accept()
		if err != nil {
			return fmt.Errorf("accept: %w", err)
		}
		defer c.Close()
		socks = append(socks, c)
	}
	sent, cpu, err := send(socks, *size, *rate, *rounds, *mode)
	if err != nil {
		return err
	}
	fmt.Printf("mode=%s conns=%d size=%d rate=%d/s rounds=%d: %.3f CPU-s per GB sent (%.2f CPU-s for %.2f GB)\n",
		*mode, *conns, *size, *rate, *rounds, cpu/(float64(sent)/1e9), cpu, float64(sent)/1e9)
	return nil
}

func send(socks []net.Conn, size, rate, rounds int, mode string) (sent int64, cpu float64, err error) {
	frag, hdr := make([]byte, size), make([]byte, 80)
	start, cpu0 := time.Now(), cpuSeconds()
	interval := time.Second / time.Duration(rate)
	for n := range rounds {
		var wg sync.WaitGroup
		errs := make(chan error, len(socks))
		for _, c := range socks {
			wg.Go(func() { errs <- write(c, mode, hdr, frag) })
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			if e != nil {
				return 0, 0, e
			}
		}
		sent += int64(len(socks) * size)
		time.Sleep(time.Until(start.Add(time.Duration(n+1) * interval)))
	}
	return sent, cpuSeconds() - cpu0, nil
}

func write(c net.Conn, mode string, hdr, frag []byte) error {
	var err error
	switch mode {
	case "writev":
		b := net.Buffers{hdr, frag}
		_, err = b.WriteTo(c)
	case "two":
		if _, err = c.Write(hdr); err == nil {
			_, err = c.Write(frag)
		}
	default:
		_, err = c.Write(frag)
	}
	return err
}

// read connects n sockets and discards what arrives until they close.
func read(addr string, n int) error {
	var wg sync.WaitGroup
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		wg.Go(func() {
			buf := make([]byte, 32<<10)
			_, _ = io.CopyBuffer(io.Discard, struct{ io.Reader }{c}, buf)
		})
	}
	wg.Wait()
	return nil
}

// cpuSeconds is this process's user+system CPU time, from /proc (Linux, 100
// clock ticks per second).
func cpuSeconds() float64 {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 13 {
		return 0
	}
	u, err1 := strconv.ParseFloat(f[11], 64)
	k, err2 := strconv.ParseFloat(f[12], 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0
	}
	return (u + k) / 100
}
