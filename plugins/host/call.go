package host

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/sys"

	"github.com/hlsrelay/hlsrelay/plugins/abi"
)

// Decision is the answer of an authorisation call.
type Decision struct {
	Allowed bool
	// Code and Reason explain a denial: Code is 1 to 64 of [A-Z0-9_]
	// ("AUTH_ERROR" if the plugin gave anything else or no decision),
	// Reason valid UTF-8 of at most 1024 bytes.
	Code, Reason string
	// CacheTTL is how long the decision is cached (zero: not cached): the
	// plugin's decision_cache TTL bounded by PluginConfig.MaxCacheTTL, or,
	// for a cached decision, the time it has left.
	CacheTTL time.Duration
	// Cached is true if the decision came from the cache, without a call.
	Cached bool
}

// Source is one place a routing plugin says to look for a stream.
type Source struct {
	Kind int    // abi.RouteLocal, abi.RouteRegistry or abi.RouteUpstream
	URL  string // the upstream's ws:// or wss:// URL, for abi.RouteUpstream
}

// RouteDecision is the answer of a routing call: the sources to try in
// order, or a rejection of the PULL.
type RouteDecision struct {
	Sources      []Source // empty: the stream is found nowhere
	Rejected     bool
	Code, Reason string // of a rejection, as in Decision
}

// FailureKind classifies a failed call.
type FailureKind uint8

const (
	FailTrap      FailureKind = iota + 1 // the guest trapped or exited
	FailTimeout                          // the call ran past its deadline
	FailMemory                           // failed after its memory hit the limit
	FailBadResult                        // non-zero result, or nonsense set through the imports
	FailBusy                             // no instance became free before the deadline
	FailInit                             // a new instance failed to initialise
)

func (k FailureKind) String() string {
	switch k {
	case FailTrap:
		return "trap"
	case FailTimeout:
		return "timeout"
	case FailMemory:
		return "memory limit"
	case FailBadResult:
		return "bad result"
	case FailBusy:
		return "busy"
	case FailInit:
		return "instance init"
	}
	return fmt.Sprintf("FailureKind(%d)", uint8(k))
}

// CallError is a failed call. Authorisation fails closed on it; routing
// falls back to the built-in order.
type CallError struct {
	Plugin string
	Kind   FailureKind
	Err    error
}

func (e *CallError) Error() string {
	return fmt.Sprintf("plugin %q: %s: %v", e.Plugin, e.Kind, e.Err)
}

func (e *CallError) Unwrap() error { return e.Err }

// phase is what an instance is doing, which decides what the imports may do.
type phase uint8

const (
	phaseIdle phase = iota
	phaseInit
	phaseAuthorize
	phaseRoute
)

func (ph phase) String() string {
	switch ph {
	case phaseInit:
		return abi.ExportInit
	case phaseAuthorize:
		return abi.ExportAuthorize
	case phaseRoute:
		return abi.ExportRoute
	}
	return "idle"
}

func (ph phase) role() Role {
	switch ph {
	case phaseAuthorize:
		return RoleAuthorize
	case phaseRoute:
		return RoleRoute
	}
	return 0
}

// callState is what the imports of one call read and set. It lives in the
// instance and is reset by each call.
type callState struct {
	phase     phase
	req       *Request
	decided   bool // decision_allow or decision_deny was called
	allowed   bool
	code      string
	reason    string
	cacheTTL  time.Duration
	nsources  int
	sources   [abi.MaxRouteSteps]Source
	rejected  bool
	violation error // nonsense set through an import: fails the call
	expired   bool  // the deadline passed during the call
	// memoryRefused: the memory limit refused a growth during the call.
	memoryRefused bool
}

func (s *callState) reset(ph phase, req *Request) {
	*s = callState{phase: ph, req: req}
}

// violate records the first nonsense a call made; the call then fails.
func (s *callState) violate(format string, args ...any) {
	if s.violation == nil {
		s.violation = fmt.Errorf(format, args...)
	}
}

const (
	defaultCode      = "AUTH_ERROR"
	noDecisionReason = "the plugin made no decision"
)

// call runs one authorisation or routing call until deadline. healthy says
// whether the instance may serve again. A failure is a *CallError; a ctx
// already done or past the deadline is returned as is.
func (in *instance) call(ctx context.Context, ph phase, req *Request, deadline time.Time) (healthy bool, err error) {
	fn := in.authorize
	if ph == phaseRoute {
		fn = in.route
	}
	in.st.reset(ph, req)
	res, err := in.invoke(ctx, fn, deadline)
	in.st.req = nil // headers and query are not kept past the call
	switch {
	case errors.Is(err, errNotCalled):
		return true, err
	case err != nil || in.st.expired:
		return false, in.failure(ph, err)
	case in.st.violation != nil:
		return false, &CallError{Plugin: in.p.cfg.Name, Kind: FailBadResult,
			Err: fmt.Errorf("%s: %w", ph, in.st.violation)}
	case res != 0:
		return false, &CallError{Plugin: in.p.cfg.Name, Kind: FailBadResult,
			Err: fmt.Errorf("%s returned %d (not 0)", ph, res)}
	}
	return !in.memoryRefused, nil
}

// failure classifies an error returned by the guest call.
func (in *instance) failure(ph phase, err error) *CallError {
	e := &CallError{Plugin: in.p.cfg.Name, Kind: FailTrap}
	var exit *sys.ExitError
	switch {
	case in.st.expired:
		e.Kind = FailTimeout
		e.Err = fmt.Errorf("%s ran past its deadline and was stopped", ph)
	case in.p.interrupted.Load():
		e.Kind = FailTimeout
		e.Err = fmt.Errorf("%s was stopped by Close", ph)
	case in.st.memoryRefused:
		e.Kind = FailMemory
		e.Err = fmt.Errorf("%s failed with its memory at the limit of %d pages: %w", ph, in.p.r.maxPages, oneLine(err))
	case errors.As(err, &exit):
		e.Err = fmt.Errorf("%s exited with code %d", ph, exit.ExitCode())
	default:
		e.Err = fmt.Errorf("%s trapped: %w", ph, oneLine(err))
	}
	return e
}

// Authorize asks the plugin whether req may proceed. An error is a failed
// call (a *CallError), ErrClosed, or ctx's error; the caller must deny
// (authorisation fails closed). A faulted instance is replaced on demand.
func (p *Plugin) Authorize(ctx context.Context, req *Request) (Decision, error) {
	if p.cfg.Role&RoleAuthorize == 0 {
		return Decision{}, fmt.Errorf("plugin %q: not loaded for authorisation", p.cfg.Name)
	}
	now := time.Now()
	if !p.enter() {
		return Decision{}, ErrClosed
	}
	defer p.leave()
	if p.cache != nil {
		if d, ok := p.cache.get(req, now); ok {
			p.stats.cacheHits.Add(1)
			return d, nil
		}
	}
	in, deadline, err := p.begin(ctx, now)
	if err != nil {
		return Decision{}, err
	}
	healthy, err := in.call(ctx, phaseAuthorize, req, deadline)
	var d Decision
	if err == nil {
		d = in.st.decision()
		if p.cache != nil && in.st.decided && in.st.cacheTTL > 0 {
			d.CacheTTL = min(in.st.cacheTTL, p.cfg.MaxCacheTTL)
			p.cache.put(req, d, now)
		}
	}
	p.release(in, healthy)
	if err != nil {
		p.noteFailure(err)
		return Decision{}, err
	}
	return d, nil
}

// Route asks the plugin where to find req's stream. An error is a failed
// call (a *CallError), ErrClosed, or ctx's error; the caller then uses its
// built-in order.
func (p *Plugin) Route(ctx context.Context, req *Request) (RouteDecision, error) {
	if p.cfg.Role&RoleRoute == 0 {
		return RouteDecision{}, fmt.Errorf("plugin %q: not loaded for routing", p.cfg.Name)
	}
	if !p.enter() {
		return RouteDecision{}, ErrClosed
	}
	defer p.leave()
	in, deadline, err := p.begin(ctx, time.Now())
	if err != nil {
		return RouteDecision{}, err
	}
	healthy, err := in.call(ctx, phaseRoute, req, deadline)
	var d RouteDecision
	if err == nil {
		d = in.st.routeDecision()
	}
	p.release(in, healthy)
	if err != nil {
		p.noteFailure(err)
		return RouteDecision{}, err
	}
	return d, nil
}

// begin takes an instance for a call registered by enter; the caller must
// release it. The wait for an instance and the call each have CallTimeout:
// a slow creation of an instance does not eat into the guest's time.
func (p *Plugin) begin(ctx context.Context, now time.Time) (*instance, time.Time, error) {
	in, err := p.acquire(ctx, now.Add(p.cfg.CallTimeout))
	if err != nil {
		p.noteFailure(err)
		return nil, time.Time{}, err
	}
	p.stats.calls.Add(1)
	return in, time.Now().Add(p.cfg.CallTimeout), nil
}

func (s *callState) decision() Decision {
	switch {
	case !s.decided:
		return Decision{Code: defaultCode, Reason: noDecisionReason}
	case s.allowed:
		return Decision{Allowed: true}
	}
	return Decision{Code: s.code, Reason: s.reason}
}

func (s *callState) routeDecision() RouteDecision {
	if s.rejected {
		return RouteDecision{Rejected: true, Code: s.code, Reason: s.reason}
	}
	if s.nsources == 0 {
		return RouteDecision{}
	}
	return RouteDecision{Sources: append([]Source(nil), s.sources[:s.nsources]...)}
}

// oneLine keeps a wazero error's text on one line (its stack trace is
// multi-line) so that it fits a log line; it still wraps err.
func oneLine(err error) error {
	s := err.Error()
	if !strings.ContainsAny(s, "\n\t") {
		return err
	}
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " | ")), " ")
	if len(s) > maxErrorLen {
		s = text([]byte(s), maxErrorLen) + "..."
	}
	return &flatError{msg: s, err: err}
}

// maxErrorLen bounds the text of a guest's error (its stack trace can be
// long).
const maxErrorLen = 300

type flatError struct {
	msg string
	err error
}

func (e *flatError) Error() string { return e.msg }
func (e *flatError) Unwrap() error { return e.err }
