package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ast-cli/ast/pluginsdk"
)

// newBackend returns a Backend of account configured on dir.
func newBackend(t testing.TB, dir, account string) *Backend {
	t.Helper()
	b := New()
	if err := b.Configure(context.Background(), account, map[string]string{SettingDir: dir}); err != nil {
		t.Fatalf("Configure(%q): %v", account, err)
	}
	return b
}

// valueOf is the test value of a name: distinct per name and per round, never printed.
func valueOf(name string, round int) pluginsdk.Value {
	return pluginsdk.NewValue(fmt.Sprintf("value of %s, round %d\nsecond line", name, round))
}

func secret(name string, round int) pluginsdk.Entry {
	return pluginsdk.Entry{Name: name, Kind: pluginsdk.KindSecret, Value: valueOf(name, round)}
}

func plain(name string, round int) pluginsdk.Entry {
	return pluginsdk.Entry{Name: name, Kind: pluginsdk.KindPlain, Value: valueOf(name, round)}
}

// mustPut runs a Put that must not fail as a whole and returns its per-name results.
func mustPut(t testing.TB, b pluginsdk.Backend, mode pluginsdk.PutMode, entries ...pluginsdk.Entry) []pluginsdk.Result {
	t.Helper()
	res, err := b.Put(context.Background(), entries, mode)
	if err != nil {
		t.Fatalf("Put(%v) of %d entries: %v", mode, len(entries), err)
	}
	if len(res) != len(entries) {
		t.Fatalf("Put(%v): %d results for %d entries", mode, len(res), len(entries))
	}
	return res
}

// mustSucceed fails the test for every result with an error.
func mustSucceed(t testing.TB, res []pluginsdk.Result) {
	t.Helper()
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Entry.Name, r.Err)
		}
	}
}

// listNames returns the names List reports, in its order.
func listNames(t testing.TB, b pluginsdk.Backend) []string {
	t.Helper()
	entries, err := b.List(context.Background(), pluginsdk.ListOptions{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name
	}
	return names
}

// snapshot is every file under dir with its bytes and mode, to prove a failed call
// changed nothing. Lock files are left out: taking a lock may create one (empty).
type snapshot map[string]fileState

type fileState struct {
	data []byte
	mode os.FileMode
}

func takeSnapshot(t testing.TB, dir string) snapshot {
	t.Helper()
	s := snapshot{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) == ".lock" {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		s[path] = fileState{data: data, mode: fi.Mode()}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return s
}

// diff reports the first difference between two snapshots, without printing contents.
func (s snapshot) diff(other snapshot) string {
	var paths []string
	for p := range s {
		paths = append(paths, p)
	}
	for p := range other {
		if _, ok := s[p]; !ok {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	for _, p := range slices.Compact(paths) {
		a, inA := s[p]
		b, inB := other[p]
		switch {
		case !inA:
			return p + " appeared"
		case !inB:
			return p + " disappeared"
		case string(a.data) != string(b.data):
			return p + " changed its bytes"
		case a.mode != b.mode:
			return fmt.Sprintf("%s changed its mode from %v to %v", p, a.mode, b.mode)
		}
	}
	return ""
}
