package publisher

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

// queueOp is one step of a queue test. Fragments are single letters; an
// upper-case letter is pushed with Disc. Taken fragments are described as
// "a" (no seq), "a3" (seq 3) or "a3*" (seq 3 and disc).
type queueOp struct {
	push   string       // push these fragments (one letter each)
	accept *protocol.OK // start a connection
	take   []string     // take this many and expect them
	fail   bool         // the last taken fragment's write failed
	check  func(*queue) string
}

func ok(epoch string, next uint64) *protocol.OK {
	return &protocol.OK{Ext: true, Epoch: epoch, Next: next, HasNext: true}
}

func TestQueue(t *testing.T) {
	t.Parallel()
	base := &protocol.OK{}
	tests := []struct {
		name  string
		limit int
		ops   []queueOp
	}{
		{"ext numbering starts at next", 10, []queueOp{
			{accept: ok("e1", 5)}, {push: "abc"}, {take: []string{"a5", "b6", "c7"}},
		}},
		{"base has no seq", 10, []queueOp{
			{accept: base}, {push: "ab"}, {take: []string{"a", "b"}},
		}},
		{"ext without next has no seq", 10, []queueOp{
			{accept: &protocol.OK{Ext: true, Epoch: "e1"}}, {push: "a"}, {take: []string{"a"}},
		}},
		{"user disc", 10, []queueOp{
			{accept: ok("e1", 0)}, {push: "aB"}, {take: []string{"a0", "b1*"}},
		}},
		{"drop oldest unsent marks the next", 3, []queueOp{
			{push: "abcde"}, {accept: ok("e1", 0)}, {take: []string{"c0*", "d1", "e2"}},
		}},
		{"written fragments go first", 3, []queueOp{
			{accept: ok("e1", 0)}, {push: "ab"}, {take: []string{"a0", "b1"}},
			{push: "cd"}, {take: []string{"c2", "d3"}},
		}},
		{"resend what the relay lacks", 10, []queueOp{
			{accept: ok("e1", 0)}, {push: "abc"}, {take: []string{"a0", "b1", "c2"}},
			{push: "d"}, {accept: ok("e1", 1)}, {take: []string{"b1", "c2", "d3"}},
		}},
		{"relay has everything", 10, []queueOp{
			{accept: ok("e1", 0)}, {push: "ab"}, {take: []string{"a0", "b1"}},
			{accept: ok("e1", 2)}, {push: "c"}, {take: []string{"c2"}},
		}},
		{"relay ahead of this publisher", 10, []queueOp{
			{accept: ok("e1", 0)}, {push: "ab"}, {take: []string{"a0", "b1"}},
			{accept: ok("e1", 7)}, {push: "c"}, {take: []string{"c7*"}},
		}},
		{"relay lacks more than is retained", 2, []queueOp{
			{accept: ok("e1", 0)}, {push: "ab"}, {take: []string{"a0", "b1"}},
			{push: "c"}, {take: []string{"c2"}},
			// The relay marks the gap at seq 0 itself.
			{accept: ok("e1", 0)}, {take: []string{"b1", "c2"}},
		}},
		{"new epoch renumbers and marks disc", 10, []queueOp{
			{accept: ok("e1", 0)}, {push: "ab"}, {take: []string{"a0", "b1"}},
			{push: "c"}, {accept: ok("e2", 0)}, {take: []string{"c0*"}},
			{push: "d"}, {take: []string{"d1"}},
		}},
		{"new epoch with nothing queued marks the next", 10, []queueOp{
			{accept: ok("e1", 0)}, {push: "a"}, {take: []string{"a0"}},
			{accept: ok("e2", 4)}, {push: "b"}, {take: []string{"b4*"}},
		}},
		{"failed write, same epoch: same seq", 10, []queueOp{
			{accept: ok("e1", 0)}, {push: "ab"}, {take: []string{"a0"}, fail: true},
			{accept: ok("e1", 0)}, {take: []string{"a0", "b1"}},
		}},
		{"failed write, new epoch: renumbered", 10, []queueOp{
			{accept: ok("e1", 0)}, {push: "ab"}, {take: []string{"a0"}, fail: true},
			{accept: ok("e2", 0)}, {take: []string{"a0*", "b1"}},
		}},
		{"failed write, base: written again", 10, []queueOp{
			{accept: base}, {push: "ab"}, {take: []string{"a", "b"}, fail: true},
			{accept: base}, {take: []string{"b"}},
		}},
		{"base after ext drops written fragments", 10, []queueOp{
			{accept: ok("e1", 0)}, {push: "a"}, {take: []string{"a0"}},
			{push: "b"}, {accept: base}, {take: []string{"b"}},
		}},
		{"ext after base numbers from next", 10, []queueOp{
			{accept: base}, {push: "a"}, {take: []string{"a"}},
			{push: "b"}, {accept: ok("e1", 3)}, {take: []string{"b3"}},
		}},
		{"nothing to take", 10, []queueOp{
			{accept: ok("e1", 0)}, {take: []string{}},
			{check: func(q *queue) string {
				if _, ok := q.take(); ok {
					return "take on an empty queue succeeded"
				}
				return ""
			}},
		}},
		{"retention is bounded", 3, []queueOp{
			{accept: ok("e1", 0)}, {push: "abcdefgh"},
			{check: func(q *queue) string {
				if len(q.items) != 3 || q.unsent() != 3 {
					return fmt.Sprintf("%d retained, %d unsent", len(q.items), q.unsent())
				}
				return ""
			}},
			{take: []string{"f0*", "g1", "h2"}},
			{push: "ijklm"},
			{check: func(q *queue) string {
				if len(q.items) != 3 {
					return fmt.Sprintf("%d retained", len(q.items))
				}
				return ""
			}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := queue{limit: tc.limit}
			var last write
			for i, op := range tc.ops {
				for _, c := range op.push {
					label := strings.ToLower(string(c))
					q.push(Fragment{Duration: time.Second, Data: []byte(label), Disc: label != string(c)})
				}
				if op.accept != nil {
					q.accept(*op.accept)
				}
				if op.take != nil {
					var got []string
					for range op.take {
						w, ok := q.take()
						if !ok {
							break
						}
						last = w
						meta := w.frag
						got = append(got, describe(string(w.data), meta))
						if meta.Duration != 1 {
							t.Fatalf("op %d: duration %v", i, meta.Duration)
						}
					}
					if !slices.Equal(got, op.take) {
						t.Fatalf("op %d: took %q, want %q", i, got, op.take)
					}
				}
				if op.fail {
					q.requeue(last)
				}
				if op.check != nil {
					if msg := op.check(&q); msg != "" {
						t.Fatalf("op %d: %s", i, msg)
					}
				}
			}
		})
	}
}

func describe(label string, f protocol.Fragment) string {
	s := label
	if f.HasSeq {
		s += fmt.Sprint(f.Seq)
	}
	if f.Disc {
		s += "*"
	}
	return s
}

func TestQueueTime(t *testing.T) {
	t.Parallel()
	q := queue{limit: 2}
	q.accept(*ok("e1", 0))
	at := time.UnixMilli(1764000000123)
	q.push(Fragment{Duration: 1500 * time.Millisecond, Data: []byte("a"), Time: at})
	q.push(Fragment{Duration: time.Second, Data: []byte("b"), Time: time.Unix(-5, 0)})
	w, _ := q.take()
	if w.frag.Time != 1764000000123 || w.frag.Duration != 1.5 {
		t.Fatalf("meta %+v", w.frag)
	}
	if w, _ = q.take(); w.frag.Time != 0 {
		t.Fatalf("time before 1970 sent as %d, want 0 (unknown)", w.frag.Time)
	}
}
