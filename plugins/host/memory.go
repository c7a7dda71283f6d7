package host

import "github.com/tetratelabs/wazero/experimental"

// The memory limit is enforced by the host's own allocator rather than by
// wazero's WithMemoryLimitPages, so that the host sees a guest's growth being
// refused (wazero's own check fails memory.grow silently) and can discard
// the instance and report a memory fault, and so that a module declaring a
// large maximum (common with some toolchains) is not refused for it.
//
// On Linux the memory is a private anonymous mapping of the whole limit,
// made once: growing it copies nothing and only pages the guest touches
// are resident (a Go guest grows its memory many times while its heap
// warms up; copying each time made such calls take tens of milliseconds).
// Elsewhere it is a Go slice that grows by half, copying.

func (in *instance) memoryAllocator(limit uint64) experimental.MemoryAllocator {
	return experimental.MemoryAllocatorFunc(func(_, _ uint64) experimental.LinearMemory {
		refused := func() {
			in.st.memoryRefused = true
			in.memoryRefused = true
		}
		if m := newMappedMemory(limit, refused); m != nil {
			return m
		}
		return &heapMemory{limit: limit, refused: refused}
	})
}

// heapMemory backs a memory on the Go heap, up to limit bytes.
type heapMemory struct {
	buf     []byte
	limit   uint64
	refused func()
}

// Reallocate grows the memory to size bytes, or refuses (nil, which makes
// memory.grow return -1) past the limit.
func (m *heapMemory) Reallocate(size uint64) []byte {
	if size > m.limit {
		m.refused()
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size] // memory never shrinks: the bytes are still zero
		return m.buf
	}
	nb := make([]byte, size, min(m.limit, size+size/2))
	copy(nb, m.buf)
	m.buf = nb
	return nb
}

func (m *heapMemory) Free() { m.buf = nil }
