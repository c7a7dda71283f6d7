// Package faults holds the relay's fault suite: real relay processes
// (bin/hlsrelay built by the tests) and real sockets under the faults a
// public deployment meets — a publisher killed mid-stream, a viewer that
// reads at 1 kB/s, malformed and oversize frames. Each test checks that the
// node keeps serving the others, that its memory stays bounded, that the
// right error reaches the right client, and prints its figures.
//
// The other faults of the suite live where their parts meet:
// tools/internal/cluster (a relay node and Redis killed mid-stream) and
// server/e2e (2,000 silent connections, a handshake flood from one IP, a
// TLS certificate swapped while viewers watch). docs/security.md lists them.
package faults
