package registry

import (
	"errors"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/hlsrelay/hlsrelay/server/internal/metrics"
)

func opCount(t *testing.T, m *metrics.Metrics, op, result string) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.RegistryOps.WithLabelValues(op, result).Write(&d); err != nil {
		t.Fatal(err)
	}
	return d.GetCounter().GetValue()
}

// TestMetricsCountOperations: every kind of operation is counted with its
// result, against a real Redis and then with Redis gone.
func TestMetricsCountOperations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := startRedis(t)
	m := metrics.New()
	a := newRegistry(t, srv, Config{Metrics: m, NodeTTL: 400 * time.Millisecond})
	b := newRegistry(t, srv, Config{})

	if err := a.Claim(ctx, "s", nodeA); err != nil {
		t.Fatal(err)
	}
	if err := b.Claim(ctx, "other", nodeB); err != nil {
		t.Fatal(err)
	}
	// b's live, publishing claim refuses a's.
	if err := a.Claim(ctx, "other", nodeA); !errors.Is(err, ErrClaimed) {
		t.Fatalf("Claim of b's stream = %v, want ErrClaimed", err)
	}
	if _, found, err := a.Lookup(ctx, "s"); err != nil || !found {
		t.Fatalf("Lookup = %v, %v", found, err)
	}
	if _, found, err := a.Lookup(ctx, "nothing"); err != nil || found {
		t.Fatalf("Lookup of a missing stream = %v, %v", found, err)
	}
	if _, _, err := a.Get(ctx, a.key("s")); err != nil {
		t.Fatal(err)
	}
	if err := a.MarkIdle(ctx, "s", nodeA); err != nil {
		t.Fatal(err)
	}
	if err := a.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Withdraw(ctx, "s", nodeA); err != nil {
		t.Fatal(err)
	}
	srv.stop()
	if _, _, err := a.Lookup(ctx, "s"); err == nil {
		t.Fatal("Lookup succeeded with Redis stopped")
	}

	for _, tc := range []struct {
		op, result string
		want       float64
	}{
		{"claim", metrics.ResultOK, 1},
		{"claim", metrics.ResultConflict, 1},
		{"lookup", metrics.ResultOK, 1},
		{"lookup", metrics.ResultNotFound, 1},
		{"lookup", metrics.ResultError, 1},
		{"get", metrics.ResultOK, 1},
		{"mark_idle", metrics.ResultOK, 1},
		{"refresh", metrics.ResultOK, 1},
		{"heartbeat", metrics.ResultOK, 1},
		{"withdraw", metrics.ResultOK, 1},
	} {
		if got := opCount(t, m, tc.op, tc.result); got != tc.want {
			t.Errorf("registry_operations_total{op=%s,result=%s} = %v, want %v", tc.op, tc.result, got, tc.want)
		}
	}
}
