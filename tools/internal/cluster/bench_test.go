package cluster

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

// BenchmarkFirstFragment measures, for a new viewer, the time from sending
// PULL to holding the first fragment (250 kB), for a stream whose fragment
// already exists at the origin: once at the origin itself (direct) and once
// on relay-1, which has to look the stream up in the registry and open the
// upstream pull first (one hop). Each iteration is a new stream. Run with
// -benchtime=200x; the percentiles are the figures to read.
//
//	go test ./tools/internal/cluster -run '^$' -bench FirstFragment -benchtime 200x
func BenchmarkFirstFragment(b *testing.B) {
	topo := startCluster(b, nil)
	frag := payload(1, 250_000)
	var direct, hop []time.Duration
	i := 0
	for b.Loop() {
		stream := "ttff/" + time.Now().Format("150405.000000") + "/" + string(rune('a'+i%26))
		i++
		p := pushConn(b, topo.Publisher1.URL(), stream)
		p.expectOK(b)
		p.send(b, frag)
		// The fragment exists at the origin once a direct viewer got it.
		direct = append(direct, firstFragment(b, topo.Publisher1.URL(), stream))
		hop = append(hop, firstFragment(b, topo.Relay1.URL(), stream))
		p.conn.CloseNow()
	}
	report(b, "direct", direct)
	report(b, "1hop", hop)
}

func report(b *testing.B, name string, d []time.Duration) {
	slices.Sort(d)
	q := func(p float64) float64 { return float64(d[int(p*float64(len(d)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), name+"-p50-ms")
	b.ReportMetric(q(0.99), name+"-p99-ms")
}

// firstFragment dials url and returns the time from sending PULL to
// receiving the whole first fragment.
func firstFragment(b *testing.B, url, stream string) time.Duration {
	ctx, cancel := context.WithTimeout(b.Context(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	pull := pullMsg(b, stream, 1)
	start := time.Now()
	if err := conn.Write(ctx, websocket.MessageText, pull); err != nil {
		b.Fatal(err)
	}
	for {
		typ, body, err := conn.Read(ctx)
		if err != nil {
			b.Fatalf("%s at %s: %v", stream, url, err)
		}
		if typ == websocket.MessageBinary {
			return time.Since(start)
		}
		if m, _ := protocol.Parse(body); m.Type == protocol.TypeClose || m.Type == protocol.TypeError {
			b.Fatalf("%s at %s: %s", stream, url, body)
		}
	}
}
