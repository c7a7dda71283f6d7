package hlshttp

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/hlsrelay/hlsrelay/sdk-go/protocol"
)

// The URL layout below the prefix (see docs/hls-http.md):
//
//	{stream}/index.m3u8                  the live media playlist
//	{stream}/{epoch}/{token}/{seq}.ts    one fragment; token is "-" when none
//
// The stream id may contain "/" (or "%2F"); the parser takes the fixed parts
// from the end of the escaped path and unescapes each part on its own, so an
// escaped "/" inside the token or the epoch cannot shift the layout.
const (
	playlistName = "index.m3u8"
	segmentExt   = ".ts"
	// noToken stands for "no token" in a segment path.
	noToken = "-"
)

// Limits on what a request may carry. A stream id is at most 255 code points
// of up to 4 bytes, each byte escaped as %XX in the worst case: 3,060 bytes.
// A token is printable ASCII (a JWT of the documented scheme is a few hundred
// bytes), at most 6 KiB once escaped into a segment path; with the epoch and
// the number, a segment path the relay writes stays well below maxPathBytes.
const (
	maxPathBytes  = 16 << 10
	maxQueryBytes = 8 << 10
	maxTokenBytes = 2 << 10
	maxEpochBytes = 64
	// maxSeq keeps sequence numbers within what JavaScript reads exactly,
	// as the WebSocket protocol does.
	maxSeq = 1<<53 - 1
)

// resourceKind says what a request path names.
type resourceKind int

const (
	kindPlaylist resourceKind = iota + 1
	kindSegment
)

// resource is a parsed request path.
type resource struct {
	kind   resourceKind
	stream string
	// Segments only.
	epoch string
	token string // "" when the path carries none
	seq   uint64
}

// errBadPath wraps every parse error: the path has the shape of an HLS
// resource but a part of it is invalid.
var errBadPath = errors.New("bad HLS path")

// looksLikeResource reports whether escapedPath, below prefix, has the shape
// of a playlist or segment path. Other paths keep the relay's plain answers.
func looksLikeResource(escapedPath, prefix string) bool {
	rest, ok := strings.CutPrefix(escapedPath, prefix)
	if !ok || rest == "" {
		return false
	}
	return strings.HasSuffix(rest, "/"+playlistName) || strings.HasSuffix(rest, segmentExt)
}

// parsePath parses the escaped path of a request (url.URL.EscapedPath)
// below prefix.
func parsePath(escapedPath, prefix string) (resource, error) {
	if len(escapedPath) > maxPathBytes {
		return resource{}, fmt.Errorf("%w: longer than %d bytes", errBadPath, maxPathBytes)
	}
	rest, ok := strings.CutPrefix(escapedPath, prefix)
	if !ok {
		return resource{}, fmt.Errorf("%w: not below %s", errBadPath, prefix)
	}
	if stream, ok := strings.CutSuffix(rest, "/"+playlistName); ok {
		id, err := unescapeStream(stream)
		return resource{kind: kindPlaylist, stream: id}, err
	}
	return parseSegment(rest)
}

// parseSegment parses "{stream}/{epoch}/{token}/{seq}.ts".
func parseSegment(rest string) (resource, error) {
	name, ok := strings.CutSuffix(rest, segmentExt)
	if !ok {
		return resource{}, fmt.Errorf("%w: neither %s nor a %s segment", errBadPath, playlistName, segmentExt)
	}
	parts := make([]string, 3) // epoch, token, seq
	for i := len(parts) - 1; i >= 0; i-- {
		slash := strings.LastIndexByte(name, '/')
		if slash < 0 {
			return resource{}, fmt.Errorf("%w: a segment path is {stream}/{epoch}/{token}/{seq}.ts", errBadPath)
		}
		parts[i], name = name[slash+1:], name[:slash]
	}
	res := resource{kind: kindSegment}
	var err error
	if res.seq, err = parseSeq(parts[2]); err != nil {
		return resource{}, err
	}
	if res.epoch, err = unescapePart(parts[0], "epoch", maxEpochBytes); err != nil {
		return resource{}, err
	}
	if parts[1] != noToken {
		if res.token, err = unescapePart(parts[1], "token", maxTokenBytes); err != nil {
			return resource{}, err
		}
		if err := checkToken(res.token); err != nil {
			return resource{}, fmt.Errorf("%w: %v", errBadPath, err)
		}
	}
	res.stream, err = unescapeStream(name)
	return res, err
}

// parseSeq accepts the canonical decimal form only (no sign, no leading
// zero), so that one fragment has one URL in every cache.
func parseSeq(s string) (uint64, error) {
	if s == "" || len(s) > 16 || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("%w: bad segment number", errBadPath)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: bad segment number", errBadPath)
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > maxSeq {
		return 0, fmt.Errorf("%w: segment number out of range", errBadPath)
	}
	return n, nil
}

func unescapeStream(s string) (string, error) {
	id, err := url.PathUnescape(s)
	if err != nil {
		return "", fmt.Errorf("%w: stream id: bad escape", errBadPath)
	}
	if err := protocol.ValidateStreamID(id); err != nil {
		return "", fmt.Errorf("%w: %v", errBadPath, err)
	}
	return id, nil
}

func unescapePart(s, what string, limit int) (string, error) {
	v, err := url.PathUnescape(s)
	switch {
	case err != nil:
		return "", fmt.Errorf("%w: %s: bad escape", errBadPath, what)
	case v == "":
		return "", fmt.Errorf("%w: empty %s", errBadPath, what)
	case len(v) > limit:
		return "", fmt.Errorf("%w: %s longer than %d bytes", errBadPath, what, limit)
	case strings.ContainsFunc(v, unicode.IsControl):
		return "", fmt.Errorf("%w: %s contains a control character", errBadPath, what)
	}
	return v, nil
}

// checkToken accepts tokens of printable ASCII characters without spaces,
// as an Authorization header's token must be, of at most maxTokenBytes.
func checkToken(t string) error {
	if len(t) > maxTokenBytes {
		return fmt.Errorf("token longer than %d bytes", maxTokenBytes)
	}
	for i := 0; i < len(t); i++ {
		if t[i] <= ' ' || t[i] > '~' {
			return errors.New("the token has a character other than printable ASCII")
		}
	}
	return nil
}

// appendSegmentURI appends the URI of fragment seq relative to the
// playlist's URL: "{epoch}/{token}/{seq}.ts". The token travels in the path
// so that players that drop the playlist's query string when they resolve
// segment URLs still send it.
func appendSegmentURI(b []byte, epoch, token string, seq uint64) []byte {
	b = appendSegmentDir(b, epoch, token)
	return appendSegmentName(b, seq)
}

// appendSegmentDir appends "{epoch}/{token}/", escaped: the part of a
// segment URI that is the same for every segment of a playlist.
func appendSegmentDir(b []byte, epoch, token string) []byte {
	b = append(b, url.PathEscape(epoch)...)
	b = append(b, '/')
	switch token {
	case "":
		b = append(b, noToken...)
	case noToken:
		b = append(b, "%2D"...) // a token that is literally "-"
	default:
		b = append(b, url.PathEscape(token)...)
	}
	return append(b, '/')
}

// appendSegmentName appends "{seq}.ts".
func appendSegmentName(b []byte, seq uint64) []byte {
	b = strconv.AppendUint(b, seq, 10)
	return append(b, segmentExt...)
}
