package host

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ast-cli/ast/config"
)

// fakePlugin writes an executable stub at dir/ast-plugin-name (Find and All only look
// at the file, they do not start it).
func fakePlugin(t *testing.T, dir, name string, perm os.FileMode) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, ExecutablePrefix+name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), perm); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFind(t *testing.T) {
	root := t.TempDir()
	exe, pathA, pathB, data := filepath.Join(root, "exe"), filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "data")
	for _, d := range []string{exe, pathA, pathB, filepath.Join(data, "plugins")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	local := fakePlugin(t, exe, "local", 0o755)
	fakePlugin(t, pathA, "local", 0o755) // shadowed by the one next to ast
	shared := fakePlugin(t, pathB, "shared", 0o755)
	fakePlugin(t, filepath.Join(data, "plugins"), "shared", 0o755) // shadowed by $AST_PLUGIN_PATH
	mine := fakePlugin(t, filepath.Join(data, "plugins"), "mine", 0o755)
	f := Finder{
		Pins:       map[string]config.Plugin{"pinned": {Path: "/opt/ast-plugin-pinned", SHA256: "ABCDEF"}},
		ExeDir:     exe,
		PluginPath: []string{pathA, pathB},
		DataDir:    data,
	}
	cases := []struct {
		backend    string
		wantPath   string
		wantSource string
		wantSum    string
	}{
		{"local", local, "next to ast", ""},
		{"shared", shared, "$AST_PLUGIN_PATH", ""},
		{"mine", mine, "data dir", ""},
		{"pinned", "/opt/ast-plugin-pinned", "config", "abcdef"},
	}
	for _, c := range cases {
		loc, err := f.Find(c.backend)
		if err != nil {
			t.Errorf("Find(%s): %v", c.backend, err)
			continue
		}
		if loc.Backend != c.backend || loc.Path != c.wantPath || loc.Source != c.wantSource || loc.SHA256 != c.wantSum {
			t.Errorf("Find(%s) = %+v, want path %s, source %s, sha256 %q", c.backend, loc, c.wantPath, c.wantSource, c.wantSum)
		}
	}

	_, err := f.Find("nowhere")
	if err == nil {
		t.Fatal("Find(nowhere) succeeded")
	}
	mustContain(t, "the error", err.Error(), `unknown backend "nowhere"`, "ast-plugin-nowhere",
		exe, pathA, pathB, filepath.Join(data, "plugins"), "local, hashicorp, awssm")

	for _, bad := range []string{"../local", "Local", "", "a/b"} {
		if _, err := f.Find(bad); err == nil || !strings.Contains(err.Error(), "invalid backend name") {
			t.Errorf("Find(%q) = %v, want an invalid name error", bad, err)
		}
	}
}

func TestAll(t *testing.T) {
	root := t.TempDir()
	exe, path := filepath.Join(root, "exe"), filepath.Join(root, "path")
	fakePlugin(t, exe, "local", 0o755)
	fakePlugin(t, path, "local", 0o755) // shadowed
	fakePlugin(t, path, "zeta", 0o755)
	fakePlugin(t, path, "notexec", 0o644)
	fakePlugin(t, path, "Bad.Name", 0o755)
	if err := os.Mkdir(filepath.Join(path, ExecutablePrefix+"adir"), 0o700); err != nil {
		t.Fatal(err)
	}
	f := Finder{
		Pins:       map[string]config.Plugin{"pinned": {Path: "/opt/ast-plugin-pinned"}},
		ExeDir:     exe,
		PluginPath: []string{path, filepath.Join(root, "missing")},
	}
	var got []string
	for _, l := range f.All() {
		got = append(got, l.Backend+"@"+l.Source)
	}
	want := "local@next to ast pinned@config zeta@$AST_PLUGIN_PATH"
	if strings.Join(got, " ") != want {
		t.Errorf("All() = %v, want %s", got, want)
	}
}
