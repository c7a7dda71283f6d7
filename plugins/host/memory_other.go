//go:build !linux

package host

import "github.com/tetratelabs/wazero/experimental"

func newMappedMemory(uint64, func()) experimental.LinearMemory { return nil }
