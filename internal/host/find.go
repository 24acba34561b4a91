// Package host is the core's side of the plugin contract: it finds a backend plugin,
// verifies it, starts it with go-plugin, and hands back a pluginsdk.Backend whose calls
// have deadlines and whose failures name the plugin. One command starts at most one
// plugin and always stops it.
package host

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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
		if d != "" {
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

// Find returns the location of backend's plugin. The error for a backend that is nowhere
// says where it looked.
func (f Finder) Find(backend string) (Location, error) {
	if err := config.ValidateBackendName(backend); err != nil {
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
// path (the first of a name wins), sorted by backend name.
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

// Verify checks a plugin executable before it is started: it exists and is executable;
// it and its directory belong to the user or root; and neither is writable by group or
// others (a sticky directory such as /tmp excepted). Whoever could change the executable
// could run code as the user, with the user's secrets: the rules are those ssh applies to
// authorized_keys (StrictModes). A pinned checksum is checked by Start, through
// go-plugin's SecureConfig. Errors name the backend and the path and say how to fix it.
func Verify(loc Location) error {
	st, err := os.Stat(loc.Path)
	if err != nil {
		return fmt.Errorf("the %s plugin %s: %w", loc.Backend, loc.Path, errors.Unwrap(err))
	}
	if !st.Mode().IsRegular() || st.Mode()&0o111 == 0 {
		return fmt.Errorf("the %s plugin %s is not an executable file (chmod 755 %s)", loc.Backend, loc.Path, loc.Path)
	}
	if uid, foreign := foreignOwner(st); foreign {
		return fmt.Errorf("refusing the %s plugin %s: it belongs to user id %d, neither you nor root", loc.Backend, loc.Path, uid)
	}
	if st.Mode()&0o022 != 0 {
		return fmt.Errorf("refusing the %s plugin %s: it is writable by group or others (chmod go-w %s)", loc.Backend, loc.Path, loc.Path)
	}
	dir := filepath.Dir(loc.Path)
	dst, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("the %s plugin %s: %w", loc.Backend, loc.Path, errors.Unwrap(err))
	}
	if uid, foreign := foreignOwner(dst); foreign {
		return fmt.Errorf("refusing the %s plugin %s: its directory %s belongs to user id %d, neither you nor root", loc.Backend, loc.Path, dir, uid)
	}
	if dst.Mode()&0o022 != 0 && dst.Mode()&os.ModeSticky == 0 {
		return fmt.Errorf("refusing the %s plugin %s: its directory is writable by group or others (chmod go-w %s)", loc.Backend, loc.Path, dir)
	}
	return nil
}

// FileSHA256 returns the hex SHA-256 of the file at path.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
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
