// Package host is the core's side of the plugin contract: it finds a backend plugin,
// verifies it, starts it with go-plugin, and hands back a pluginsdk.Backend whose calls
// have deadlines and whose failures name the plugin. One command starts at most one
// plugin and always stops it.
package host

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/ast-cli/ast/config"
)

// Builtin names the backends that ship with ast (their plugins sit next to the ast
// executable).
var Builtin = []string{"local", "hashicorp", "awssm"}

// ExecutablePrefix starts the file name of every backend plugin: backend NAME is the
// executable ast-plugin-NAME.
const ExecutablePrefix = "ast-plugin-"

// Location is where a backend's plugin executable is, and how it is pinned.
type Location struct {
	Backend string
	Path    string
	// SHA256 is the hex checksum the executable must have, from the config's plugins:
	// section; empty when not pinned.
	SHA256 string
	// Source says how it was found: "config", "next to ast", "$AST_PLUGIN_PATH", "data dir".
	Source string
}

// Finder finds plugin executables. Search order for backend NAME: a path pinned in the
// config's plugins: section, then ast-plugin-NAME next to the ast executable, in each
// directory of $AST_PLUGIN_PATH, and in the data directory's plugins/.
type Finder struct {
	Pins       map[string]config.Plugin
	ExeDir     string
	PluginPath []string // from $AST_PLUGIN_PATH, split on ':'
	DataDir    string
}

func (f Finder) dirs() []struct{ dir, source string } {
	var ds []struct{ dir, source string }
	add := func(d, s string) {
		if d != "" && filepath.IsAbs(d) {
			ds = append(ds, struct{ dir, source string }{d, s})
		}
	}
	add(f.ExeDir, "next to ast")
	for _, d := range f.PluginPath {
		add(d, "$AST_PLUGIN_PATH")
	}
	if f.DataDir != "" {
		add(filepath.Join(f.DataDir, "plugins"), "data dir")
	}
	return ds
}

// Check refuses a finder whose directories or pins are relative paths: a relative plugin
// directory or pin would run whatever the current directory holds (a cloned repository,
// say). The error names the variable or the config key.
func (f Finder) Check() error {
	for _, d := range f.PluginPath {
		if !filepath.IsAbs(d) {
			return fmt.Errorf("$AST_PLUGIN_PATH holds the relative directory %q: plugin directories must be absolute paths", d)
		}
	}
	for _, d := range []struct{ dir, what string }{{f.ExeDir, "the directory of ast"}, {f.DataDir, "the data directory"}} {
		if d.dir != "" && !filepath.IsAbs(d.dir) {
			return fmt.Errorf("%s %q is a relative path: it must be absolute", d.what, d.dir)
		}
	}
	names := slices.Sorted(maps.Keys(f.Pins))
	for _, name := range names {
		if p := f.Pins[name].Path; !filepath.IsAbs(p) {
			return fmt.Errorf("the config's plugins.%s.path %q is not an absolute path: "+
				"pin the plugin by its absolute path (a relative one, or a bare name, would depend on the current directory or $PATH)", name, p)
		}
	}
	return nil
}

// Find returns the location of backend's plugin. The error for a backend that is nowhere
// says where it looked; a finder that fails Check fails with Check's error.
func (f Finder) Find(backend string) (Location, error) {
	if err := config.ValidateBackendName(backend); err != nil {
		return Location{}, err
	}
	if err := f.Check(); err != nil {
		return Location{}, err
	}
	if pin, ok := f.Pins[backend]; ok {
		return Location{Backend: backend, Path: pin.Path, SHA256: strings.ToLower(pin.SHA256), Source: "config"}, nil
	}
	var looked []string
	for _, d := range f.dirs() {
		p := filepath.Join(d.dir, ExecutablePrefix+backend)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return Location{Backend: backend, Path: p, Source: d.source}, nil
		}
		looked = append(looked, d.dir)
	}
	if slices.Contains(Builtin, backend) {
		return Location{}, fmt.Errorf("the built-in backend %q is missing its plugin: no executable %s%s in %s; "+
			"the built-in plugins ship beside ast (reinstall with make install)",
			backend, ExecutablePrefix, backend, strings.Join(looked, ", "))
	}
	return Location{}, fmt.Errorf("unknown backend %q: no plugin executable %s%s in %s (built-in backends: %s)",
		backend, ExecutablePrefix, backend, strings.Join(looked, ", "), strings.Join(Builtin, ", "))
}

// All returns every plugin found: the pinned ones and each ast-plugin-* on the search
// path (the first of a name wins), sorted by backend name. Relative directories are
// skipped (Check says why).
func (f Finder) All() []Location {
	seen := map[string]bool{}
	var out []Location
	for name, pin := range f.Pins {
		seen[name] = true
		out = append(out, Location{Backend: name, Path: pin.Path, SHA256: strings.ToLower(pin.SHA256), Source: "config"})
	}
	for _, d := range f.dirs() {
		ents, _ := os.ReadDir(d.dir)
		for _, e := range ents {
			name, ok := strings.CutPrefix(e.Name(), ExecutablePrefix)
			if !ok || seen[name] || config.ValidateBackendName(name) != nil {
				continue
			}
			p := filepath.Join(d.dir, e.Name())
			if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() || st.Mode()&0o111 == 0 {
				continue
			}
			seen[name] = true
			out = append(out, Location{Backend: name, Path: p, Source: d.source})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Backend < out[j].Backend })
	return out
}

// Verify checks a plugin executable as Start does before it runs it (see openChecked):
// an absolute path; the file, every directory on the way to it (through symbolic links
// too) and every link belong to the user or root; no directory is writable by group or
// others unless sticky (as /tmp); the file is a regular executable not writable by group
// or others. Whoever could change any of them could run code as the user, with the user's
// secrets: the rules are those ssh applies to authorized_keys (StrictModes). A pinned
// checksum is checked by Start, on the file it opened. Errors name the backend and the
// path and say how to fix it.
func Verify(loc Location) error {
	f, _, err := openPlugin(loc)
	if err != nil {
		return err
	}
	return f.Close()
}

// FileSHA256 returns the hex SHA-256 of the plugin executable at path, an absolute path
// that passes Verify's checks (it is read from the file those checks opened).
func FileSHA256(path string) (string, error) {
	f, _, err := openChecked(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
