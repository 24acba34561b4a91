package main

import (
	"context"
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
