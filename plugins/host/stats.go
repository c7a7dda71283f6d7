package host

import (
	"errors"
	"sync/atomic"
)

// Stats are a plugin's counters since Load. The self-test call of Load is
// not counted in Calls.
type Stats struct {
	Calls              uint64   // calls into the guest (cache hits excluded)
	Failures           Failures // failed calls, by kind
	InstancesCreated   uint64
	InstancesDiscarded uint64
	CacheHits          uint64 // decisions answered from the decision cache
	LogDropped         uint64 // log lines dropped by the rate limit
}

// Failures counts failed calls by FailureKind.
type Failures struct {
	Trap, Timeout, Memory, BadResult, Busy, Init uint64
}

// Total is the number of failed calls.
func (f Failures) Total() uint64 {
	return f.Trap + f.Timeout + f.Memory + f.BadResult + f.Busy + f.Init
}

type counters struct {
	calls, cacheHits, logDropped           atomic.Uint64
	instancesCreated, instancesDiscarded   atomic.Uint64
	trap, timeout, memory, badResult, busy atomic.Uint64
	init                                   atomic.Uint64
}

// Stats returns a snapshot of the plugin's counters.
func (p *Plugin) Stats() Stats {
	c := &p.stats
	return Stats{
		Calls: c.calls.Load(),
		Failures: Failures{
			Trap: c.trap.Load(), Timeout: c.timeout.Load(), Memory: c.memory.Load(),
			BadResult: c.badResult.Load(), Busy: c.busy.Load(), Init: c.init.Load(),
		},
		InstancesCreated:   c.instancesCreated.Load(),
		InstancesDiscarded: c.instancesDiscarded.Load(),
		CacheHits:          c.cacheHits.Load(),
		LogDropped:         c.logDropped.Load(),
	}
}

// noteFailure counts and logs a failed call. Errors that are not the
// plugin's (the caller's context, ErrClosed) are not counted.
func (p *Plugin) noteFailure(err error) {
	var ce *CallError
	if !errors.As(err, &ce) {
		return
	}
	c := &p.stats
	switch ce.Kind {
	case FailTrap:
		c.trap.Add(1)
	case FailTimeout:
		c.timeout.Add(1)
	case FailMemory:
		c.memory.Add(1)
	case FailBadResult:
		c.badResult.Add(1)
	case FailBusy:
		c.busy.Add(1)
	case FailInit:
		c.init.Add(1)
	}
	p.logFault(ce)
}
