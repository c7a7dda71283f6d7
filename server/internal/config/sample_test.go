package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The sample file at the repository root is the configuration reference
// users copy; these tests keep it, and docs/configuration.md, in step with
// the code.
var (
	samplePath = filepath.Join("..", "..", "..", "hlsrelay.env.example")
	docsPath   = filepath.Join("..", "..", "..", "docs", "configuration.md")
)

func TestSampleFileMatchesDefaults(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := parseDotenv(string(data))
	if err != nil {
		t.Fatalf("%s: %v", samplePath, err)
	}
	seen := map[string]int{}
	for _, e := range entries {
		s := lookupSetting(e.Key)
		if s == nil {
			t.Errorf("%s:%d: %s is not a setting", samplePath, e.Line, e.Key)
			continue
		}
		if line, dup := seen[e.Key]; dup {
			t.Errorf("%s:%d: %s already set on line %d", samplePath, e.Line, e.Key, line)
		}
		seen[e.Key] = e.Line
		if e.Value != s.def {
			t.Errorf("%s:%d: %s=%q, but the default is %q", samplePath, e.Line, e.Key, e.Value, s.def)
		}
	}
	for _, s := range settings {
		if _, ok := seen[s.env]; !ok {
			t.Errorf("%s lacks %s (default %q)", samplePath, s.env, s.def)
		}
	}

	// Loaded as a .env file, the sample gives exactly the defaults.
	c, err := Load(nil, nil, samplePath)
	if err != nil {
		t.Fatal(err)
	}
	if c.EnvFile != samplePath {
		t.Errorf("EnvFile = %q", c.EnvFile)
	}
	c.EnvFile = ""
	if want := Default(); !reflect.DeepEqual(c, want) {
		t.Errorf("the sample file loads as\n%+v\nwant the defaults\n%+v", c, want)
	}

	// Settings of the existing server are not marked [new]; hlsrelay's are.
	lines := strings.Split(string(data), "\n")
	for _, s := range settings {
		// The comment is the run of "#" lines right above the setting.
		comment := ""
		for i := seen[s.env] - 2; i >= 0 && strings.HasPrefix(lines[i], "#"); i-- {
			comment = lines[i] + "\n" + comment
		}
		if isNew := strings.Contains(comment, "[new]"); isNew == s.compat {
			t.Errorf("%s: compatible=%v, but its comment in %s says %q", s.env, s.compat, samplePath, comment)
		}
	}
}

func TestDocsListEverySetting(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 6 {
			continue
		}
		rows[strings.Trim(strings.TrimSpace(cells[1]), "`")] = line
	}
	for _, s := range settings {
		row, ok := rows[s.env]
		if !ok {
			t.Errorf("%s has no table row for %s", docsPath, s.env)
			continue
		}
		cells := strings.Split(row, "|")
		if got := strings.Trim(strings.TrimSpace(cells[2]), "`"); got != s.flag() {
			t.Errorf("%s: flag %q in the docs, want %q", s.env, got, s.flag())
		}
		def := strings.TrimSpace(cells[3])
		want := "`" + s.def + "`"
		if s.def == "" {
			want = "empty"
		}
		if !strings.HasPrefix(def, want) {
			t.Errorf("%s: default %q in the docs, want it to start with %q", s.env, def, want)
		}
		origin := strings.TrimSpace(cells[len(cells)-2])
		if wantOrigin := map[bool]string{true: "existing", false: "new"}[s.compat]; origin != wantOrigin {
			t.Errorf("%s: origin %q in the docs, want %q", s.env, origin, wantOrigin)
		}
	}
}
