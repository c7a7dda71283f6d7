package leaktest

import (
	"strings"
	"testing"
	"time"
)

func TestLeakedGoroutinesSeesAStuckGoroutine(t *testing.T) {
	stop := make(chan struct{})
	go stuckForTest(stop)
	defer close(stop)
	found := false
	deadline := time.Now().Add(2 * time.Second)
	for !found && time.Now().Before(deadline) {
		for _, g := range leakedGoroutines() {
			if strings.Contains(g, "stuckForTest") {
				found = true
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !found {
		t.Error("a goroutine blocked in stuckForTest was not reported")
	}
}

func stuckForTest(stop chan struct{}) { <-stop }

func TestIgnored(t *testing.T) {
	t.Parallel()
	tests := []struct {
		stack string
		want  bool
	}{
		{"goroutine 1 [chan receive]:\ntesting.(*T).Run(...)\ntesting.runTests(...)", true},
		{"goroutine 7 [syscall]:\nos/signal.signal_recv()\nos/signal.loop()", true},
		{"goroutine 9 [IO wait]:\ngithub.com/coder/websocket.(*Conn).reader(...)", false},
	}
	for _, tt := range tests {
		if got := ignored(tt.stack); got != tt.want {
			t.Errorf("ignored(%q) = %v, want %v", tt.stack, got, tt.want)
		}
	}
}
