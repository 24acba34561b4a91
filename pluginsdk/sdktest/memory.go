package sdktest

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/ast-cli/ast/pluginsdk"
)

// MemoryStore is an in-memory store of entries for tests of hosts: the reference backend
// that the conformance suite itself is tested against. Instances made by one store share
// its entries, as plugin processes of one backend share its server; separate stores share
// nothing. It is safe for concurrent use.
type MemoryStore struct {
	mu       sync.Mutex
	accounts map[string]map[string]pluginsdk.Entry
}

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{accounts: map[string]map[string]pluginsdk.Entry{}}
}

// New returns a new, unconfigured backend instance on s. Its Info names the backend
// "memory" and reports versions and timestamps. It takes no settings.
func (s *MemoryStore) New() pluginsdk.Backend { return &memory{store: s} }

// NewMemory returns an unconfigured in-memory backend with a store of its own (see
// MemoryStore for several instances on one store).
func NewMemory() pluginsdk.Backend { return NewMemoryStore().New() }

// memory is one instance of the in-memory backend, bound to an account by Configure.
type memory struct {
	store   *MemoryStore
	mu      sync.Mutex
	account string
}

func (m *memory) Configure(_ context.Context, account string, settings map[string]string) error {
	if !pluginsdk.ValidAccount(account) {
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "invalid account name %q", account)
	}
	if len(settings) > 0 {
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "unknown setting %q: the memory backend takes no settings",
			slices.Sorted(maps.Keys(settings))[0])
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.account = account
	return nil
}

func (m *memory) Info(context.Context) (pluginsdk.Info, error) {
	return pluginsdk.Info{Name: "memory", Version: "0", Protocol: pluginsdk.ProtocolVersion,
		Capabilities: []string{pluginsdk.CapVersions, pluginsdk.CapTimestamps}}, nil
}

// entries returns the account's map with the store locked; the caller unlocks.
func (m *memory) entries() (map[string]pluginsdk.Entry, error) {
	m.mu.Lock()
	account := m.account
	m.mu.Unlock()
	if account == "" {
		return nil, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, "the backend is not configured")
	}
	m.store.mu.Lock()
	if m.store.accounts[account] == nil {
		m.store.accounts[account] = map[string]pluginsdk.Entry{}
	}
	return m.store.accounts[account], nil
}

func (m *memory) List(_ context.Context, opts pluginsdk.ListOptions) ([]pluginsdk.Entry, error) {
	entries, err := m.entries()
	if err != nil {
		return nil, err
	}
	defer m.store.mu.Unlock()
	out := make([]pluginsdk.Entry, 0, len(entries))
	for _, name := range slices.Sorted(maps.Keys(entries)) {
		e := entries[name]
		if e.Kind != pluginsdk.KindPlain || !opts.Values {
			e.Value = pluginsdk.Value{}
		}
		out = append(out, e)
	}
	return out, nil
}

func (m *memory) Get(_ context.Context, names []string) ([]pluginsdk.Result, error) {
	entries, err := m.entries()
	if err != nil {
		return nil, err
	}
	defer m.store.mu.Unlock()
	out := make([]pluginsdk.Result, len(names))
	for i, name := range names {
		if err := pluginsdk.ValidateName(name); err != nil {
			out[i].Err = err
		} else if e, ok := entries[name]; ok {
			out[i].Entry = e
		} else {
			out[i].Err = pluginsdk.Errorf(pluginsdk.ErrNotFound, "entry %q not found", name)
		}
	}
	return out, nil
}

func (m *memory) Put(_ context.Context, batch []pluginsdk.Entry, mode pluginsdk.PutMode) ([]pluginsdk.Result, error) {
	if mode != pluginsdk.Create && mode != pluginsdk.Update && mode != pluginsdk.Upsert {
		return nil, pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "invalid put mode %d", int(mode))
	}
	entries, err := m.entries()
	if err != nil {
		return nil, err
	}
	defer m.store.mu.Unlock()
	now := time.Now().UTC()
	out := make([]pluginsdk.Result, len(batch))
	for i, e := range batch {
		old, exists := entries[e.Name]
		switch {
		case pluginsdk.ValidateName(e.Name) != nil:
			out[i].Err = pluginsdk.ValidateName(e.Name)
		case !e.Kind.Valid():
			out[i].Err = pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "entry %q: invalid kind %q", e.Name, e.Kind)
		case pluginsdk.ValidateValue(e.Value) != nil:
			out[i].Err = pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "entry %q: %v", e.Name, pluginsdk.ValidateValue(e.Value))
		case exists && mode == pluginsdk.Create:
			out[i].Err = pluginsdk.Errorf(pluginsdk.ErrAlreadyExists, "entry %q already exists", e.Name)
		case !exists && mode == pluginsdk.Update:
			out[i].Err = pluginsdk.Errorf(pluginsdk.ErrNotFound, "entry %q not found", e.Name)
		default:
			stored := pluginsdk.Entry{Name: e.Name, Kind: e.Kind, Value: e.Value, Version: old.Version + 1,
				CreatedAt: old.CreatedAt, UpdatedAt: now}
			if !exists {
				stored.CreatedAt = now
			}
			entries[e.Name] = stored
			stored.Value = pluginsdk.Value{}
			out[i].Entry = stored
		}
	}
	return out, nil
}

func (m *memory) Delete(_ context.Context, names []string) ([]pluginsdk.Result, error) {
	entries, err := m.entries()
	if err != nil {
		return nil, err
	}
	defer m.store.mu.Unlock()
	out := make([]pluginsdk.Result, len(names))
	for i, name := range names {
		if err := pluginsdk.ValidateName(name); err != nil {
			out[i].Err = err
		} else if _, ok := entries[name]; ok {
			delete(entries, name)
			out[i].Entry = pluginsdk.Entry{Name: name}
		} else {
			out[i].Err = pluginsdk.Errorf(pluginsdk.ErrNotFound, "entry %q not found", name)
		}
	}
	return out, nil
}
