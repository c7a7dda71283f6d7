// Package leaktest checks, at the end of a package's tests, that no
// goroutine started by the tests is still running: connections, tickers and
// ffmpeg watchers must all stop when their owner does.
package leaktest

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Main runs the tests and then waits up to 5 s for the goroutines they
// started to end. Use it as: func TestMain(m *testing.M) { os.Exit(leaktest.Main(m)) }.
func Main(m *testing.M) int {
	code := m.Run()
	if code != 0 {
		return code
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		leaked := leakedGoroutines()
		if len(leaked) == 0 {
			return 0
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "leaktest: %d goroutines still running after the tests:\n\n%s\n", len(leaked), strings.Join(leaked, "\n\n"))
			return 1
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// leakedGoroutines returns the stacks of goroutines other than this one and
// those the runtime and the testing package keep.
func leakedGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var leaked []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 || ignored(g) { // the first is the calling goroutine
			continue
		}
		leaked = append(leaked, g)
	}
	return leaked
}

// ignored reports goroutines that are not the tests' own: the testing
// package's, and the signal handler's (started by os/signal, once).
func ignored(stack string) bool {
	for _, s := range []string{
		"testing.(*M).",
		"testing.tRunner",
		"testing.runTests",
		"os/signal.signal_recv",
		"os/signal.loop",
	} {
		if strings.Contains(stack, s) {
			return true
		}
	}
	return false
}
