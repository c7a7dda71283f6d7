package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hlsrelay/hlsrelay/sdk-go/cmaf"
	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/tools/internal/relaytest"
	"github.com/hlsrelay/hlsrelay/tools/internal/sample"
)

// partsRelay is a relay that accepts one PUSH with parts (it answers
// OK:ext=1&epoch=e1&next=0&parts=1) and records what the publisher sends:
// each message with the binary one after I, P and whole F, until CLOSE.
// relaytest speaks only the base protocol; the real relay is tested with
// the server.
type partsRelay struct {
	t   *testing.T
	srv *httptest.Server

	mu     sync.Mutex
	push   protocol.Push
	msgs   []relayMsg
	closed chan struct{} // CLOSE arrived
}

type relayMsg struct {
	m    protocol.Message
	data []byte
}

func newPartsRelay(t *testing.T) *partsRelay {
	r := &partsRelay{t: t, closed: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *partsRelay) url() string { return "ws" + strings.TrimPrefix(r.srv.URL, "http") + "/" }

func (r *partsRelay) serve(w http.ResponseWriter, req *http.Request) {
	c, err := websocket.Accept(w, req, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(-1)
	ctx := req.Context()
	read := func() (websocket.MessageType, []byte, bool) {
		typ, b, err := c.Read(ctx)
		return typ, b, err == nil
	}
	typ, b, ok := read()
	if !ok || typ != websocket.MessageText {
		return
	}
	m, err := protocol.Parse(b)
	if err != nil {
		r.t.Errorf("first message %q: %v", b, err)
		return
	}
	push, err := protocol.ParsePush(m)
	if err != nil {
		r.t.Errorf("first message %q: %v", b, err)
		return
	}
	r.mu.Lock()
	r.push = push
	r.mu.Unlock()
	if err := c.Write(ctx, websocket.MessageText, []byte("OK:ext=1&epoch=e1&next=0&parts=1")); err != nil {
		return
	}
	for {
		typ, b, ok := read()
		if !ok {
			return
		}
		if typ != websocket.MessageText {
			r.t.Errorf("binary message of %d bytes without I, P or F", len(b))
			return
		}
		m, err := protocol.Parse(b)
		if err != nil {
			r.t.Errorf("message %q: %v", b, err)
			return
		}
		msg := relayMsg{m: m}
		switch m.Type {
		case protocol.TypeHeartbeat:
			continue
		case protocol.TypeClose:
			close(r.closed)
			_ = c.Close(websocket.StatusNormalClosure, "")
			return
		case protocol.TypeInit, protocol.TypePart, protocol.TypeFragment:
			if m.Type == protocol.TypeFragment && m.Get("parts") != "" {
				break // closes a fragment: no binary
			}
			typ, data, ok := read()
			if !ok {
				return
			}
			if typ != websocket.MessageBinary {
				r.t.Errorf("%s followed by text %q", m.Type, data)
				return
			}
			msg.data = data
		}
		r.mu.Lock()
		r.msgs = append(r.msgs, msg)
		r.mu.Unlock()
	}
}

func (r *partsRelay) messages() []relayMsg {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]relayMsg(nil), r.msgs...)
}

func (r *partsRelay) waitParts(ctx context.Context, n int) {
	for ctx.Err() == nil {
		got := 0
		for _, m := range r.messages() {
			if m.m.Type == protocol.TypePart {
				got++
			}
		}
		if got >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkParts checks the relay's messages: the init segment first, then
// parts numbered within fragments that start with an independent part and
// last fragment, each closed by an F with its parts count and duration;
// no time on the parts. It returns the stream the init segment and the
// parts make, and the number of fragments.
func checkParts(t *testing.T, msgs []relayMsg, fragment time.Duration) ([]byte, int) {
	t.Helper()
	if len(msgs) == 0 || msgs[0].m.Type != protocol.TypeInit {
		t.Fatalf("first message %v, want I", msgs)
	}
	var stream []byte
	seq, index := uint64(0), uint64(0)
	var dur time.Duration
	fragments := 0
	for i, msg := range msgs {
		switch msg.m.Type {
		case protocol.TypeInit:
			stream = append(stream, msg.data...)
		case protocol.TypePart:
			p, err := protocol.ParsePart(msg.m)
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			if !p.HasSeq || p.Seq != seq || p.Index != index || p.Independent != (index == 0) || p.Time != 0 {
				t.Fatalf("message %d: P %+v, want seq %d part %d, independent only first, no time", i, p, seq, index)
			}
			stream = append(stream, msg.data...)
			index++
			dur += time.Duration(p.Duration * float64(time.Second))
		case protocol.TypeFragment:
			f, err := protocol.ParseFragment(msg.m)
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			if f.Seq != seq || f.Parts != index || f.Time != 0 {
				t.Fatalf("message %d: F %+v, want seq %d with %d parts, no time", i, f, seq, index)
			}
			got := time.Duration(f.Duration * float64(time.Second)).Round(time.Millisecond)
			if got != dur.Round(time.Millisecond) || got != fragment {
				t.Fatalf("message %d: F duration %v, parts %v, want %v", i, got, dur, fragment)
			}
			seq, index, dur = seq+1, 0, 0
			fragments++
		default:
			t.Fatalf("message %d: unexpected %s", i, msg.m.Type)
		}
	}
	if index != 0 {
		t.Fatalf("the last fragment was not closed")
	}
	return stream, fragments
}

// readChunks splits an fMP4 stream (init segment first) into its chunks.
func readChunks(t *testing.T, stream []byte) []cmaf.Chunk {
	t.Helper()
	s, err := sample.ParseCMAF(stream)
	if err != nil {
		t.Fatal(err)
	}
	return s.Chunks
}

// TestCMAFSampleInParts loops the fMP4 sample twice into a relay with
// parts: the init segment once, then 5 parts per 1 s fragment, and decode
// times that continue from the first pass into the second.
func TestCMAFSampleInParts(t *testing.T) {
	t.Parallel()
	relay := newPartsRelay(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	code, errOut := runPublish(ctx, nil, "-url", relay.url(), "-stream", "room1/cmaf", "-cmaf", "-sample", "-loops", "2", "-speed", "20")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	select {
	case <-relay.closed:
	default:
		t.Fatal("no CLOSE")
	}
	if !relay.push.Ext || !relay.push.Parts {
		t.Errorf("PUSH %+v, want ext and parts", relay.push)
	}
	s := sample.CMAF()
	stream, fragments := checkParts(t, relay.messages(), time.Second)
	if want := 2 * int(s.Duration/time.Second); fragments != want {
		t.Errorf("%d fragments, want %d", fragments, want)
	}
	if !bytes.HasPrefix(stream, s.Init.Data) {
		t.Error("the I message does not carry the sample's init segment")
	}
	chunks := readChunks(t, stream)
	if len(chunks) != 2*len(s.Chunks) {
		t.Fatalf("%d chunks, want %d", len(chunks), 2*len(s.Chunks))
	}
	next := map[uint32]uint64{}
	for i, c := range chunks {
		for _, tf := range c.Tracks {
			if tf.DecodeTime != next[tf.TrackID] {
				t.Fatalf("chunk %d, track %d: decode time %d, want %d", i, tf.TrackID, tf.DecodeTime, next[tf.TrackID])
			}
			next[tf.TrackID] += tf.Duration
		}
	}
	for _, want := range []string{"relay accepted the PUSH", "init segment queued", "part queued", "timestamps continue", "fragments=16 parts=80"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("log lacks %q:\n%s", want, errOut)
		}
	}
}

// TestCMAFSampleToBaseRelay: a relay without parts gets whole fragments,
// each the concatenation of its parts, and the log says why.
func TestCMAFSampleToBaseRelay(t *testing.T) {
	t.Parallel()
	relay := relaytest.New(t, relaytest.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	code, errOut := runPublish(ctx, nil, "-url", relay.URL(), "-stream", "room1/old", "-cmaf", "-sample", "-loops", "1", "-speed", "20")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	if !strings.Contains(errOut, "does not take parts") {
		t.Errorf("the fallback was not logged:\n%s", errOut)
	}
	s := sample.CMAF()
	got := relay.Fragments("room1/old")
	if len(got) != len(s.Chunks)/5 {
		t.Fatalf("%d fragments, want %d", len(got), len(s.Chunks)/5)
	}
	for i, f := range got {
		var want []byte
		for _, c := range s.Chunks[5*i : 5*i+5] {
			want = append(want, c.Data...)
		}
		if !bytes.Equal(f.Data, want) {
			t.Errorf("fragment %d: %d bytes, want the %d of its 5 chunks", i, len(f.Data), len(want))
		}
		if d := f.Header.Get("duration"); d != "1" {
			t.Errorf("fragment %d: duration %s, want 1", i, d)
		}
	}
	if !relay.ClosedByPublisher("room1/old") {
		t.Error("no CLOSE")
	}
}

// TestCMAFInputThroughFFmpeg publishes a generated live source through
// real ffmpeg writing fMP4 to a pipe: parts reach the relay while ffmpeg
// runs.
func TestCMAFInputThroughFFmpeg(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("SKIPPED: ffmpeg is not on PATH (apt-get install ffmpeg); this test needs real ffmpeg")
	}
	relay := newPartsRelay(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	partsBeforeEnd := make(chan int, 1)
	go func() {
		relay.waitParts(ctx, 3)
		n := 0
		select {
		case <-relay.closed:
		default:
			n = 3
		}
		partsBeforeEnd <- n
	}()
	code, errOut := runPublish(ctx, nil, "-url", relay.url(), "-stream", "room1/live", "-cmaf",
		"-input", "-f lavfi -i testsrc2=size=320x180:rate=30:duration=2 -f lavfi -i sine=duration=2",
		"-video-bitrate", "300k")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	if n := <-partsBeforeEnd; n == 0 {
		t.Error("no part reached the relay before the stream ended")
	}
	stream, fragments := checkParts(t, relay.messages(), time.Second)
	if fragments != 2 {
		t.Errorf("%d fragments, want 2", fragments)
	}
	if n := len(readChunks(t, stream)); n != 10 {
		t.Errorf("%d parts, want 10 (2 s in 200 ms)", n)
	}
	if !strings.Contains(errOut, "-frag_duration 200000") {
		t.Errorf("the ffmpeg command line was not logged:\n%s", errOut)
	}
}

// TestCMAFStdin publishes fMP4 written to the tool's standard input, as
// from a user's own ffmpeg.
func TestCMAFStdin(t *testing.T) {
	t.Parallel()
	relay := newPartsRelay(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	go func() {
		defer pw.Close()
		data := sample.CMAFData()
		for len(data) > 0 { // in pieces, as an encoder writes
			n := min(len(data), 4096)
			if _, err := pw.Write(data[:n]); err != nil {
				return
			}
			data = data[n:]
		}
	}()
	code, errOut := runPublishStdin(ctx, nil, pr, "-url", relay.url(), "-stream", "room1/stdin", "-cmaf", "-stdin")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	stream, fragments := checkParts(t, relay.messages(), time.Second)
	if !bytes.Equal(stream, sample.CMAFData()) {
		t.Error("init segment and parts do not add up to the input")
	}
	if fragments != 8 {
		t.Errorf("%d fragments, want 8", fragments)
	}
}

// TestCMAFStdinInterrupted: Ctrl-C while the input is silent ends the read
// (a pipe's read is interruptible) and still sends CLOSE.
func TestCMAFStdinInterrupted(t *testing.T) {
	t.Parallel()
	relay := newPartsRelay(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	s := sample.CMAF()
	go func() {
		_, _ = pw.Write(s.Init.Data)
		_, _ = pw.Write(s.Chunks[0].Data) // then nothing
	}()
	runCtx, interrupt := context.WithCancel(ctx)
	go func() {
		relay.waitParts(ctx, 1)
		interrupt()
	}()
	code, errOut := runPublishStdin(runCtx, nil, pr, "-url", relay.url(), "-stream", "room1/stdin", "-cmaf", "-stdin")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, errOut)
	}
	select {
	case <-relay.closed:
	case <-ctx.Done():
		t.Fatal("no CLOSE")
	}
}

// TestStamp publishes whole MPEG-TS fragments to a relay with extensions:
// by default each F carries the capture time of its first frame; with
// -stamp relay none does, so the relay stamps its receipt time.
func TestStamp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		stamp    []string
		wantTime bool
	}{{nil, true}, {[]string{"-stamp", "relay"}, false}} {
		r := newPartsRelay(t)
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		args := append([]string{"-url", r.url(), "-stream", "room1/ts", "-sample", "-loops", "1", "-speed", "20"}, tc.stamp...)
		code, errOut := runPublish(ctx, map[string]string{"PUSH_SECRET": "push-secret"}, args...)
		cancel()
		if code != exitOK {
			t.Fatalf("%v: exit %d; stderr:\n%s", tc.stamp, code, errOut)
		}
		frags := 0
		for _, msg := range r.messages() {
			if msg.m.Type != protocol.TypeFragment {
				continue
			}
			f, err := protocol.ParseFragment(msg.m)
			if err != nil {
				t.Fatal(err)
			}
			if (f.Time != 0) != tc.wantTime {
				t.Fatalf("%v: F %+v, want time: %v", tc.stamp, f, tc.wantTime)
			}
			frags++
		}
		if frags != len(sample.Segments()) {
			t.Fatalf("%v: %d fragments, want %d", tc.stamp, frags, len(sample.Segments()))
		}
	}
}
