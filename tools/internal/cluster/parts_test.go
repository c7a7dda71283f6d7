package cluster

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/publisher"
	"github.com/hlsrelay/hlsrelay/sdk-go/subscriber"
	"github.com/hlsrelay/hlsrelay/sdk-go/token"
	"github.com/hlsrelay/hlsrelay/tools/internal/sample"
)

// testPartsAcrossChain publishes the fMP4 sample in parts through the Go SDK
// to publisher-2 and watches it in parts, through the Go SDK, on relay-2,
// two hops away (relay-2 -> relay-1 -> publisher-2): the init segment and
// every part arrive byte for byte, each part before its fragment closes,
// and a viewer without parts on the same node gets whole fragments made of
// the same parts.
func testPartsAcrossChain(t *testing.T, topo *Topology) {
	const stream = "parts/chain"
	cm := sample.CMAF()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	ready := make(chan struct{}, 1)
	pub, err := publisher.New(publisher.Options{
		URL: topo.Publisher2.URL(), Stream: stream, Secret: pushSecret, Parts: true,
		OnReady: func() {
			select {
			case ready <- struct{}{}:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = pub.Close(ctx)
	}()
	if err := pub.SendInit(ctx, cm.Init.Data); err != nil {
		t.Fatal(err)
	}
	// sendChunk publishes chunk i of the sample, fragments of 1 s (5 parts).
	sendChunk := func(i int) {
		c := cm.Chunks[i]
		if c.Independent && i > 0 {
			if err := pub.CloseFragment(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := pub.SendPart(ctx, publisher.Part{Duration: c.Duration, Independent: c.Independent, Data: c.Data}); err != nil {
			t.Fatal(err)
		}
	}
	sendChunk(0)
	select {
	case <-ready:
	case <-ctx.Done():
		t.Fatal("publisher not accepted")
	}

	tok, err := token.Sign([]byte(pullSecret), token.Pull, stream, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := subscriber.New(subscriber.Options{URL: topo.Relay2.URL(), Stream: stream, Token: tok, Parts: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	whole, err := subscriber.New(subscriber.Options{URL: topo.Relay2.URL(), Stream: stream, Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	defer whole.Close()

	got, err := sub.Next(ctx)
	if err != nil || got.Kind != subscriber.InitSegment || !bytes.Equal(got.Data, cm.Init.Data) {
		t.Fatalf("first value: kind %v, %d bytes, err %v; want the init segment", got.Kind, len(got.Data), err)
	}
	got, err = sub.Next(ctx)
	if err != nil || got.Kind != subscriber.FragmentPart || got.Part != 0 || !bytes.Equal(got.Data, cm.Chunks[0].Data) {
		t.Fatalf("second value: kind %v part %d err %v; want part 0, chunk 0", got.Kind, got.Part, err)
	}
	// Each later chunk is published only after the previous one arrived:
	// parts travel one by one, across both hops, before their fragment
	// closes.
	for i := 1; i < 15; i++ {
		sendChunk(i)
		for {
			got, err = sub.Next(ctx)
			if err != nil {
				t.Fatalf("chunk %d: %v", i, err)
			}
			if got.Kind == subscriber.FragmentEnd {
				continue
			}
			break
		}
		if got.Kind != subscriber.FragmentPart || got.Part != uint64(i%5) || got.Independent != cm.Chunks[i].Independent || !bytes.Equal(got.Data, cm.Chunks[i].Data) {
			t.Fatalf("chunk %d: kind %v part %d independent %v, %d bytes", i, got.Kind, got.Part, got.Independent, len(got.Data))
		}
	}
	if err := pub.CloseFragment(ctx); err != nil {
		t.Fatal(err)
	}
	// The viewer without parts: whole fragments, each its five parts.
	for {
		f, err := whole.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f.Kind != subscriber.WholeFragment {
			t.Fatalf("viewer without parts got %v", f.Kind)
		}
		first := -1
		for i := 0; i+5 <= 15; i += 5 {
			if bytes.HasPrefix(f.Data, cm.Chunks[i].Data) {
				first = i
			}
		}
		if first < 0 {
			t.Fatalf("whole fragment %d does not start with a fragment's first chunk", f.Seq)
		}
		var want []byte
		for _, c := range cm.Chunks[first : first+5] {
			want = append(want, c.Data...)
		}
		if !bytes.Equal(f.Data, want) {
			t.Fatalf("whole fragment %d (from chunk %d): %d bytes, want %d", f.Seq, first, len(f.Data), len(want))
		}
		if first == 10 {
			return
		}
	}
}
