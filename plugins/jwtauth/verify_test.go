//go:build !wasip1

package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hlsrelay/hlsrelay/sdk-go/token"
)

// These tests run the plugin's verifier natively against sdk-go/token.Verify
// (the relay's in-process check), so that differences show up fast; the
// tests in jwtauth_test.go run the built plugin.

func hostHS256(key, msg, sig []byte) (bool, error) {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return hmac.Equal(m.Sum(nil), sig), nil
}

// craft returns header.claims.signature with the given JSON texts, signed
// with HS256 under secret whatever the header says.
func craft(secret, header, claims string) string {
	enc := base64.RawURLEncoding
	s := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims))
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(s))
	return s + "." + enc.EncodeToString(m.Sum(nil))
}

const hs256 = `{"alg":"HS256","typ":"JWT"}`

var sentinels = []error{
	token.ErrMalformed, token.ErrAlgorithm, token.ErrBadSignature, token.ErrMissingExp,
	token.ErrExpired, token.ErrNotYetValid, token.ErrWrongSubject,
}

// compare checks that the verifier decides as token.Verify, for the same
// reason, and reports what the verifier said.
func compare(t testing.TB, v *verifier, secret, tok string, action token.Action, stream string, nowMs int64) (exp int64, reason string) {
	t.Helper()
	want := token.Verify([]byte(secret), tok, action, stream, time.UnixMilli(nowMs))
	exp, reason, err := v.check([]byte(secret), []byte(tok), []byte(action), []byte(stream), nowMs)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	if (want == nil) != (reason == "") {
		t.Fatalf("token %q, %s %q at %d: plugin says %q, sdk-go says %v", tok, action, stream, nowMs, reason, want)
	}
	if want == nil {
		claims := jwt.RegisteredClaims{}
		if _, _, err := jwt.NewParser().ParseUnverified(tok, &claims); err != nil {
			t.Fatal(err)
		}
		if got := claims.ExpiresAt.Unix(); got != exp {
			t.Fatalf("token %q: exp %d, want %d", tok, exp, got)
		}
		return exp, reason
	}
	for _, s := range sentinels {
		if errors.Is(want, s) {
			prefix := "invalid token: " + s.Error()
			if !strings.HasPrefix(reason, prefix) {
				t.Fatalf("token %q: plugin says %q, sdk-go says %v", tok, reason, want)
			}
			if detail, ok := strings.CutPrefix(reason, prefix+": "); ok && !strings.Contains(want.Error(), detail) {
				t.Fatalf("token %q: plugin says %q, sdk-go says %v", tok, reason, want)
			}
			return exp, reason
		}
	}
	t.Fatalf("sdk-go error %v wraps no sentinel", want)
	return
}

func TestVerifierCases(t *testing.T) {
	t.Parallel()
	const secret = "s3cret"
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	nowMs := now.UnixMilli()
	exp := now.Unix() + 60
	e := strconv.FormatInt(exp, 10)
	claims := func(rest string) string { return `{"sub":"PULL:room/cam",` + rest + `}` }
	tests := []struct {
		name, tok string
		reason    string // "" allowed; else the prefix of the reason
	}{
		{"valid", craft(secret, hs256, claims(`"exp":`+e)), ""},
		{"exp as numeric string", craft(secret, hs256, claims(`"exp":"`+e+`"`)), ""},
		{"exp as escaped numeric string", craft(secret, hs256, claims(`"exp":"\u0031`+e[1:]+`"`)), ""},
		{"exp float", craft(secret, hs256, claims(`"exp":`+e+`.999`)), ""},
		{"exp exponent", craft(secret, hs256, claims(`"exp":1.9e9`)), ""},
		{"exp == now", craft(secret, hs256, claims(`"exp":`+strconv.FormatInt(now.Unix(), 10))), reasonExpired},
		{"exp in the past", craft(secret, hs256, claims(`"exp":1`)), reasonExpired},
		{"exp negative", craft(secret, hs256, claims(`"exp":-1.5`)), reasonExpired},
		{"exp huge", craft(secret, hs256, claims(`"exp":1e300`)), reasonExpired},
		{"exp near int64 max", craft(secret, hs256, claims(`"exp":9223372036854775807`)), reasonExpired},
		{"exp past time's range", craft(secret, hs256, claims(`"exp":9223372000000000000`)), reasonExpired},
		{"exp out of float range", craft(secret, hs256, claims(`"exp":1e400`)), reasonClaimsJSON},
		{"exp underflow", craft(secret, hs256, claims(`"exp":1e-400`)), reasonExpired},
		{"exp bool", craft(secret, hs256, claims(`"exp":true`)), reasonClaimsJSON},
		{"exp non-numeric string", craft(secret, hs256, claims(`"exp":"soon"`)), reasonClaimsJSON},
		{"exp string with space", craft(secret, hs256, claims(`"exp":" `+e+`"`)), reasonClaimsJSON},
		{"exp null", craft(secret, hs256, claims(`"exp":null`)), reasonMissingExp},
		{"exp then null", craft(secret, hs256, claims(`"exp":`+e+`,"exp":null`)), reasonMissingExp},
		{"null then exp", craft(secret, hs256, claims(`"exp":null,"exp":`+e)), ""},
		{"EXP upper case", craft(secret, hs256, claims(`"EXP":`+e)), ""},
		{"no exp", craft(secret, hs256, `{"sub":"PULL:room/cam"}`), reasonMissingExp},
		{"nbf future", craft(secret, hs256, claims(`"exp":`+e+`,"nbf":`+e)), reasonNotYetValid},
		{"nbf now", craft(secret, hs256, claims(`"exp":`+e+`,"nbf":`+strconv.FormatInt(now.Unix(), 10))), ""},
		{"nbf wrong type", craft(secret, hs256, claims(`"exp":`+e+`,"nbf":{}`)), reasonClaimsJSON},
		{"iat wrong type", craft(secret, hs256, claims(`"exp":`+e+`,"iat":[1]`)), reasonClaimsJSON},
		{"iat future ignored", craft(secret, hs256, claims(`"exp":`+e+`,"iat":`+e)), ""},
		{"aud list", craft(secret, hs256, claims(`"exp":`+e+`,"aud":["a","b"]`)), ""},
		{"aud number", craft(secret, hs256, claims(`"exp":`+e+`,"aud":1`)), reasonClaimsJSON},
		{"aud list of numbers", craft(secret, hs256, claims(`"exp":`+e+`,"aud":[1]`)), reasonClaimsJSON},
		{"iss number", craft(secret, hs256, claims(`"exp":`+e+`,"iss":1`)), reasonClaimsJSON},
		{"unknown claims", craft(secret, hs256, claims(`"exp":`+e+`,"x":{"y":[1,{"z":null}]}`)), ""},
		{"expired and not yet valid", craft(secret, hs256, claims(`"exp":1,"nbf":`+e)), reasonExpired},
		{"no exp and not yet valid", craft(secret, hs256, `{"sub":"PULL:room/cam","nbf":`+e+`}`), reasonMissingExp},
		{"wrong subject", craft(secret, hs256, `{"sub":"PULL:room/other","exp":`+e+`}`), reasonWrongSubject},
		{"push subject", craft(secret, hs256, `{"sub":"PUSH:room/cam","exp":`+e+`}`), reasonWrongSubject},
		{"no subject", craft(secret, hs256, `{"exp":`+e+`}`), reasonWrongSubject},
		{"subject null keeps earlier", craft(secret, hs256, `{"sub":"PULL:room/cam","sub":null,"exp":`+e+`}`), ""},
		{"subject long s", craft(secret, hs256, `{"ſub":"PULL:room/cam","exp":`+e+`}`), ""},
		{"subject wrong type", craft(secret, hs256, `{"sub":1,"exp":`+e+`}`), reasonClaimsJSON},
		{"subject escaped", craft(secret, hs256, `{"sub":"PULL:room\/cam","exp":`+e+`}`), ""},
		{"claims null", craft(secret, hs256, `null`), reasonMissingExp},
		{"claims array", craft(secret, hs256, `[]`), reasonClaimsJSON},
		{"claims trailing", craft(secret, hs256, claims(`"exp":`+e)+`x`), reasonClaimsJSON},
		{"claims not JSON", craft(secret, hs256, `sub=PULL`), reasonClaimsJSON},
		{"alg none", craft(secret, `{"alg":"none"}`, claims(`"exp":`+e)), reasonAlgorithm},
		{"alg RS256", craft(secret, `{"alg":"RS256"}`, claims(`"exp":`+e)), reasonAlgorithm},
		{"alg HS512", craft(secret, `{"alg":"HS512"}`, claims(`"exp":`+e)), reasonAlgorithm},
		{"alg unknown", craft(secret, `{"alg":"XX1"}`, claims(`"exp":`+e)), reasonAlgorithm},
		{"alg missing", craft(secret, `{"typ":"JWT"}`, claims(`"exp":`+e)), reasonAlgorithm},
		{"alg number", craft(secret, `{"alg":256}`, claims(`"exp":`+e)), reasonAlgorithm},
		{"alg lower case", craft(secret, `{"alg":"hs256"}`, claims(`"exp":`+e)), reasonAlgorithm},
		{"ALG key", craft(secret, `{"ALG":"HS256"}`, claims(`"exp":`+e)), reasonAlgorithm},
		{"alg then null", craft(secret, `{"alg":"HS256","alg":null}`, claims(`"exp":`+e)), reasonAlgorithm},
		{"alg escaped", craft(secret, `{"alg":"HS\u0032\u00356"}`, claims(`"exp":`+e)), ""},
		{"header null", craft(secret, `null`, claims(`"exp":`+e)), reasonAlgorithm},
		{"header number too big", craft(secret, `{"alg":"HS256","x":1e999}`, claims(`"exp":`+e)), reasonHeaderJSON},
		{"header nested number too big", craft(secret, `{"alg":"HS256","x":[{"y":-1E+400}]}`, claims(`"exp":`+e)), reasonHeaderJSON},
		{"header big numbers that fit", craft(secret, `{"alg":"HS256","x":[1e308,"1e999",-0.5e-999]}`, claims(`"exp":`+e)), ""},
		{"claims unknown number too big", craft(secret, hs256, claims(`"exp":`+e+`,"x":1e999`)), ""},
		{"header not JSON", craft(secret, `{alg:HS256}`, claims(`"exp":`+e)), reasonHeaderJSON},
		{"header array", craft(secret, `["HS256"]`, claims(`"exp":`+e)), reasonHeaderJSON},
		{"header bad JSON and claims bad", craft(secret, `{`, `{`), reasonHeaderJSON},
		{"wrong secret", craft("other", hs256, claims(`"exp":`+e)), reasonBadSignature},
		{"empty", "", reasonEmpty},
		{"garbage", "garbage", reasonSegments},
		{"two segments", "a.b", reasonSegments},
		{"four segments", "a.b.c.d", reasonSegments},
		{"header base64", "!!.e30.", reasonHeaderBase64},
		{"padding", craft(secret, hs256, claims(`"exp":`+e)) + "=", reasonSigBase64},
		{"newline in signed part", strings.Replace(craft(secret, hs256, claims(`"exp":`+e)), ".", "\n.", 1), reasonBadSignature},
		{"newlines in signature", craft(secret, hs256, claims(`"exp":`+e)) + "\r\n", ""},
	}
	v := verifier{verifyHS256: hostHS256}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, reason := compare(t, &v, secret, tt.tok, token.Pull, "room/cam", nowMs)
			if tt.reason == "" && reason != "" || !strings.HasPrefix(reason, tt.reason) {
				t.Fatalf("reason %q, want %q", reason, tt.reason)
			}
			if tt.tok != "" && strings.Contains(reason, tt.tok) {
				t.Fatalf("reason %q contains the token", reason)
			}
		})
	}
}

// TestVerifierMutations compares the verifier with sdk-go on many tokens:
// valid ones, re-signed claims with mutated JSON, and tokens with mutated
// bytes.
func TestVerifierMutations(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	v := verifier{verifyHS256: hostHS256}
	const secret = "k"
	nowMs := int64(1_900_000_000_123)
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for i := 0; i < n; i++ {
		claims := randomClaims(rng, nowMs)
		header := randomHeader(rng)
		tok := craft(secret, header, claims)
		if rng.IntN(3) == 0 {
			tok = string(mutate(rng, []byte(tok)))
		}
		action, stream := token.Pull, "s"
		if rng.IntN(4) == 0 {
			action = token.Push
		}
		compare(t, &v, secret, tok, action, stream, nowMs+int64(rng.IntN(3000))-1500)
	}
}

var fragments = []string{
	`"sub":"PULL:s"`, `"sub":"PUSH:s"`, `"sub":"PULL:t"`, `"sub":null`, `"sub":1`, `"SUB":"PULL:s"`,
	`"exp":1900000001`, `"exp":1900000000`, `"exp":1899999999.5`, `"exp":"1900000001"`, `"exp":"1.9e9"`,
	`"exp":null`, `"exp":-0`, `"exp":1e999`, `"exp":{}`, `"Exp":1900000005`, `"exp":1900000000.9999999999`,
	`"nbf":1900000001`, `"nbf":1899999999`, `"nbf":"x"`, `"iat":1`, `"iat":null`, `"iat":true`,
	`"aud":"a"`, `"aud":["a"]`, `"aud":[null]`, `"aud":[]`, `"aud":{}`, `"iss":"i"`, `"jti":2`,
	`"x":[1,2,{"a":[]}]`, `"y":"\ud83d\ude00"`, `"z":"\ud800"`, `"\u0073ub":"PULL:s"`,
}

func randomClaims(rng *rand.Rand, nowMs int64) string {
	var b strings.Builder
	b.WriteByte('{')
	for j := range rng.IntN(5) {
		if j > 0 {
			b.WriteByte(',')
		}
		b.WriteString(fragments[rng.IntN(len(fragments))])
	}
	b.WriteByte('}')
	return b.String()
}

func randomHeader(rng *rand.Rand) string {
	switch rng.IntN(14) {
	case 10:
		return `{"alg":"HS256","n":1e400}`
	case 11:
		return `{"alg":"HS256","n":[1e300,{"m":"\u0041"}]}`
	case 12:
		return `{"alg":"HS256","alg":"none"}`
	case 13:
		return `{"alg":"HS\u0032\u00356"}`
	case 0:
		return `{"alg":"none"}`
	case 1:
		return `{"alg":"RS256","typ":"JWT"}`
	case 2:
		return `{"typ":"JWT"}`
	case 3:
		return `null`
	}
	return hs256
}

func mutate(rng *rand.Rand, b []byte) []byte {
	const alphabet = `.{}[]":,\ -_=0123456789abcXYZ` + "\n\x00\xff"
	for range 1 + rng.IntN(3) {
		i := rng.IntN(len(b) + 1)
		switch rng.IntN(3) {
		case 0: // replace
			if i < len(b) {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
		case 1: // insert
			b = append(b[:i], append([]byte{alphabet[rng.IntN(len(alphabet))]}, b[i:]...)...)
		case 2: // delete
			if i < len(b) {
				b = append(b[:i], b[i+1:]...)
			}
		}
	}
	return b
}

// FuzzVerifier: for any header and claims (signed, so that the claims are
// checked) and any token bytes, the verifier decides as sdk-go does.
func FuzzVerifier(f *testing.F) {
	f.Add(hs256, `{"sub":"PULL:s","exp":1900000001}`, "", int64(0))
	f.Add(hs256, `{"sub":"PULL:s","exp":"1900000001","nbf":1.5}`, "", int64(1))
	f.Add(`{"alg":"none"}`, `{"sub":"PULL:s","exp":1900000001}`, "", int64(2))
	f.Add(hs256, `null`, "x.y.z", int64(3))
	f.Add(hs256, `{"aud":["a",1]}`, "", int64(4))
	f.Add(`{"alg":"HS256","x":[1e308,{"y":"z"}]}`, `{"sub":"PULL:s","exp":1900000001}`, "", int64(5))
	v := verifier{verifyHS256: hostHS256}
	f.Fuzz(func(t *testing.T, header, claims, raw string, skew int64) {
		nowMs := 1_900_000_000_000 + skew%5000
		tok := raw
		if tok == "" {
			tok = craft("k", header, claims)
		}
		compare(t, &v, "k", tok, token.Pull, "s", nowMs)
	})
}

// TestFoldEq checks the claim of foldEq's comment: only U+017F and U+212A
// fold onto an ASCII letter from outside ASCII.
func TestFoldEq(t *testing.T) {
	t.Parallel()
	for r := rune(0x80); r <= unicode.MaxRune; r++ {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < 0x80 && r != 0x17f && r != 0x212a {
				t.Fatalf("U+%04X folds to %q", r, f)
			}
		}
	}
	for _, tt := range []struct {
		key  string
		name string
		want bool
	}{
		{"sub", "sub", true}, {"SUB", "sub", true}, {"sUb", "sub", true}, {"ſub", "sub", true},
		{"ſUB", "sub", true}, {"su", "sub", false}, {"subs", "sub", false}, {"Ksub", "sub", false},
		{"\u212aey", "key", true}, {"s\xc5", "sub", false}, {"", "sub", false},
	} {
		if got := foldEq([]byte(tt.key), tt.name); got != tt.want {
			t.Errorf("foldEq(%q, %q) = %v", tt.key, tt.name, got)
		}
	}
}

func TestVerifierAllocations(t *testing.T) {
	v := verifier{verifyHS256: func([]byte, []byte, []byte) (bool, error) { return true, nil }}
	tok := []byte(craft("k", hs256, `{"sub":"PULL:s","exp":1900000001}`))
	secret, action, stream := []byte("k"), []byte("PULL"), []byte("s")
	allocs := testing.AllocsPerRun(100, func() {
		if _, reason, _ := v.check(secret, tok, action, stream, 1_900_000_000_000); reason != "" {
			t.Fatal(reason)
		}
	})
	if allocs > 0 {
		t.Fatalf("%v allocations per check", allocs)
	}
}

func BenchmarkVerifier(b *testing.B) {
	v := verifier{verifyHS256: func([]byte, []byte, []byte) (bool, error) { return true, nil }}
	tok := []byte(craft("k", hs256, `{"sub":"PULL:room1/cam/1280x720-30~2000","exp":1900000001}`))
	for b.Loop() {
		v.check([]byte("k"), tok, []byte("PULL"), []byte("room1/cam/1280x720-30~2000"), 1_900_000_000_000)
	}
}
