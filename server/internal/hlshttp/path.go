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
//	{stream}/index.m3u8                        the live media playlist
//	{stream}/{epoch}/{token}/{seq}.ts          one fragment (MPEG-TS)
//	{stream}/{epoch}/{token}/{seq}.m4s         one fragment (fMP4): all its parts
//	{stream}/{epoch}/{token}/{seq}.{part}.m4s  one part of a fragment (fMP4)
//	{stream}/{epoch}/{token}/init-{gen}.mp4    the fMP4 init segment of generation gen
//
// The token is "-" when there is none. The stream id may contain "/" (or
// "%2F"); the parser takes the fixed parts from the end of the escaped path
// and unescapes each part on its own, so an escaped "/" inside the token or
// the epoch cannot shift the layout. Numbers are canonical decimals (no
// sign, no leading zero), so that one resource has one URL in every cache.
const (
	playlistName = "index.m3u8"
	segmentExt   = ".ts"
	fmp4Ext      = ".m4s"
	initPrefix   = "init-"
	initExt      = ".mp4"
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
	kindPart
	kindInit
)

// resource is a parsed request path.
type resource struct {
	kind   resourceKind
	stream string
	// Segments, parts and init segments only.
	epoch string
	token string // "" when the path carries none
	// seq is the fragment of a segment or a part; gen the generation of an
	// init segment.
	seq, gen uint64
	// part is the index of a part within fragment seq.
	part uint64
	// fmp4: a segment asked for as ".m4s" rather than ".ts".
	fmp4 bool
}

// errBadPath wraps every parse error: the path has the shape of an HLS
// resource but a part of it is invalid.
var errBadPath = errors.New("bad HLS path")

// looksLikeResource reports whether escapedPath, below prefix, has the shape
// of a playlist, segment, part or init segment path. Other paths keep the
// relay's plain answers.
func looksLikeResource(escapedPath, prefix string) bool {
	rest, ok := strings.CutPrefix(escapedPath, prefix)
	if !ok || rest == "" {
		return false
	}
	return strings.HasSuffix(rest, "/"+playlistName) || strings.HasSuffix(rest, segmentExt) ||
		strings.HasSuffix(rest, fmp4Ext) || strings.HasSuffix(rest, initExt)
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
	return parseMedia(rest)
}

// parseMedia parses "{stream}/{epoch}/{token}/{name}", name being one of
// the media names of the layout above.
func parseMedia(rest string) (resource, error) {
	parts := make([]string, 3) // epoch, token, name
	name := rest
	for i := len(parts) - 1; i >= 0; i-- {
		slash := strings.LastIndexByte(name, '/')
		if slash < 0 {
			return resource{}, fmt.Errorf("%w: a segment path is {stream}/{epoch}/{token}/{seq}.ts", errBadPath)
		}
		parts[i], name = name[slash+1:], name[:slash]
	}
	res, err := parseName(parts[2])
	if err != nil {
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

// parseName parses the last element of a media path, as it was escaped:
// "{seq}.ts", "{seq}.m4s", "{seq}.{part}.m4s" or "init-{gen}.mp4". Digits
// are never escaped, so an escape anywhere in it is an error.
func parseName(name string) (resource, error) {
	if base, ok := strings.CutSuffix(name, segmentExt); ok {
		seq, err := parseSeq(base)
		return resource{kind: kindSegment, seq: seq}, err
	}
	if base, ok := strings.CutSuffix(name, fmp4Ext); ok {
		seqText, partText, isPart := strings.Cut(base, ".")
		seq, err := parseSeq(seqText)
		if err != nil || !isPart {
			return resource{kind: kindSegment, seq: seq, fmp4: true}, err
		}
		part, err := parseNumber(partText, "part number")
		return resource{kind: kindPart, seq: seq, part: part}, err
	}
	if base, ok := strings.CutSuffix(name, initExt); ok {
		genText, ok := strings.CutPrefix(base, initPrefix)
		if !ok {
			return resource{}, fmt.Errorf("%w: an init segment is named %s{generation}%s", errBadPath, initPrefix, initExt)
		}
		gen, err := parseNumber(genText, "init segment generation")
		if err == nil && gen == 0 {
			err = fmt.Errorf("%w: init segment generations start at 1", errBadPath)
		}
		return resource{kind: kindInit, gen: gen}, err
	}
	return resource{}, fmt.Errorf("%w: neither %s nor a segment (%s, %s) nor an init segment (%s)", errBadPath, playlistName, segmentExt, fmp4Ext, initExt)
}

// parseSeq parses a segment number.
func parseSeq(s string) (uint64, error) { return parseNumber(s, "segment number") }

// parseNumber accepts the canonical decimal form only (no sign, no leading
// zero), so that one resource has one URL in every cache, up to maxSeq.
func parseNumber(s, what string) (uint64, error) {
	if s == "" || len(s) > 16 || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("%w: bad %s", errBadPath, what)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: bad %s", errBadPath, what)
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > maxSeq {
		return 0, fmt.Errorf("%w: %s out of range", errBadPath, what)
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

// appendSegmentDir appends "{epoch}/{token}/", escaped: the part of the
// segment, part and init segment URIs that is the same for every one of a
// playlist. URIs are relative to the playlist's URL; the token travels in
// the path so that players that drop the playlist's query string when they
// resolve segment URLs still send it. Escaped, the directory holds no '"',
// ',', CR or LF: it can be written into a quoted-string attribute.
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

// appendFMP4SegmentName appends "{seq}.m4s".
func appendFMP4SegmentName(b []byte, seq uint64) []byte {
	b = strconv.AppendUint(b, seq, 10)
	return append(b, fmp4Ext...)
}

// appendPartName appends "{seq}.{part}.m4s".
func appendPartName(b []byte, seq, part uint64) []byte {
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, part, 10)
	return append(b, fmp4Ext...)
}

// appendInitName appends "init-{gen}.mp4".
func appendInitName(b []byte, gen uint64) []byte {
	b = append(b, initPrefix...)
	b = strconv.AppendUint(b, gen, 10)
	return append(b, initExt...)
}
