package sdktest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ast-cli/ast/pluginsdk"
)

// TestMemory runs the suite against the reference backend: it must pass.
func TestMemory(t *testing.T) {
	store := NewMemoryStore()
	Run(t, Config{New: func(T) pluginsdk.Backend { return store.New() }})
}

func TestNewMemoryIsolated(t *testing.T) {
	ctx := context.Background()
	a, b := NewMemory(), NewMemory()
	for _, m := range []pluginsdk.Backend{a, b} {
		if err := m.Configure(ctx, "default", nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Put(ctx, []pluginsdk.Entry{entry("A", secret, "v")}, pluginsdk.Create); err != nil {
		t.Fatal(err)
	}
	if got, err := b.List(ctx, pluginsdk.ListOptions{}); err != nil || len(got) != 0 {
		t.Errorf("a second NewMemory lists %d entries (%v), want none: each has a store of its own", len(got), err)
	}
}

// brokenEnv names the fault TestBrokenBackend injects; it is set only by TestSuiteCatches.
const brokenEnv = "SDKTEST_BROKEN"

// faults are backends that break one rule each, and the check that must catch it.
var faults = []struct {
	name       string // the value of SDKTEST_BROKEN
	check      string // a check that must fail
	directOnly bool   // pluginsdk's gRPC server repairs the fault
}{
	{"list_leaks_secret", "list_sorted", true},
	{"list_unsorted", "list_sorted", false},
	{"create_overwrites", "create", false},
	{"update_keeps_old_kind", "update", false},
	{"accepts_invalid_names", "invalid_names", false},
	{"error_leaks_value", "create", false},
	{"batch_fails_whole", "batch_results", false},
	{"racy_create", "create_contention", false},
	{"shared_accounts", "accounts_isolated", false},
	{"trims_values", "values", false},
	{"truncates_names", "names", false},
	{"version_stays", "versions", false},
	{"plain_errors", "create", false},
	{"folds_case", "list_sorted", false},
}

// hints are what the failure of some faults must say: the rule and the fix.
var hints = map[string]string{
	"plain_errors": "return pluginsdk.Errorf(pluginsdk.ErrAlreadyExists, …) so the code crosses the wire",
	"folds_case":   "names are case-sensitive",
	"racy_create":  "want exactly one winner: Create must check and write in one step",
}

// TestSuiteCatches runs the suite in a child process against each broken backend and
// checks that it fails, in the right check, without printing a value.
func TestSuiteCatches(t *testing.T) {
	if os.Getenv(brokenEnv) != "" {
		t.Skip("in a child process")
	}
	if testing.Short() {
		t.Skip("runs the suite once per fault")
	}
	// A token value (label-12 hex digits) or a fixed stored value in the output is a leak.
	tokenPattern := regexp.MustCompile(`[a-z0-9]-[0-9a-f]{12}([^0-9a-f]|$)`)
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenBackend$", "-test.count=1")
			cmd.Env = append(os.Environ(), brokenEnv+"="+f.name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a backend with the fault %q", f.name)
			}
			for _, transport := range []string{"direct", "grpc"} {
				if transport == "grpc" && f.directOnly {
					continue
				}
				if !strings.Contains(string(out), "--- FAIL: TestBrokenBackend/"+transport+"/"+f.check+" ") {
					t.Errorf("the check %s/%s did not fail; output:\n%s", transport, f.check, out)
				}
			}
			if h := hints[f.name]; h != "" && !strings.Contains(string(out), h) {
				t.Errorf("the output does not say %q; output:\n%s", h, out)
			}
			if m := tokenPattern.FindString(string(out)); m != "" {
				t.Errorf("the output prints a value (%q); output:\n%s", m, out)
			}
			for _, v := range storedValues {
				if len(v.value) >= minLeakBytes && strings.Contains(string(out), v.value) {
					t.Errorf("the output prints the value %s; output:\n%s", v.label, out)
				}
			}
		})
	}
}

// TestBrokenBackend runs the suite against the fault named by SDKTEST_BROKEN; it runs only
// as TestSuiteCatches's child.
func TestBrokenBackend(t *testing.T) {
	fault := os.Getenv(brokenEnv)
	if fault == "" {
		t.Skip("run by TestSuiteCatches")
	}
	store := NewMemoryStore()
	Run(t, Config{Writers: 4, New: func(T) pluginsdk.Backend {
		return &broken{Backend: store.New(), fault: fault}
	}})
}

// broken wraps the memory backend and breaks the rule its fault names.
type broken struct {
	pluginsdk.Backend
	fault string
}

func (b *broken) Configure(ctx context.Context, account string, settings map[string]string) error {
	if b.fault == "shared_accounts" {
		account = "shared"
	}
	return b.Backend.Configure(ctx, account, settings)
}

func (b *broken) List(ctx context.Context, opts pluginsdk.ListOptions) ([]pluginsdk.Entry, error) {
	entries, err := b.Backend.List(ctx, opts)
	if err != nil {
		return nil, err
	}
	switch b.fault {
	case "list_unsorted":
		slices.Reverse(entries)
	case "list_leaks_secret":
		for i, e := range entries {
			if res, err := b.Backend.Get(ctx, []string{e.Name}); err == nil && res[0].Err == nil {
				entries[i].Value = res[0].Entry.Value
			}
		}
	}
	return entries, nil
}

func (b *broken) Get(ctx context.Context, names []string) ([]pluginsdk.Result, error) {
	return b.Backend.Get(ctx, b.names(names))
}

func (b *broken) Delete(ctx context.Context, names []string) ([]pluginsdk.Result, error) {
	return b.Backend.Delete(ctx, b.names(names))
}

// names truncates names for the fault truncates_names (as a store with a shorter limit
// would).
func (b *broken) names(names []string) []string {
	if b.fault == "folds_case" {
		out := slices.Clone(names)
		for i, n := range out {
			out[i] = strings.ToUpper(n)
		}
		return out
	}
	if b.fault != "truncates_names" {
		return names
	}
	out := slices.Clone(names)
	for i, n := range out {
		if len(n) > 100 {
			out[i] = n[:100]
		}
	}
	return out
}

func (b *broken) Put(ctx context.Context, entries []pluginsdk.Entry, mode pluginsdk.PutMode) ([]pluginsdk.Result, error) {
	asked := namesOf(entries)
	entries = slices.Clone(entries)
	for i, e := range entries {
		switch b.fault {
		case "folds_case":
			entries[i].Name = strings.ToUpper(e.Name)
		case "trims_values":
			entries[i].Value = pluginsdk.NewValue(strings.TrimSpace(e.Value.Reveal()))
		case "truncates_names":
			entries[i].Name = b.names([]string{e.Name})[0]
		case "update_keeps_old_kind":
			if res, err := b.Backend.Get(ctx, []string{e.Name}); mode == pluginsdk.Update && err == nil && res[0].Err == nil {
				entries[i].Kind = res[0].Entry.Kind
			}
		}
	}
	switch b.fault {
	case "create_overwrites":
		if mode == pluginsdk.Create {
			mode = pluginsdk.Upsert
		}
	case "racy_create":
		if mode == pluginsdk.Create {
			return b.racyCreate(ctx, entries)
		}
	}
	res, err := b.Backend.Put(ctx, entries, mode)
	if err != nil {
		return nil, err
	}
	for i := range res {
		switch {
		case b.fault == "accepts_invalid_names" && pluginsdk.ValidateName(entries[i].Name) != nil:
			res[i] = pluginsdk.Result{Entry: pluginsdk.Entry{Name: entries[i].Name, Kind: entries[i].Kind, Version: 1}}
		case b.fault == "error_leaks_value" && res[i].Err != nil:
			res[i].Err = &pluginsdk.Error{Code: pluginsdk.CodeOf(res[i].Err), Message: res[i].Err.Error() + " (value " + entries[i].Value.Reveal() + ")"}
		case b.fault == "batch_fails_whole" && res[i].Err != nil:
			return nil, res[i].Err
		case b.fault == "plain_errors" && errors.Is(res[i].Err, pluginsdk.ErrAlreadyExists):
			res[i].Err = errors.New(res[i].Err.Error())
		case b.fault == "folds_case" && res[i].Err == nil:
			res[i].Entry.Name = asked[i]
		case b.fault == "version_stays":
			res[i].Entry.Version = 1
		}
	}
	return res, nil
}

// racyCreate creates by "check, then write": two clients can both see the name free.
func (b *broken) racyCreate(ctx context.Context, entries []pluginsdk.Entry) ([]pluginsdk.Result, error) {
	res := make([]pluginsdk.Result, len(entries))
	for i, e := range entries {
		got, err := b.Backend.Get(ctx, []string{e.Name})
		if err != nil {
			return nil, err
		}
		if got[0].Err == nil {
			res[i].Err = pluginsdk.Errorf(pluginsdk.ErrAlreadyExists, "entry %q already exists", e.Name)
			continue
		}
		time.Sleep(20 * time.Millisecond)
		put, err := b.Backend.Put(ctx, []pluginsdk.Entry{e}, pluginsdk.Upsert)
		if err != nil {
			return nil, err
		}
		res[i] = put[0]
	}
	return res, nil
}
