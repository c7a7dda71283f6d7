package hlshttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
	"github.com/hlsrelay/hlsrelay/server/internal/hub"
	"github.com/hlsrelay/hlsrelay/server/internal/policy"
)

// request is a parsed playlist or segment request.
type request struct {
	r     *http.Request
	res   resource
	query url.Values
	token string
	// tokenInHeader: the token came in an Authorization header, not in the
	// URL. URIs then carry no token, and responses are cacheable only by
	// the player itself (a shared cache would serve them to anyone asking
	// for the same URL).
	tokenInHeader bool
}

// queryToken is the query parameter that carries the token.
const queryToken = "token"

// parseRequest checks the sizes of the path and the query and parses both.
func (h *Handler) parseRequest(r *http.Request) (*request, outcome) {
	rq := &request{r: r}
	path := r.URL.EscapedPath()
	if len(path) > maxPathBytes || len(r.URL.RawQuery) > maxQueryBytes {
		return rq, fail(http.StatusRequestURITooLong, fmt.Sprintf("the path and the query are limited to %d bytes each", maxPathBytes))
	}
	res, err := parsePath(path, h.cfg.Prefix)
	if err != nil {
		return rq, fail(http.StatusBadRequest, err.Error())
	}
	rq.res = res
	if rq.query, err = url.ParseQuery(r.URL.RawQuery); err != nil {
		return rq, fail(http.StatusBadRequest, "malformed query string")
	}
	if rq.token, rq.tokenInHeader, err = requestToken(r, res, rq.query); err != nil {
		return rq, fail(http.StatusBadRequest, err.Error())
	}
	return rq, outcome{}
}

// requestToken finds the token: in a segment's path, else in the query
// parameter "token", else in an "Authorization: Bearer" header.
func requestToken(r *http.Request, res resource, q url.Values) (token string, inHeader bool, err error) {
	if res.token != "" {
		return res.token, false, nil
	}
	if t := q.Get(queryToken); t != "" {
		return t, false, checkToken(t)
	}
	scheme, t, found := strings.Cut(r.Header.Get("Authorization"), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false, nil
	}
	t = strings.TrimSpace(t)
	return t, t != "", checkToken(t)
}

// policyRequest is the PULL that the request stands for.
func (rq *request) policyRequest() *policy.Request {
	return &policy.Request{
		Action: policy.Pull, Stream: rq.res.stream, Token: rq.token,
		RemoteAddr: rq.r.RemoteAddr, Header: rq.r.Header, Query: rq.query,
	}
}

// locate authorises the request and finds its stream.
func (h *Handler) locate(rq *request) (*hub.Stream, outcome) {
	ctx, cancel := context.WithTimeout(rq.r.Context(), h.cfg.RequestTimeout)
	defer cancel()
	preq := rq.policyRequest()
	if out := h.authorize(ctx, preq); out.status != 0 {
		return nil, out
	}
	s, err := h.cfg.Locator.Locate(ctx, preq)
	if err == nil {
		return s, outcome{}
	}
	var perr *protocol.Error
	switch {
	case errors.Is(err, hub.ErrNotFound):
		return nil, fail(http.StatusNotFound, "stream not found")
	case rq.r.Context().Err() != nil:
		return nil, outcome{status: statusClientGone}
	case errors.As(err, &perr) && perr.Code == protocol.CodeAuth:
		return nil, refused(fail(http.StatusForbidden, perr.Message), perr.Code)
	}
	h.cfg.Log.Warn().Err(err).Str("stream", preq.Stream).Msg("hls: locating the stream failed")
	return nil, refused(unavailable("the stream is unavailable"), protocol.CodeUnavailable)
}

// authorize asks the Authorizer; a zero outcome allows.
func (h *Handler) authorize(ctx context.Context, preq *policy.Request) outcome {
	d := h.cfg.Authorizer.Authorize(ctx, preq)
	code := d.Code
	if code == "" {
		code = protocol.CodeAuth
	}
	switch {
	case d.Allowed:
		return outcome{}
	case d.Code == protocol.CodeUnavailable:
		return refused(unavailable("authorisation is unavailable"), code)
	case preq.Token == "":
		return refused(fail(http.StatusUnauthorized, "a token is required (query parameter \"token\" or an Authorization: Bearer header)"), code)
	}
	reason := d.Reason
	if reason == "" {
		reason = "the token was refused"
	}
	return refused(fail(http.StatusForbidden, reason), code)
}
