package main

import (
	"errors"
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
	cfg    config
	loaded bool
	v      = verifier{verifyHS256: verifyHS256}
)

func init() {
	pdk.HandleInit(load)
	authorize.Handle(authorizeRequest)
}

// errNoConfig fails a call if the relay offers no configuration at all.
var errNoConfig = errors.New("the relay offers no configuration (field_get of the config field is absent)")

// load parses the configuration once per instance. If the relay does not
// offer it at init, the first request loads it.
func load() error {
	raw, ok := pdk.Field(abi.FieldConfig)
	if !ok {
		return nil
	}
	c, err := parseConfig(string(raw))
	if err != nil {
		return err
	}
	cfg, loaded = c, true
	return nil
}

func authorizeRequest() error {
	if !loaded {
		if err := load(); err != nil {
			return err
		}
		if !loaded {
			return errNoConfig
		}
	}
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
