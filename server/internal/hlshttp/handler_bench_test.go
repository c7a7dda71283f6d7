package hlshttp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/rs/zerolog"

	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/policy"
)

type allowAll struct{}

func (allowAll) Authorize(context.Context, *policy.Request) policy.Decision { return policy.Allow }

// discardWriter is a ResponseWriter that keeps nothing, so the benchmarks
// measure the handler rather than a recorder's copies.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

func benchHandler(b *testing.B) (*Handler, *hub.Publication) {
	b.Helper()
	h := hub.New(hub.Config{RingLength: 10})
	pub, err := h.Publish("room1/cam/1280x720-30~2000", hub.PublishOptions{})
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, 250_000)
	for range 10 {
		pub.Append(hub.Input{Duration: 1, Data: data})
	}
	return New(Config{Authorizer: allowAll{}, Locator: LocalLocator{Hub: h}, CORSOrigins: []string{"*"}, Log: zerolog.Nop()}), pub
}

// A JWT of the documented scheme's size.
const benchToken = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJQVUxMOnJvb20xL2NhbS8xMjgweDcyMC0zMH4yMDAwIiwiZXhwIjoxNzk1NTI2NjQ4fQ.xv7vnzITuzSFOiNKlyp0mQCrIa2erxUEl1AfyrdkHLA"

// BenchmarkPlaylist is the handler's cost of one playlist request of ten
// segments (a blocking request whose segment exists), network excluded.
func BenchmarkPlaylist(b *testing.B) {
	h, _ := benchHandler(b)
	r := httptest.NewRequest(http.MethodGet, "/hls/room1/cam/1280x720-30~2000/index.m3u8?_HLS_msn=9&token="+benchToken, nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(&discardWriter{h: http.Header{}}, r)
	}
}

// BenchmarkSegment is the handler's cost of one segment request (the
// fragment's bytes are handed to the writer, not copied).
func BenchmarkSegment(b *testing.B) {
	h, pub := benchHandler(b)
	r := httptest.NewRequest(http.MethodGet, "/hls/room1/cam/1280x720-30~2000/"+pub.Epoch()+"/"+benchToken+"/"+strconv.Itoa(9)+".ts", nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(&discardWriter{h: http.Header{}}, r)
	}
}

// benchPartsHandler serves a stream of ten 1 s fragments of five 50 kB
// parts, and two parts of the next.
func benchPartsHandler(b *testing.B) (*Handler, *hub.Publication) {
	b.Helper()
	h := hub.New(hub.Config{RingLength: 10})
	pub, err := h.Publish("room1/cam/1280x720-30~2000", hub.PublishOptions{})
	if err != nil {
		b.Fatal(err)
	}
	pub.SetInit(make([]byte, 1000))
	data := make([]byte, 50_000)
	for seq := range uint64(11) {
		for i := range 5 {
			if seq == 10 && i == 2 {
				break
			}
			if _, err := pub.AppendPart(hub.PartInput{Seq: seq, HasSeq: true, Index: uint64(i), Duration: 0.2, Independent: i == 0, Data: data}); err != nil {
				b.Fatal(err)
			}
		}
		if seq < 10 {
			if _, err := pub.CloseFragment(hub.CloseInput{Seq: seq, HasSeq: true, Parts: 5, Duration: 1}); err != nil {
				b.Fatal(err)
			}
		}
	}
	return New(Config{Authorizer: allowAll{}, Locator: LocalLocator{Hub: h}, CORSOrigins: []string{"*"}, Log: zerolog.Nop()}), pub
}

// BenchmarkLLPlaylist is the handler's cost of one LL-HLS playlist request
// (a blocking request whose part exists), network excluded.
func BenchmarkLLPlaylist(b *testing.B) {
	h, _ := benchPartsHandler(b)
	r := httptest.NewRequest(http.MethodGet, "/hls/room1/cam/1280x720-30~2000/index.m3u8?_HLS_msn=10&_HLS_part=1&token="+benchToken, nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(&discardWriter{h: http.Header{}}, r)
	}
}

// BenchmarkPart is the handler's cost of one part request.
func BenchmarkPart(b *testing.B) {
	h, pub := benchPartsHandler(b)
	r := httptest.NewRequest(http.MethodGet, "/hls/room1/cam/1280x720-30~2000/"+pub.Epoch()+"/"+benchToken+"/10.1.m4s", nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(&discardWriter{h: http.Header{}}, r)
	}
}

// BenchmarkFMP4Segment is the handler's cost of one segment of parts (the
// parts' bytes are handed to the writer in turn, not copied).
func BenchmarkFMP4Segment(b *testing.B) {
	h, pub := benchPartsHandler(b)
	r := httptest.NewRequest(http.MethodGet, "/hls/room1/cam/1280x720-30~2000/"+pub.Epoch()+"/"+benchToken+"/9.m4s", nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(&discardWriter{h: http.Header{}}, r)
	}
}
