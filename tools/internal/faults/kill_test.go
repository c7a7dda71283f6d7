package faults

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestPublisherKilled: a publisher process is killed (SIGKILL) mid-stream.
// Its viewers stay connected through the grace period and then get CLOSE;
// another stream on the node is not disturbed at any point.
func TestPublisherKilled(t *testing.T) {
	relay := startRelay(t, map[string]string{"PUBLISHER_GRACE_SECONDS": "2"})
	before := rssMiB(t, relay)

	// The victim: bin/publish with the sample, as an encoder would run.
	pub := exec.Command(filepath.Join(binDir, "publish"), "-url", relay.URL(), "-stream", "kill/victim", "-secret", pushSecret, "-sample")
	if err := pub.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pub.Process.Kill(); _ = pub.Wait() }()

	// The bystander: another stream, fed by this test.
	other := dial(t, relay.URL(), nil)
	other.push("kill/bystander")
	var stop sync.WaitGroup
	done := make(chan struct{})
	stop.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if other.fragment(fmt.Appendf(nil, "bystander %d", i)) != nil {
				return
			}
		}
	})
	defer func() { close(done); stop.Wait() }()
	bystander := dial(t, relay.URL(), nil)
	bystander.pull("kill/bystander")

	var victim *conn
	deadline := time.Now().Add(10 * time.Second)
	for victim == nil {
		v := dial(t, relay.URL(), nil)
		v.pull("kill/victim")
		if _, err := v.nextFragment(3 * time.Second); err == nil {
			victim = v
		} else if time.Now().After(deadline) {
			t.Fatalf("no fragment of the published sample: %v", err)
		}
	}

	killed := time.Now()
	if err := pub.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = pub.Wait()
	var ended time.Duration
	for {
		_, err := victim.nextFragment(15 * time.Second)
		if err == errClose {
			ended = time.Since(killed)
			break
		}
		if err != nil {
			t.Fatalf("the victim's viewer got %v instead of CLOSE", err)
		}
	}
	// The bystander kept receiving, in order, all along.
	last := -1
	for i := 0; i < 10; i++ {
		b, err := bystander.nextFragment(5 * time.Second)
		if err != nil {
			t.Fatalf("bystander: %v", err)
		}
		var n int
		if _, err := fmt.Sscanf(string(b), "bystander %d", &n); err != nil || (last >= 0 && n != last+1) {
			t.Fatalf("bystander got %q after %d", b, last)
		}
		last = n
	}
	healthy(t, relay.URL())
	t.Logf("publisher killed: its viewer got CLOSE after %v (grace 2 s); bystander unaffected; relay RSS %.1f -> %.1f MiB",
		ended.Round(time.Millisecond), before, rssMiB(t, relay))
}
