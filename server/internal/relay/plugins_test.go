package relay

import (
	"testing"

	"github.com/hlsrelay/hlsrelay/plugins/pdk"
	"github.com/hlsrelay/hlsrelay/server/internal/config"
)

// TestDefaultPluginConfig: the settings reach the embedded plugins byte for
// byte, whatever the secrets contain.
func TestDefaultPluginConfig(t *testing.T) {
	t.Parallel()
	every := make([]byte, 256)
	for i := range every {
		every[i] = byte(i)
	}
	tests := []struct {
		name string
		auth config.AuthConfig
	}{
		{"plain", config.AuthConfig{PullSecret: "pull", PushSecret: "push", PushAllowed: true}},
		{"reserved characters", config.AuthConfig{PullSecret: "a&b=c+d e%20f;g", PushSecret: "#?/", PushAllowed: false}},
		{"every byte", config.AuthConfig{PullSecret: string(every), PushSecret: ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := pdk.ParseConfig(string(jwtauthConfig(tt.auth)))
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"pull_secret": tt.auth.PullSecret, "push_secret": tt.auth.PushSecret, "push_allowed": "false"}
			if tt.auth.PushAllowed {
				want["push_allowed"] = "true"
			}
			for k, v := range want {
				if got := c.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
	c, err := pdk.ParseConfig(string(routeConfig(true, "wss://origin.example/ws?a=1&b=2")))
	if err != nil {
		t.Fatal(err)
	}
	if c.Get("local") != "true" || c.Get("registry") != "true" || c.Get("upstream") != "wss://origin.example/ws?a=1&b=2" {
		t.Fatalf("route config: %q %q %q", c.Get("local"), c.Get("registry"), c.Get("upstream"))
	}
}
