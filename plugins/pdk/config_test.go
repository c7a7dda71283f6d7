package pdk

import (
	"net/url"
	"testing"
)

func TestParseConfig(t *testing.T) {
	t.Parallel()
	c, err := ParseConfig("a=1&b=x%20y&&c&d=p+q&e=%00%ff%3D%26&a=2&=v")
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{"a", "1"}, {"b", "x y"}, {"c", ""}, {"d", "p q"}, {"e", "\x00\xff=&"}, {"a", "2"}, {"", "v"}}
	if c.Len() != len(want) {
		t.Fatalf("%d parameters, want %d", c.Len(), len(want))
	}
	for i, w := range want {
		if k, v := c.At(i); k != w[0] || v != w[1] {
			t.Errorf("parameter %d = %q=%q, want %q=%q", i, k, v, w[0], w[1])
		}
	}
	if v, ok := c.Lookup("a"); !ok || v != "1" {
		t.Errorf("Lookup(a) = %q, %v", v, ok)
	}
	if v, ok := c.Lookup("z"); ok || v != "" || c.Get("z") != "" {
		t.Errorf("Lookup(z) = %q, %v", v, ok)
	}
	for _, bad := range []string{"a=%", "a=%4", "a=%zz", "%g=1", "a=1;b=2", "a;=1"} {
		if _, err := ParseConfig(bad); err == nil {
			t.Errorf("ParseConfig(%q) accepted", bad)
		}
	}
}

// FuzzParseConfig: ParseConfig agrees with net/url.ParseQuery.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{"", "a=1&b=x%20y", "pull_secret=a%26b&push_allowed=true", "a=%zz", "a;b", "+=+", "&&=&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, werr := url.ParseQuery(s)
		c, err := ParseConfig(s)
		if (err == nil) != (werr == nil) {
			t.Fatalf("%q: error %v, net/url says %v", s, err, werr)
		}
		if err != nil {
			return
		}
		got := url.Values{}
		for i := range c.Len() {
			k, v := c.At(i)
			got[k] = append(got[k], v)
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %q, net/url says %q", s, got, want)
		}
		for k, vs := range want {
			g := got[k]
			if len(g) != len(vs) {
				t.Fatalf("%q: %q, net/url says %q", s, got, want)
			}
			for i := range vs {
				if g[i] != vs[i] {
					t.Fatalf("%q: %q, net/url says %q", s, got, want)
				}
			}
		}
	})
}
