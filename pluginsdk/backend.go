package pluginsdk

import "context"

// ProtocolVersion is the version of the backend protocol this SDK speaks. Hosts and
// plugins negotiate it through go-plugin's versioned plugin sets: a later protocol is
// served beside this one, never instead of it.
const ProtocolVersion = 1

// Backend stores the entries of one account. A plugin implements it and hands it to Serve;
// the host sees the same interface through a gRPC client. Every method takes a context
// that carries the host's per-call deadline.
//
// Batches answer per name: results[i] is the outcome of names[i] (or entries[i]), and the
// returned error is for the call as a whole (the backend is unreachable, the credentials
// are refused). A backend never puts a value into an error or a log line.
//
// Put and Delete report as they go: a backend calls Report(ctx, i, result) for each name
// once its outcome is final, and Heartbeat(ctx) (Retrying before a retry's back-off) while
// it waits. The host's deadline for Put and Delete is a liveness deadline: the call fails
// only when neither a result nor a heartbeat came for AST_PLUGIN_TIMEOUT (60 s by
// default), so a long batch that keeps reporting completes. When a Put or Delete fails
// midway (returns an error), the names it reported are what the user is told was written
// or deleted; names reported with ErrNotAttempted (a batch that stopped before it tried
// them) as certainly not written; the others as not known (ErrOutcomeUnknown on the host
// side). So report every name you wrote before you return an error. A backend that reports nothing
// still works: its results arrive with the reply. On the host side, Put and Delete always
// return len(input) results, also together with an error.
//
// Backend has no Close: a plugin serves one account for one ast command, and ast ends it
// by stopping the process (Serve returns only when the host is gone). Keep nothing that
// must be flushed on exit: every write is durable when its result is reported, and a
// process killed at any moment must leave the store consistent (atomic writes).
type Backend interface {
	// Configure is called once, right after the plugin starts and before any other call,
	// with the account name ([a-z0-9][a-z0-9_-]*) and the account's settings from ast's
	// configuration. An unknown or malformed setting is ErrInvalidArgument; a backend that
	// cannot be reached may say so here (ErrUnavailable) or at the first call.
	Configure(ctx context.Context, account string, settings map[string]string) error

	// Info describes the plugin. It may be called before Configure.
	Info(ctx context.Context) (Info, error)

	// List returns every entry of the account with its name, kind, version and times,
	// sorted by name. A secret's Value is always empty; a plain variable's Value is set
	// when opts.Values is true.
	List(ctx context.Context, opts ListOptions) ([]Entry, error)

	// Get returns the values of the named entries, secrets and plain variables alike:
	// each found result carries the entry's Name, Kind, Value and Version (deployment
	// records cite the version). A missing name is a per-name ErrNotFound. Hosts call it
	// only to resolve references.
	Get(ctx context.Context, names []string) ([]Result, error)

	// Put writes entries with the given mode (see PutMode). Per-name errors:
	// ErrAlreadyExists (Create, also when a concurrent Create of the name won),
	// ErrNotFound (Update), ErrInvalidArgument (bad name, value or kind),
	// ErrFailedPrecondition (an Update lost to a concurrent change). Update keeps nothing
	// of the old entry but its name: the kind is the one given. Names given twice in one
	// batch are applied in order. Report each name's result as it is written (see above);
	// a result carries the name, kind and version, never the value.
	Put(ctx context.Context, entries []Entry, mode PutMode) ([]Result, error)

	// Delete removes the named entries. A missing name is a per-name ErrNotFound. After a
	// Delete the name is free: a later Create of it succeeds. Report each name's result as
	// it is deleted; Result.Note says what the user should know about a deletion that is
	// not immediate (a recovery window).
	Delete(ctx context.Context, names []string) ([]Result, error)
}
