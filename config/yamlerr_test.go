package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadNamesTheLine checks that a malformed config file's error names the line of the
// problem, not the line where yaml.v3 says its enclosing block starts.
func TestLoadNamesTheLine(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"bad indentation", "active_account: a\naccounts:\n  a:\n    backend: local\n   settings: [\n", "line 5: did not find expected key"},
		{"tab", "accounts:\n  a:\n\tbackend: local\n", "line 3: found character that cannot start any token"},
		{"unterminated quote", "accounts:\n  a:\n    backend: \"local\n\n# more\n", "line 3: found unexpected end of stream"},
		{"stray list item", "accounts:\n  a:\n    backend: local\n  - x\n", "line 4: did not find expected key"},
		{"bad flow mapping", "accounts:\n  a:\n    backend: local\n    settings: {dir: [}\n", "line 4: did not find expected node content"},
		{"mapping in a value", "active_account: a\n\nfoo: bar: baz\n", "line 3: mapping values are not allowed"},
		{"duplicate account", "accounts:\n  a:\n    backend: local\n  a:\n    backend: local\n", `line 4: mapping key "a" already defined at line 2`},
		{"unknown account key", "accounts:\n  a:\n    backend: local\n    bogus: 1\n", `line 4: unknown key "bogus" in an account (its keys are backend, settings)`},
		{"unknown top-level key", "accounts: {}\nactive: a\n", `line 2: unknown key "active" in the top level`},
		{"list for text", "accounts:\n  a:\n    backend: [local]\n", "line 3: found a list where text belongs"},
		{"number for accounts", "accounts: 3\n", "line 1: found a number where a mapping of account names to accounts belongs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(p, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("Load: %v\nwant the file and %q", err, tc.want)
			}
			// The way out: edit, or move the file away; ast never rewrites it.
			if fix := "\nast does not change a config file it cannot read: fix it in an editor, or move it away (mv " + p + " " + p + ".broken)"; err != nil && !strings.Contains(err.Error(), fix) {
				t.Errorf("Load: %v\nwant the fix %q", err, fix)
			}
		})
	}
}

func TestShellWord(t *testing.T) {
	cases := []struct{ in, want string }{
		{"/home/me/.config/ast/config.yaml", "/home/me/.config/ast/config.yaml"},
		{"/home/my files/config.yaml", "'/home/my files/config.yaml'"},
		{"/tmp/it's/config.yaml", `'/tmp/it'\''s/config.yaml'`},
		{"/tmp/$HOME/c.yaml", "'/tmp/$HOME/c.yaml'"},
	}
	for _, tc := range cases {
		if got := shellWord(tc.in); got != tc.want {
			t.Errorf("shellWord(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestLoadQuotesNoValue: a malformed config file's error never quotes a setting's value
// (a setting may hold a credential), also where yaml.v3's own error would: a value
// starting with '*' (an alias of no anchor), a value with a tag, a backquote in a value
// of the wrong type. It names the line instead.
func TestLoadQuotesNoValue(t *testing.T) {
	const canary = "CANARYtok3n"
	cases := []struct{ name, value, want string }{
		{"alias", "*" + canary, "line 5: a value starts with '*'"},
		{"int tag", "!!int " + canary, "line 5: a value tagged !!int is not one"},
		{"bool tag", "!!bool hvs." + canary, "line 5: a value tagged !!bool is not one"},
		{"backquote in text for a mapping", "", "line 4: found text where a mapping of setting names to text belongs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			settings := "\n      token: " + tc.value
			if tc.value == "" {
				settings = " C`A`" + canary
			}
			p := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(p, []byte("accounts:\n  v:\n    backend: hashicorp\n    settings:"+settings+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p)
			if err == nil {
				t.Fatal("Load: no error")
			}
			if strings.Contains(err.Error(), canary[2:8]) {
				t.Fatalf("Load's error quotes the value")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Load: %v\nwant %q", err, tc.want)
			}
		})
	}
}
