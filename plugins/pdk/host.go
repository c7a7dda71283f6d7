package pdk

import (
	"errors"
	"unsafe"

	"github.com/hlsrelay/hlsrelay/plugins/abi"
	"github.com/hlsrelay/hlsrelay/plugins/pdk/internal/hostcall"
)

// CodeAuthError is the error code of an ordinary authorisation refusal.
const CodeAuthError = "AUTH_ERROR"

// Errors of RegistryLookup and VerifySignature.
var (
	// ErrNotFound: the key is not in the publish registry.
	ErrNotFound = errors.New("pdk: registry: key not found")
	// ErrUnavailable: the registry is not configured, unreachable, or did
	// not answer in time.
	ErrUnavailable = errors.New("pdk: registry: unavailable")
	// ErrDenied: the key is outside the prefixes this plugin may read.
	ErrDenied = errors.New("pdk: registry: key outside the allowed prefixes")
	// ErrBadKey: the key cannot be used for the algorithm.
	ErrBadKey = errors.New("pdk: signature: key unusable for the algorithm")
	// ErrBadAlg: the host does not know the algorithm.
	ErrBadAlg = errors.New("pdk: signature: unknown algorithm")
)

// Buffers the host copies values into, reused from call to call. Each
// accessor has its own, so a value stays valid until the next call of the
// same accessor (for Field: with the same id).
var (
	fieldBufs   [9][]byte // by field id
	otherField  []byte    // ids outside fieldBufs
	headerBuf   []byte
	queryBuf    []byte
	registryBuf []byte
)

const minBuf = 512

// fetch runs get with the buffer *b, growing it and asking again while the
// value does not fit, and returns the value or false if get answered a
// negative status (returned as status).
func fetch(b *[]byte, get func(buf unsafe.Pointer, capacity int32) int32) (v []byte, status int32) {
	if cap(*b) < minBuf {
		*b = make([]byte, minBuf)
	}
	for range 3 {
		buf := (*b)[:cap(*b)]
		n := get(unsafe.Pointer(unsafe.SliceData(buf)), int32(len(buf)))
		if n < 0 {
			return nil, n
		}
		if int(n) <= len(buf) {
			return buf[:n:n], n
		}
		*b = make([]byte, n)
	}
	panic("pdk: the host keeps answering a longer value")
}

// Field returns the value of request field id (abi.FieldAction,
// abi.FieldStream, abi.FieldToken, abi.FieldConfig, ...), or false if the
// field does not exist in this call. The bytes are valid until the next call
// of Field with the same id; do not modify them.
func Field(id int32) ([]byte, bool) {
	b := &otherField
	if id >= 0 && int(id) < len(fieldBufs) {
		b = &fieldBufs[id]
	}
	v, st := fetch(b, func(p unsafe.Pointer, n int32) int32 { return hostcall.FieldGet(id, p, n) })
	return v, st >= 0
}

// ErrNoConfig is returned by ConfigText when the host offers no
// configuration field.
var ErrNoConfig = errors.New("pdk: the host offers no configuration (field_get of abi.FieldConfig is absent)")

// ConfigText returns the plugin's configuration as the operator gave it. The
// host offers it during init, so a plugin reads and parses it once, in its
// pdk.HandleInit function.
func ConfigText() (string, error) {
	v, ok := FieldString(abi.FieldConfig)
	if !ok {
		return "", ErrNoConfig
	}
	return v, nil
}

// FieldString is Field returning a copy, as a string.
func FieldString(id int32) (string, bool) {
	v, ok := Field(id)
	return string(v), ok
}

// Header returns the first value of the HTTP request header name (matched
// case-insensitively) of the request that opened the WebSocket, or false if
// it has none. The bytes are valid until the next call of Header.
func Header(name string) ([]byte, bool) {
	np, nn := hostcall.Str(name)
	v, st := fetch(&headerBuf, func(p unsafe.Pointer, n int32) int32 { return hostcall.HeaderGet(np, nn, p, n) })
	return v, st >= 0
}

// Query returns the first value of the URL query parameter name of the
// request that opened the WebSocket, or false if it has none. The bytes are
// valid until the next call of Query.
func Query(name string) ([]byte, bool) {
	np, nn := hostcall.Str(name)
	v, st := fetch(&queryBuf, func(p unsafe.Pointer, n int32) int32 { return hostcall.QueryGet(np, nn, p, n) })
	return v, st >= 0
}

// Allow lets the request through. The last of Allow and Deny wins.
func Allow() { hostcall.DecisionAllow() }

// Deny refuses the request: the client receives E:code=CODE&message=REASON.
// code is 1 to 64 of A-Z 0-9 _ (anything else becomes AUTH_ERROR), reason at
// most 1024 bytes of UTF-8 (longer is cut). Never put a token in reason.
func Deny(code, reason string) {
	cp, cn := hostcall.Str(code)
	rp, rn := hostcall.Str(reason)
	hostcall.DecisionDeny(cp, cn, rp, rn)
}

// Cache lets the relay reuse this call's decision for ttlMs milliseconds for
// requests with the same action, stream, token and configuration (bounded by
// the relay's own limit). Do not call it if the decision depends on anything
// else, such as the remote address, a header or the registry.
func Cache(ttlMs int64) { hostcall.DecisionCache(ttlMs) }

// RouteLocal appends this node's own streams to the sources of the PULL.
func RouteLocal() { hostcall.RouteLocal() }

// RouteRegistry appends the node that the publish registry names.
func RouteRegistry() { hostcall.RouteRegistry() }

// RouteUpstream appends a fixed upstream relay, a ws:// or wss:// URL of at
// most 2048 bytes. A route has at most 8 sources.
func RouteUpstream(url string) {
	p, n := hostcall.Str(url)
	hostcall.RouteUpstream(p, n)
}

// RouteReject refuses the PULL, with the rules of Deny.
func RouteReject(code, reason string) {
	cp, cn := hostcall.Str(code)
	rp, rn := hostcall.Str(reason)
	hostcall.RouteReject(cp, cn, rp, rn)
}

// NowMs returns the wall-clock time, in Unix milliseconds.
func NowMs() int64 { return hostcall.TimeNowMs() }

// VerifySignature reports whether sig is a valid signature of msg under key
// with alg (abi.AlgHS256, abi.AlgRS256, abi.AlgES256, abi.AlgEdDSA). The
// error is ErrBadKey or ErrBadAlg when the host cannot check at all.
func VerifySignature(alg int32, key, msg, sig []byte) (bool, error) {
	kp, kn := hostcall.Bytes(key)
	mp, mn := hostcall.Bytes(msg)
	sp, sn := hostcall.Bytes(sig)
	switch r := hostcall.SignatureVerify(alg, kp, kn, mp, mn, sp, sn); r {
	case abi.SigValid:
		return true, nil
	case abi.SigInvalid:
		return false, nil
	case abi.SigBadKey:
		return false, ErrBadKey
	default:
		return false, ErrBadAlg
	}
}

// RegistryLookup returns the value of key in the publish registry. The error
// is ErrNotFound, ErrUnavailable or ErrDenied. The bytes are valid until the
// next call of RegistryLookup.
func RegistryLookup(key string) ([]byte, error) {
	kp, kn := hostcall.Str(key)
	v, st := fetch(&registryBuf, func(p unsafe.Pointer, n int32) int32 { return hostcall.RegistryLookup(kp, kn, p, n) })
	switch {
	case st >= 0:
		return v, nil
	case st == abi.Absent:
		return nil, ErrNotFound
	case st == abi.Denied:
		return nil, ErrDenied
	default:
		return nil, ErrUnavailable
	}
}

// Log writes msg to the relay's log, attributed to the plugin, at level
// abi.LogDebug, abi.LogInfo, abi.LogWarn or abi.LogError. Messages over 1024
// bytes are cut; over 100 lines a second, the excess is dropped.
func Log(level int32, msg string) { hostcall.LogString(level, msg) }

//lint:ignore U1000 read by the hlsrelay_init export (exports_wasip1.go)
var initHandler func() error

// HandleInit registers h to run once per plugin instance, before any
// request (hlsrelay_init): the place to read and check the configuration
// (Field(abi.FieldConfig)). An error refuses the plugin, and is logged.
// Call it from an init function.
func HandleInit(h func() error) { initHandler = h }
