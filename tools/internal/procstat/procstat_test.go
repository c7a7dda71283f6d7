package procstat

import (
	"errors"
	"os"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		raw     string
		want    time.Duration
		wantErr bool
	}{
		{
			name: "plain",
			raw:  "7329 (head) R 7324 7324 4952 0 -1 4194304 100 0 1 0 250 130 0 0 20 0 1 0 77124 2998272 361",
			want: 3800 * time.Millisecond,
		},
		{
			name: "command with spaces and parentheses",
			raw:  "12 (my (odd) cmd) S 1 1 1 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 1 1",
			want: 100 * time.Millisecond,
		},
		{name: "truncated", raw: "12 (x) S 1 1 1", wantErr: true},
		{name: "no command", raw: "12 x S", wantErr: true},
		{name: "bad number", raw: "1 (x) R 1 1 1 0 -1 0 0 0 0 0 abc 3 0", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseStat([]byte(tt.raw))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseStatusKB(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		raw     string
		want    int64
		wantErr bool
	}{
		{name: "present", raw: "Name:\tx\nVmPeak:\t 10 kB\nVmRSS:\t    2004 kB\n", want: 2004 * 1024},
		{name: "missing", raw: "Name:\tkthreadd\n", wantErr: true},
		{name: "bad unit", raw: "VmRSS:\t12 MB\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseStatusKB([]byte(tt.raw), "VmRSS")
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestReadSelf(t *testing.T) {
	t.Parallel()
	s, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.RSS < 1<<20 {
		t.Errorf("RSS %d bytes is implausibly small for a Go test binary", s.RSS)
	}
	if _, err := Read(-5); err == nil {
		t.Error("Read(-5) succeeded")
	}
}

func TestOpenFileLimit(t *testing.T) {
	t.Parallel()
	n, err := RaiseOpenFileLimit(16)
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenFileLimit(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if got != n && got != 0 {
		t.Errorf("/proc says %d, RaiseOpenFileLimit says %d", got, n)
	}
	if _, err := RaiseOpenFileLimit(1 << 62); !errors.Is(err, ErrLimitTooLow) {
		t.Errorf("huge need: err = %v, want ErrLimitTooLow", err)
	}
}

func TestLocalPortRange(t *testing.T) {
	t.Parallel()
	lo, hi, err := LocalPortRange()
	if err != nil {
		t.Skipf("no ephemeral port range on this system: %v", err)
	}
	if lo <= 0 || hi > 65535 || hi < lo {
		t.Errorf("range %d-%d", lo, hi)
	}
}
