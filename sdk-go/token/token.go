// Package token signs and verifies the access tokens of the hlsrelay
// protocol, the scheme of the HLS WebSocket CDN unchanged: a JWT signed with
// HMAC-SHA256 (HS256) whose claim "sub" is "ACTION:STREAM" (for example
// "PULL:room1/cam/1280x720-30~2000") and whose claim "exp" is required and
// must be in the future. Publishers and viewers use different secrets.
//
// Only HS256 is accepted: tokens with "alg" none, RS256, HS384 or any other
// algorithm are refused, whatever their signature. Claims other than sub,
// exp and nbf are ignored. Verification has no leeway: a token whose exp is
// now or in the past is expired.
//
// Every error that Verify returns wraps one of the Err* values, so a relay can
// tell the client what is wrong; no error message contains the token itself.
package token

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

// Action is what a token allows: publishing or viewing a stream.
type Action string

// Actions, as they appear in the token's subject.
const (
	Push Action = "PUSH"
	Pull Action = "PULL"
)

// Errors wrapped by Verify.
var (
	// ErrMalformed: the token is empty, or not a JWT (bad segments, base64
	// or JSON, or a claim of the wrong type).
	ErrMalformed = errors.New("token is malformed")
	// ErrAlgorithm: the token is not signed with HS256 ("alg" none, RS256, ...).
	ErrAlgorithm = errors.New("token is not signed with HS256")
	// ErrBadSignature: the HS256 signature does not match the secret.
	ErrBadSignature = errors.New("token signature is invalid")
	// ErrMissingExp: the token has no "exp" claim.
	ErrMissingExp = errors.New("token has no exp claim")
	// ErrExpired: the token's "exp" is not in the future.
	ErrExpired = errors.New("token has expired")
	// ErrNotYetValid: the token's "nbf" is in the future.
	ErrNotYetValid = errors.New("token is not valid yet")
	// ErrWrongSubject: the token is for another action or stream.
	ErrWrongSubject = errors.New("token is for another action or stream")
)

const algorithm = "HS256"

// Subject returns the "sub" claim of a token for action on stream.
func Subject(action Action, stream string) string {
	return string(action) + ":" + stream
}

// Sign returns a token that allows action on stream until ttl from now.
// The expiry is rounded up to the next whole second, as JWT times are whole
// seconds. The token has no "iat" claim: old relays reject a token issued
// "in the future" when the signer's clock runs ahead of theirs.
func Sign(secret []byte, action Action, stream string, ttl time.Duration) (string, error) {
	return signAt(secret, action, stream, time.Now(), ttl)
}

func signAt(secret []byte, action Action, stream string, now time.Time, ttl time.Duration) (string, error) {
	if err := checkArgs(secret, action); err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	if err := protocol.ValidateStreamID(stream); err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	if ttl <= 0 {
		return "", fmt.Errorf("sign token: ttl %v is not positive", ttl)
	}
	end := now.Add(ttl)
	exp := end.Truncate(time.Second)
	if exp.Before(end) {
		exp = exp.Add(time.Second)
	}
	claims := jwt.RegisteredClaims{
		Subject:   Subject(action, stream),
		ExpiresAt: jwt.NewNumericDate(exp),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// Verify checks that token is an HS256 JWT signed with secret, whose subject
// is action on stream and whose exp is after now (the zero time means
// time.Now()). The error wraps one of the Err* values of this package; it
// fails without wrapping them only for bad arguments (an empty secret or an
// unknown action).
//
// An empty secret is refused here: the compatibility rule "an empty secret
// disables the check" belongs to the relay's configuration, which must then
// not call Verify at all.
func Verify(secret []byte, token string, action Action, stream string, now time.Time) error {
	if err := checkArgs(secret, action); err != nil {
		return fmt.Errorf("verify token: %w", err)
	}
	if token == "" {
		return fmt.Errorf("%w: empty token", ErrMalformed)
	}
	if now.IsZero() {
		now = time.Now()
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{algorithm}),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(0),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	var claims jwt.RegisteredClaims
	parsed, err := parser.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) {
		return secret, nil
	})
	if err != nil {
		return classify(parsed, &claims, err)
	}
	if want := Subject(action, stream); claims.Subject != want {
		return fmt.Errorf("%w: sub is %q, want %q", ErrWrongSubject, truncate(claims.Subject), truncate(want))
	}
	return nil
}

// classify turns a golang-jwt error into one of this package's errors. The
// checks run in the order the parser does: format, algorithm, signature,
// then claims.
func classify(parsed *jwt.Token, claims *jwt.RegisteredClaims, err error) error {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// The header names no algorithm, or one this library does not know.
		return fmt.Errorf("%w: %v", ErrAlgorithm, err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if parsed != nil && parsed.Method != nil && parsed.Method.Alg() != algorithm {
			return fmt.Errorf("%w: alg is %q", ErrAlgorithm, truncate(parsed.Method.Alg()))
		}
		return ErrBadSignature
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return ErrMissingExp
	case errors.Is(err, jwt.ErrTokenExpired):
		if claims.ExpiresAt != nil {
			return fmt.Errorf("%w (exp %s)", ErrExpired, claims.ExpiresAt.UTC().Format(time.RFC3339))
		}
		return ErrExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return ErrNotYetValid
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

func checkArgs(secret []byte, action Action) error {
	if len(secret) == 0 {
		return errors.New("empty secret")
	}
	if action != Push && action != Pull {
		return fmt.Errorf("action %q is neither %s nor %s", truncate(string(action)), Push, Pull)
	}
	return nil
}

// truncate shortens s for an error message, cutting at a rune boundary.
func truncate(s string) string {
	const limit = 300
	if len(s) <= limit {
		return s
	}
	i := limit
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}
