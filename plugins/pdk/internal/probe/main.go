// Command probe is a plugin that exercises every function of package pdk,
// for the kit's own tests (pdk_test.go builds it and runs it through the
// host). The token of an authorisation request is a command; the plugin
// answers by denying with code RESULT and the command's output as reason.
//
//	field:N            the value of field N, or "absent"
//	header:NAME        the value of header NAME, or "absent"
//	header-len:NAME    the length of the value of header NAME
//	query:NAME         the value of query parameter NAME, or "absent"
//	registry:KEY       the registry's value of KEY, or the error
//	verify:ALG         VerifySignature(ALG, header x-key, header x-msg,
//	                   base64url header x-sig): "true", "false" or the error
//	now                NowMs
//	log:LEVEL:MSG      logs MSG at LEVEL, then allows
//	allow-cache:MS     allows, cached for MS milliseconds
//	error              fails the call with an error
//	panic              fails the call with a panic
//
// Routing: a stream "reject" is rejected (code NOPE); any other gets the
// sources local, registry and upstream ws://STREAM.
//
// The configuration "fail-init" makes hlsrelay_init fail.
package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/hlsrelay/hlsrelay/plugins/pdk"
	"github.com/hlsrelay/hlsrelay/plugins/pdk/authorize"
	"github.com/hlsrelay/hlsrelay/plugins/pdk/route"
)

func init() {
	pdk.HandleInit(func() error {
		if c, _ := pdk.FieldString(6); c == "fail-init" {
			return errors.New("the configuration says so")
		}
		return nil
	})
	authorize.Handle(authorizeRequest)
	route.Handle(routeRequest)
}

func main() {}

func result(s string) { pdk.Deny("RESULT", s) }

func orAbsent(v []byte, ok bool) string {
	if !ok {
		return "absent"
	}
	return string(v)
}

func authorizeRequest() error {
	cmd, _ := pdk.FieldString(3)
	verb, arg, _ := strings.Cut(cmd, ":")
	switch verb {
	case "field":
		id, _ := strconv.Atoi(arg)
		result(orAbsent(pdk.Field(int32(id))))
	case "header":
		result(orAbsent(pdk.Header(arg)))
	case "header-len":
		v, _ := pdk.Header(arg)
		result(strconv.Itoa(len(v)))
	case "query":
		result(orAbsent(pdk.Query(arg)))
	case "registry":
		v, err := pdk.RegistryLookup(arg)
		if err != nil {
			result(err.Error())
		} else {
			result(string(v))
		}
	case "verify":
		alg, _ := strconv.Atoi(arg)
		key, _ := pdk.Header("x-key")
		key = append([]byte(nil), key...)
		msg, _ := pdk.Header("x-msg")
		msg = append([]byte(nil), msg...)
		b64, _ := pdk.Header("x-sig")
		sig, err := pdk.AppendBase64URL(nil, b64)
		if err != nil {
			return err
		}
		ok, err := pdk.VerifySignature(int32(alg), key, msg, sig)
		if err != nil {
			result(err.Error())
		} else {
			result(strconv.FormatBool(ok))
		}
	case "now":
		result(strconv.FormatInt(pdk.NowMs(), 10))
	case "log":
		level, msg, _ := strings.Cut(arg, ":")
		l, _ := strconv.Atoi(level)
		pdk.Log(int32(l), msg)
		pdk.Allow()
	case "allow-cache":
		ms, _ := strconv.ParseInt(arg, 10, 64)
		pdk.Allow()
		pdk.Cache(ms)
	case "error":
		return errors.New("asked to fail")
	case "panic":
		panic("asked to panic")
	default:
		result("unknown command")
	}
	return nil
}

func routeRequest() error {
	stream, _ := pdk.FieldString(2)
	if stream == "reject" {
		pdk.RouteReject("NOPE", "rejected by the probe")
		return nil
	}
	pdk.RouteLocal()
	pdk.RouteRegistry()
	pdk.RouteUpstream("ws://" + stream)
	return nil
}
