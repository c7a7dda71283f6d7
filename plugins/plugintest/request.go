package plugintest

import (
	"net/http"
	"net/url"

	"github.com/hlsrelay/hlsrelay/plugins/abi"
	"github.com/hlsrelay/hlsrelay/plugins/host"
)

// DefaultRemoteAddr is the client address of requests built by Push and
// Pull.
const DefaultRemoteAddr = "192.0.2.10:40000"

// A RequestOption adds to a request built by Push or Pull.
type RequestOption func(*host.Request)

// Push builds the request of a publisher's PUSH of stream with token.
func Push(stream, token string, opts ...RequestOption) *host.Request {
	return request("PUSH", stream, token, opts)
}

// Pull builds the request of a viewer's PULL of stream with token.
func Pull(stream, token string, opts ...RequestOption) *host.Request {
	return request("PULL", stream, token, opts)
}

func request(action, stream, token string, opts []RequestOption) *host.Request {
	r := &host.Request{Action: action, Stream: stream, Token: token, RemoteAddr: DefaultRemoteAddr}
	for _, o := range opts {
		o(r)
	}
	return r
}

// RemoteAddr sets the client's "ip:port".
func RemoteAddr(addr string) RequestOption {
	return func(r *host.Request) { r.RemoteAddr = addr }
}

// Header adds a header of the request that opened the WebSocket.
func Header(name, value string) RequestOption {
	return func(r *host.Request) {
		if r.Header == nil {
			r.Header = http.Header{}
		}
		r.Header.Add(name, value)
	}
}

// Query adds a query parameter of the request that opened the WebSocket.
func Query(name, value string) RequestOption {
	return func(r *host.Request) {
		if r.Query == nil {
			r.Query = url.Values{}
		}
		r.Query.Add(name, value)
	}
}

// OnlySource marks a PULL that asks not to be fetched from another node.
func OnlySource() RequestOption {
	return func(r *host.Request) { r.OnlySource = true }
}

// roleOf reads the module's export names to choose its role; a module it
// cannot read gets both, and Load says what is wrong with it.
func roleOf(wasm []byte) host.Role {
	var role host.Role
	for _, name := range exportNames(wasm) {
		switch name {
		case abi.ExportAuthorize:
			role |= host.RoleAuthorize
		case abi.ExportRoute:
			role |= host.RoleRoute
		}
	}
	if role == 0 {
		return host.RoleAuthorize | host.RoleRoute
	}
	return role
}

// exportNames returns the names in the export section, or nil if the
// binary cannot be read.
func exportNames(b []byte) []string {
	if len(b) < 8 || string(b[:4]) != "\x00asm" {
		return nil
	}
	pos := 8
	u32 := func() (int, bool) {
		v, shift := 0, 0
		for pos < len(b) && shift < 35 {
			c := b[pos]
			pos++
			v |= int(c&0x7F) << shift
			if c&0x80 == 0 {
				return v, true
			}
			shift += 7
		}
		return 0, false
	}
	for pos < len(b) {
		id := b[pos]
		pos++
		size, ok := u32()
		if !ok || size > len(b)-pos {
			return nil
		}
		end := pos + size
		if id != 7 {
			pos = end
			continue
		}
		n, _ := u32()
		var names []string
		for range n {
			l, ok := u32()
			if !ok || l > end-pos {
				return nil
			}
			names = append(names, string(b[pos:pos+l]))
			pos += l + 1 // name, kind
			if _, ok := u32(); !ok {
				return nil
			}
		}
		return names
	}
	return nil
}
