package policy

import (
	"context"
	"time"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/sdk-go/token"
)

// JWT is the documented token scheme: an HS256 JWT whose sub is
// "ACTION:STREAM" and whose exp is in the future, signed with the PULL or
// the PUSH secret. An empty secret disables the check for that action.
type JWT struct {
	PullSecret  string
	PushSecret  string
	PushAllowed bool
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
}

// Authorize implements Authorizer.
func (j *JWT) Authorize(_ context.Context, req *Request) Decision {
	secret := j.PullSecret
	action := token.Pull
	if req.Action == Push {
		if !j.PushAllowed {
			return deny("publishing is not allowed on this node")
		}
		secret, action = j.PushSecret, token.Push
	}
	if secret == "" {
		return Allow
	}
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	if err := token.Verify([]byte(secret), req.Token, action, req.Stream, now()); err != nil {
		// token errors name the problem, never the token itself.
		return deny("invalid token: " + err.Error())
	}
	return Allow
}

func deny(reason string) Decision {
	return Decision{Code: protocol.CodeAuth, Reason: reason}
}
