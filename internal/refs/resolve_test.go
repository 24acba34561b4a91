package refs

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ast-cli/ast/pluginsdk"
)

// fakeGetter answers Get from entries and records every call. Names listed in errs fail
// with that error instead.
type fakeGetter struct {
	entries map[string]pluginsdk.Entry
	errs    map[string]error
	callErr error // the error of the call as a whole
	calls   [][]string
}

func (g *fakeGetter) Get(_ context.Context, names []string) ([]pluginsdk.Result, error) {
	g.calls = append(g.calls, append([]string(nil), names...))
	if g.callErr != nil {
		return nil, g.callErr
	}
	out := make([]pluginsdk.Result, len(names))
	for i, n := range names {
		switch e, ok := g.entries[n]; {
		case g.errs[n] != nil:
			out[i].Err = g.errs[n]
		case ok:
			out[i].Entry = e
		default:
			out[i].Err = pluginsdk.Errorf(pluginsdk.ErrNotFound, "no entry %q", n)
		}
	}
	return out, nil
}

// Secret values of the fake account. Tests compare them but never print them.
const (
	dbURL    = "postgres://u:s3cr3t-db@db/prod"
	apiToken = "tok_live_9f8e7d6c5b4a"
	region   = "eu-west-1"
)

func account() map[string]pluginsdk.Entry {
	return map[string]pluginsdk.Entry{
		"PROD_DB_URL": {Name: "PROD_DB_URL", Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue(dbURL), Version: 3},
		"API_TOKEN":   {Name: "API_TOKEN", Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue(apiToken), Version: 1},
		"REGION":      {Name: "REGION", Kind: pluginsdk.KindPlain, Value: pluginsdk.NewValue(region), Version: 2},
	}
}

// wantEnv is a resolved variable as a test expects it.
type wantEnv struct{ key, value string }

// checkEnv compares env with want; on a mismatch it prints keys and lengths, never a value.
func checkEnv(t *testing.T, env []EnvVar, want []wantEnv) {
	t.Helper()
	if len(env) != len(want) {
		keys := make([]string, len(env))
		for i, e := range env {
			keys[i] = e.Key
		}
		t.Fatalf("got %d variables %v, want %d", len(env), keys, len(want))
	}
	for i, w := range want {
		if env[i].Key != w.key {
			t.Errorf("variable %d: key %q, want %q", i, env[i].Key, w.key)
			continue
		}
		if got := env[i].Value.Reveal(); got != w.value {
			t.Errorf("variable %s: value of %d bytes differs from the expected one of %d bytes", w.key, len(got), len(w.value))
		}
	}
}

func TestResolve(t *testing.T) {
	tests := []struct {
		name        string
		vars        []Var
		wantCalls   [][]string
		wantEnv     []wantEnv
		wantSources []Source
	}{
		{
			name:      "no references, no Get",
			vars:      []Var{{Key: "B", Literal: "b"}, {Key: "A", Literal: ""}},
			wantCalls: nil,
			wantEnv:   []wantEnv{{"A", ""}, {"B", "b"}},
			wantSources: []Source{
				{Key: "A", Kind: SourceLiteral},
				{Key: "B", Kind: SourceLiteral, Literal: "b"},
			},
		},
		{
			name:      "none at all",
			vars:      nil,
			wantCalls: nil,
			wantEnv:   []wantEnv{},
		},
		{
			name: "one batched Get of distinct sorted names",
			vars: []Var{
				{Key: "TOKEN", Ref: "API_TOKEN"},
				{Key: "DATABASE_URL", Ref: "PROD_DB_URL"},
				{Key: "DB_URL_AGAIN", Ref: "PROD_DB_URL"},
				{Key: "REGION", Ref: "REGION"},
				{Key: "MODE", Literal: "@literal"},
				{Key: "API_TOKEN", Ref: "API_TOKEN"},
			},
			wantCalls: [][]string{{"API_TOKEN", "PROD_DB_URL", "REGION"}},
			wantEnv: []wantEnv{
				{"API_TOKEN", apiToken},
				{"DATABASE_URL", dbURL},
				{"DB_URL_AGAIN", dbURL},
				{"MODE", "@literal"},
				{"REGION", region},
				{"TOKEN", apiToken},
			},
			wantSources: []Source{
				{Key: "API_TOKEN", Kind: SourceReference, Entry: "API_TOKEN", EntryKind: pluginsdk.KindSecret, Version: 1},
				{Key: "DATABASE_URL", Kind: SourceReference, Entry: "PROD_DB_URL", EntryKind: pluginsdk.KindSecret, Version: 3},
				{Key: "DB_URL_AGAIN", Kind: SourceReference, Entry: "PROD_DB_URL", EntryKind: pluginsdk.KindSecret, Version: 3},
				{Key: "MODE", Kind: SourceLiteral, Literal: "@literal"},
				{Key: "REGION", Kind: SourceReference, Entry: "REGION", EntryKind: pluginsdk.KindPlain, Version: 2},
				{Key: "TOKEN", Kind: SourceReference, Entry: "API_TOKEN", EntryKind: pluginsdk.KindSecret, Version: 1},
			},
		},
		{
			name:      "later key wins before resolving",
			vars:      []Var{{Key: "X", Ref: "API_TOKEN"}, {Key: "X", Literal: "x"}},
			wantCalls: nil,
			wantEnv:   []wantEnv{{"X", "x"}},
			wantSources: []Source{
				{Key: "X", Kind: SourceLiteral, Literal: "x"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &fakeGetter{entries: account()}
			got, err := Resolve(context.Background(), g, tt.vars)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if !reflect.DeepEqual(g.calls, tt.wantCalls) {
				t.Errorf("Get calls = %q, want %q", g.calls, tt.wantCalls)
			}
			checkEnv(t, got.Env, tt.wantEnv)
			// Sources hold no entry value, so they may be printed.
			if len(got.Sources) != 0 || len(tt.wantSources) != 0 {
				if !reflect.DeepEqual(got.Sources, tt.wantSources) {
					t.Errorf("Sources = %+v, want %+v", got.Sources, tt.wantSources)
				}
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	denied := pluginsdk.Errorf(pluginsdk.ErrPermissionDenied, "access denied to ast/acct/API_TOKEN")
	tests := []struct {
		name      string
		vars      []Var
		errs      map[string]error
		callErr   error
		wantCalls int
		wantIs    []error
		// wantMissing is the names the *MissingError must hold; nil when there is none.
		wantMissing []string
		// wantEntryErr is the names that must have an *EntryError.
		wantEntryErr []string
		errHas       []string
	}{
		{
			name: "every missing name",
			vars: []Var{
				{Key: "A", Ref: "MISSING_TWO"},
				{Key: "B", Ref: "API_TOKEN"},
				{Key: "C", Ref: "MISSING_ONE"},
				{Key: "D", Ref: "MISSING_TWO"},
			},
			wantCalls:   1,
			wantIs:      []error{pluginsdk.ErrNotFound},
			wantMissing: []string{"MISSING_ONE", "MISSING_TWO"},
			errHas:      []string{"no entries named MISSING_ONE, MISSING_TWO in the account", "ast secrets set NAME"},
		},
		{
			name:        "one missing name",
			vars:        []Var{{Key: "A", Ref: "NOPE"}},
			wantCalls:   1,
			wantIs:      []error{pluginsdk.ErrNotFound},
			wantMissing: []string{"NOPE"},
			errHas:      []string{"no entry named NOPE in the account", "create it with: ast secrets set NOPE"},
		},
		{
			name:         "permission denied per name",
			vars:         []Var{{Key: "T", Ref: "API_TOKEN"}, {Key: "R", Ref: "REGION"}},
			errs:         map[string]error{"API_TOKEN": denied},
			wantCalls:    1,
			wantIs:       []error{pluginsdk.ErrPermissionDenied},
			wantEntryErr: []string{"API_TOKEN"},
			errHas:       []string{"entry API_TOKEN", "access denied"},
		},
		{
			name:         "missing and denied together",
			vars:         []Var{{Key: "T", Ref: "API_TOKEN"}, {Key: "X", Ref: "GONE"}},
			errs:         map[string]error{"API_TOKEN": denied},
			wantCalls:    1,
			wantIs:       []error{pluginsdk.ErrNotFound, pluginsdk.ErrPermissionDenied},
			wantMissing:  []string{"GONE"},
			wantEntryErr: []string{"API_TOKEN"},
			errHas:       []string{"no entry named GONE", "entry API_TOKEN"},
		},
		{
			name:      "the call fails",
			vars:      []Var{{Key: "T", Ref: "API_TOKEN"}, {Key: "D", Ref: "PROD_DB_URL"}},
			callErr:   pluginsdk.Errorf(pluginsdk.ErrUnavailable, "vault is sealed"),
			wantCalls: 1,
			wantIs:    []error{pluginsdk.ErrUnavailable},
			errHas:    []string{"API_TOKEN, PROD_DB_URL", "vault is sealed"},
		},
		{
			name:      "invalid var built by hand",
			vars:      []Var{{Key: "bad-key", Literal: "x"}, {Key: "K", Ref: "bad-ref"}},
			wantCalls: 0,
			wantIs:    []error{pluginsdk.ErrInvalidArgument},
			errHas:    []string{`"bad-key"`, "variable K"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &fakeGetter{entries: account(), errs: tt.errs, callErr: tt.callErr}
			got, err := Resolve(context.Background(), g, tt.vars)
			if err == nil {
				t.Fatalf("Resolve: no error")
			}
			if len(got.Env) != 0 || len(got.Sources) != 0 {
				t.Errorf("Resolve returned %d variables with its error", len(got.Env))
			}
			if len(g.calls) != tt.wantCalls {
				t.Errorf("%d Get calls, want %d", len(g.calls), tt.wantCalls)
			}
			for _, target := range tt.wantIs {
				if !errors.Is(err, target) {
					t.Errorf("errors.Is(err, %v) is false; err: %v", target, err)
				}
			}
			var me *MissingError
			switch {
			case tt.wantMissing == nil && errors.As(err, &me):
				t.Errorf("unexpected *MissingError: %v", me)
			case tt.wantMissing != nil && !errors.As(err, &me):
				t.Errorf("no *MissingError in %v", err)
			case tt.wantMissing != nil && !reflect.DeepEqual(me.Names, tt.wantMissing):
				t.Errorf("missing names %q, want %q", me.Names, tt.wantMissing)
			}
			if tt.wantEntryErr != nil {
				var ee *EntryError
				if !errors.As(err, &ee) || ee.Name != tt.wantEntryErr[0] {
					t.Errorf("no *EntryError for %s in %v", tt.wantEntryErr[0], err)
				}
			}
			msg := err.Error()
			for _, s := range tt.errHas {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not contain %q", msg, s)
				}
			}
			for _, secret := range []string{dbURL, apiToken} {
				if strings.Contains(msg, secret) {
					t.Errorf("error message contains a secret value (%d bytes)", len(secret))
				}
			}
		})
	}
}

// TestResolveMisplacedAnswer: an answer for another name than asked is refused rather than
// given to the wrong variable.
func TestResolveMisplacedAnswer(t *testing.T) {
	g := swappingGetter{}
	_, err := Resolve(context.Background(), g, []Var{{Key: "A", Ref: "A"}, {Key: "B", Ref: "B"}})
	if !errors.Is(err, pluginsdk.ErrInternal) {
		t.Fatalf("err = %v, want ErrInternal", err)
	}
	if _, err := Resolve(context.Background(), shortGetter{}, []Var{{Key: "A", Ref: "A"}}); !errors.Is(err, pluginsdk.ErrInternal) {
		t.Fatalf("short answer: err = %v, want ErrInternal", err)
	}
}

type swappingGetter struct{}

func (swappingGetter) Get(_ context.Context, names []string) ([]pluginsdk.Result, error) {
	out := make([]pluginsdk.Result, len(names))
	for i := range names {
		n := names[len(names)-1-i]
		out[i].Entry = pluginsdk.Entry{Name: n, Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue("v-" + n)}
	}
	return out, nil
}

type shortGetter struct{}

func (shortGetter) Get(context.Context, []string) ([]pluginsdk.Result, error) { return nil, nil }

func TestMissingErrorIs(t *testing.T) {
	err := fmt.Errorf("deploy agent: %w", &MissingError{Names: []string{"X"}})
	if !errors.Is(err, pluginsdk.ErrNotFound) {
		t.Errorf("errors.Is(ErrNotFound) is false")
	}
	if errors.Is(err, pluginsdk.ErrPermissionDenied) {
		t.Errorf("errors.Is(ErrPermissionDenied) is true")
	}
	if c := pluginsdk.CodeOf(err); c != pluginsdk.ErrNotFound.Code {
		t.Errorf("CodeOf = %v, want NotFound", c)
	}
}

func TestPlan(t *testing.T) {
	vars := []Var{
		{Key: "Z", Literal: "z"},
		{Key: "A", Ref: "API_TOKEN"},
		{Key: "Z", Ref: "Z"},
	}
	got := Plan(vars)
	want := []Source{
		{Key: "A", Kind: SourceReference, Entry: "API_TOKEN"},
		{Key: "Z", Kind: SourceReference, Entry: "Z"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Plan = %+v, want %+v", got, want)
	}
}

func TestResolvedIsRedacted(t *testing.T) {
	g := &fakeGetter{entries: account()}
	r, err := Resolve(context.Background(), g, []Var{{Key: "T", Ref: "API_TOKEN"}})
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	for _, s := range []string{fmt.Sprint(r), fmt.Sprintf("%+v", r), fmt.Sprintf("%#v", r)} {
		if strings.Contains(s, apiToken) {
			t.Errorf("formatting Resolved shows the secret value (%d bytes)", len(apiToken))
		}
	}
}

func TestEnviron(t *testing.T) {
	r := Resolved{Env: []EnvVar{
		{Key: "API_TOKEN", Value: pluginsdk.NewValue(apiToken)},
		{Key: "HOME", Value: pluginsdk.NewValue("/srv/agent")},
		{Key: "NEW", Value: pluginsdk.NewValue("a=b")},
		{Key: "ZED", Value: pluginsdk.NewValue("")},
	}}
	tests := []struct {
		name string
		base []string
		want []string
	}{
		{
			name: "replace in place, drop duplicates, append new sorted",
			base: []string{"PATH=/bin", "HOME=/root", "API_TOKEN=old", "HOME=/again", "TERM=xterm", "NOEQUALS", "=C:=C:\\"},
			want: []string{"PATH=/bin", "HOME=/srv/agent", "API_TOKEN=" + apiToken, "TERM=xterm", "NOEQUALS", "=C:=C:\\", "NEW=a=b", "ZED="},
		},
		{
			name: "empty base",
			base: nil,
			want: []string{"API_TOKEN=" + apiToken, "HOME=/srv/agent", "NEW=a=b", "ZED="},
		},
		{
			name: "similar prefixes are other keys",
			base: []string{"API_TOKEN_OLD=x", "HOMEDIR=/h"},
			want: []string{"API_TOKEN_OLD=x", "HOMEDIR=/h", "API_TOKEN=" + apiToken, "HOME=/srv/agent", "NEW=a=b", "ZED="},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := append([]string(nil), tt.base...)
			// Spare capacity would let a careless append write into the caller's array.
			base = append(base[:len(base):len(base)], make([]string, 0, 8)...)
			baseCopy := append([]string(nil), base...)
			got := r.Environ(base)
			if !reflect.DeepEqual(base, baseCopy) {
				t.Errorf("Environ modified base")
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Environ returned %d items, want %d", len(got), len(tt.want))
			}
			for i := range tt.want {
				if got[i] != tt.want[i] {
					gk, _, _ := strings.Cut(got[i], "=")
					wk, _, _ := strings.Cut(tt.want[i], "=")
					t.Errorf("item %d: key %q (%d bytes), want key %q (%d bytes)", i, gk, len(got[i]), wk, len(tt.want[i]))
				}
			}
		})
	}
}

// TestEnvironDoesNotAliasBase checks that writing to the result leaves base alone even
// when base has spare capacity.
func TestEnvironDoesNotAliasBase(t *testing.T) {
	base := make([]string, 1, 10)
	base[0] = "PATH=/bin"
	r := Resolved{Env: []EnvVar{{Key: "A", Value: pluginsdk.NewValue("1")}}}
	got := r.Environ(base)
	got[0] = "CHANGED=1"
	if base[0] != "PATH=/bin" {
		t.Errorf("the result shares base's array")
	}
	if extra := base[:2][1]; extra != "" {
		t.Errorf("Environ wrote past base's length")
	}
}
