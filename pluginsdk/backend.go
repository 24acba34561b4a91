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
	// batch are applied in order.
	Put(ctx context.Context, entries []Entry, mode PutMode) ([]Result, error)

	// Delete removes the named entries. A missing name is a per-name ErrNotFound. After a
	// Delete the name is free: a later Create of it succeeds.
	Delete(ctx context.Context, names []string) ([]Result, error)
}
