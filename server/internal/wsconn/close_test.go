package wsconn

import (
	"net"
	"testing"
)

func TestOnCloseRunsOnce(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	defer b.Close()
	c := New(a)
	calls := 0
	c.OnClose(func() { calls++ })
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	if calls != 1 {
		t.Fatalf("OnClose ran %d times, want 1", calls)
	}
	New(b).Close() // without OnClose: nothing to run
}
