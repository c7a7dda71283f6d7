package protocol

import (
	"slices"
	"strconv"
)

// paramWriter appends key=value pairs after the "TYPE:" prefix without going
// through url.Values, so the relay can format per-fragment headers without
// allocating a map.
type paramWriter struct {
	buf   []byte
	count int
}

func (w *paramWriter) add(key, value string) {
	if w.count > 0 {
		w.buf = append(w.buf, '&')
	}
	w.count++
	w.buf = appendEscaped(w.buf, key)
	w.buf = append(w.buf, '=')
	w.buf = appendEscaped(w.buf, value)
}

func (w *paramWriter) addUint(key string, v uint64) {
	w.add(key, "")
	w.buf = strconv.AppendUint(w.buf, v, 10)
}

func (w *paramWriter) addInt(key string, v int64) {
	w.add(key, "")
	w.buf = strconv.AppendInt(w.buf, v, 10)
}

func (w *paramWriter) addFloat(key string, v float64) {
	w.add(key, "")
	w.buf = strconv.AppendFloat(w.buf, v, 'f', -1, 64)
}

const hexDigits = "0123456789ABCDEF"

func appendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	return dst
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
