package protocol

import "strconv"

// AppendPush appends the wire form of p to dst.
func AppendPush(dst []byte, p Push) []byte {
	w := paramWriter{buf: append(dst, TypePush+":"...)}
	w.add("stream", p.Stream)
	w.add("auth", p.Auth)
	if p.Ext {
		w.addInt("ext", ExtVersion)
		if p.Epoch != "" {
			w.add("epoch", p.Epoch)
		}
		if p.Parts {
			w.add("parts", "1")
		}
	}
	return w.buf
}

// AppendPull appends the wire form of p to dst.
func AppendPull(dst []byte, p Pull) []byte {
	w := paramWriter{buf: append(dst, TypePull+":"...)}
	w.add("stream", p.Stream)
	w.add("auth", p.Auth)
	if p.OnlySource {
		w.add("only_source", "true")
	}
	if p.MaxInitialFragments >= 0 {
		w.addInt("max_initial_fragments", int64(p.MaxInitialFragments))
	}
	if p.Ext {
		w.addInt("ext", ExtVersion)
		if p.Resume.Epoch != "" {
			w.add("epoch", p.Resume.Epoch)
			w.addUint("after", p.Resume.After)
		}
		if p.Parts {
			w.add("parts", "1")
		}
	}
	return w.buf
}

// AppendOK appends the wire form of ok to dst. Without Ext it is the plain
// "OK" of the base protocol.
func AppendOK(dst []byte, ok OK) []byte {
	if !ok.Ext {
		return append(dst, TypeOK...)
	}
	w := paramWriter{buf: append(dst, TypeOK+":"...)}
	w.addInt("ext", ExtVersion)
	if ok.Epoch != "" {
		w.add("epoch", ok.Epoch)
	}
	if ok.HasNext {
		w.addUint("next", ok.Next)
	}
	if ok.Parts {
		w.add("parts", "1")
		if ok.NextPart > 0 {
			w.addUint("next_part", ok.NextPart)
		}
	}
	return w.buf
}

// AppendFragment appends the F message for f to dst. With ext false only the
// base protocol's duration is written, exactly as base clients expect.
// f.Duration must be finite and not negative, and f.Seq and f.Time at most
// MaxInteger, or the message does not parse.
func AppendFragment(dst []byte, f Fragment, ext bool) []byte {
	w := paramWriter{buf: append(dst, TypeFragment+":"...)}
	w.addFloat("duration", f.Duration)
	if !ext {
		return w.buf
	}
	if f.HasSeq {
		w.addUint("seq", f.Seq)
	}
	if f.Time > 0 {
		w.addInt("time", f.Time)
	}
	if f.Disc {
		w.add("disc", "1")
	}
	if f.Parts > 0 {
		w.addUint("parts", f.Parts)
	}
	return w.buf
}

// AppendError appends the E message for e to dst.
func AppendError(dst []byte, e *Error) []byte {
	w := paramWriter{buf: append(dst, TypeError+":"...)}
	w.add("code", e.Code)
	w.add("message", e.Message)
	return w.buf
}

// FormatDuration formats seconds as the F message does.
func FormatDuration(seconds float64) string {
	return strconv.FormatFloat(seconds, 'f', -1, 64)
}
