package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ast-cli/ast/pluginsdk"
)

// The store document is the plaintext inside an account's age file: one JSON object
//
//	{"format": "ast-local-store", "version": 1, "account": "prod",
//	 "entries": [{"name": "API_KEY", "kind": "secret", "value": "...", "version": 3,
//	              "created_at": "2026-01-02T03:04:05.123456789Z", "updated_at": "..."}]}
//
// with the entries sorted by name. Names and kinds are inside the encryption too: nothing
// of an account but the size of its file is visible on disk. The account names the store's
// owner, so that one account's file copied over another's (dev.age over prod.age) is
// refused rather than read as the other account; a store without it (written before the
// field existed, never released) is read, and named on its next write.
const (
	storeFormat  = "ast-local-store"
	storeVersion = 1
)

type storeDocument struct {
	Format  string        `json:"format"`
	Version int           `json:"version"`
	Account string        `json:"account,omitempty"`
	Entries []storedEntry `json:"entries"`
}

type storedEntry struct {
	Name      string         `json:"name"`
	Kind      pluginsdk.Kind `json:"kind"`
	Value     string         `json:"value"`
	Version   int64          `json:"version"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// store is an account's entries in memory, by name.
type store map[string]*storedEntry

// decodedStore is a parsed store document: its account ("" when it names none) and its
// entries.
type decodedStore struct {
	account string
	entries store
}

// decodeStore parses a store document. The error says what is wrong in words that never
// quote the document: encoding/json's syntax errors can quote a character of a value, so
// they are reduced to a byte offset.
func decodeStore(plaintext []byte) (decodedStore, error) {
	var none decodedStore
	var doc storeDocument
	if err := json.Unmarshal(plaintext, &doc); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syntax):
			return none, fmt.Errorf("it is not valid JSON (at byte %d)", syntax.Offset)
		case errors.As(err, &typ):
			return none, fmt.Errorf("field %q has the wrong type (want %s)", typ.Field, typ.Type)
		default:
			return none, errors.New("it is not a store document")
		}
	}
	if doc.Format != storeFormat {
		return none, fmt.Errorf("it is not an %s document", storeFormat)
	}
	if doc.Version != storeVersion {
		return none, fmt.Errorf("it has store format version %d, and this plugin reads only version %d (was it written by a newer ast?)",
			doc.Version, storeVersion)
	}
	s := make(store, len(doc.Entries))
	for i := range doc.Entries {
		e := &doc.Entries[i]
		if err := pluginsdk.ValidateName(e.Name); err != nil {
			return none, fmt.Errorf("entry %d: %v", i, err)
		}
		if !e.Kind.Valid() {
			return none, fmt.Errorf("entry %q has kind %q (want %q or %q)", e.Name, e.Kind, pluginsdk.KindSecret, pluginsdk.KindPlain)
		}
		if e.Version < 1 {
			return none, fmt.Errorf("entry %q has version %d (want 1 or more)", e.Name, e.Version)
		}
		if _, dup := s[e.Name]; dup {
			return none, fmt.Errorf("entry %q appears twice", e.Name)
		}
		s[e.Name] = e
	}
	return decodedStore{account: doc.Account, entries: s}, nil
}

// encode returns the store document of account's entries s, sorted by name.
func (s store) encode(account string) ([]byte, error) {
	doc := storeDocument{Format: storeFormat, Version: storeVersion, Account: account, Entries: make([]storedEntry, 0, len(s))}
	for _, e := range s {
		doc.Entries = append(doc.Entries, *e)
	}
	slices.SortFunc(doc.Entries, func(a, b storedEntry) int { return strings.Compare(a.Name, b.Name) })
	b, err := json.Marshal(doc)
	if err != nil {
		// Only an unencodable time can get here, and a time never holds a value.
		return nil, fmt.Errorf("encoding the store: %w", err)
	}
	return b, nil
}

// sortedNames returns the names of s in order.
func (s store) sortedNames() []string {
	names := make([]string, 0, len(s))
	for name := range s {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// entry returns e as a pluginsdk.Entry, with its value only when withValue is true.
func (e *storedEntry) entry(withValue bool) pluginsdk.Entry {
	out := pluginsdk.Entry{Name: e.Name, Kind: e.Kind, Version: e.Version, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
	if withValue {
		out.Value = pluginsdk.NewValue(e.Value)
	}
	return out
}

// put applies one entry of a Put with mode at time now, and returns the stored entry or
// the per-name error: ErrAlreadyExists (Create of a name that exists), ErrNotFound
// (Update of a name that does not). The entry must have been validated. Update and Upsert
// replace the value and the kind, keep the creation time and count the version up.
func (s store) put(in pluginsdk.Entry, mode pluginsdk.PutMode, now time.Time) (*storedEntry, error) {
	old, exists := s[in.Name]
	switch {
	case mode == pluginsdk.Create && exists:
		return nil, pluginsdk.Errorf(pluginsdk.ErrAlreadyExists, "entry %q already exists", in.Name)
	case mode == pluginsdk.Update && !exists:
		return nil, pluginsdk.Errorf(pluginsdk.ErrNotFound, "entry %q not found", in.Name)
	}
	e := &storedEntry{Name: in.Name, Kind: in.Kind, Value: in.Value.Reveal(), Version: 1, CreatedAt: now, UpdatedAt: now}
	if exists {
		e.Version = old.Version + 1
		e.CreatedAt = old.CreatedAt
	}
	s[in.Name] = e
	return e, nil
}
