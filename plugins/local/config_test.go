package local

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ast-cli/ast/pluginsdk"
)

func TestResolvePaths(t *testing.T) {
	cases := []struct {
		name      string
		account   string
		settings  map[string]string
		env       map[string]string
		wantDir   string
		wantKey   string
		wantError *pluginsdk.Error
	}{
		{name: "dir setting wins", settings: map[string]string{"dir": "/data/x"},
			env: map[string]string{"HOME": "/home/u", "XDG_DATA_HOME": "/xdg"}, wantDir: "/data/x", wantKey: "/data/x/keys/local.key"},
		{name: "XDG_DATA_HOME", env: map[string]string{"HOME": "/home/u", "XDG_DATA_HOME": "/xdg"},
			wantDir: "/xdg/ast", wantKey: "/xdg/ast/keys/local.key"},
		{name: "HOME", env: map[string]string{"HOME": "/home/u"},
			wantDir: "/home/u/.local/share/ast", wantKey: "/home/u/.local/share/ast/keys/local.key"},
		{name: "relative XDG_DATA_HOME is ignored", env: map[string]string{"HOME": "/home/u", "XDG_DATA_HOME": "xdg"},
			wantDir: "/home/u/.local/share/ast", wantKey: "/home/u/.local/share/ast/keys/local.key"},
		{name: "tilde", settings: map[string]string{"dir": "~/vault", "key_file": "~/keys/k"},
			env: map[string]string{"HOME": "/home/u"}, wantDir: "/home/u/vault", wantKey: "/home/u/keys/k"},
		{name: "key_file setting", settings: map[string]string{"key_file": "/secure/k.key"},
			env: map[string]string{"HOME": "/home/u"}, wantDir: "/home/u/.local/share/ast", wantKey: "/secure/k.key"},
		{name: "path is cleaned", settings: map[string]string{"dir": "/data//x/../y/"}, wantDir: "/data/y", wantKey: "/data/y/keys/local.key"},
		{name: "no home", wantError: pluginsdk.ErrFailedPrecondition},
		{name: "relative dir", settings: map[string]string{"dir": "data"}, env: map[string]string{"HOME": "/h"}, wantError: pluginsdk.ErrInvalidArgument},
		{name: "relative key_file", settings: map[string]string{"key_file": "k"}, env: map[string]string{"HOME": "/h"}, wantError: pluginsdk.ErrInvalidArgument},
		{name: "tilde without HOME", settings: map[string]string{"dir": "~/x"}, wantError: pluginsdk.ErrInvalidArgument},
		{name: "unknown setting", settings: map[string]string{"directory": "/x"}, env: map[string]string{"HOME": "/h"}, wantError: pluginsdk.ErrInvalidArgument},
		{name: "account with a slash", account: "a/b", env: map[string]string{"HOME": "/h"}, wantError: pluginsdk.ErrInvalidArgument},
		{name: "account with dots", account: "..", env: map[string]string{"HOME": "/h"}, wantError: pluginsdk.ErrInvalidArgument},
		{name: "account in upper case", account: "Prod", env: map[string]string{"HOME": "/h"}, wantError: pluginsdk.ErrInvalidArgument},
		{name: "account starting with a dash", account: "-x", env: map[string]string{"HOME": "/h"}, wantError: pluginsdk.ErrInvalidArgument},
		{name: "account too long", account: string(make([]byte, 65)), env: map[string]string{"HOME": "/h"}, wantError: pluginsdk.ErrInvalidArgument},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			account := tc.account
			if account == "" {
				account = "team-a_1"
			}
			p, err := resolvePaths(account, tc.settings, func(k string) string { return tc.env[k] })
			if tc.wantError != nil {
				if !errors.Is(err, tc.wantError) {
					t.Fatalf("error %v, want %v", err, tc.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.dir != tc.wantDir || p.keyFile != tc.wantKey {
				t.Errorf("dir %q key %q, want %q %q", p.dir, p.keyFile, tc.wantDir, tc.wantKey)
			}
			if want := filepath.Join(tc.wantDir, "vaults", account+".age"); p.store != want {
				t.Errorf("store %q, want %q", p.store, want)
			}
			if want := filepath.Join(tc.wantDir, "vaults", account+".lock"); p.lock != want {
				t.Errorf("lock %q, want %q", p.lock, want)
			}
		})
	}
}

// TestDefaultDirFromEnvironment checks that a Backend configured without settings puts its
// files under $XDG_DATA_HOME/ast, as the plugin inherits ast's environment. HOME and
// XDG_DATA_HOME point into the test's temporary directory.
func TestDefaultDirFromEnvironment(t *testing.T) {
	xdg := t.TempDir()
	t.Setenv("HOME", t.TempDir())
	t.Setenv("XDG_DATA_HOME", xdg)
	b := New()
	if err := b.Configure(context.Background(), "default", nil); err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, mustPut(t, b, pluginsdk.Create, secret("A", 0)))
	for _, p := range []string{"ast/vaults/default.age", "ast/keys/local.key"} {
		if _, err := os.Stat(filepath.Join(xdg, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}
