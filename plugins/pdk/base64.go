package pdk

import "errors"

// ErrBase64 is the error of AppendBase64URL for input that is not base64url.
var ErrBase64 = errors.New("pdk: malformed base64url")

// b64url maps a byte to its 6-bit value in the base64url alphabet, or 0xff.
var b64url = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// AppendBase64URL appends to dst the bytes that src encodes in base64url
// without padding (RFC 4648 section 5, the encoding of JWS segments) and
// returns the extended slice. It accepts exactly what encoding/base64's
// RawURLEncoding accepts, as JWT libraries do: '\r' and '\n' are skipped,
// the unused bits of the last character need not be zero, and '=' or any
// other byte outside the alphabet, or a lone last character, is ErrBase64.
// On error dst is returned with what had been decoded appended.
func AppendBase64URL(dst, src []byte) ([]byte, error) {
	// Whole quanta of four characters, the common case.
	for len(src) >= 4 {
		a, b, c, d := b64url[src[0]], b64url[src[1]], b64url[src[2]], b64url[src[3]]
		if a|b|c|d == 0xff || (a|b|c|d)&0xc0 != 0 {
			break // a byte outside the alphabet: the careful loop below
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		dst = append(dst, byte(v>>16), byte(v>>8), byte(v))
		src = src[4:]
	}
	var acc uint32 // bits of the pending quantum
	n := 0         // characters in the pending quantum
	for _, c := range src {
		v := b64url[c]
		if v == 0xff {
			if c == '\n' || c == '\r' {
				continue
			}
			return dst, ErrBase64
		}
		acc = acc<<6 | uint32(v)
		n++
		if n == 4 {
			dst = append(dst, byte(acc>>16), byte(acc>>8), byte(acc))
			acc, n = 0, 0
		}
	}
	switch n {
	case 1:
		return dst, ErrBase64
	case 2:
		dst = append(dst, byte(acc>>4))
	case 3:
		dst = append(dst, byte(acc>>10), byte(acc>>2))
	}
	return dst, nil
}
