package pluginsdk

import (
	"context"
	"sync"
)

// Per-name progress of Put and Delete.
//
// A backend calls Report for each name as soon as its outcome is final and Heartbeat (or
// Retrying) while it waits; the SDK's gRPC server streams both to the host (capability
// CapStream), and the host keeps every reported result even when the call fails later.
// The host, or any caller of a Backend, sees them through WithReporter and WithHeartbeat.
// Both sides use the same context keys, so a Backend called in-process (a test, sdktest)
// reports straight to the caller's functions.

type reporterKey struct{}
type heartbeatKey struct{}

// Report tells the caller of a Put or Delete the final outcome of request item i
// (0-based: entries[i] or names[i]) before the call returns. Report each index at most
// once, when its outcome is final (written, or refused): the first report of an index
// wins, a later one and an index out of range are ignored. Results reported before the
// call fails are what the user is told was written; items never reported are shown as
// "not known whether it was written". The results the call returns should agree with
// what was reported.
//
// Report is safe for concurrent use (a backend that writes names in parallel reports
// from each goroutine). Over gRPC it does nothing when the host did not ask for the stream
// (a unary call from an older host) or after the call has returned; called in-process, it
// calls the caller's WithReporter function, if any.
func Report(ctx context.Context, i int, r Result) {
	if fn, ok := ctx.Value(reporterKey{}).(func(int, Result)); ok && fn != nil {
		fn(i, r)
	}
}

// Heartbeat tells the caller that the call is alive while it waits with nothing to report
// (a lock, a slow server). The host's deadline for a streaming Put or Delete is a liveness
// deadline: it fails the call when neither a result nor a heartbeat came for
// AST_PLUGIN_TIMEOUT (60 s by default). Call it at least every few seconds of a long
// wait; calls closer together than about half a second are coalesced. Safe for concurrent
// use; a no-op without a streaming caller.
func Heartbeat(ctx context.Context) { heartbeat(ctx, false) }

// Retrying is a Heartbeat that also says a retry is beginning (the backend was throttled
// or failed transiently and waits before it tries again); hosts count retries in their
// progress display. Call it once per retry, before its back-off.
func Retrying(ctx context.Context) { heartbeat(ctx, true) }

func heartbeat(ctx context.Context, retry bool) {
	if fn, ok := ctx.Value(heartbeatKey{}).(func(bool)); ok && fn != nil {
		fn(retry)
	}
}

// WithReporter returns a context for a Put or Delete whose per-name results fn sees as
// they come: fn(i, r) for request item i, once per item that has an outcome (reported by
// the plugin as it went, or from the final results), in the order they come. fn runs on
// the calling goroutine of the Backend method, or on a goroutine of an in-process backend
// (it must then be safe for concurrent use: the host's is). Items of a call that fails
// midway that were never reported do not reach fn; the method returns them with
// ErrOutcomeUnknown.
func WithReporter(ctx context.Context, fn func(i int, r Result)) context.Context {
	return context.WithValue(ctx, reporterKey{}, fn)
}

// WithHeartbeat returns a context whose calls report their heartbeats to fn; retry says
// the plugin announced a retry (Retrying).
func WithHeartbeat(ctx context.Context, fn func(retry bool)) context.Context {
	return context.WithValue(ctx, heartbeatKey{}, fn)
}

// reporterOf and heartbeatOf return the caller's functions from ctx, or no-ops.
func reporterOf(ctx context.Context) func(int, Result) {
	if fn, ok := ctx.Value(reporterKey{}).(func(int, Result)); ok && fn != nil {
		return fn
	}
	return func(int, Result) {}
}

func heartbeatOf(ctx context.Context) func(bool) {
	if fn, ok := ctx.Value(heartbeatKey{}).(func(bool)); ok && fn != nil {
		return fn
	}
	return func(bool) {}
}

// OutcomeUnknown returns the result of an item whose outcome the caller does not know
// (the call failed before the plugin reported it): name and ErrOutcomeUnknown.
func OutcomeUnknown(name string) Result {
	return Result{Entry: Entry{Name: name}, Err: Errorf(ErrOutcomeUnknown,
		"not known whether %q was written: the call failed before the backend reported it", name)}
}

// collector gathers the results of a Put or Delete of n items as they come, so that a
// call that fails midway keeps what was reported. Safe for concurrent use.
type collector struct {
	mu   sync.Mutex
	res  []Result
	have []bool
}

func newCollector(n int) *collector {
	return &collector{res: make([]Result, n), have: make([]bool, n)}
}

// record keeps r as item i's outcome unless i already has one or is out of range; it
// reports whether r was kept.
func (c *collector) record(i int, r Result) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i < 0 || i >= len(c.res) || c.have[i] {
		return false
	}
	c.res[i], c.have[i] = r, true
	return true
}

// results returns a copy of the n results: the recorded ones, and unknown(i) for the
// others.
func (c *collector) results(unknown func(i int) Result) []Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Result, len(c.res))
	for i := range out {
		if c.have[i] {
			out[i] = c.res[i]
		} else {
			out[i] = unknown(i)
		}
	}
	return out
}
