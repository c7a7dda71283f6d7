package publisher

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

// partsOp is one step of a parts queue test. Parts are letters: each adds a
// part to the open fragment (an upper-case letter with Disc); its data is
// the lower-case letter and its index in the fragment ("a0", "a1").
// Writes are described as:
//
//	I:x       the init segment x
//	a1@3      part 1 of fragment 3 ("a1" without seq); * marks disc
//	F@3/2     the F closing fragment 3 after 2 parts
//	a0a1@3    a fragment sent whole (no parts on the connection)
type partsOp struct {
	init      string
	parts     string
	push      string // whole fragments, as in queueOp
	closeFrag bool
	parts2    string // parts added after closeFrag
	accept    *protocol.OK
	take      []string // writes expected, then nothing more to take
	fail      bool     // the last write failed
}

func okParts(epoch string, next, nextPart uint64) *protocol.OK {
	return &protocol.OK{Ext: true, Epoch: epoch, Next: next, HasNext: true, Parts: true, NextPart: nextPart}
}

func describeWrite(w write) string {
	seq := func(has bool, s uint64) string {
		if has {
			return fmt.Sprintf("@%d", s)
		}
		return ""
	}
	switch w.kind {
	case writeInit:
		return "I:" + string(w.data)
	case writePart:
		s := string(w.data) + seq(w.part.HasSeq, w.part.Seq)
		if w.part.Disc {
			s += "*"
		}
		return s
	case writeEnd:
		return fmt.Sprintf("F%s/%d", seq(w.frag.HasSeq, w.frag.Seq), w.frag.Parts)
	}
	s := string(w.data) + seq(w.frag.HasSeq, w.frag.Seq)
	if w.frag.Disc {
		s += "*"
	}
	return s
}

func TestQueueParts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		limit int
		ops   []partsOp
	}{
		{"parts as they come, init first", 10, []partsOp{
			{accept: okParts("e1", 0, 0), init: "x", parts: "aa", take: []string{"I:x", "a0@0", "a1@0"}},
			{parts: "a", take: []string{"a2@0"}},
			{closeFrag: true, take: []string{"F@0/3"}},
			{parts: "b", closeFrag: true, take: []string{"b0@1", "F@1/1"}},
		}},
		{"a relay without parts gets whole fragments once closed", 10, []partsOp{
			{accept: ok("e1", 0), init: "x", parts: "aa", take: []string{}},
			{closeFrag: true, take: []string{"a0a1@0"}},
		}},
		{"a base relay too", 10, []partsOp{
			{accept: &protocol.OK{}, init: "x", parts: "aaa", closeFrag: true, take: []string{"a0a1a2"}},
		}},
		{"reconnect: init again, then from next_part", 10, []partsOp{
			{accept: okParts("e1", 0, 0), init: "x", parts: "aaa", take: []string{"I:x", "a0@0", "a1@0", "a2@0"}},
			{accept: okParts("e1", 0, 2), take: []string{"I:x", "a2@0"}},
			{closeFrag: true, take: []string{"F@0/3"}},
		}},
		{"reconnect: the relay has every part of the open fragment", 10, []partsOp{
			{accept: okParts("e1", 0, 0), init: "x", parts: "aa", take: []string{"I:x", "a0@0", "a1@0"}},
			{accept: okParts("e1", 0, 2), take: []string{}},
			{closeFrag: true, take: []string{"F@0/2"}},
		}},
		{"reconnect: the closing F was lost", 10, []partsOp{
			{accept: okParts("e1", 0, 0), init: "x", parts: "aa", closeFrag: true, take: []string{"I:x", "a0@0", "a1@0", "F@0/2"}, fail: true},
			{accept: okParts("e1", 0, 2), take: []string{"F@0/2"}},
		}},
		{"reconnect: next_part 0 resends the whole fragment", 10, []partsOp{
			{accept: okParts("e1", 0, 0), init: "x", parts: "a", closeFrag: true, parts2: "b", take: []string{"I:x", "a0@0", "F@0/1", "b0@1"}},
			{accept: okParts("e1", 1, 0), take: []string{"I:x", "b0@1"}},
		}},
		{"reconnect to a new epoch: renumbered from part 0, disc", 10, []partsOp{
			{accept: okParts("e1", 0, 0), init: "x", parts: "aa", take: []string{"I:x", "a0@0", "a1@0"}},
			{accept: okParts("e2", 5, 0), take: []string{"I:x", "a0@5*", "a1@5"}},
		}},
		{"reconnect to a relay without parts", 10, []partsOp{
			{accept: okParts("e1", 0, 0), init: "x", parts: "aa", take: []string{"I:x", "a0@0", "a1@0"}},
			{accept: ok("e1", 0), closeFrag: true, take: []string{"a0a1@0"}},
		}},
		{"a new init segment closes the open fragment", 10, []partsOp{
			{accept: okParts("e1", 0, 0), init: "x", parts: "aa", take: []string{"I:x", "a0@0", "a1@0"}},
			{init: "y", parts: "b", take: []string{"F@0/2", "I:y", "b0@1"}},
		}},
		{"each fragment after its own init segment", 10, []partsOp{
			{init: "x", parts: "a"}, {init: "y", parts: "b"},
			{accept: okParts("e1", 0, 0), take: []string{"I:x", "a0@0", "F@0/1", "I:y", "b0@1"}},
		}},
		{"a disc part starts a fragment", 10, []partsOp{
			{accept: okParts("e1", 0, 0), init: "x", parts: "aB", take: []string{"I:x", "a0@0", "F@0/1", "b0@1*"}},
		}},
		{"whole fragments close the open one", 10, []partsOp{
			{accept: okParts("e1", 0, 0), init: "x", parts: "a", push: "c", take: []string{"I:x", "a0@0", "F@0/1", "c@1"}},
		}},
		{"the relay moved past the open fragment", 10, []partsOp{
			{accept: okParts("e1", 0, 0), init: "x", parts: "aa", take: []string{"I:x", "a0@0", "a1@0"}},
			{accept: okParts("e1", 4, 0), take: []string{}},
			{parts: "a", take: []string{"I:x", "a0@4*"}}, // a new fragment
		}},
		{"dropped unsent fragments mark the next first part", 2, []partsOp{
			{init: "x", parts: "a", closeFrag: true}, {parts: "b", closeFrag: true}, {parts: "c"},
			{accept: okParts("e1", 0, 0), take: []string{"I:x", "b0@0*", "F@0/1", "c0@1"}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := queue{limit: tc.limit}
			var last write
			for i, op := range tc.ops {
				if op.init != "" {
					q.setInit([]byte(op.init))
				}
				addParts(&q, op.parts)
				for _, c := range op.push {
					q.push(Fragment{Duration: time.Second, Data: []byte(string(c))})
				}
				if op.closeFrag {
					q.closeOpen()
				}
				addParts(&q, op.parts2)
				if op.accept != nil {
					q.accept(*op.accept)
				}
				if op.take != nil {
					got := []string{}
					for {
						w, ok := q.take()
						if !ok {
							break
						}
						last = w
						got = append(got, describeWrite(w))
						if len(got) > 20 {
							break
						}
					}
					if !slices.Equal(got, op.take) {
						t.Fatalf("op %d: wrote %q, want %q", i, got, op.take)
					}
				}
				if op.fail {
					q.requeue(last)
				}
			}
		})
	}
}

// addParts adds parts described as letters (see partsOp).
func addParts(q *queue, letters string) {
	for _, c := range letters {
		label := strings.ToLower(string(c))
		disc := label != string(c)
		if q.open != nil && !disc && q.open.parts[0].Data[0] != label[0] {
			q.closeOpen() // another letter: another fragment
		}
		n := 0
		if q.open != nil && !disc {
			n = len(q.open.parts)
		}
		q.addPart(Part{Duration: 200 * time.Millisecond, Data: fmt.Appendf(nil, "%s%d", label, n), Disc: disc})
	}
}

func TestQueuePartsDurationAndTime(t *testing.T) {
	t.Parallel()
	q := queue{limit: 3}
	q.accept(*okParts("e1", 0, 0))
	q.setInit([]byte("x"))
	at := time.UnixMilli(1764000000123)
	q.addPart(Part{Duration: 200 * time.Millisecond, Data: []byte("a"), Independent: true, Time: at})
	q.addPart(Part{Duration: 300 * time.Millisecond, Data: []byte("b")})
	q.closeOpen()
	var ws []write
	for w, ok := q.take(); ok; w, ok = q.take() {
		ws = append(ws, w)
	}
	if len(ws) != 4 {
		t.Fatalf("%d writes, want I, P, P, F", len(ws))
	}
	p0, p1, end := ws[1].part, ws[2].part, ws[3].frag
	if p0.Duration != 0.2 || !p0.Independent || p0.Time != 1764000000123 || p0.Index != 0 {
		t.Errorf("first part %+v", p0)
	}
	if p1.Duration != 0.3 || p1.Independent || p1.Time != 0 || p1.Index != 1 {
		t.Errorf("second part %+v: no time unless given", p1)
	}
	if end.Duration != 0.5 || end.Time != 1764000000123 || end.Parts != 2 || end.Disc {
		t.Errorf("closing F %+v", end)
	}
}
