package main

import (
	"math"

	"github.com/hlsrelay/hlsrelay/plugins/abi"
	"github.com/hlsrelay/hlsrelay/plugins/pdk"
	"github.com/hlsrelay/hlsrelay/plugins/pdk/authorize"
)

// staticTTLMs is how long the relay may reuse a decision that depends on the
// configuration only (push not allowed, empty secret); the relay bounds it
// further.
const staticTTLMs = 24 * 60 * 60 * 1000

var (
	cfg config
	v   = verifier{verifyHS256: verifyHS256}
)

func init() {
	pdk.HandleInit(load)
	authorize.Handle(authorizeRequest)
}

// load parses the configuration once per instance, at init, when the host
// offers it.
func load() error {
	raw, err := pdk.ConfigText()
	if err != nil {
		return err
	}
	cfg, err = parseConfig(raw)
	return err
}

func authorizeRequest() error {
	action, _ := pdk.Field(abi.FieldAction)
	var secret []byte
	switch string(action) {
	case "PULL":
		secret = cfg.pullSecret
	case "PUSH":
		if !cfg.pushAllowed {
			pdk.Deny(pdk.CodeAuthError, reasonPushNotAllowed)
			pdk.Cache(staticTTLMs)
			return nil
		}
		secret = cfg.pushSecret
	default:
		pdk.Deny(pdk.CodeAuthError, reasonUnknownAction)
		return nil
	}
	if len(secret) == 0 {
		pdk.Allow()
		pdk.Cache(staticTTLMs)
		return nil
	}
	stream, _ := pdk.Field(abi.FieldStream)
	token, _ := pdk.Field(abi.FieldToken)
	now := pdk.NowMs()
	exp, reason, err := v.check(secret, token, action, stream, now)
	if err != nil {
		return err
	}
	if reason != "" {
		pdk.Deny(pdk.CodeAuthError, reason)
		return nil
	}
	pdk.Allow()
	pdk.Cache(cacheTTL(exp, now))
	return nil
}

// cacheTTL returns how long an allowed token's decision stays true: until
// its exp (Unix seconds). The relay bounds it further.
func cacheTTL(exp, nowMs int64) int64 {
	if exp > math.MaxInt64/1000 {
		return math.MaxInt64
	}
	return exp*1000 - nowMs
}

func verifyHS256(key, msg, sig []byte) (bool, error) {
	return pdk.VerifySignature(abi.AlgHS256, key, msg, sig)
}
