package sample

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"slices"
	"testing"
	"time"
)

const tsPacketSize = 188

func TestSegmentsWellFormed(t *testing.T) {
	t.Parallel()
	m, err := ReadManifest()
	if err != nil {
		t.Fatal(err)
	}
	segs := Segments()
	if len(segs) != len(m.Segments) {
		t.Fatalf("Segments() returned %d segments, the manifest lists %d", len(segs), len(m.Segments))
	}
	if len(segs) < 3 {
		t.Fatalf("only %d segments; the sample should be several seconds long", len(segs))
	}
	total := 0
	for i, s := range segs {
		e := m.Segments[i]
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			if s.Name != e.Name {
				t.Errorf("name %q, manifest %q", s.Name, e.Name)
			}
			if len(s.Data) != e.Size {
				t.Errorf("size %d, manifest %d", len(s.Data), e.Size)
			}
			sum := sha256.Sum256(s.Data)
			if got := hex.EncodeToString(sum[:]); got != e.SHA256 {
				t.Errorf("sha256 %s, manifest %s", got, e.SHA256)
			}
			if len(s.Data) == 0 || len(s.Data)%tsPacketSize != 0 {
				t.Fatalf("size %d is not a positive multiple of %d", len(s.Data), tsPacketSize)
			}
			for off := 0; off < len(s.Data); off += tsPacketSize {
				if s.Data[off] != 0x47 {
					t.Fatalf("no sync byte 0x47 at offset %d (got %#x)", off, s.Data[off])
				}
			}
			if s.Duration < 900*time.Millisecond || s.Duration > 1100*time.Millisecond {
				t.Errorf("duration %v, want about 1s", s.Duration)
			}
		})
		total += len(s.Data)
	}
	if total > 400_000 {
		t.Errorf("sample is %d bytes, keep it under 400 kB", total)
	}
	if d := Duration(); d < 5*time.Second || d > 7*time.Second {
		t.Errorf("total duration %v, want about 6s", d)
	}
}

// TestEveryFileListed guards against stale segment files that the manifest
// no longer names (they would be embedded for nothing).
func TestEveryFileListed(t *testing.T) {
	t.Parallel()
	m, err := ReadManifest()
	if err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(files, "data/*.ts")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, e := range m.Segments {
		listed = append(listed, "data/"+e.Name)
	}
	slices.Sort(listed)
	if !slices.Equal(names, listed) {
		t.Errorf("embedded %v, manifest lists %v", names, listed)
	}
}

func TestSegmentsIsACopy(t *testing.T) {
	t.Parallel()
	a := Segments()
	a[0].Name = "changed"
	if b := Segments(); b[0].Name == "changed" {
		t.Error("Segments returned a shared slice")
	}
}
