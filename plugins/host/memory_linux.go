package host

import (
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// mappedMemory backs a memory with a mapping of its whole limit.
type mappedMemory struct {
	mapping []byte
	refused func()
}

// newMappedMemory maps limit bytes, or returns nil if it cannot.
func newMappedMemory(limit uint64, refused func()) experimental.LinearMemory {
	if limit == 0 {
		return nil
	}
	b, err := syscall.Mmap(-1, 0, int(limit), syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return nil
	}
	return &mappedMemory{mapping: b, refused: refused}
}

func (m *mappedMemory) Reallocate(size uint64) []byte {
	if size > uint64(len(m.mapping)) {
		m.refused()
		return nil
	}
	return m.mapping[:size:size]
}

// Free unmaps the memory. wazero calls it when the module closes; the host
// never touches an instance's memory after closing it.
func (m *mappedMemory) Free() {
	if m.mapping != nil {
		_ = syscall.Munmap(m.mapping)
		m.mapping = nil
	}
}
