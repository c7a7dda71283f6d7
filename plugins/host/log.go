package host

import (
	"bytes"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hlsrelay/hlsrelay/plugins/abi"
)

// logRate is how many lines a second a plugin may log (and the burst): a
// plugin that logs on every request must not flood the relay's log.
const logRate = 100

// bucket is a token bucket: rate tokens a second, at most rate saved.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	tokens float64
	last   time.Time
}

func newBucket(rate float64) bucket {
	return bucket{rate: rate, tokens: rate, last: time.Now()}
}

func (b *bucket) take() bool {
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens = min(b.rate, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// guestLine logs one line from the plugin: the log import or WASI output.
func (p *Plugin) guestLine(level int32, msg []byte) {
	if p.cfg.Log == nil {
		return
	}
	if !p.guestLog.take() {
		p.stats.logDropped.Add(1)
		return
	}
	p.cfg.Log(int(min(max(level, abi.LogDebug), abi.LogError)), p.cfg.Name, text(msg, abi.MaxLogLen))
}

// logFault reports a failed call at error level, with its own rate limit so
// that a plugin failing every call does not flood the log either.
func (p *Plugin) logFault(e *CallError) {
	if p.cfg.Log == nil {
		return
	}
	if !p.faultLog.take() {
		p.stats.logDropped.Add(1)
		return
	}
	p.cfg.Log(abi.LogError, p.cfg.Name, e.Kind.String()+": "+e.Err.Error())
}

// text turns guest bytes into a string of at most max bytes of valid UTF-8:
// cut at a character boundary, invalid sequences replaced by U+FFFD.
func text(b []byte, max int) string {
	if len(b) > max {
		n := max
		for n > max-utf8.UTFMax && n > 0 && !utf8.RuneStart(b[n]) {
			n--
		}
		b = b[:n]
	}
	s := string(b)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
		for len(s) > max {
			_, n := utf8.DecodeLastRuneInString(s)
			s = s[:len(s)-n]
		}
	}
	return s
}

// lineWriter receives what the guest writes to WASI stdout and stderr and
// logs it line by line at debug level.
type lineWriter struct {
	in  *instance
	buf []byte
}

func (w *lineWriter) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			w.buf = append(w.buf, b...)
			if len(w.buf) >= abi.MaxLogLen {
				w.flush()
			}
			break
		}
		w.buf = append(w.buf, b[:i]...)
		w.flush()
		b = b[i+1:]
	}
	return n, nil
}

func (w *lineWriter) flush() {
	w.in.p.guestLine(abi.LogDebug, w.buf)
	w.buf = w.buf[:0]
}
