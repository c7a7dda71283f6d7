package e2e

import (
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hlsrelay/hlsrelay/sdk-go/token"
)

type authCase struct {
	name, action, stream, token string
}

// authCases lists every way a token can be wrong for stream. Tokens are
// made with golang-jwt directly, independent of the relay's own code.
func authCases(t *testing.T, stream string) []authCase {
	t.Helper()
	hs := func(secret string, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	future := time.Now().Add(time.Hour).Unix()
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "PULL:" + stream, "exp": future}).
		SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs256, err := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": "PULL:" + stream, "exp": future}).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return []authCase{
		{"wrong secret", "PULL", stream, hs("not-the-secret", jwt.MapClaims{"sub": "PULL:" + stream, "exp": future})},
		{"expired", "PULL", stream, hs(pullSecret, jwt.MapClaims{"sub": "PULL:" + stream, "exp": time.Now().Add(-time.Minute).Unix()})},
		{"no exp", "PULL", stream, hs(pullSecret, jwt.MapClaims{"sub": "PULL:" + stream})},
		{"wrong subject", "PULL", stream, hs(pullSecret, jwt.MapClaims{"sub": "PULL:other", "exp": future})},
		{"no subject", "PULL", stream, hs(pullSecret, jwt.MapClaims{"exp": future})},
		{"PUSH token to PULL", "PULL", stream, sign(t, pushSecret, token.Push, stream)},
		{"PUSH subject signed with PULL secret", "PULL", stream, hs(pullSecret, jwt.MapClaims{"sub": "PUSH:" + stream, "exp": future})},
		{"PULL token to PUSH", "PUSH", stream + "-2", sign(t, pullSecret, token.Pull, stream+"-2")},
		{"alg none", "PULL", stream, none},
		{"RS256", "PULL", stream, rs256},
		{"garbage", "PULL", stream, "not.a.jwt"},
		{"empty", "PULL", stream, ""},
	}
}
