package bench

import "testing"

func TestViewerSampling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		expected, samples int
		wantStride        int64
		count             int
	}{
		{name: "all fit", expected: 300, samples: 1000, wantStride: 1, count: 300},
		{name: "every third", expected: 3000, samples: 1000, wantStride: 3, count: 1000},
		{name: "uneven", expected: 2500, samples: 1000, wantStride: 3, count: 834},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, _ := NewPayload(MinFragmentSize, 1)
			v := newViewer(nil, newRunClock(), NewChecker(p), tt.expected, tt.samples)
			if v.stride != tt.wantStride {
				t.Errorf("stride %d, want %d", v.stride, tt.wantStride)
			}
			// Feed the expected fragments through the sampling rule.
			v.run.firstMeasured.Store(0)
			for seq := range tt.expected {
				msg := p.NewBuffer()
				p.Stamp(msg, uint64(seq), v.run.now())
				v.checker.Reset()
				_, _ = v.checker.Write(msg)
				if err := v.record(); err != nil {
					t.Fatal(err)
				}
			}
			if len(v.latencies) != tt.count || v.measured != int64(tt.expected) {
				t.Errorf("%d samples of %d measured, want %d of %d", len(v.latencies), v.measured, tt.count, tt.expected)
			}
		})
	}
}
