package hlshttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hlsrelay/hlsrelay/server/internal/hub"
)

// Blocking playlist reload parameters (RFC 8216bis, section 6.2.5.2).
const (
	paramMSN  = "_HLS_msn"
	paramPart = "_HLS_part"
)

// segmentMaxAge is the cache lifetime of a segment: its URL names one
// fragment of one stream instance, whose bytes never change.
const segmentMaxAge = 365 * 24 * 60 * 60

// blockingParams reads _HLS_msn and _HLS_part. Partial segments do not
// exist yet, so _HLS_part is checked and then ignored.
func blockingParams(q url.Values) (msn uint64, has bool, err error) {
	if part := q.Get(paramPart); part != "" {
		if !q.Has(paramMSN) {
			return 0, false, fmt.Errorf("%s without %s", paramPart, paramMSN)
		}
		if _, err := parseSeq(part); err != nil {
			return 0, false, fmt.Errorf("bad %s", paramPart)
		}
	}
	if !q.Has(paramMSN) {
		return 0, false, nil
	}
	msn, err = parseSeq(q.Get(paramMSN))
	if err != nil {
		return 0, false, fmt.Errorf("bad %s", paramMSN)
	}
	return msn, true, nil
}

func (h *Handler) servePlaylist(w http.ResponseWriter, rq *request) outcome {
	msn, blocking, err := blockingParams(rq.query)
	if err != nil {
		return fail(http.StatusBadRequest, err.Error())
	}
	s, out := h.locate(rq)
	if s == nil {
		return out
	}
	win := s.Window()
	want, wait := win.Next, len(win.Fragments) == 0 // a live playlist lists at least one segment
	if blocking {
		// The spec's limit: at most two segments past the last one.
		if !win.Ended && msn > win.Next+1 {
			return fail(http.StatusBadRequest, fmt.Sprintf("%s=%d is more than two segments past the last one (%d)", paramMSN, msn, int64(win.Next)-1))
		}
		want, wait = msn, win.Next <= msn
	}
	if wait && !win.Ended {
		if out := h.waitFor(rq.r.Context(), s, want, win.MaxDuration); out.status != 0 {
			return out
		}
		win = s.Window()
	}
	p := newPlaylist(win)
	maxAge := 1
	if blocking {
		// The answer to "_HLS_msn=N" stays a right answer to it.
		maxAge = p.target
	}
	uriToken := rq.token
	if rq.tokenInHeader {
		uriToken = ""
	}
	body := appendPlaylist(make([]byte, 0, 256+160*len(p.frags)), p, uriToken)
	hdr := w.Header()
	hdr.Set("Content-Type", "application/vnd.apple.mpegurl")
	hdr.Set("Cache-Control", cacheScope(rq)+", max-age="+strconv.Itoa(maxAge))
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return outcome{status: http.StatusOK}
}

// waitFor waits until s has fragment seq (or a later one) or has ended,
// at most three target durations and MaxBlockWait. A zero outcome means the
// wait succeeded.
func (h *Handler) waitFor(ctx context.Context, s *hub.Stream, seq uint64, longest float64) outcome {
	select {
	case h.blocked <- struct{}{}:
	default:
		return refused(unavailable("too many requests are waiting for new segments"), codeTooManyBlocked)
	}
	defer func() { <-h.blocked }()
	limit := h.cfg.MaxBlockWait
	if longest > 0 {
		limit = min(limit, 3*time.Duration(targetDuration(longest))*time.Second)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, limit, errWaitTimeout)
	defer cancel()
	stop := context.AfterFunc(h.closing, cancel)
	defer stop()
	err := s.WaitSeq(ctx, seq)
	switch {
	case err == nil:
		return outcome{}
	case h.closing.Err() != nil:
		return unavailable("the relay is shutting down")
	case errors.Is(err, errWaitTimeout):
		return unavailable(fmt.Sprintf("segment %d did not arrive within %s", seq, limit))
	}
	return outcome{status: statusClientGone}
}

func (h *Handler) serveSegment(w http.ResponseWriter, rq *request) outcome {
	s, out := h.locate(rq)
	if s == nil {
		return out
	}
	if s.Epoch() != rq.res.epoch {
		return fail(http.StatusNotFound, "segment of an earlier instance of the stream")
	}
	f := s.Fragment(rq.res.seq)
	if f == nil {
		return fail(http.StatusNotFound, "segment not buffered (no longer, or not yet)")
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "video/mp2t")
	hdr.Set("Cache-Control", cacheScope(rq)+", max-age="+strconv.Itoa(segmentMaxAge)+", immutable")
	hdr.Set("ETag", `"`+url.PathEscape(rq.res.epoch)+"-"+strconv.FormatUint(f.Seq, 10)+`"`)
	if conditional(rq.r) {
		// Ranges and revalidation are rare; ServeContent does them right.
		http.ServeContent(w, rq.r, "", time.UnixMilli(f.Time), bytes.NewReader(f.Data))
		return outcome{status: http.StatusOK}
	}
	hdr.Set("Content-Length", strconv.Itoa(len(f.Data)))
	w.WriteHeader(http.StatusOK)
	if rq.r.Method != http.MethodHead {
		// The fragment's own bytes, in one write: no copy per viewer.
		if _, err := w.Write(f.Data); err == nil {
			h.cfg.Metrics.Sent(len(f.Data), time.Time{})
		}
	}
	return outcome{status: http.StatusOK}
}

func conditional(r *http.Request) bool {
	for _, name := range []string{"Range", "If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range"} {
		if r.Header.Get(name) != "" {
			return true
		}
	}
	return false
}

// cacheScope is "public", or "private" when the token came in a header: the
// URL then does not carry it, and a shared cache must not serve the response
// to another client.
func cacheScope(rq *request) string {
	if rq.tokenInHeader {
		return "private"
	}
	return "public"
}
