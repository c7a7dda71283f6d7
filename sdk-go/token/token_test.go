package token

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	secret = []byte("push-secret")
	now    = time.Date(2025, 11, 24, 9, 0, 0, 0, time.UTC)
)

const stream = "room1/cam/1280x720-30~2000"

func b64(v any) string {
	var raw []byte
	switch v := v.(type) {
	case string:
		raw = []byte(v)
	default:
		var err error
		if raw, err = json.Marshal(v); err != nil {
			panic(err)
		}
	}
	return base64.RawURLEncoding.EncodeToString(raw)
}

// handMade builds a JWT without golang-jwt, so the tests also show that
// tokens from any conforming library verify.
func handMade(header, claims any, sign func(string) []byte) string {
	unsigned := b64(header) + "." + b64(claims)
	var sig []byte
	if sign != nil {
		sig = sign(unsigned)
	}
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func hs256(key []byte) func(string) []byte {
	return func(s string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(s))
		return m.Sum(nil)
	}
}

func hs512(key []byte) func(string) []byte {
	return func(s string) []byte {
		m := hmac.New(sha512.New, key)
		m.Write([]byte(s))
		return m.Sum(nil)
	}
}

func rs256(t *testing.T) func(string) []byte {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return func(s string) []byte {
		h := sha256.Sum256([]byte(s))
		sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
}

var hsHeader = map[string]any{"alg": "HS256", "typ": "JWT"}

func claims(sub string, exp time.Time) map[string]any {
	return map[string]any{"sub": sub, "exp": exp.Unix()}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	pushSub := "PUSH:" + stream
	valid := claims(pushSub, now.Add(time.Hour))
	signed, err := signAt(secret, Push, stream, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tampered := func() string {
		parts := strings.Split(signed, ".")
		parts[1] = b64(claims("PUSH:other", now.Add(time.Hour)))
		return strings.Join(parts, ".")
	}()
	tests := []struct {
		name   string
		token  string
		action Action
		stream string
		want   error // nil: valid
	}{
		{"signed by Sign", signed, Push, stream, nil},
		{"hand-made HS256", handMade(hsHeader, valid, hs256(secret)), Push, stream, nil},
		{"without typ header", handMade(map[string]any{"alg": "HS256"}, valid, hs256(secret)), Push, stream, nil},
		{"extra claims ignored", handMade(hsHeader, map[string]any{"sub": pushSub, "exp": now.Add(time.Minute).Unix(),
			"iat": now.Add(time.Hour).Unix(), "aud": "x", "room": 7}, hs256(secret)), Push, stream, nil},
		{"fractional exp", handMade(hsHeader, map[string]any{"sub": pushSub, "exp": float64(now.Unix()) + 1.5}, hs256(secret)), Push, stream, nil},
		// Fractions of a second are cut off: the token expires earlier, never later.
		{"fractional exp cut to the second", handMade(hsHeader, map[string]any{"sub": pushSub, "exp": float64(now.Unix()) + 0.5}, hs256(secret)), Push, stream, ErrExpired},
		{"exp one second ahead", handMade(hsHeader, claims(pushSub, now.Add(time.Second)), hs256(secret)), Push, stream, nil},
		{"nbf in the past", handMade(hsHeader, map[string]any{"sub": pushSub, "exp": now.Add(time.Hour).Unix(), "nbf": now.Unix()}, hs256(secret)), Push, stream, nil},
		{"pull token for pull", handMade(hsHeader, claims("PULL:"+stream, now.Add(time.Hour)), hs256(secret)), Pull, stream, nil},

		{"wrong secret", handMade(hsHeader, valid, hs256([]byte("pull-secret"))), Push, stream, ErrBadSignature},
		{"tampered claims", tampered, Push, stream, ErrBadSignature},
		{"empty signature", handMade(hsHeader, valid, nil), Push, stream, ErrBadSignature},
		{"expired", handMade(hsHeader, claims(pushSub, now.Add(-time.Second)), hs256(secret)), Push, stream, ErrExpired},
		{"exp is now", handMade(hsHeader, claims(pushSub, now), hs256(secret)), Push, stream, ErrExpired},
		{"no exp", handMade(hsHeader, map[string]any{"sub": pushSub}, hs256(secret)), Push, stream, ErrMissingExp},
		{"exp null", handMade(hsHeader, map[string]any{"sub": pushSub, "exp": nil}, hs256(secret)), Push, stream, ErrMissingExp},
		// golang-jwt reads a numeric string as a number, as relays built on it always have.
		{"exp a numeric string", handMade(hsHeader, map[string]any{"sub": pushSub, "exp": "4100000000"}, hs256(secret)), Push, stream, nil},
		{"exp a word", handMade(hsHeader, map[string]any{"sub": pushSub, "exp": "soon"}, hs256(secret)), Push, stream, ErrMalformed},
		{"exp an object", handMade(hsHeader, map[string]any{"sub": pushSub, "exp": map[string]int{"s": 1}}, hs256(secret)), Push, stream, ErrMalformed},
		{"nbf in the future", handMade(hsHeader, map[string]any{"sub": pushSub, "exp": now.Add(time.Hour).Unix(), "nbf": now.Add(time.Minute).Unix()}, hs256(secret)), Push, stream, ErrNotYetValid},
		{"other stream", handMade(hsHeader, claims("PUSH:room2/cam", now.Add(time.Hour)), hs256(secret)), Push, stream, ErrWrongSubject},
		{"stream prefix", handMade(hsHeader, claims("PUSH:room1", now.Add(time.Hour)), hs256(secret)), Push, "room1/cam", ErrWrongSubject},
		{"push token for pull", handMade(hsHeader, valid, hs256(secret)), Pull, stream, ErrWrongSubject},
		{"pull token for push", handMade(hsHeader, claims("PULL:"+stream, now.Add(time.Hour)), hs256(secret)), Push, stream, ErrWrongSubject},
		{"lower-case action", handMade(hsHeader, claims("push:"+stream, now.Add(time.Hour)), hs256(secret)), Push, stream, ErrWrongSubject},
		{"no sub", handMade(hsHeader, map[string]any{"exp": now.Add(time.Hour).Unix()}, hs256(secret)), Push, stream, ErrWrongSubject},
		{"sub a number", handMade(hsHeader, map[string]any{"sub": 5, "exp": now.Add(time.Hour).Unix()}, hs256(secret)), Push, stream, ErrMalformed},
		{"alg none, unsigned", handMade(map[string]any{"alg": "none"}, valid, nil), Push, stream, ErrAlgorithm},
		{"alg none, HMAC signature", handMade(map[string]any{"alg": "none"}, valid, hs256(secret)), Push, stream, ErrAlgorithm},
		{"alg NONE", handMade(map[string]any{"alg": "NONE"}, valid, nil), Push, stream, ErrAlgorithm},
		{"alg RS256 header, HMAC signature", handMade(map[string]any{"alg": "RS256"}, valid, hs256(secret)), Push, stream, ErrAlgorithm},
		{"alg RS256, RSA signature", handMade(map[string]any{"alg": "RS256"}, valid, rs256(t)), Push, stream, ErrAlgorithm},
		{"alg HS512 with the right secret", handMade(map[string]any{"alg": "HS512"}, valid, hs512(secret)), Push, stream, ErrAlgorithm},
		{"alg hs256", handMade(map[string]any{"alg": "hs256"}, valid, hs256(secret)), Push, stream, ErrAlgorithm},
		{"no alg", handMade(map[string]any{"typ": "JWT"}, valid, hs256(secret)), Push, stream, ErrAlgorithm},
		{"empty", "", Push, stream, ErrMalformed},
		{"garbage", "not a token", Push, stream, ErrMalformed},
		{"two segments", b64(hsHeader) + "." + b64(valid), Push, stream, ErrMalformed},
		{"four segments", signed + ".x", Push, stream, ErrMalformed},
		{"bad base64 header", "!!!." + b64(valid) + ".sig", Push, stream, ErrMalformed},
		{"header not JSON", b64("{") + "." + b64(valid) + ".sig", Push, stream, ErrMalformed},
		{"claims not JSON", b64(hsHeader) + "." + b64("[1,2") + ".sig", Push, stream, ErrMalformed},
		{"padded base64", strings.Replace(signed, ".", "=.", 1), Push, stream, ErrMalformed},
		{"bearer prefix", "Bearer " + signed, Push, stream, ErrMalformed},
	}
	sentinels := []error{ErrMalformed, ErrAlgorithm, ErrBadSignature, ErrMissingExp, ErrExpired, ErrNotYetValid, ErrWrongSubject}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Verify(secret, tc.token, tc.action, tc.stream, now)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify error %v, want %v", err, tc.want)
			}
			for _, s := range sentinels {
				if s != tc.want && errors.Is(err, s) {
					t.Fatalf("error %v also wraps %v", err, s)
				}
			}
			if parts := strings.Split(tc.token, "."); len(parts) == 3 && len(parts[2]) > 8 && strings.Contains(err.Error(), parts[2]) {
				t.Fatalf("error message contains the token: %v", err)
			}
		})
	}
}

func TestVerifyBadArguments(t *testing.T) {
	t.Parallel()
	tok, err := signAt(secret, Push, stream, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		secret []byte
		action Action
	}{
		{"empty secret", nil, Push},
		{"unknown action", secret, "PLAY"},
		{"empty action", secret, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := Verify(tc.secret, tok, tc.action, stream, now); err == nil {
				t.Fatal("Verify accepted bad arguments")
			}
		})
	}
}

func TestVerifyZeroNowIsWallClock(t *testing.T) {
	t.Parallel()
	tok, err := Sign(secret, Pull, stream, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(secret, tok, Pull, stream, time.Time{}); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	old, err := signAt(secret, Pull, stream, time.Now().Add(-time.Hour), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(secret, old, Pull, stream, time.Time{}); !errors.Is(err, ErrExpired) {
		t.Fatalf("hour-old token: %v, want ErrExpired", err)
	}
}

func TestSign(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		now     time.Time
		ttl     time.Duration
		wantExp int64
	}{
		{"whole seconds", now, time.Hour, now.Add(time.Hour).Unix()},
		{"rounded up", now.Add(100 * time.Millisecond), time.Second, now.Unix() + 2},
		{"sub-second ttl is never expired at once", now.Add(900 * time.Millisecond), 200 * time.Millisecond, now.Unix() + 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, err := signAt(secret, Push, stream, tc.now, tc.ttl)
			if err != nil {
				t.Fatal(err)
			}
			parts := strings.Split(tok, ".")
			if len(parts) != 3 {
				t.Fatalf("token %q has %d segments", tok, len(parts))
			}
			var header map[string]any
			decodeSegment(t, parts[0], &header)
			if header["alg"] != "HS256" || header["typ"] != "JWT" {
				t.Fatalf("header %v", header)
			}
			var c map[string]any
			decodeSegment(t, parts[1], &c)
			if len(c) != 2 || c["sub"] != "PUSH:"+stream || c["exp"] != float64(tc.wantExp) {
				t.Fatalf("claims %v, want exactly sub PUSH:%s and exp %d", c, stream, tc.wantExp)
			}
			if !hmac.Equal(mustDecode(t, parts[2]), hs256(secret)(parts[0]+"."+parts[1])) {
				t.Fatal("signature is not HMAC-SHA256 of the signing input")
			}
			if err := Verify(secret, tok, Push, stream, tc.now); err != nil {
				t.Fatalf("Verify at signing time: %v", err)
			}
			if err := Verify(secret, tok, Push, stream, time.Unix(tc.wantExp, 0)); !errors.Is(err, ErrExpired) {
				t.Fatalf("Verify at exp: %v, want ErrExpired", err)
			}
		})
	}
}

func TestSignBadArguments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		secret []byte
		action Action
		stream string
		ttl    time.Duration
	}{
		{"empty secret", nil, Push, stream, time.Hour},
		{"unknown action", secret, "PLAY", stream, time.Hour},
		{"empty stream", secret, Push, "", time.Hour},
		{"stream too long", secret, Push, strings.Repeat("x", 256), time.Hour},
		{"stream with control character", secret, Push, "a\nb", time.Hour},
		{"zero ttl", secret, Push, stream, 0},
		{"negative ttl", secret, Push, stream, -time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tok, err := Sign(tc.secret, tc.action, tc.stream, tc.ttl); err == nil {
				t.Fatalf("Sign = %q, want an error", tok)
			}
		})
	}
}

func TestSubject(t *testing.T) {
	t.Parallel()
	if got := Subject(Pull, "room1/cam"); got != "PULL:room1/cam" {
		t.Fatalf("Subject = %q", got)
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeSegment(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal(mustDecode(t, s), v); err != nil {
		t.Fatal(err)
	}
}
