package policy

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/token"
)

func TestJWT(t *testing.T) {
	t.Parallel()
	now := time.Now()
	sign := func(secret string, a token.Action, stream string) string {
		s, err := token.Sign([]byte(secret), a, stream, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	strict := &JWT{PullSecret: "pull", PushSecret: "push", PushAllowed: true}
	tests := []struct {
		name    string
		jwt     *JWT
		req     Request
		allowed bool
		reason  string
	}{
		{"valid pull", strict, Request{Action: Pull, Stream: "a", Token: sign("pull", token.Pull, "a")}, true, ""},
		{"valid push", strict, Request{Action: Push, Stream: "a", Token: sign("push", token.Push, "a")}, true, ""},
		{"pull token for push", strict, Request{Action: Push, Stream: "a", Token: sign("pull", token.Pull, "a")}, false, "invalid token"},
		{"other stream", strict, Request{Action: Pull, Stream: "b", Token: sign("pull", token.Pull, "a")}, false, "invalid token"},
		{"push not allowed", &JWT{PushSecret: "push"}, Request{Action: Push, Stream: "a", Token: sign("push", token.Push, "a")}, false, "not allowed"},
		{"empty pull secret allows", &JWT{PushSecret: "push", PushAllowed: true}, Request{Action: Pull, Stream: "a"}, true, ""},
		{"empty push secret allows", &JWT{PullSecret: "pull", PushAllowed: true}, Request{Action: Push, Stream: "a"}, true, ""},
		{"no token", strict, Request{Action: Pull, Stream: "a"}, false, "invalid token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := *tt.jwt
			j.Now = func() time.Time { return now }
			d := j.Authorize(context.Background(), &tt.req)
			if d.Allowed != tt.allowed {
				t.Fatalf("allowed = %v, want %v (%s)", d.Allowed, tt.allowed, d.Reason)
			}
			if !tt.allowed && (d.Code != "AUTH_ERROR" || !strings.Contains(d.Reason, tt.reason)) {
				t.Fatalf("decision %+v, want AUTH_ERROR mentioning %q", d, tt.reason)
			}
			if tt.req.Token != "" && strings.Contains(d.Reason, tt.req.Token) {
				t.Fatalf("reason echoes the token: %q", d.Reason)
			}
		})
	}
}
