package faults

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPluginFailures breaks the built-in plugins in a user's installation (the executables
// next to ast): missing, not executable, writable by others. Every command that needs the
// plugin fails with exit 1 and an error that names the backend and the executable, and no
// process is left behind. (internal/host tests plugins that panic, hang or print garbage.)
func TestPluginFailures(t *testing.T) {
	cases := []struct {
		name, backend string
		breakIt       func(t *testing.T, path string)
		want          []string
	}{
		{"local plugin missing", "local", remove, []string{"ast-plugin-local", `"local"`}},
		{"hashicorp plugin missing", "hashicorp", remove, []string{"ast-plugin-hashicorp", `"hashicorp"`}},
		{"awssm plugin missing", "awssm", remove, []string{"ast-plugin-awssm", `"awssm"`}},
		{"local plugin mode 644", "local", chmodCopy(0o644), []string{"local plugin", "ast-plugin-local", "not an executable", "chmod 755"}},
		{"awssm plugin mode 600", "awssm", chmodCopy(0o600), []string{"awssm plugin", "ast-plugin-awssm", "not an executable"}},
		{"local plugin writable by others", "local", chmodCopy(0o757), []string{"local plugin", "ast-plugin-local", "writable by group or others", "chmod go-w"}},
		{"hashicorp plugin writable by group", "hashicorp", chmodCopy(0o775), []string{"hashicorp plugin", "ast-plugin-hashicorp", "writable by group or others"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			// Settings that need no server: the plugin never gets as far as a request.
			a := account{name: "acct", backend: tc.backend}
			switch tc.backend {
			case "hashicorp":
				a.settings = map[string]string{"address": "http://" + closedPort(t)}
			case "awssm":
				a.settings = map[string]string{"region": "us-east-1", "endpoint": "http://" + closedPort(t)}
			}
			s.addAccounts(a)
			tc.breakIt(t, filepath.Join(s.bin, "ast-plugin-"+tc.backend))
			for _, args := range [][]string{
				{"secrets", "list"},
				{"secrets", "create", "NAME", "--value", "v"},
				{"run", "--var", "X=@NAME", "--", "true"},
				{"account", "add", "other", "--backend", tc.backend},
			} {
				r := s.run(args...)
				if r.code != 1 {
					t.Errorf("want exit 1:\n%s", r)
				}
				for _, w := range tc.want {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("the error should contain %q:\n%s", w, r)
					}
				}
				if strings.Count(strings.TrimSpace(r.stderr), "\n") > 2 {
					t.Errorf("a short error is expected, not this:\n%s", r)
				}
			}
			s.assertNoStrays(tc.name)
			// account add must not have saved the account whose plugin failed.
			if b, _ := os.ReadFile(s.cfgFile); strings.Contains(string(b), "other:") {
				t.Errorf("account add saved an account whose plugin does not work:\n%s", b)
			}
		})
	}
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// chmodCopy replaces the hard link with a copy of the given mode (a chmod of the link
// would change the shared build output).
func chmodCopy(mode os.FileMode) func(t *testing.T, path string) {
	return func(t *testing.T, path string) {
		t.Helper()
		tmp := path + ".copy"
		copyFile(t, path, tmp, mode)
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
}
