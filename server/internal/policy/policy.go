// Package policy decides who may publish or view a stream. The relay asks
// one Authorizer for every PUSH and PULL; the decision is data (allowed, or a
// code and a reason that reach the client in an E message).
package policy

import (
	"context"
	"net/http"
	"net/url"
)

// Action is what a client asks to do with a stream.
type Action string

// Actions.
const (
	Push Action = "PUSH"
	Pull Action = "PULL"
)

// Request is what an Authorizer decides on.
type Request struct {
	Action     Action
	Stream     string
	Token      string
	RemoteAddr string
	Header     http.Header
	Query      url.Values
	// OnlySource is the PULL's only_source: do not fetch from other nodes.
	OnlySource bool
}

// Decision is an Authorizer's answer. A zero Decision denies.
type Decision struct {
	Allowed bool
	// Code and Reason are sent to a refused client as E:code=..&message=..
	Code   string
	Reason string
}

// Allow is the decision that lets a request through.
var Allow = Decision{Allowed: true}

// Authorizer decides on requests. Implementations must be safe for
// concurrent use and must fail closed.
type Authorizer interface {
	Authorize(ctx context.Context, req *Request) Decision
}
