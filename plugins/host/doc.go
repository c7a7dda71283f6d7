// Package host runs hlsrelay policy plugins: WebAssembly modules that follow
// the ABI of docs/plugins.md, executed by wazero. The relay and the test kit
// (package plugintest) both use it, so a plugin that passes its unit tests
// behaves the same in production.
//
// Why it looks the way it does:
//
//   - One wazero Runtime (compiler engine) per process, compiled modules
//     cached on disk, so a restart or a reload of the same bytes does not pay
//     the compile again (seconds for a Go guest).
//   - Each plugin has a bounded pool of pre-initialised instances (a channel
//     of idle instances, never sync.Pool: instances are expensive to create
//     and hold state the plugin relies on). An instance serves one call at a
//     time; one that faults is closed and replaced on demand.
//   - Every call has a deadline that stops even a guest stuck in a loop. The
//     host rewrites each module to count down at loop heads and function
//     entries and to check an interrupt flag every thousand passes
//     (instrument.go), rather than use wazero's CloseOnContextDone, which
//     made a Go guest about ten times slower. A per-instance timer and
//     reusable context make a call allocation-free on the host side.
//   - Memory is limited by the host's allocator (a mapping of the whole
//     limit on Linux, so growing copies nothing), which also tells the host
//     when a guest outgrew it.
//   - The guest pulls request fields through host imports that copy into its
//     own buffers, and states its decision through imports: no JSON, no
//     allocation in the guest's memory by the host, and every guest offset
//     is bounds-checked (an out-of-range offset traps the call).
//   - Authorisation fails closed; the caller turns an error into a denial.
//     Routing errors let the caller fall back to its built-in order.
//
// A Plugin and a Slot are safe for concurrent use. Close waits for in-flight
// calls; a Slot swaps plugins atomically for hot reload.
package host
