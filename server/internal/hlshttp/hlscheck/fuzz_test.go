package hlscheck

import (
	"strings"
	"testing"
)

// FuzzParse: the validator never panics, and what it accepts keeps the
// rules it checks: numbered segments, parts within the part target, a map
// for fMP4 resources, a hint for a live low-latency playlist.
func FuzzParse(f *testing.F) {
	for _, s := range []string{good, goodLL, ll(1, 3, 2, 2, false), ll(1, 3, 2, 0, true), live(1, 3, 0, map[uint64]bool{2: true}, false), newInit(ll(1, 4, 2, 1, false), 4)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			return
		}
		if p.TargetDuration < 1 || (len(p.Segments) == 0 && !p.EndList) {
			t.Fatalf("accepted %+v", p)
		}
		for i, s := range p.Segments {
			if s.Seq != p.MediaSequence+uint64(i) || (s.Map == "" && isFMP4(s.URI)) {
				t.Fatalf("segment %d: %+v", i, s)
			}
		}
		segs := p.Segments
		if p.Partial != nil {
			if p.EndList || len(p.Partial.Parts) == 0 {
				t.Fatalf("partial segment %+v", p.Partial)
			}
			segs = append(segs, *p.Partial)
		}
		for _, s := range segs {
			for _, part := range s.Parts {
				if part.Duration > p.PartTarget || part.URI == "" {
					t.Fatalf("part %+v, part target %v", part, p.PartTarget)
				}
			}
		}
		if p.PartTarget > 0 && !p.EndList && len(p.PreloadHints) == 0 {
			t.Fatal("a live low-latency playlist without a hint was accepted")
		}
		if p.PartTarget > 0 && p.PartHoldBack < 2*p.PartTarget {
			t.Fatalf("PART-HOLD-BACK %v with PART-TARGET %v", p.PartHoldBack, p.PartTarget)
		}
	})
}

// FuzzParseAttributes: what parses is made of valid names and values, and
// writes back to a list that parses to the same attributes.
func FuzzParseAttributes(f *testing.F) {
	for _, s := range []string{`A=1`, `URI="a,b=c",DURATION=0.2,INDEPENDENT=YES`, `A=""`, `A="x`, `A=1,A=2`, `A=1,`, `=`, `a=b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		attrs, err := parseAttributes(s)
		if err != nil {
			return
		}
		var b strings.Builder
		seen := map[string]bool{}
		for i, a := range attrs {
			if checkAttributeName(a.Name) != nil || seen[a.Name] {
				t.Fatalf("%q: bad or repeated name in %+v", s, attrs)
			}
			seen[a.Name] = true
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(a.Name + "=")
			if a.Quoted {
				b.WriteString(`"` + a.Value + `"`)
			} else {
				b.WriteString(a.Value)
			}
		}
		if b.String() != s {
			t.Fatalf("%q wrote back as %q", s, b.String())
		}
	})
}
