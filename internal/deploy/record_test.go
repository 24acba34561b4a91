package deploy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ast-cli/ast/internal/refs"
	"github.com/ast-cli/ast/pluginsdk"
)

// fakeGetter answers Get from a map, like a backend.
type fakeGetter map[string]pluginsdk.Entry

func (g fakeGetter) Get(_ context.Context, names []string) ([]pluginsdk.Result, error) {
	out := make([]pluginsdk.Result, len(names))
	for i, n := range names {
		e, ok := g[n]
		if !ok {
			out[i].Err = pluginsdk.Errorf(pluginsdk.ErrNotFound, "entry %q not found", n)
			continue
		}
		out[i].Entry = e
	}
	return out, nil
}

func TestRecordNeverHoldsAValue(t *testing.T) {
	const secret = "canary-secret-7f3a9c"
	const plain = "canary-plain-1b2c"
	g := fakeGetter{
		"API_KEY": {Name: "API_KEY", Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue(secret), Version: 3},
		"REGION":  {Name: "REGION", Kind: pluginsdk.KindPlain, Value: pluginsdk.NewValue(plain), Version: 1},
	}
	defaults := []refs.Var{{Key: "API_KEY", Ref: "API_KEY"}, {Key: "MODE", Literal: "dev"}}
	overrides := []refs.Var{{Key: "REGION", Ref: "REGION"}, {Key: "MODE", Literal: "prod"}, {Key: "AT", Literal: "@x"}}
	res, err := refs.Resolve(context.Background(), g, refs.Merge(defaults, overrides))
	if err != nil {
		t.Fatal(err)
	}
	flags := map[string]bool{"REGION": true, "MODE": true, "AT": true}
	store := Store{Dir: filepath.Join(t.TempDir(), "state", "ast")}
	d := &Deployment{
		Agent: "my-agent", Account: "default", Backend: "local", Target: TargetLocal,
		PID: 4242, PGID: 4242, ProcessStart: 99, StartedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Blueprint: "/p/blueprints/my-agent.yaml", BlueprintDigest: "sha256:00", Command: []string{"agent"},
		Workdir: "/p", Log: store.LogPath("my-agent"), Variables: Variables(res.Sources, flags, []byte("user key")),
	}
	if err := store.Write(d); err != nil {
		t.Fatal(err)
	}
	p := store.RecordPath("my-agent")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), secret) || strings.Contains(string(data), plain) {
		t.Fatalf("the record holds an entry's value")
	}
	if strings.Contains(string(data), "prod") {
		t.Fatalf("the record holds the text of a --var literal")
	}
	for _, s := range []string{`"entry": "API_KEY"`, `"entry_kind": "secret"`, `"version": 3`, `"literal_bytes": 4`,
		`"literal_hmac": "` + HashLiteral([]byte("user key"), "prod") + `"`,
		`"from": "--var"`, `"from": "blueprint"`, `"process_start": 99`, `"blueprint_digest": "sha256:00"`} {
		if !strings.Contains(string(data), s) {
			t.Errorf("record lacks %s:\n%s", s, data)
		}
	}
	checkMode(t, p, 0o600)
	checkMode(t, filepath.Dir(p), 0o700)

	got, err := store.Read("my-agent")
	if err != nil {
		t.Fatal(err)
	}
	if got.PID != 4242 || got.Process() != (Process{PID: 4242, PGID: 4242, Start: 99}) || len(got.Variables) != 4 {
		t.Errorf("Read = %+v", got)
	}
	if v := got.Variables[0]; v.Key != "API_KEY" || v.Kind != refs.SourceReference || v.From != FromBlueprint || v.Version != 3 {
		t.Errorf("first variable = %+v", v)
	}

	all, bad, err := store.List()
	if err != nil || len(bad) > 0 || len(all) != 1 || all[0].Agent != "my-agent" {
		t.Errorf("List = %v, %v, %v", all, bad, err)
	}
	if err := store.Remove("my-agent"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Read("my-agent"); !errors.Is(err, ErrNotDeployed) {
		t.Errorf("Read after Remove = %v, want ErrNotDeployed", err)
	}
	if err := store.Remove("my-agent"); err != nil {
		t.Errorf("Remove of a missing record = %v", err)
	}
}

func TestStoreListReportsBrokenRecords(t *testing.T) {
	store := Store{Dir: t.TempDir()}
	if err := store.Write(&Deployment{Agent: "good"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(store.RecordPath("broken"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	all, bad, err := store.List()
	if err != nil || len(all) != 1 || len(bad) != 1 || !strings.Contains(bad[0].Error(), "broken.json") {
		t.Errorf("List = %v, %v, %v; want good listed and broken.json reported", all, bad, err)
	}
}

func TestLogFileAndLock(t *testing.T) {
	store := Store{Dir: filepath.Join(t.TempDir(), "ast")}
	f, err := store.OpenLog("a")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	checkMode(t, store.LogPath("a"), 0o600)
	checkMode(t, filepath.Dir(store.LogPath("a")), 0o700)

	unlock, err := store.Lock(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := store.Lock(ctx, "a"); err == nil || !strings.Contains(err.Error(), "another ast") {
		t.Errorf("second Lock = %v, want it to wait and fail", err)
	}
	unlock()
	unlock2, err := store.Lock(context.Background(), "a")
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	unlock2()
}

func checkMode(t *testing.T, p string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s: mode %v, want %v", p, got, want)
	}
}
