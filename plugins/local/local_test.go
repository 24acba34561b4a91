package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/ast-cli/ast/pluginsdk"
)

const (
	ok            = codes.OK
	notFound      = codes.NotFound
	alreadyExists = codes.AlreadyExists
	invalid       = codes.InvalidArgument
)

// step is one call of a semantics case: op on names, with the per-name codes it must
// answer. Put steps write valueOf(name, round) with kind.
type step struct {
	op    string // create, update, upsert, delete, get
	names []string
	kind  pluginsdk.Kind
	round int
	want  []codes.Code
}

func TestSemantics(t *testing.T) {
	cases := []struct {
		name  string
		steps []step
		// after the steps: every entry's version, and the round its value came from
		wantVersions map[string]int64
		wantRounds   map[string]int
	}{
		{
			name:         "create new names",
			steps:        []step{{op: "create", names: []string{"A", "B"}, want: []codes.Code{ok, ok}}},
			wantVersions: map[string]int64{"A": 1, "B": 1},
		},
		{
			name: "create of an existing name fails for that name only",
			steps: []step{
				{op: "create", names: []string{"A"}, want: []codes.Code{ok}},
				{op: "create", names: []string{"A", "B"}, round: 1, want: []codes.Code{alreadyExists, ok}},
			},
			wantVersions: map[string]int64{"A": 1, "B": 1},
			wantRounds:   map[string]int{"A": 0, "B": 1},
		},
		{
			name:         "a name twice in one create fails the second time",
			steps:        []step{{op: "create", names: []string{"A", "A"}, want: []codes.Code{ok, alreadyExists}}},
			wantVersions: map[string]int64{"A": 1},
		},
		{
			name: "update replaces value and kind and counts the version",
			steps: []step{
				{op: "create", names: []string{"A"}, want: []codes.Code{ok}},
				{op: "update", names: []string{"A"}, kind: pluginsdk.KindPlain, round: 1, want: []codes.Code{ok}},
				{op: "update", names: []string{"A"}, kind: pluginsdk.KindPlain, round: 2, want: []codes.Code{ok}},
			},
			wantVersions: map[string]int64{"A": 3},
			wantRounds:   map[string]int{"A": 2},
		},
		{
			name: "update of a missing name fails for that name only",
			steps: []step{
				{op: "create", names: []string{"A"}, want: []codes.Code{ok}},
				{op: "update", names: []string{"MISSING", "A"}, round: 1, want: []codes.Code{notFound, ok}},
			},
			wantVersions: map[string]int64{"A": 2},
			wantRounds:   map[string]int{"A": 1},
		},
		{
			name:  "update on an account without a store",
			steps: []step{{op: "update", names: []string{"A"}, want: []codes.Code{notFound}}},
		},
		{
			name: "upsert creates and replaces",
			steps: []step{
				{op: "upsert", names: []string{"A"}, want: []codes.Code{ok}},
				{op: "upsert", names: []string{"A", "B"}, round: 1, want: []codes.Code{ok, ok}},
			},
			wantVersions: map[string]int64{"A": 2, "B": 1},
			wantRounds:   map[string]int{"A": 1, "B": 1},
		},
		{
			name:         "a name twice in one upsert counts two versions",
			steps:        []step{{op: "upsert", names: []string{"A", "A"}, want: []codes.Code{ok, ok}}},
			wantVersions: map[string]int64{"A": 2},
		},
		{
			name: "delete removes, and a missing name fails for that name only",
			steps: []step{
				{op: "create", names: []string{"A", "B"}, want: []codes.Code{ok, ok}},
				{op: "delete", names: []string{"A", "MISSING", "A"}, want: []codes.Code{ok, notFound, notFound}},
			},
			wantVersions: map[string]int64{"B": 1},
		},
		{
			name: "create after delete starts again at version 1",
			steps: []step{
				{op: "upsert", names: []string{"A"}, want: []codes.Code{ok}},
				{op: "upsert", names: []string{"A"}, round: 1, want: []codes.Code{ok}},
				{op: "delete", names: []string{"A"}, want: []codes.Code{ok}},
				{op: "create", names: []string{"A"}, round: 2, want: []codes.Code{ok}},
			},
			wantVersions: map[string]int64{"A": 1},
			wantRounds:   map[string]int{"A": 2},
		},
		{
			name: "get answers per name",
			steps: []step{
				{op: "create", names: []string{"A"}, want: []codes.Code{ok}},
				{op: "get", names: []string{"A", "MISSING", "bad-name", "A"}, want: []codes.Code{ok, notFound, invalid, ok}},
			},
			wantVersions: map[string]int64{"A": 1},
		},
		{
			name:  "get on an account without a store",
			steps: []step{{op: "get", names: []string{"A", "B"}, want: []codes.Code{notFound, notFound}}},
		},
		{
			name:  "delete on an account without a store",
			steps: []step{{op: "delete", names: []string{"A"}, want: []codes.Code{notFound}}},
		},
		{
			name: "invalid names fail alone",
			steps: []step{
				{op: "create", names: []string{"1A", "A", "", "A-B", strings.Repeat("N", 129)},
					want: []codes.Code{invalid, ok, invalid, invalid, invalid}},
				{op: "delete", names: []string{"a.b", "A"}, want: []codes.Code{invalid, ok}},
			},
			wantVersions: map[string]int64{},
		},
		{
			name:         "names are case-sensitive",
			steps:        []step{{op: "create", names: []string{"a", "A", "_a"}, want: []codes.Code{ok, ok, ok}}},
			wantVersions: map[string]int64{"A": 1, "_a": 1, "a": 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			b := newBackend(t, t.TempDir(), "default")
			for i, st := range tc.steps {
				kind := st.kind
				if kind == "" {
					kind = pluginsdk.KindSecret
				}
				var res []pluginsdk.Result
				var err error
				switch st.op {
				case "get":
					res, err = b.Get(ctx, st.names)
				case "delete":
					res, err = b.Delete(ctx, st.names)
				default:
					mode := map[string]pluginsdk.PutMode{"create": pluginsdk.Create, "update": pluginsdk.Update, "upsert": pluginsdk.Upsert}[st.op]
					entries := make([]pluginsdk.Entry, len(st.names))
					for j, name := range st.names {
						entries[j] = pluginsdk.Entry{Name: name, Kind: kind, Value: valueOf(name, st.round)}
					}
					res, err = b.Put(ctx, entries, mode)
				}
				if err != nil {
					t.Fatalf("step %d (%s): %v", i, st.op, err)
				}
				if len(res) != len(st.names) {
					t.Fatalf("step %d (%s): %d results for %d names", i, st.op, len(res), len(st.names))
				}
				for j, r := range res {
					if got := pluginsdk.CodeOf(r.Err); got != st.want[j] {
						t.Errorf("step %d (%s) name %d %.20q: code %v, want %v (%v)", i, st.op, j, st.names[j], got, st.want[j], r.Err)
					}
					if r.Entry.Name != st.names[j] {
						t.Errorf("step %d (%s) result %d names %q, want %q", i, st.op, j, r.Entry.Name, st.names[j])
					}
					if st.op != "get" && !r.Entry.Value.IsZero() {
						t.Errorf("step %d (%s) result %d carries a value", i, st.op, j)
					}
				}
			}
			if tc.wantVersions == nil {
				return
			}
			entries, err := b.List(ctx, pluginsdk.ListOptions{})
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			got := map[string]int64{}
			for _, e := range entries {
				got[e.Name] = e.Version
			}
			if !mapsEqual(got, tc.wantVersions) {
				t.Errorf("versions after the steps: %v, want %v", got, tc.wantVersions)
			}
			for name, round := range tc.wantRounds {
				res, err := b.Get(ctx, []string{name})
				if err != nil || res[0].Err != nil {
					t.Fatalf("Get(%s): %v %v", name, err, res[0].Err)
				}
				if res[0].Entry.Value.Reveal() != valueOf(name, round).Reveal() {
					t.Errorf("the value of %s is not the one of round %d", name, round)
				}
			}
		})
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestInvalidEntries(t *testing.T) {
	cases := []struct {
		name  string
		entry pluginsdk.Entry
	}{
		{"empty value", pluginsdk.Entry{Name: "A", Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue("")}},
		{"value too long", pluginsdk.Entry{Name: "A", Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue(strings.Repeat("x", pluginsdk.MaxValueBytes+1))}},
		{"NUL in value", pluginsdk.Entry{Name: "A", Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue("a\x00b")}},
		{"value not UTF-8", pluginsdk.Entry{Name: "A", Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue("a\xffb")}},
		{"no kind", pluginsdk.Entry{Name: "A", Value: pluginsdk.NewValue("v")}},
		{"unknown kind", pluginsdk.Entry{Name: "A", Kind: "public", Value: pluginsdk.NewValue("v")}},
		{"bad name", pluginsdk.Entry{Name: "A B", Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue("v")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			b := newBackend(t, dir, "default")
			for _, mode := range []pluginsdk.PutMode{pluginsdk.Create, pluginsdk.Update, pluginsdk.Upsert} {
				res := mustPut(t, b, mode, tc.entry, secret("OTHER", 0))
				if !errors.Is(res[0].Err, pluginsdk.ErrInvalidArgument) {
					t.Errorf("%v: got %v, want ErrInvalidArgument", mode, res[0].Err)
				}
			}
			// Only the valid OTHER was written.
			if got := listNames(t, b); !slices.Equal(got, []string{"OTHER"}) {
				t.Errorf("List = %v, want [OTHER]", got)
			}
		})
	}

	t.Run("a batch with nothing valid touches no file", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		b := newBackend(t, dir, "default")
		res := mustPut(t, b, pluginsdk.Upsert, pluginsdk.Entry{Name: "1", Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue("v")})
		if !errors.Is(res[0].Err, pluginsdk.ErrInvalidArgument) {
			t.Errorf("got %v, want ErrInvalidArgument", res[0].Err)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("the data directory exists after a Put of nothing valid (%v)", err)
		}
	})

	t.Run("unknown mode", func(t *testing.T) {
		b := newBackend(t, t.TempDir(), "default")
		_, err := b.Put(context.Background(), []pluginsdk.Entry{secret("A", 0)}, pluginsdk.PutMode(9))
		if !errors.Is(err, pluginsdk.ErrInvalidArgument) {
			t.Errorf("got %v, want ErrInvalidArgument", err)
		}
	})
}

func TestListAndGet(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t, t.TempDir(), "default")
	mustSucceed(t, mustPut(t, b, pluginsdk.Create, secret("ZED", 0), plain("ALPHA", 0), secret("MIDDLE", 0), plain("beta", 0)))

	for _, values := range []bool{false, true} {
		entries, err := b.List(ctx, pluginsdk.ListOptions{Values: values})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name)
			switch {
			case e.Kind == pluginsdk.KindSecret && !e.Value.IsZero():
				t.Errorf("List(Values=%v) gives the value of secret %s", values, e.Name)
			case e.Kind == pluginsdk.KindPlain && values && e.Value.Reveal() != valueOf(e.Name, 0).Reveal():
				t.Errorf("List(Values=true) gives a wrong value for plain %s", e.Name)
			case e.Kind == pluginsdk.KindPlain && !values && !e.Value.IsZero():
				t.Errorf("List(Values=false) gives the value of plain %s", e.Name)
			}
			if e.Version != 1 || e.CreatedAt.IsZero() || !e.CreatedAt.Equal(e.UpdatedAt) {
				t.Errorf("%s: version %d, created %v, updated %v", e.Name, e.Version, e.CreatedAt, e.UpdatedAt)
			}
		}
		if want := []string{"ALPHA", "MIDDLE", "ZED", "beta"}; !slices.Equal(names, want) {
			t.Errorf("List(Values=%v) names %v, want %v", values, names, want)
		}
	}

	res, err := b.Get(ctx, []string{"ZED", "beta"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil || r.Entry.Value.Reveal() != valueOf(r.Entry.Name, 0).Reveal() {
			t.Errorf("Get(%s): wrong value or error %v", r.Entry.Name, r.Err)
		}
	}
	if res[0].Entry.Kind != pluginsdk.KindSecret || res[1].Entry.Kind != pluginsdk.KindPlain {
		t.Errorf("Get kinds: %s %s", res[0].Entry.Kind, res[1].Entry.Kind)
	}
}

func TestTimes(t *testing.T) {
	ctx := context.Background()
	b := newBackend(t, t.TempDir(), "default")
	before := time.Now()
	created := mustPut(t, b, pluginsdk.Create, secret("A", 0))[0].Entry
	time.Sleep(2 * time.Millisecond)
	updated := mustPut(t, b, pluginsdk.Update, plain("A", 1))[0].Entry
	if created.CreatedAt.Before(before.Add(-time.Second)) || created.CreatedAt.After(time.Now()) {
		t.Errorf("created at %v, not about now", created.CreatedAt)
	}
	if !updated.CreatedAt.Equal(created.CreatedAt) || !updated.UpdatedAt.After(created.UpdatedAt) {
		t.Errorf("after update: created %v (was %v), updated %v (was %v)", updated.CreatedAt, created.CreatedAt, updated.UpdatedAt, created.UpdatedAt)
	}
	if updated.Kind != pluginsdk.KindPlain || updated.Version != 2 {
		t.Errorf("after update: kind %s version %d, want plain 2", updated.Kind, updated.Version)
	}
	// What Put reported is what List reads back.
	entries, err := b.List(ctx, pluginsdk.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if e := entries[0]; !e.CreatedAt.Equal(updated.CreatedAt) || !e.UpdatedAt.Equal(updated.UpdatedAt) || e.Version != 2 {
		t.Errorf("List: %v %v %d, Put reported %v %v %d", e.CreatedAt, e.UpdatedAt, e.Version, updated.CreatedAt, updated.UpdatedAt, updated.Version)
	}
}

func TestOneDurableWritePerBatch(t *testing.T) {
	dir := t.TempDir()
	b := newBackend(t, dir, "default")
	entries := make([]pluginsdk.Entry, 10000)
	for i := range entries {
		entries[i] = secret(nameOf(i), 0)
	}
	mustSucceed(t, mustPut(t, b, pluginsdk.Create, entries...))
	if n := b.writes.Load(); n != 1 {
		t.Errorf("a Put of 10,000 entries made %d durable writes, want 1", n)
	}
	if n := len(listNames(t, b)); n != 10000 {
		t.Errorf("List has %d entries, want 10000", n)
	}

	// A batch in which nothing succeeds writes nothing.
	before := takeSnapshot(t, dir)
	res := mustPut(t, b, pluginsdk.Create, entries[:3]...)
	for _, r := range res {
		if !errors.Is(r.Err, pluginsdk.ErrAlreadyExists) {
			t.Errorf("%s: %v, want ErrAlreadyExists", r.Entry.Name, r.Err)
		}
	}
	if _, err := b.Delete(context.Background(), []string{"MISSING"}); err != nil {
		t.Fatal(err)
	}
	if n := b.writes.Load(); n != 1 {
		t.Errorf("failed batches made %d more durable writes", n-1)
	}
	if d := before.diff(takeSnapshot(t, dir)); d != "" {
		t.Errorf("a batch that changed nothing changed the files: %s", d)
	}
}

func nameOf(i int) string { return fmt.Sprintf("KEY_%05d", i) }

func TestNotConfigured(t *testing.T) {
	ctx := context.Background()
	b := New()
	if info, err := b.Info(ctx); err != nil || info.Name != "local" || info.Protocol != pluginsdk.ProtocolVersion {
		t.Errorf("Info before Configure: %+v, %v", info, err)
	}
	_, err1 := b.List(ctx, pluginsdk.ListOptions{})
	_, err2 := b.Get(ctx, []string{"A"})
	_, err3 := b.Put(ctx, []pluginsdk.Entry{secret("A", 0)}, pluginsdk.Create)
	_, err4 := b.Delete(ctx, []string{"A"})
	for i, err := range []error{err1, err2, err3, err4} {
		if !errors.Is(err, pluginsdk.ErrFailedPrecondition) {
			t.Errorf("call %d before Configure: %v, want ErrFailedPrecondition", i, err)
		}
	}
}

func TestInfo(t *testing.T) {
	info, err := New().Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{pluginsdk.CapVersions, pluginsdk.CapTimestamps, pluginsdk.CapAtomicBatch} {
		if !slices.Contains(info.Capabilities, c) {
			t.Errorf("Info lacks capability %q", c)
		}
	}
	if info.MaxBatch != 0 {
		t.Errorf("MaxBatch %d, want 0", info.MaxBatch)
	}
}

func TestAccountsAreSeparate(t *testing.T) {
	dir := t.TempDir()
	a, b := newBackend(t, dir, "alpha"), newBackend(t, dir, "beta")
	mustSucceed(t, mustPut(t, a, pluginsdk.Create, secret("ONLY_ALPHA", 0)))
	mustSucceed(t, mustPut(t, b, pluginsdk.Create, secret("ONLY_BETA", 0)))
	if got := listNames(t, a); !slices.Equal(got, []string{"ONLY_ALPHA"}) {
		t.Errorf("alpha lists %v", got)
	}
	if got := listNames(t, b); !slices.Equal(got, []string{"ONLY_BETA"}) {
		t.Errorf("beta lists %v", got)
	}
}

func TestReadsCreateNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	b := newBackend(t, dir, "default")
	if names := listNames(t, b); len(names) != 0 {
		t.Errorf("List of a new account: %v", names)
	}
	res, err := b.Get(context.Background(), []string{"A"})
	if err != nil || !errors.Is(res[0].Err, pluginsdk.ErrNotFound) {
		t.Errorf("Get of a new account: %v, %v", err, res[0].Err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("reads created the data directory (%v)", err)
	}
}

func TestCancelledWhileLocked(t *testing.T) {
	dir := t.TempDir()
	holder := newBackend(t, dir, "default")
	mustSucceed(t, mustPut(t, holder, pluginsdk.Create, secret("A", 0)))
	p := *holder.paths
	unlock, err := lockFile(context.Background(), p.lock, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	before := takeSnapshot(t, dir)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = newBackend(t, dir, "default").Put(ctx, []pluginsdk.Entry{secret("B", 0)}, pluginsdk.Create)
	if !errors.Is(err, pluginsdk.ErrUnavailable) || !strings.Contains(err.Error(), p.lock) {
		t.Errorf("Put while another writer holds the lock: %v, want ErrUnavailable naming the lock", err)
	}
	if d := before.diff(takeSnapshot(t, dir)); d != "" {
		t.Errorf("the blocked Put changed the files: %s", d)
	}
	// Reads take no lock.
	if got := listNames(t, newBackend(t, dir, "default")); !slices.Equal(got, []string{"A"}) {
		t.Errorf("List while locked: %v", got)
	}
}
