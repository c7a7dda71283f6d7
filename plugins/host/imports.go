package host

import (
	"context"
	"errors"
	"math"
	"strings"
	"time"
	"unsafe"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/hlsrelay/hlsrelay/plugins/abi"
)

// errOutOfRange is the panic of an import given a range outside the guest's
// memory; wazero turns it into a trap of the call.
var errOutOfRange = errors.New("hlsrelay import: memory range out of bounds")

// errNoCall is the panic of an import called outside a call of the host,
// which cannot happen unless a module is instantiated by other means.
var errNoCall = errors.New("hlsrelay import: no call in progress")

type hostFunc struct {
	name    string
	fn      api.GoModuleFunc
	params  []api.ValueType
	results []api.ValueType
}

func instantiateHostModule(ctx context.Context, rt wazero.Runtime) (api.Module, error) {
	I32, I64 := api.ValueTypeI32, api.ValueTypeI64
	n := func(k int) []api.ValueType {
		t := make([]api.ValueType, k)
		for i := range t {
			t[i] = I32
		}
		return t
	}
	funcs := []hostFunc{
		{"field_get", fieldGet, n(3), n(1)},
		{"header_get", headerGet, n(4), n(1)},
		{"query_get", queryGet, n(4), n(1)},
		{"decision_allow", decisionAllow, nil, nil},
		{"decision_deny", decisionDeny, n(4), nil},
		{"decision_cache", decisionCache_, []api.ValueType{I64}, nil},
		{"route_local", routeLocal, nil, nil},
		{"route_registry", routeRegistry, nil, nil},
		{"route_upstream", routeUpstream, n(2), nil},
		{"route_reject", routeReject, n(4), nil},
		{"time_now_ms", timeNowMs, nil, []api.ValueType{I64}},
		{"signature_verify", signatureVerify, n(7), n(1)},
		{"registry_lookup", registryLookup, n(4), n(1)},
		{"log", logLine, n(3), nil},
	}
	b := rt.NewHostModuleBuilder(abi.ImportModule)
	for _, f := range funcs {
		b.NewFunctionBuilder().WithGoModuleFunction(f.fn, f.params, f.results).Export(f.name)
	}
	return b.Instantiate(ctx)
}

// callOf returns the instance of the current call; it traps outside one.
func callOf(ctx context.Context) *instance {
	in := instanceOf(ctx)
	if in == nil {
		panic(errNoCall)
	}
	return in
}

// read returns the guest's bytes at [ptr, ptr+n), trapping if out of range.
// The slice aliases guest memory: valid only until the import returns.
func (in *instance) read(ptr, n uint64) []byte {
	b, ok := in.mem.Read(uint32(ptr), uint32(n))
	if !ok {
		panic(errOutOfRange)
	}
	return b
}

// put implements the length convention of field_get: copy v to [buf,
// buf+cap) if it fits, and return its length either way. The range must be
// inside memory even if v does not fit.
func (in *instance) put(v string, buf, cap uint64, stack []uint64) {
	if _, ok := in.mem.Read(uint32(buf), uint32(cap)); !ok {
		panic(errOutOfRange)
	}
	if len(v) <= int(uint32(cap)) {
		in.mem.WriteString(uint32(buf), v)
	}
	stack[0] = api.EncodeI32(int32(len(v)))
}

func fieldGet(ctx context.Context, _ api.Module, stack []uint64) {
	in := callOf(ctx)
	v, ok := in.field(int32(stack[0]))
	if !ok {
		if _, ok := in.mem.Read(uint32(stack[1]), uint32(stack[2])); !ok {
			panic(errOutOfRange)
		}
		stack[0] = api.EncodeI32(abi.Absent)
		return
	}
	in.put(v, stack[1], stack[2], stack)
}

// field returns a field's value; request fields exist only during a call.
func (in *instance) field(id int32) (string, bool) {
	cfg := &in.p.cfg
	switch id {
	case abi.FieldNodeID:
		return cfg.NodeID, true
	case abi.FieldConfig:
		return unsafeString(cfg.Config), true
	case abi.FieldNodeURL:
		return cfg.NodeURL, true
	}
	req := in.st.req
	if req == nil {
		return "", false
	}
	switch id {
	case abi.FieldAction:
		return req.Action, true
	case abi.FieldStream:
		return req.Stream, true
	case abi.FieldToken:
		return req.Token, true
	case abi.FieldRemoteAddr:
		return req.RemoteAddr, true
	case abi.FieldOnlySource:
		if req.OnlySource {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

func headerGet(ctx context.Context, _ api.Module, stack []uint64) {
	in := callOf(ctx)
	name := in.read(stack[0], stack[1])
	v, ok := in.header(name)
	in.lookupResult(v, ok, stack)
}

func queryGet(ctx context.Context, _ api.Module, stack []uint64) {
	in := callOf(ctx)
	name := in.read(stack[0], stack[1])
	var v string
	ok := false
	if in.st.req != nil {
		if vs := in.st.req.Query[string(name)]; len(vs) > 0 {
			v, ok = vs[0], true
		}
	}
	in.lookupResult(v, ok, stack)
}

// lookupResult answers header_get or query_get: buf and cap are stack[2:4].
func (in *instance) lookupResult(v string, ok bool, stack []uint64) {
	if !ok {
		if _, ok := in.mem.Read(uint32(stack[2]), uint32(stack[3])); !ok {
			panic(errOutOfRange)
		}
		stack[0] = api.EncodeI32(abi.Absent)
		return
	}
	in.put(v, stack[2], stack[3], stack)
}

// header returns the first value of a header, matching the name without
// regard to case and without allocating for the usual canonical keys.
func (in *instance) header(name []byte) (string, bool) {
	if in.st.req == nil || len(in.st.req.Header) == 0 || len(name) == 0 {
		return "", false
	}
	h := in.st.req.Header
	if len(name) <= len(in.scratch) {
		key := canonicalHeaderKey(in.scratch[:len(name)], name)
		if vs := h[string(key)]; len(vs) > 0 {
			return vs[0], true
		}
	}
	for k, vs := range h { // keys set without canonicalisation
		if len(vs) > 0 && strings.EqualFold(k, unsafeString(name)) {
			return vs[0], true
		}
	}
	return "", false
}

// canonicalHeaderKey writes the canonical form of name into dst, as
// textproto.CanonicalMIMEHeaderKey does for valid names.
func canonicalHeaderKey(dst, name []byte) []byte {
	upper := true
	for i, c := range name {
		switch {
		case upper && 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case !upper && 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		dst[i] = c
		upper = c == '-'
	}
	return dst
}

func decisionAllow(ctx context.Context, _ api.Module, _ []uint64) {
	in := callOf(ctx)
	if in.st.phase != phaseAuthorize {
		in.st.violate("decision_allow called during %s", in.st.phase)
		return
	}
	in.st.decided, in.st.allowed = true, true
}

func decisionDeny(ctx context.Context, _ api.Module, stack []uint64) {
	in := callOf(ctx)
	code, reason := in.read(stack[0], stack[1]), in.read(stack[2], stack[3])
	if in.st.phase != phaseAuthorize {
		in.st.violate("decision_deny called during %s", in.st.phase)
		return
	}
	in.st.decided, in.st.allowed = true, false
	in.st.code, in.st.reason = validCode(code), text(reason, abi.MaxReasonLen)
}

func decisionCache_(ctx context.Context, _ api.Module, stack []uint64) {
	in := callOf(ctx)
	if in.st.phase != phaseAuthorize {
		in.st.violate("decision_cache called during %s", in.st.phase)
		return
	}
	ms := int64(stack[0])
	if ms <= 0 {
		in.st.cacheTTL = 0
		return
	}
	in.st.cacheTTL = time.Duration(min(ms, math.MaxInt64/int64(time.Millisecond))) * time.Millisecond
}

// validCode returns code if it is 1 to 64 of [A-Z0-9_], else AUTH_ERROR.
func validCode(code []byte) string {
	if len(code) == 0 || len(code) > abi.MaxCodeLen {
		return defaultCode
	}
	for _, c := range code {
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return defaultCode
		}
	}
	if string(code) == defaultCode {
		return defaultCode
	}
	return string(code)
}

func (in *instance) addSource(s Source) {
	st := &in.st
	if st.phase != phaseRoute {
		st.violate("route import called during %s", st.phase)
		return
	}
	if st.nsources == abi.MaxRouteSteps {
		st.violate("more than %d route sources", abi.MaxRouteSteps)
		return
	}
	st.sources[st.nsources] = s
	st.nsources++
}

func routeLocal(ctx context.Context, _ api.Module, _ []uint64) {
	callOf(ctx).addSource(Source{Kind: abi.RouteLocal})
}

func routeRegistry(ctx context.Context, _ api.Module, _ []uint64) {
	callOf(ctx).addSource(Source{Kind: abi.RouteRegistry})
}

func routeUpstream(ctx context.Context, _ api.Module, stack []uint64) {
	in := callOf(ctx)
	u := in.read(stack[0], stack[1])
	switch {
	case len(u) > abi.MaxURLLen:
		in.st.violate("route_upstream URL of %d bytes, over %d", len(u), abi.MaxURLLen)
	case !validUpstream(u):
		in.st.violate("route_upstream URL %q is not a ws:// or wss:// URL", text(u, 100))
	default:
		in.addSource(Source{Kind: abi.RouteUpstream, URL: string(u)})
	}
}

// validUpstream accepts ws:// and wss:// URLs with a host and no control
// characters or spaces.
func validUpstream(u []byte) bool {
	s := unsafeString(u)
	rest, ok := strings.CutPrefix(s, "ws://")
	if !ok {
		rest, ok = strings.CutPrefix(s, "wss://")
	}
	if !ok || rest == "" || rest[0] == '/' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

func routeReject(ctx context.Context, _ api.Module, stack []uint64) {
	in := callOf(ctx)
	code, reason := in.read(stack[0], stack[1]), in.read(stack[2], stack[3])
	if in.st.phase != phaseRoute {
		in.st.violate("route_reject called during %s", in.st.phase)
		return
	}
	in.st.rejected = true
	in.st.code, in.st.reason = validCode(code), text(reason, abi.MaxReasonLen)
}

func timeNowMs(ctx context.Context, _ api.Module, stack []uint64) {
	in := callOf(ctx)
	now := time.Now
	if in.p.now != nil {
		now = in.p.now
	}
	stack[0] = uint64(now().UnixMilli())
}

func logLine(ctx context.Context, _ api.Module, stack []uint64) {
	in := callOf(ctx)
	msg := in.read(stack[1], stack[2])
	in.p.guestLine(int32(stack[0]), msg)
}

func registryLookup(ctx context.Context, _ api.Module, stack []uint64) {
	in := callOf(ctx)
	key := in.read(stack[0], stack[1])
	if _, ok := in.mem.Read(uint32(stack[2]), uint32(stack[3])); !ok {
		panic(errOutOfRange)
	}
	v, status := in.lookup(ctx, key)
	if status != 0 {
		stack[0] = api.EncodeI32(status)
		return
	}
	in.put(unsafeString(v), stack[2], stack[3], stack)
}

// lookup asks the registry for key; status is 0 or an abi result code.
func (in *instance) lookup(ctx context.Context, key []byte) (v []byte, status int32) {
	cfg := &in.p.cfg
	allowed := false
	for _, p := range cfg.RegistryPrefixes {
		if strings.HasPrefix(unsafeString(key), p) {
			allowed = true
			break
		}
	}
	if !allowed {
		return nil, abi.Denied
	}
	if cfg.Registry == nil {
		return nil, abi.Unavailable
	}
	parent := context.Background()
	deadline := time.Now().Add(cfg.RegistryTimeout)
	if c, ok := ctx.(*callCtx); ok {
		if c.parent != nil {
			parent = c.parent
		}
		deadline = earlier(deadline, c.deadline)
	} else if d, ok := ctx.Deadline(); ok {
		parent = ctx
		deadline = earlier(deadline, d)
	}
	rctx, cancel := context.WithDeadline(parent, deadline)
	defer cancel()
	v, found, err := cfg.Registry.Lookup(rctx, string(key))
	switch {
	case err != nil:
		return nil, abi.Unavailable
	case !found:
		return nil, abi.Absent
	}
	return v, 0
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// unsafeString views b as a string without copying; b must not change while
// the string is in use.
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
