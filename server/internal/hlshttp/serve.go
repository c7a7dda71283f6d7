package hlshttp

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
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

// blocking is the delivery directive of a playlist request.
type blocking struct {
	msn     uint64
	part    uint64
	on      bool // _HLS_msn was given
	hasPart bool // _HLS_part was given too
}

// blockingParams reads _HLS_msn and _HLS_part.
func blockingParams(q url.Values) (blocking, error) {
	var bl blocking
	if part := q.Get(paramPart); part != "" {
		if !q.Has(paramMSN) {
			return bl, fmt.Errorf("%s without %s", paramPart, paramMSN)
		}
		n, err := parseSeq(part)
		if err != nil {
			return bl, fmt.Errorf("bad %s", paramPart)
		}
		bl.part, bl.hasPart = n, true
	}
	if !q.Has(paramMSN) {
		return bl, nil
	}
	msn, err := parseSeq(q.Get(paramMSN))
	if err != nil {
		return bl, fmt.Errorf("bad %s", paramMSN)
	}
	bl.msn, bl.on = msn, true
	return bl, nil
}

// hasParts reports whether w's stream is served as LL-HLS: fMP4 whose
// fragments come in parts.
func hasParts(w hub.Window) bool { return w.MaxPartDuration > 0 && isFMP4(w) }

// edge is the part of w that arrives next: the next part of the open
// fragment, or part 0 of the next fragment. Stream.LiveEdge says the same
// without a snapshot.
func edge(w hub.Window) (seq, part uint64) {
	if w.Open != nil {
		return w.Open.Seq, uint64(len(w.OpenParts))
	}
	return w.Next, 0
}

// partsAhead says how far part part of fragment seq is beyond the live edge
// (eSeq, ePart), the part that arrives next: 0 if it is not beyond the
// newest part (it exists, or its fragment is complete or gone), 1 for the
// next part (the one the preload hint names). A part of the fragment after
// the one being published counts as if it followed the newest part directly
// (how many parts the open fragment will have is not known yet); one of a
// fragment after that is too far to count.
func partsAhead(eSeq, ePart, seq, part uint64) uint64 {
	switch {
	case seq < eSeq, seq == eSeq && part < ePart:
		return 0
	case seq == eSeq:
		return part - ePart + 1
	case seq == eSeq+1:
		return part + 1
	}
	return math.MaxUint64
}

// partAfter is the part that a blocking request for part part of segment
// msn waits for: that part, or, if segment msn is complete with fewer
// parts, part 0 of the next segment (RFC 8216bis, 6.2.5.2).
func partAfter(w hub.Window, msn, part uint64) (uint64, uint64) {
	if msn >= w.Next {
		return msn, part
	}
	i, found := slices.BinarySearchFunc(w.Fragments, msn, func(f *hub.Fragment, seq uint64) int {
		return cmp.Compare(f.Seq, seq)
	})
	if found && uint64(len(w.Fragments[i].Parts())) <= part {
		return msn + 1, 0
	}
	return msn, part
}

// waitPart waits until the playlist can answer a blocking request for part
// part of segment msn: that part exists, or segment msn is gone, or the
// stream ended. When segment msn is complete without that part, the request
// is one for part 0 of the next segment.
func waitPart(ctx context.Context, s *hub.Stream, msn, part uint64) error {
	for {
		// part is at most advancePartLimit past the newest part: small.
		if err := s.WaitPart(ctx, msn, int(part)); err != nil {
			return err
		}
		f, parts, closed := s.Parts(msn)
		if f == nil || !closed || part < uint64(len(parts)) {
			return nil
		}
		msn, part = msn+1, 0
	}
}

// advancePartLimit is how many parts beyond the newest one a request may
// ask for (RFC 8216bis, 6.2.5.2: three divided by the part target if it is
// below one second, else three): three seconds of parts.
func advancePartLimit(w hub.Window) uint64 {
	return uint64(max(3, 3000/partTargetMs(w.MaxPartDuration)))
}

func (h *Handler) servePlaylist(w http.ResponseWriter, rq *request) outcome {
	bl, err := blockingParams(rq.query)
	if err != nil {
		return fail(http.StatusBadRequest, err.Error())
	}
	s, out := h.locate(rq)
	if s == nil {
		return out
	}
	win := s.Window()
	// Without parts, _HLS_part is ignored: the request is answered when
	// segment msn is complete.
	byPart := bl.hasPart && hasParts(win)
	wait := len(win.Fragments) == 0 // a live playlist lists at least one segment
	if bl.on && !win.Ended {
		// The spec's limits: at most two segments past the last one, and
		// at most the advance part limit past the last part.
		if bl.msn > win.Next+1 {
			return fail(http.StatusBadRequest, fmt.Sprintf("%s=%d is more than two segments past the last one (%d)", paramMSN, bl.msn, int64(win.Next)-1))
		}
		if byPart {
			bl.msn, bl.part = partAfter(win, bl.msn, bl.part)
			eSeq, ePart := edge(win)
			ahead, limit := partsAhead(eSeq, ePart, bl.msn, bl.part), advancePartLimit(win)
			if ahead > limit {
				return fail(http.StatusBadRequest, fmt.Sprintf("%s=%d&%s=%d is more than %d parts past the last one", paramMSN, bl.msn, paramPart, bl.part, limit))
			}
			wait = wait || ahead > 0
		} else {
			wait = wait || win.Next <= bl.msn
		}
	}
	if wait && !win.Ended {
		what := awaited{seq: win.Next}
		switch {
		case byPart:
			what = awaited{seq: bl.msn, part: bl.part, byPart: true}
		case bl.on:
			what.seq = bl.msn
		}
		first := win.Next
		out := h.block(rq.r.Context(), win.MaxDuration, what, func(ctx context.Context) error {
			if len(win.Fragments) == 0 {
				if err := s.WaitSeq(ctx, first); err != nil {
					return err
				}
			}
			switch {
			case byPart:
				return waitPart(ctx, s, bl.msn, bl.part)
			case bl.on:
				return s.WaitSeq(ctx, bl.msn)
			}
			return nil
		})
		if out.status != 0 {
			return out
		}
		win = s.Window()
	}
	p := newPlaylist(win)
	maxAge := 1
	if bl.on {
		// The answer to "_HLS_msn=N" stays a right answer to it.
		maxAge = p.target
	}
	uriToken := rq.token
	if rq.tokenInHeader {
		uriToken = ""
	}
	size := 256 + 160*len(p.frags)
	if p.partTargetMs > 0 {
		size += 160 * (len(p.openParts) + 1)
		for _, f := range p.frags[p.partsFrom:] {
			size += 160 * len(f.Parts())
		}
	}
	body := appendPlaylist(make([]byte, 0, size), p, uriToken)
	hdr := w.Header()
	hdr.Set("Content-Type", "application/vnd.apple.mpegurl")
	hdr.Set("Cache-Control", cacheScope(rq)+", max-age="+strconv.Itoa(maxAge))
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return outcome{status: http.StatusOK}
}

// awaited names what a request waits for: segment seq, or one of its parts.
type awaited struct {
	seq, part uint64
	byPart    bool
}

func (a awaited) String() string {
	if a.byPart {
		return fmt.Sprintf("part %d of segment %d", a.part, a.seq)
	}
	return fmt.Sprintf("segment %d", a.seq)
}

// block runs wait, which waits for what (named in the answer when it times
// out), holding one of the MaxBlocked slots, for at most three target
// durations (of fragments of at most longest seconds) and MaxBlockWait. A
// zero outcome means the wait succeeded.
func (h *Handler) block(ctx context.Context, longest float64, what awaited, wait func(context.Context) error) outcome {
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
	err := wait(ctx)
	switch {
	case err == nil:
		return outcome{}
	case h.closing.Err() != nil:
		return unavailable("the relay is shutting down")
	case errors.Is(err, errWaitTimeout):
		return unavailable(fmt.Sprintf("%v did not arrive within %s", what, limit))
	}
	return outcome{status: statusClientGone}
}

// Content types of the media responses.
const (
	contentTypeTS   = "video/mp2t"
	contentTypeFMP4 = "video/mp4"
)

// media is the body of a segment, part or init segment response: one
// slice, or the parts of a fragment in order. It is written as it is held,
// never copied.
type media struct {
	data  []byte
	parts []*hub.Part
}

func (m media) size() int {
	n := len(m.data)
	for _, p := range m.parts {
		n += len(p.Data)
	}
	return n
}

func (m media) writeTo(w io.Writer) error {
	if m.parts == nil {
		_, err := w.Write(m.data)
		return err
	}
	for _, p := range m.parts {
		if _, err := w.Write(p.Data); err != nil {
			return err
		}
	}
	return nil
}

func (m media) readSeeker() io.ReadSeeker {
	if m.parts == nil {
		return bytes.NewReader(m.data)
	}
	return io.NewSectionReader(partsReaderAt(m.parts), 0, int64(m.size()))
}

// statusWriter remembers the status that http.ServeContent answered (206,
// 304, 412, 416...), for the log and the metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// partsReaderAt reads the concatenation of parts' bytes.
type partsReaderAt []*hub.Part

func (r partsReaderAt) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	n := 0
	for _, p := range r {
		if len(b) == 0 {
			break
		}
		if off >= int64(len(p.Data)) {
			off -= int64(len(p.Data))
			continue
		}
		c := copy(b, p.Data[off:])
		n, b, off = n+c, b[c:], 0
	}
	if len(b) > 0 {
		return n, io.EOF
	}
	return n, nil
}

// writeMedia answers a segment, part or init segment request with body:
// immutable (its URL names bytes that never change), with an ETag.
// counted: the body is media to count as a fragment sent.
func (h *Handler) writeMedia(w http.ResponseWriter, rq *request, contentType, etag string, modified int64, body media, counted bool) outcome {
	hdr := w.Header()
	hdr.Set("Content-Type", contentType)
	hdr.Set("Cache-Control", cacheScope(rq)+", max-age="+strconv.Itoa(segmentMaxAge)+", immutable")
	hdr.Set("ETag", `"`+url.PathEscape(rq.res.epoch)+"-"+etag+`"`)
	if conditional(rq.r) {
		// Ranges (ffmpeg asks for "bytes=0-") and revalidation:
		// ServeContent does them right, reading the bytes in place.
		var mtime time.Time
		if modified != 0 {
			mtime = time.UnixMilli(modified)
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		http.ServeContent(sw, rq.r, "", mtime, body.readSeeker())
		return outcome{status: sw.status, answered: true}
	}
	size := body.size()
	hdr.Set("Content-Length", strconv.Itoa(size))
	w.WriteHeader(http.StatusOK)
	if rq.r.Method != http.MethodHead {
		// The media's own bytes: no copy per viewer.
		if err := body.writeTo(w); err == nil && counted {
			h.cfg.Metrics.Sent(size, time.Time{})
		}
	}
	return outcome{status: http.StatusOK}
}

func (h *Handler) serveSegment(w http.ResponseWriter, rq *request) outcome {
	s, out := h.locateMedia(rq)
	if s == nil {
		return out
	}
	f := s.Fragment(rq.res.seq)
	if f == nil {
		return fail(http.StatusNotFound, "segment not buffered (no longer, or not yet)")
	}
	// One URL per fragment: ".m4s" for an fMP4 stream's (it has an init
	// segment, or the fragment came in parts), ".ts" for the others.
	contentType := contentTypeTS
	switch fmp4 := f.InParts() || s.Init() != nil; {
	case fmp4 && !rq.res.fmp4:
		return fail(http.StatusNotFound, "an fMP4 segment: its name ends in "+fmp4Ext)
	case !fmp4 && rq.res.fmp4:
		return fail(http.StatusNotFound, "not an fMP4 segment: its name ends in "+segmentExt)
	case fmp4:
		contentType = contentTypeFMP4
	}
	body := media{data: f.Data, parts: f.Parts()}
	if f.InParts() {
		body.data = nil
	} else {
		body.parts = nil
	}
	return h.writeMedia(w, rq, contentType, strconv.FormatUint(f.Seq, 10), f.Time, body, true)
}

// servePart answers a part; a part that the playlist hints (or one a few
// parts further) is answered the moment it arrives.
func (h *Handler) servePart(w http.ResponseWriter, rq *request) outcome {
	s, out := h.locateMedia(rq)
	if s == nil {
		return out
	}
	seq, index := rq.res.seq, rq.res.part
	p, closed := partOf(s, seq, index)
	if p == nil && !closed {
		if out := h.awaitPart(rq, s, seq, index); out.status != 0 {
			return out
		}
		p, _ = partOf(s, seq, index)
	}
	if p == nil {
		return fail(http.StatusNotFound, "part not buffered (no longer, or not yet, or no such part)")
	}
	etag := strconv.FormatUint(seq, 10) + "." + strconv.FormatUint(index, 10)
	return h.writeMedia(w, rq, contentTypeFMP4, etag, p.Time, media{data: p.Data}, true)
}

// awaitPart waits for part index of fragment seq, which the stream does not
// hold, if it is coming soon: at most the advance part limit past the
// newest part. A zero outcome means the caller looks again (the part
// arrived, or will not: answer 404).
func (h *Handler) awaitPart(rq *request, s *hub.Stream, seq, index uint64) outcome {
	// The live edge alone tells a part that is not coming (evicted, or
	// not in a fragment the stream has or publishes next) from one that
	// may be, without a snapshot of the window.
	eSeq, ePart := s.LiveEdge()
	ahead := partsAhead(eSeq, ePart, seq, index)
	if ahead == 0 || ahead == math.MaxUint64 {
		return outcome{}
	}
	// Whether to wait and for how long depend on the stream's targets.
	win := s.Window()
	if win.Ended || !hasParts(win) || ahead > advancePartLimit(win) {
		return outcome{}
	}
	what := awaited{seq: seq, part: index, byPart: true}
	return h.block(rq.r.Context(), win.MaxDuration, what, func(ctx context.Context) error {
		return s.WaitPart(ctx, seq, int(index)) // index <= the limit: small
	})
}

// partOf returns part index of fragment seq, or nil; closed reports that
// the fragment is complete (so a missing part will never exist).
func partOf(s *hub.Stream, seq, index uint64) (p *hub.Part, closed bool) {
	f, parts, closed := s.Parts(seq)
	if f != nil && index < uint64(len(parts)) {
		return parts[index], closed
	}
	return nil, closed
}

func (h *Handler) serveInit(w http.ResponseWriter, rq *request) outcome {
	s, out := h.locateMedia(rq)
	if s == nil {
		return out
	}
	init := initOf(s, rq.res.gen)
	if init == nil {
		return fail(http.StatusNotFound, "init segment not held (no buffered fragment decodes with it, or not yet)")
	}
	return h.writeMedia(w, rq, contentTypeFMP4, initPrefix+strconv.FormatUint(init.Gen, 10), 0, media{data: init.Data}, false)
}

// initOf returns the stream's init segment of generation gen: its current
// one, or an older one that a buffered fragment (or the one being
// published) still decodes with; nil if there is none.
func initOf(s *hub.Stream, gen uint64) *hub.Init {
	current := s.Init()
	switch {
	case current == nil || current.Gen < gen:
		return nil
	case current.Gen == gen:
		return current
	}
	// An older generation: only right after a new init segment.
	w := s.Window()
	if w.Open != nil && w.Open.Init != nil && w.Open.Init.Gen == gen {
		return w.Open.Init
	}
	for _, f := range w.Fragments {
		if f.Init != nil && f.Init.Gen == gen {
			return f.Init
		}
	}
	return nil
}

// locateMedia locates the stream of a segment, part or init segment
// request, of the epoch its path names.
func (h *Handler) locateMedia(rq *request) (*hub.Stream, outcome) {
	s, out := h.locate(rq)
	if s == nil {
		return nil, out
	}
	if s.Epoch() != rq.res.epoch {
		return nil, fail(http.StatusNotFound, "segment of an earlier instance of the stream")
	}
	return s, outcome{}
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
