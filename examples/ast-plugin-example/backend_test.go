package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ast-cli/ast/pluginsdk"
	"github.com/ast-cli/ast/pluginsdk/sdktest"
)

// TestConformance runs ast's backend conformance suite: every backend's first test.
func TestConformance(t *testing.T) {
	sdktest.Run(t, sdktest.Config{
		New:        func(sdktest.T) pluginsdk.Backend { return newBackend() },
		Settings:   map[string]string{"dir": t.TempDir()},
		FreshStore: func(sdktest.T) map[string]string { return map[string]string{"dir": t.TempDir()} },
	})
}

// TestFiles checks what the suite cannot see: where entries go, and their permissions.
func TestFiles(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	t.Setenv("XDG_DATA_HOME", data)
	b := newBackend()
	if err := b.Configure(ctx, "team", nil); err != nil {
		t.Fatal(err)
	}
	res, err := b.Put(ctx, []pluginsdk.Entry{{Name: "API_KEY", Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue("s3cr3t")}},
		pluginsdk.Create)
	if err != nil || res[0].Err != nil {
		t.Fatalf("Put: %v, %v", err, res[0].Err)
	}
	dir := filepath.Join(data, "ast", "example", "team")
	for path, mode := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, filepath.Join(dir, "API_KEY.json"): 0o600} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode() != mode {
			t.Errorf("%s has mode %v, want %v", path, info.Mode(), mode)
		}
	}
	files, _ := os.ReadDir(dir)
	if len(files) != 1 {
		t.Errorf("%s holds %d files, want only API_KEY.json (no temporary file left)", dir, len(files))
	}
}

func TestSettings(t *testing.T) {
	for _, tc := range []struct {
		name     string
		settings map[string]string
	}{
		{"relative dir", map[string]string{"dir": "relative/path"}},
		{"unknown setting", map[string]string{"path": "/tmp"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := newBackend().Configure(context.Background(), "team", tc.settings)
			if pluginsdk.CodeOf(err) != pluginsdk.CodeOf(pluginsdk.ErrInvalidArgument) {
				t.Errorf("Configure(%v): got %v, want invalid argument", tc.settings, err)
			}
		})
	}
}

// TestReportsEachResult: Put and Delete report each name's outcome once, as it becomes
// final, agreeing with the results they return; when the context ends midway, the names
// not started are reported ErrNotAttempted and are not written.
func TestReportsEachResult(t *testing.T) {
	entry := func(name string) pluginsdk.Entry {
		return pluginsdk.Entry{Name: name, Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue("v")}
	}
	cases := []struct {
		name     string
		cancelAt int // cancel the context once this many results were reported; -1 never
		del      bool
		want     []error // per name: nil, or the sentinel of its result
	}{
		{"put", -1, false, []error{nil, pluginsdk.ErrInvalidArgument, nil}},
		{"put stopped after one", 1, false, []error{nil, pluginsdk.ErrNotAttempted, pluginsdk.ErrNotAttempted}},
		{"delete", -1, true, []error{nil, pluginsdk.ErrInvalidArgument, pluginsdk.ErrNotFound}},
		{"delete stopped after two", 2, true, []error{nil, pluginsdk.ErrInvalidArgument, pluginsdk.ErrNotAttempted}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend()
			if err := b.Configure(context.Background(), "team", map[string]string{"dir": t.TempDir()}); err != nil {
				t.Fatal(err)
			}
			if tc.del {
				if res, err := b.Put(context.Background(), []pluginsdk.Entry{entry("A")}, pluginsdk.Create); err != nil || res[0].Err != nil {
					t.Fatalf("Put: %v %v", err, res[0].Err)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			reported := map[int]pluginsdk.Result{}
			ctx = pluginsdk.WithReporter(ctx, func(i int, r pluginsdk.Result) {
				if _, twice := reported[i]; twice {
					t.Errorf("index %d reported twice", i)
				}
				reported[i] = r
				if len(reported) == tc.cancelAt {
					cancel()
				}
			})
			var res []pluginsdk.Result
			var err error
			if tc.del {
				res, err = b.Delete(ctx, []string{"A", "bad-name", "C"})
			} else {
				res, err = b.Put(ctx, []pluginsdk.Entry{entry("A"), entry("bad-name"), entry("C")}, pluginsdk.Create)
			}
			if (tc.cancelAt >= 0) != errors.Is(err, context.Canceled) {
				t.Errorf("call error %v", err)
			}
			if len(res) != len(tc.want) || len(reported) != len(tc.want) {
				t.Fatalf("%d results, %d reported; want %d of each", len(res), len(reported), len(tc.want))
			}
			for i, want := range tc.want {
				if got := res[i].Err; (want == nil) != (got == nil) || want != nil && !errors.Is(got, want) {
					t.Errorf("result %d: %v, want %v", i, got, want)
				}
				if r := reported[i]; r.Entry.Name != res[i].Entry.Name || (r.Err == nil) != (res[i].Err == nil) {
					t.Errorf("reported %d: %q %v; returned %q %v", i, r.Entry.Name, r.Err, res[i].Entry.Name, res[i].Err)
				}
			}
			if !tc.del {
				// C is there exactly when its result says it was written.
				if got, _ := b.Get(context.Background(), []string{"C"}); (got[0].Err == nil) != (tc.want[2] == nil) {
					t.Errorf("C after the call: %v", got[0].Err)
				}
			}
		})
	}
}
