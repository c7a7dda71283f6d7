package policy

import (
	"context"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

// SourceKind says where a node may find a stream.
type SourceKind int

// Source kinds, as the plugin ABI numbers them.
const (
	SourceLocal    SourceKind = 1 // published on this node
	SourceRegistry SourceKind = 2 // on the node the publish registry names
	SourceUpstream SourceKind = 3 // on a fixed upstream relay
)

func (k SourceKind) String() string {
	switch k {
	case SourceLocal:
		return "local"
	case SourceRegistry:
		return "registry"
	case SourceUpstream:
		return "upstream"
	}
	return "unknown"
}

// Source is one place to look for a stream.
type Source struct {
	Kind SourceKind
	URL  string // for SourceUpstream
}

// RouteDecision is the ordered list of sources for a PULL, or a refusal.
type RouteDecision struct {
	Sources []Source
	// Rejected refuses the PULL with Code and Reason.
	Rejected     bool
	Code, Reason string
}

// Err returns the refusal as the error the client receives (AUTH_ERROR
// unless the router named a code), or nil if the PULL may go on.
func (d RouteDecision) Err() error {
	if !d.Rejected {
		return nil
	}
	code := d.Code
	if code == "" {
		code = protocol.CodeAuth
	}
	return &protocol.Error{Code: code, Message: d.Reason}
}

// Router decides where a PULL's stream is looked for. Implementations must
// be safe for concurrent use.
type Router interface {
	Route(ctx context.Context, req *Request) RouteDecision
}

// BuiltinOrder is the route order used when no routing plugin can answer:
// this node, then the registry (if enabled), then the upstream (if set); a
// PULL with only_source looks only on this node.
func BuiltinOrder(registry bool, upstream string) func(onlySource bool) []Source {
	return func(onlySource bool) []Source {
		sources := []Source{{Kind: SourceLocal}}
		if onlySource {
			return sources
		}
		if registry {
			sources = append(sources, Source{Kind: SourceRegistry})
		}
		if upstream != "" {
			sources = append(sources, Source{Kind: SourceUpstream, URL: upstream})
		}
		return sources
	}
}
