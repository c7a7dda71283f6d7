package hub

// ring holds a stream's newest fragments in sequence order. Sequence numbers
// are increasing but may have gaps (a publisher can skip numbers), so look-ups
// search rather than index by seq.
type ring struct {
	buf   []*Fragment
	start int
	n     int
}

func (r *ring) len() int { return r.n }

func (r *ring) at(i int) *Fragment {
	return r.buf[(r.start+i)%len(r.buf)]
}

func (r *ring) oldest() *Fragment {
	if r.n == 0 {
		return nil
	}
	return r.at(0)
}

func (r *ring) newest() *Fragment {
	if r.n == 0 {
		return nil
	}
	return r.at(r.n - 1)
}

func (r *ring) push(f *Fragment) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.start+r.n)%len(r.buf)] = f
	r.n++
}

func (r *ring) grow() {
	size := max(2*len(r.buf), 8)
	buf := make([]*Fragment, size)
	for i := 0; i < r.n; i++ {
		buf[i] = r.at(i)
	}
	r.buf, r.start = buf, 0
}

func (r *ring) popOldest() *Fragment {
	f := r.at(0)
	r.buf[r.start] = nil
	r.start = (r.start + 1) % len(r.buf)
	r.n--
	return f
}

// firstAtOrAfter returns the oldest fragment whose Seq >= seq, or nil.
func (r *ring) firstAtOrAfter(seq uint64) *Fragment {
	lo, hi := 0, r.n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if r.at(mid).Seq < seq {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == r.n {
		return nil
	}
	return r.at(lo)
}

// fromEnd returns the k-th newest fragment (k >= 1), or the oldest if the
// ring holds fewer than k.
func (r *ring) fromEnd(k int) *Fragment {
	if k >= r.n {
		return r.oldest()
	}
	return r.at(r.n - k)
}
