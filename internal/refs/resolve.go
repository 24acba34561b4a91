package refs

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/ast-cli/ast/pluginsdk"
)

// The kinds of Source.
const (
	SourceLiteral   = "literal"
	SourceReference = "reference"
)

// Source describes where a resolved variable came from, for dry runs and deployment
// records. It never holds the value of an entry: Literal is set only for literals, which
// are given on the command line or in a blueprint, not taken from the vault.
type Source struct {
	Key string `json:"key"`
	// Kind is SourceLiteral or SourceReference.
	Kind string `json:"kind"`
	// Entry is the referenced entry's name (references only).
	Entry string `json:"entry,omitempty"`
	// Field is the field of the entry a reference takes (`@NAME#FIELD`), "" for the whole
	// value.
	Field string `json:"field,omitempty"`
	// EntryKind and Version are the referenced entry's kind and version as Get returned
	// them; empty and 0 in a Plan, which calls no backend.
	EntryKind pluginsdk.Kind `json:"entry_kind,omitempty"`
	Version   int64          `json:"version,omitempty"`
	// Literal is the value of a literal (literals only).
	Literal string `json:"literal,omitempty"`
}

// Getter is the one call resolution needs; a pluginsdk.Backend satisfies it. Get answers
// results[i] for names[i]; a missing name is a per-name pluginsdk.ErrNotFound. Splitting
// a batch larger than the backend's Info.MaxBatch is the Getter's business.
type Getter interface {
	Get(ctx context.Context, names []string) ([]pluginsdk.Result, error)
}

// EnvVar is one resolved variable. Value prints as a redaction marker; literals are held
// the same way so that no caller has to tell them apart.
type EnvVar struct {
	Key   string
	Value pluginsdk.Value
}

// Resolved is the outcome of Resolve: the variables with their values, and where each
// came from. Both are sorted by key and have one item per key, in the same order.
type Resolved struct {
	Env     []EnvVar
	Sources []Source
}

// Plan returns where each variable's value would come from, without resolving anything
// and without a backend call (for --dry-run): one Source per key (a later Var with the
// same key wins, as in Merge), sorted by key, with EntryKind and Version left empty.
func Plan(vars []Var) []Source {
	vars = Merge(nil, vars)
	out := make([]Source, len(vars))
	for i, v := range vars {
		out[i] = plannedSource(v)
	}
	return out
}

func plannedSource(v Var) Source {
	if v.IsRef() {
		return Source{Key: v.Key, Kind: SourceReference, Entry: v.Ref, Field: v.Field}
	}
	return Source{Key: v.Key, Kind: SourceLiteral, Literal: v.Literal}
}

// Resolve gives every variable its value: literals as they are, references from g with
// ONE batched Get of the distinct referenced names, sorted (two keys referring to the
// same entry ask for it once). With no reference at all, g is not called. A later Var
// with the same key wins, as in Merge; the result is sorted by key. DESIGN.md
// "References": all references of one deploy are resolved in one batched Get, and if any
// is missing the deploy fails naming every missing one.
//
// Errors, none of which contains a value:
//   - a *VarError (joined, wrapping pluginsdk.ErrInvalidArgument) for a Var whose key or
//     reference is not a valid name; g is not called;
//   - the error of the Get call as a whole, wrapped with the names asked for;
//   - otherwise every reference error of the command at once, joined with errors.Join
//     (one error alone is returned as is): a *MissingError naming every name that has no
//     entry (errors.Is(err, pluginsdk.ErrNotFound) holds), an *EntryError for each other
//     failed name (PermissionDenied, ...) by name, then a *FieldError for each
//     `@NAME#FIELD` of an entry that was read whose field cannot be taken (see Field), by
//     key. A missing entry does not hide the field errors of the others. Use errors.As to
//     pick them out.
//
// Field references take their fields from the same one Get: one read per entry, however
// many of its fields are used.
//
// On error the Resolved is empty: nothing may be started with part of its variables.
func Resolve(ctx context.Context, g Getter, vars []Var) (Resolved, error) {
	vars = Merge(nil, vars)
	if err := check(vars); err != nil {
		return Resolved{}, err
	}
	names := refNames(vars)
	entries := make(map[string]pluginsdk.Entry, len(names))
	var getErrs []error // missing and failed entries, reported with the field errors
	if len(names) > 0 {
		results, err := g.Get(ctx, names)
		if err != nil {
			return Resolved{}, fmt.Errorf("resolving references to %s: %w", strings.Join(names, ", "), err)
		}
		if len(results) != len(names) {
			return Resolved{}, pluginsdk.Errorf(pluginsdk.ErrInternal,
				"resolving references: the backend answered %d results for %d names", len(results), len(names))
		}
		var missing []string
		var failed []error
		for i, r := range results {
			name := names[i]
			switch {
			case r.Err != nil && errors.Is(r.Err, pluginsdk.ErrNotFound):
				missing = append(missing, name)
			case r.Err != nil:
				failed = append(failed, &EntryError{Name: name, Err: r.Err})
			case r.Entry.Name != "" && r.Entry.Name != name:
				// A misplaced answer would hand one entry's value to another variable.
				failed = append(failed, &EntryError{Name: name, Err: pluginsdk.Errorf(pluginsdk.ErrInternal,
					"the backend answered with entry %q", r.Entry.Name)})
			default:
				entries[name] = r.Entry
			}
		}
		if len(missing) > 0 {
			getErrs = append(getErrs, &MissingError{Names: missing})
		}
		getErrs = append(getErrs, failed...)
	}

	res := Resolved{Env: make([]EnvVar, len(vars)), Sources: make([]Source, len(vars))}
	var fieldErrs []error
	for i, v := range vars {
		src := plannedSource(v)
		value := pluginsdk.NewValue(v.Literal)
		if v.IsRef() {
			e, ok := entries[v.Ref]
			if !ok {
				continue // missing or failed: reported above
			}
			value, src.EntryKind, src.Version = e.Value, e.Kind, e.Version
			if v.Field != "" {
				from := e.Value // a JSON object value, or ...
				if !e.FieldSource.IsZero() {
					from = e.FieldSource // ... the fields of a secret whose whole value is one of them
				}
				text, err := Field(from.Reveal(), v.Field)
				if err != nil {
					fieldErrs = append(fieldErrs, &FieldError{Name: v.Ref, Field: v.Field, Err: err})
				}
				value = pluginsdk.NewValue(text)
			}
		}
		res.Env[i] = EnvVar{Key: v.Key, Value: value}
		res.Sources[i] = src
	}
	if errs := append(getErrs, fieldErrs...); len(errs) == 1 {
		return Resolved{}, errs[0]
	} else if len(errs) > 1 {
		return Resolved{}, errors.Join(errs...)
	}
	return res, nil
}

// check validates vars built by hand (ParseVar's results always pass).
func check(vars []Var) error {
	var errs []error
	for _, v := range vars {
		if err := pluginsdk.ValidateName(v.Key); err != nil {
			errs = append(errs, &VarError{Err: err})
			continue
		}
		if v.IsRef() {
			if err := checkRef(v.Ref); err != nil {
				errs = append(errs, &VarError{Key: v.Key, Err: err})
			}
		}
	}
	return errors.Join(errs...)
}

// refNames returns the distinct referenced entry names of vars, sorted.
func refNames(vars []Var) []string {
	seen := make(map[string]bool)
	var names []string
	for _, v := range vars {
		if v.IsRef() && !seen[v.Ref] {
			seen[v.Ref] = true
			names = append(names, v.Ref)
		}
	}
	sort.Strings(names)
	return names
}

// MissingError says that references name entries the account does not have. Names holds
// every missing name, sorted. It unwraps to pluginsdk.ErrNotFound. The caller may set
// Account (to name it) and AccountArg (" --account NAME", appended to the hint so that it
// acts on the same account).
type MissingError struct {
	Names      []string
	Account    string
	AccountArg string
}

func (e *MissingError) Error() string {
	in := "the account"
	if e.Account != "" {
		in = "account " + e.Account
	}
	if len(e.Names) == 1 {
		return fmt.Sprintf(`no entry named %s in %s; create it with: ast secrets set %s%s`,
			e.Names[0], in, e.Names[0], e.AccountArg)
	}
	return fmt.Sprintf(`no entries named %s in %s; create each with: ast secrets set NAME%s`,
		strings.Join(e.Names, ", "), in, e.AccountArg)
}

// Unwrap makes errors.Is(err, pluginsdk.ErrNotFound) and pluginsdk.CodeOf(err) see a
// missing entry.
func (e *MissingError) Unwrap() error { return pluginsdk.ErrNotFound }

// EntryError is the failure to get one referenced entry for a reason other than its
// absence. Err is the backend's per-name error (test it with errors.Is against the
// pluginsdk sentinels); like every backend error it contains no value.
type EntryError struct {
	Name string
	Err  error
}

func (e *EntryError) Error() string { return fmt.Sprintf("entry %s: %v", e.Name, e.Err) }

func (e *EntryError) Unwrap() error { return e.Err }

// Environ returns base with the resolved variables set, as "KEY=value" strings for
// exec.Cmd.Env. A key already in base is replaced where it first appears and its later
// duplicates are dropped; new keys follow base in the order of r.Env (sorted by key, as
// Resolve builds it). base is not modified.
//
// This is the one place values are revealed: give the result only to the child process
// (DESIGN.md: the core never puts a resolved secret into its own environment).
func (r Resolved) Environ(base []string) []string {
	set := make(map[string]int, len(r.Env)) // key -> index in r.Env
	for i, e := range r.Env {
		set[e.Key] = i
	}
	out := make([]string, 0, len(base)+len(r.Env))
	done := make(map[string]bool, len(r.Env))
	for _, kv := range base {
		key, _, _ := strings.Cut(kv, "=")
		i, ok := set[key]
		switch {
		case !ok:
			out = append(out, kv)
		case !done[key]:
			done[key] = true
			out = append(out, key+"="+r.Env[i].Value.Reveal())
		}
	}
	for _, e := range r.Env {
		if !done[e.Key] {
			done[e.Key] = true
			out = append(out, e.Key+"="+e.Value.Reveal())
		}
	}
	return out
}
