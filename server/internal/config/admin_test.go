package config

import (
	"strings"
	"testing"
)

func TestAdminSettings(t *testing.T) {
	t.Parallel()
	const token = "0123456789abcdef0123456789abcdef"

	t.Run("enabled without a token refuses to start", func(t *testing.T) {
		t.Parallel()
		_, err := Load(nil, []string{"ADMIN_ENABLED=YES"}, "")
		want := "ADMIN_TOKEN (--admin-token): is required when ADMIN_ENABLED is YES (e.g. openssl rand -hex 32)"
		if err == nil || err.Error() != want {
			t.Fatalf("error %v, want %q", err, want)
		}
	})

	t.Run("a token without the API is fine", func(t *testing.T) {
		t.Parallel()
		if _, err := Load(nil, []string{"ADMIN_TOKEN=" + token}, ""); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("the token is a secret", func(t *testing.T) {
		t.Parallel()
		c, err := Load(nil, []string{"ADMIN_ENABLED=YES", "ADMIN_TOKEN= " + token + " "}, "")
		if err != nil {
			t.Fatal(err)
		}
		if c.Admin.Token != " "+token+" " {
			t.Errorf("the token was changed: %q", c.Admin.Token)
		}
		if r := c.Redacted(); r.Admin.Token != "***" {
			t.Errorf("Redacted token %q", r.Admin.Token)
		}
		for _, s := range c.Settings() {
			if strings.Contains(s.Value, token) {
				t.Errorf("Settings shows the token in %s", s.Env)
			}
		}
		_, err = Load(nil, []string{"ADMIN_ENABLED=maybe", "ADMIN_TOKEN=" + token}, "")
		if err == nil || strings.Contains(err.Error(), token) {
			t.Errorf("error %v", err)
		}
	})

	for _, tc := range []struct {
		name    string
		environ []string
		want    []string
	}{
		{"off: no warning", []string{"ADMIN_LISTEN_ADDRESS=0.0.0.0:9091", "ADMIN_TOKEN=short"}, nil},
		{"loopback, long token", []string{"ADMIN_ENABLED=YES", "ADMIN_TOKEN=" + token}, nil},
		{"loopback name", []string{"ADMIN_ENABLED=YES", "ADMIN_TOKEN=" + token, "ADMIN_LISTEN_ADDRESS=localhost:9091"}, nil},
		{"short token", []string{"ADMIN_ENABLED=YES", "ADMIN_TOKEN=short"},
			[]string{"ADMIN_TOKEN is shorter than 32 characters"}},
		{"all interfaces", []string{"ADMIN_ENABLED=YES", "ADMIN_TOKEN=" + token, "ADMIN_LISTEN_ADDRESS=:9091"},
			[]string{"ADMIN_LISTEN_ADDRESS :9091 is reachable from other machines"}},
		{"private address", []string{"ADMIN_ENABLED=YES", "ADMIN_TOKEN=" + token, "ADMIN_LISTEN_ADDRESS=10.0.0.5:9091"},
			[]string{"ADMIN_LISTEN_ADDRESS 10.0.0.5:9091 is reachable from other machines"}},
	} {
		t.Run("warnings/"+tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(nil, tc.environ, "")
			if err != nil {
				t.Fatal(err)
			}
			got := c.adminWarnings()
			if len(got) != len(tc.want) {
				t.Fatalf("warnings %q, want %q", got, tc.want)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("warning %q, want it to start with %q", got[i], w)
				}
			}
			for _, w := range c.Warnings() {
				if strings.Contains(w, token) {
					t.Errorf("a warning shows the token: %q", w)
				}
			}
		})
	}
}
