package metrics

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

var (
	docsPath      = filepath.Join("..", "..", "..", "docs", "metrics.md")
	dashboardPath = filepath.Join("..", "..", "..", "docs", "grafana-dashboard.json")
)

// allFamilies returns the name of every hlsrelay_ metric a node exports,
// with every vector given a series so that it shows.
func allFamilies(t *testing.T) map[string]bool {
	t.Helper()
	m := New()
	m.Connected(RoleViewer)
	m.Refused("AUTH_ERROR")
	m.Sent(1, time.Now())
	m.DroppedViewer(DropWriteTimeout)
	m.UpstreamConnect(ResultOK)
	m.UpstreamFailed(true)
	m.RegistryOp("claim", ResultOK)
	m.PluginCall("auth", "allow", time.Microsecond)
	m.HLSRequest("playlist", 200)
	if err := m.CollectStreams(func() ([]StreamInfo, int64) { return nil, 0 }, 1); err != nil {
		t.Fatal(err)
	}
	if err := m.CollectPlugins(func() []PluginStats {
		return []PluginStats{{Plugin: "auth", Failures: map[string]uint64{"trap": 0}}}
	}); err != nil {
		t.Fatal(err)
	}
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range families {
		if strings.HasPrefix(f.GetName(), namespace+"_") {
			names[f.GetName()] = true
		}
	}
	return names
}

// TestDocsListEveryMetric keeps docs/metrics.md in step with the code.
func TestDocsListEveryMetric(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	names := allFamilies(t)
	documented := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if cells := strings.Split(line, "|"); strings.HasPrefix(line, "| `hlsrelay_") && len(cells) > 2 {
			documented[strings.Trim(strings.TrimSpace(cells[1]), "`")] = true
		}
	}
	for name := range names {
		if !documented[name] {
			t.Errorf("%s has no row in %s", name, docsPath)
		}
	}
	for name := range documented {
		if !names[name] {
			t.Errorf("%s documents %s, which the relay does not export", docsPath, name)
		}
	}
}

// TestDashboardQueriesExist: every hlsrelay_ metric a dashboard panel asks
// for is exported, and every exported one is on the dashboard except the
// totals of connections (the gauges are).
func TestDashboardQueriesExist(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name string `json:"name"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	var vars []string
	for _, v := range dash.Templating.List {
		vars = append(vars, v.Name)
	}
	sort.Strings(vars)
	if strings.Join(vars, ",") != "datasource,instance" {
		t.Errorf("dashboard variables %v, want datasource and instance", vars)
	}
	names := allFamilies(t)
	used := map[string]bool{}
	metric := regexp.MustCompile(`hlsrelay_[a-z_]+`)
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			for _, name := range metric.FindAllString(target.Expr, -1) {
				base := name
				for _, suffix := range []string{"_bucket", "_count", "_sum"} {
					if trimmed, ok := strings.CutSuffix(name, suffix); ok && names[trimmed] {
						base = trimmed
					}
				}
				if !names[base] {
					t.Errorf("panel %q queries %s, which the relay does not export", p.Title, name)
				}
				used[base] = true
			}
		}
	}
	for name := range names {
		if !used[name] && name != "hlsrelay_connections_total" {
			t.Errorf("no dashboard panel shows %s", name)
		}
	}
}
