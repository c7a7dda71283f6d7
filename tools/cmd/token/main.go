// Command token signs and checks hlsrelay access tokens (HS256 JWTs whose
// "sub" is ACTION:STREAM, with an "exp"), using package sdk-go/token.
//
//	token -action PULL -stream room1/cam -secret S -ttl 1h
//	token -verify TOKEN -action PULL -stream room1/cam
//
// The secret comes from -secret, -secret-file, or else the relay's own
// environment variable for the action: PULL_SECRET or PUSH_SECRET.
//
// Exit status: 0 token printed or valid, 1 token invalid, 2 usage error.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/hlsrelay/hlsrelay/sdk-go/token"
)

const (
	exitOK      = 0
	exitInvalid = 1
	exitUsage   = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		action     = fs.String("action", "PULL", "what the token allows: PUSH (publish) or PULL (view); case-insensitive")
		stream     = fs.String("stream", "", "stream id the token is for (required)")
		secret     = fs.String("secret", "", "shared HS256 secret; default: $PULL_SECRET or $PUSH_SECRET, by -action")
		secretFile = fs.String("secret-file", "", "read the secret from this file (trailing newline removed) instead of -secret")
		ttl        = fs.Duration("ttl", time.Hour, "validity of a signed token, from now")
		verify     = fs.String("verify", "", "check this token instead of signing one (\"-\": read it from stdin)")
	)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage:
  token -action PULL|PUSH -stream ID [-secret S | -secret-file F] [-ttl 1h]
  token -verify TOKEN|- -action PULL|PUSH -stream ID [-secret S | -secret-file F]

Signs an hlsrelay access token (JWT, HS256, sub=ACTION:STREAM, exp) and prints
it, or checks one and prints whether it is valid and why not. Without -secret
or -secret-file the secret is read from PULL_SECRET or PUSH_SECRET (by action),
the variables the relay itself reads.

Exit status: 0 signed or valid, 1 invalid, 2 usage error.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "token: "+format+"\n", a...)
		return exitUsage
	}
	if fs.NArg() > 0 {
		return usage("unexpected argument %q (flags come before arguments; see -h)", fs.Arg(0))
	}
	act, err := parseAction(*action)
	if err != nil {
		return usage("%v", err)
	}
	if *stream == "" {
		return usage("-stream is required")
	}
	key, err := resolveSecret(*secret, *secretFile, act, getenv)
	if err != nil {
		return usage("%v", err)
	}

	if *verify == "" {
		if *ttl <= 0 {
			return usage("-ttl %v is not positive", *ttl)
		}
		tok, err := token.Sign(key, act, *stream, *ttl)
		if err != nil {
			return usage("%v", err)
		}
		fmt.Fprintln(stdout, tok)
		return exitOK
	}

	tok := *verify
	if tok == "-" {
		raw, err := io.ReadAll(io.LimitReader(stdin, 64<<10))
		if err != nil {
			return usage("read token from stdin: %v", err)
		}
		tok = string(raw)
	}
	tok = strings.TrimSpace(tok)
	if err := token.Verify(key, tok, act, *stream, time.Now()); err != nil {
		fmt.Fprintf(stdout, "invalid: %v\n", err)
		return exitInvalid
	}
	fmt.Fprintf(stdout, "valid: %s%s\n", token.Subject(act, *stream), expiry(tok))
	return exitOK
}

func parseAction(s string) (token.Action, error) {
	switch a := token.Action(strings.ToUpper(s)); a {
	case token.Push, token.Pull:
		return a, nil
	}
	return "", fmt.Errorf("-action %q: want PUSH or PULL", s)
}

// resolveSecret picks the secret: -secret, then -secret-file, then the
// relay's environment variable for the action.
func resolveSecret(flagValue, file string, act token.Action, getenv func(string) string) ([]byte, error) {
	if flagValue != "" && file != "" {
		return nil, errors.New("give -secret or -secret-file, not both")
	}
	if flagValue != "" {
		return []byte(flagValue), nil
	}
	if file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("-secret-file: %w", err)
		}
		s := strings.TrimRight(string(raw), "\r\n")
		if s == "" {
			return nil, fmt.Errorf("-secret-file %s is empty", file)
		}
		return []byte(s), nil
	}
	env := string(act) + "_SECRET"
	if s := getenv(env); s != "" {
		return []byte(s), nil
	}
	return nil, fmt.Errorf("no secret: give -secret or -secret-file, or set %s", env)
}

// expiry describes a verified token's exp for humans. It reads the claim
// with golang-jwt's unverified parser; Verify has already checked it.
func expiry(tok string) string {
	var claims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(tok, &claims); err != nil || claims.ExpiresAt == nil {
		return ""
	}
	exp := claims.ExpiresAt.Time
	return fmt.Sprintf(", expires %s (in %s)", exp.UTC().Format(time.RFC3339), time.Until(exp).Round(time.Second))
}
