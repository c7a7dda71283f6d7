package main

import (
	"math"
	"strconv"

	"github.com/hlsrelay/hlsrelay/plugins/pdk"
)

// Reasons of denials: "invalid token: " and the text of the sdk-go/token
// error that token.Verify returns for the same token, so that clients see
// the same messages whichever checks them. None contains the token.
const (
	reasonPushNotAllowed = "publishing is not allowed on this node"
	reasonUnknownAction  = "unknown action"

	reasonEmpty        = "invalid token: token is malformed: empty token"
	reasonSegments     = "invalid token: token is malformed: token contains an invalid number of segments"
	reasonHeaderBase64 = "invalid token: token is malformed: could not base64 decode header"
	reasonHeaderJSON   = "invalid token: token is malformed: could not JSON decode header"
	reasonClaimsBase64 = "invalid token: token is malformed: could not base64 decode claim"
	reasonClaimsJSON   = "invalid token: token is malformed: could not JSON decode claim"
	reasonSigBase64    = "invalid token: token is malformed: could not base64 decode signature"
	reasonAlgorithm    = "invalid token: token is not signed with HS256"
	reasonBadSignature = "invalid token: token signature is invalid"
	reasonMissingExp   = "invalid token: token has no exp claim"
	reasonExpired      = "invalid token: token has expired"
	reasonNotYetValid  = "invalid token: token is not valid yet"
	reasonWrongSubject = "invalid token: token is for another action or stream"
)

// unixToInternal is the number of seconds from year 1 to 1970, the offset
// of package time's internal clock, whose wrap-around on extreme dates the
// reference verifier inherits and this one reproduces.
const unixToInternal int64 = (1969*365 + 1969/4 - 1969/100 + 1969/400) * 86400

// verifier checks tokens as sdk-go/token.Verify does (golang-jwt v5 with
// only HS256, exp required, no leeway), with reusable buffers so that a
// check allocates nothing. The checks run in golang-jwt's order, so that a
// token with several faults is refused for the same one: segments, header
// (base64, JSON), claims (base64, JSON and claim types), alg present and
// known, signature base64, alg HS256, signature, exp, nbf, then subject.
type verifier struct {
	// verifyHS256 reports whether sig is the HMAC-SHA256 of msg under key;
	// an error fails the call.
	verifyHS256 func(key, msg, sig []byte) (bool, error)

	header, claims, sig []byte
	alg, sub            []byte
	obj, arr            pdk.JSONScanner
}

// claimSet is what the checks need of the claims. exp and nbf are times of
// package time's internal clock (see numericDate).
type claimSet struct {
	hasExp, hasNbf bool
	exp, nbf       int64
}

// check returns the Unix second of the token's exp and "" if token is valid
// for action on stream at nowMs (Unix milliseconds) under secret, and the
// reason of the refusal otherwise.
func (v *verifier) check(secret, token, action, stream []byte, nowMs int64) (exp int64, reason string, err error) {
	if len(token) == 0 {
		return 0, reasonEmpty, nil
	}
	// The two dots of header.claims.signature, in one pass.
	d1, d2 := -1, -1
	for i, c := range token {
		if c != '.' {
			continue
		}
		switch {
		case d1 < 0:
			d1 = i
		case d2 < 0:
			d2 = i
		default:
			return 0, reasonSegments, nil
		}
	}
	if d2 < 0 {
		return 0, reasonSegments, nil
	}
	v.header, err = pdk.AppendBase64URL(v.header[:0], token[:d1])
	if err != nil {
		return 0, reasonHeaderBase64, nil
	}
	hasAlg, ok := v.parseHeader(v.header)
	if !ok {
		return 0, reasonHeaderJSON, nil
	}
	v.claims, err = pdk.AppendBase64URL(v.claims[:0], token[d1+1:d2])
	if err != nil {
		return 0, reasonClaimsBase64, nil
	}
	c, ok := v.parseClaims(v.claims)
	if !ok {
		return 0, reasonClaimsJSON, nil
	}
	if !hasAlg || !knownAlg(v.alg) {
		return 0, reasonAlgorithm, nil
	}
	v.sig, err = pdk.AppendBase64URL(v.sig[:0], token[d2+1:])
	if err != nil {
		return 0, reasonSigBase64, nil
	}
	if string(v.alg) != "HS256" {
		return 0, reasonAlgorithm, nil
	}
	if len(v.sig) != 32 {
		return 0, reasonBadSignature, nil
	}
	valid, err := v.verifyHS256(secret, token[:d2], v.sig)
	if err != nil {
		return 0, "", err
	}
	if !valid {
		return 0, reasonBadSignature, nil
	}
	if !c.hasExp {
		return 0, reasonMissingExp, nil
	}
	now := floorDiv(nowMs, 1000) + unixToInternal
	if now >= c.exp {
		return 0, reasonExpired, nil
	}
	if c.hasNbf && now < c.nbf {
		return 0, reasonNotYetValid, nil
	}
	if !isSubject(v.sub, action, stream) {
		return 0, reasonWrongSubject, nil
	}
	return c.exp - unixToInternal, "", nil
}

// parseHeader reads the JOSE header as golang-jwt does (json.Unmarshal into
// a map): it must be a JSON object or null; the last "alg" member (exact
// name) counts, and only if it is a string, copied to v.alg.
func (v *verifier) parseHeader(b []byte) (hasAlg, ok bool) {
	if isNull(b) {
		return false, true
	}
	v.obj.Reset(b)
	if v.obj.Container() != pdk.JSONObject {
		return false, false
	}
	for v.obj.Next() {
		if string(v.obj.Key()) != "alg" {
			continue
		}
		hasAlg = v.obj.Kind() == pdk.JSONString
		if hasAlg {
			v.alg = append(v.alg[:0], v.obj.Text()...)
		}
	}
	return hasAlg, v.obj.Err() == nil && numbersFit(b)
}

// numbersFit reports whether every number in the JSON document b (valid
// JSON) fits a float64: decoding into a map of interface values, as
// golang-jwt does with the header, fails on one that does not (1e999).
func numbersFit(b []byte) bool {
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			for i++; b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case c == '-' || '0' <= c && c <= '9':
			n := 1
			for i+n < len(b) && isNumberByte(b[i+n]) {
				n++
			}
			if !numberFits(b[i : i+n]) {
				return false
			}
			i += n - 1
		}
	}
	return true
}

func isNumberByte(c byte) bool {
	return '0' <= c && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// numberFits reports whether strconv.ParseFloat accepts the JSON number b.
func numberFits(b []byte) bool {
	if len(b) <= 300 {
		plain := true
		for _, c := range b {
			if c == 'e' || c == 'E' {
				plain = false
				break
			}
		}
		if plain { // below 1e300
			return true
		}
	}
	_, err := strconv.ParseFloat(string(b), 64)
	return err == nil
}

// parseClaims reads the claims as golang-jwt does (json.Unmarshal into
// jwt.RegisteredClaims): a JSON object or null; member names match the
// registered claims case-insensitively (Unicode simple folding, as
// encoding/json); the later of duplicate members wins, null leaving a string
// unchanged and unsetting a time; a registered claim of the wrong type makes
// the claims malformed. The subject is copied to v.sub.
func (v *verifier) parseClaims(b []byte) (c claimSet, ok bool) {
	v.sub = v.sub[:0]
	if isNull(b) {
		return c, true
	}
	v.obj.Reset(b)
	if v.obj.Container() != pdk.JSONObject {
		return c, false
	}
	for v.obj.Next() {
		key, kind := v.obj.Key(), v.obj.Kind()
		switch {
		case foldEq(key, "sub"):
			switch kind {
			case pdk.JSONString:
				v.sub = append(v.sub[:0], v.obj.Text()...)
			case pdk.JSONNull:
			default:
				return c, false
			}
		case foldEq(key, "exp"):
			if c.hasExp, c.exp, ok = v.numericDate(); !ok {
				return c, false
			}
		case foldEq(key, "nbf"):
			if c.hasNbf, c.nbf, ok = v.numericDate(); !ok {
				return c, false
			}
		case foldEq(key, "iat"):
			if _, _, ok = v.numericDate(); !ok {
				return c, false
			}
		case foldEq(key, "iss"), foldEq(key, "jti"):
			if kind != pdk.JSONString && kind != pdk.JSONNull {
				return c, false
			}
		case foldEq(key, "aud"):
			// jwt.ClaimStrings: a string, an array of strings, or null.
			switch kind {
			case pdk.JSONString, pdk.JSONNull:
			case pdk.JSONArray:
				v.arr.Reset(v.obj.Raw())
				for v.arr.Next() {
					if v.arr.Kind() != pdk.JSONString {
						return c, false
					}
				}
				if v.arr.Err() != nil {
					return c, false
				}
			default:
				return c, false
			}
		}
	}
	return c, v.obj.Err() == nil
}

// numericDate reads the current value as a jwt.NumericDate: a number, or a
// string holding a JSON number, or null (present = false). The result is the
// time on package time's internal clock, computed as golang-jwt does:
// time.Unix(int64(whole), int64(frac*1e9)).Truncate(time.Second).
func (v *verifier) numericDate() (present bool, t int64, ok bool) {
	num := v.obj.Raw()
	switch v.obj.Kind() {
	case pdk.JSONNull:
		return false, 0, true
	case pdk.JSONNumber:
	case pdk.JSONString:
		num = v.obj.Text()
		if !pdk.IsJSONNumber(num) {
			return false, 0, false
		}
	default:
		return false, 0, false
	}
	if sec, ok := smallInt(num); ok {
		return true, sec + unixToInternal, true
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil {
		return false, 0, false
	}
	whole, frac := math.Modf(f)
	sec, nsec := toInt64(whole), toInt64(frac*1e9)
	// time.Unix's normalisation of nsec, with Go's wrapping arithmetic.
	if nsec < 0 || nsec >= 1e9 {
		n := nsec / 1e9
		sec += n
		nsec -= n * 1e9
		if nsec < 0 {
			sec--
		}
	}
	return true, sec + unixToInternal, true
}

// smallInt parses a JSON integer of at most 15 digits, which a float64
// holds exactly: the common case, without strconv.
func smallInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// toInt64 converts f as the amd64 instruction behind Go's int64(f) does:
// out of range gives math.MinInt64. (Where the conversion saturates instead,
// as on arm64, the decisions are the same: both values wrap to a date far in
// the past when package time adds its offset.)
func toInt64(f float64) int64 {
	if !(f >= -0x1p63 && f < 0x1p63) {
		return math.MinInt64
	}
	return int64(f)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// knownAlg reports whether golang-jwt v5 has a signing method called alg:
// any other name is refused before the signature is even decoded.
func knownAlg(alg []byte) bool {
	switch string(alg) {
	case "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
		"ES256", "ES384", "ES512", "EdDSA", "none":
		return true
	}
	return false
}

// isSubject reports whether sub is action + ":" + stream.
func isSubject(sub, action, stream []byte) bool {
	n := len(action)
	return len(sub) == n+1+len(stream) && string(sub[:n]) == string(action) &&
		sub[n] == ':' && string(sub[n+1:]) == string(stream)
}

// foldEq reports whether key equals name (lower-case ASCII letters) under
// the case folding of encoding/json's field matching (Unicode simple
// folding): the only runes outside ASCII that fold to an ASCII letter are
// U+017F (long s, to s) and U+212A (Kelvin sign, to k).
func foldEq(key []byte, name string) bool {
	i := 0
	for _, c := range []byte(name) {
		if i >= len(key) {
			return false
		}
		b := key[i]
		switch {
		case b == c || b == c-('a'-'A'):
			i++
		case c == 's' && i+1 < len(key) && b == 0xc5 && key[i+1] == 0xbf: // U+017F
			i += 2
		case c == 'k' && i+2 < len(key) && b == 0xe2 && key[i+1] == 0x84 && key[i+2] == 0xaa: // U+212A
			i += 3
		default:
			return false
		}
	}
	return i == len(key)
}

// isNull reports whether b is the JSON literal null, with white space.
func isNull(b []byte) bool {
	i, j := 0, len(b)
	for i < j && isSpace(b[i]) {
		i++
	}
	for j > i && isSpace(b[j-1]) {
		j--
	}
	return string(b[i:j]) == "null"
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
