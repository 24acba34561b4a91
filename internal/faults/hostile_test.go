package faults

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nameRule is the part of every name error that states the rule.
const nameRule = "[A-Za-z_][A-Za-z0-9_]*"

// hostileNames are names that must be refused wherever a name is taken.
var hostileNames = []string{
	"", strings.Repeat("A", 129), "ÄBC", "名前", "../x", "a/b", "..", ".", "/etc/passwd", `a\b`,
	"1ABC", "A-B", "A B", "A.B", "A\tB", "A\nB", "%2e%2e%2fx", "a%2Fb", "∕x", "ＡＢ", "A=B", "@A", "-A",
}

// hostileCase is one command that must be refused.
type hostileCase struct {
	name  string
	args  []string
	stdin string
	code  int      // the exit code
	want  []string // parts of the message
}

// TestHostileInput feeds ast names, values, --var arguments, accounts, backends and
// config files that break the rules. Each is refused with the exit code of its kind (2 for
// a mistake in the command's arguments or input, 1 for a failure) and a message that
// states the rule; and nothing refused is written.
func TestHostileInput(t *testing.T) {
	s := newSandbox(t)
	s.must(s.run("secrets", "create", "EXISTING", "--value", "old"))
	var cases []hostileCase
	add := func(c hostileCase) { cases = append(cases, c) }

	for _, n := range hostileNames {
		q := fmt.Sprintf("%q", n)
		add(hostileCase{"create name " + q, []string{"secrets", "create", "--value", "v", "--", n}, "", 2, []string{nameRule}})
		add(hostileCase{"create name from stdin " + q, []string{"secrets", "create", "--", n}, "v\n", 2, []string{nameRule}})
		add(hostileCase{"update name " + q, []string{"secrets", "update", "--value", "v", "--", n}, "", 2, []string{nameRule}})
		add(hostileCase{"delete name " + q, []string{"secrets", "delete", "--", n}, "", 2, []string{nameRule}})
		if n != "" && !strings.ContainsAny(n, "\n=#") {
			add(hostileCase{"import key " + q, []string{"secrets", "import", "--file", "-"}, n + "=v\n", 2, []string{"<stdin>:1:", nameRule}})
		}
		if !strings.ContainsAny(n, ",\n\"") {
			add(hostileCase{"--plain-keys " + q, []string{"secrets", "import", "--file", "-", "--plain-keys", "OK," + n}, "OK=1\n", 2, []string{nameRule}})
		}
		if n != "" {
			add(hostileCase{"--var K=@" + q, []string{"run", "--var", "K=@" + n, "--", "/bin/sh", "-c", "touch RAN"}, "", 2, []string{nameRule}})
		}
		if n != "" && !strings.Contains(n, "=") {
			add(hostileCase{"--var key " + q, []string{"run", "--var", n + "=x", "--", "/bin/sh", "-c", "touch RAN"}, "", 2, []string{nameRule}})
		}
	}
	// NUL cannot travel in argv: names with NUL come through import files.
	add(hostileCase{"import key with NUL", []string{"secrets", "import", "--file", "-"}, "A\x00B=v\n", 2, []string{"<stdin>:1:", "NUL"}})
	add(hostileCase{"import key with NUL, line 3", []string{"secrets", "import", "--file", "-"}, "OK=1\n# c\nA\x00B=v\n", 2, []string{"<stdin>:3:", "NUL"}})

	big := strings.Repeat("x", 65537)
	for _, v := range []struct {
		what, value, want string
		argv              bool // can travel in argv (no NUL)
	}{
		{"empty", "", "empty", true},
		{"64 KiB + 1", big, "65536", true},
		{"NUL", "a\x00b", "NUL", false},
		{"invalid UTF-8", "a\xff\xfeb", "UTF-8", true},
		{"lone surrogate half", "a\xed\xa0\x80b", "UTF-8", true},
	} {
		if v.argv {
			add(hostileCase{"--value " + v.what, []string{"secrets", "create", "V", "--value", v.value}, "", 2, []string{v.want}})
			add(hostileCase{"update --value " + v.what, []string{"secrets", "update", "EXISTING", "--value", v.value}, "", 2, []string{v.want}})
		}
		add(hostileCase{"stdin " + v.what, []string{"secrets", "create", "V"}, v.value + "\n", 2, []string{v.want}})
		add(hostileCase{"update stdin " + v.what, []string{"secrets", "update", "EXISTING"}, v.value, 2, []string{v.want}})
		if v.value != "" { // a blank value in a file is skipped by design
			add(hostileCase{"import " + v.what, []string{"secrets", "import", "--file", "-"}, "OK=1\nV=" + v.value + "\n", 2, []string{"<stdin>:2:", v.want}})
			add(hostileCase{"import quoted " + v.what, []string{"secrets", "import", "--file", "-", "--overwrite"}, "EXISTING='" + v.value + "'\n", 2, []string{"<stdin>:1:", v.want}})
		}
	}
	add(hostileCase{"stdin empty line", []string{"secrets", "create", "V"}, "\n", 2, []string{"empty"}})

	for _, v := range []struct{ arg, want string }{
		{"=x", "key before \"=\" is empty"},
		{"K", "has no \"=\""},
		{"K=@bad-name", nameRule},
		{"K=@@X", "\"@@\""},
		{"K=@a/b", nameRule},
		{"K=@../EXISTING", nameRule},
		{"1K=x", nameRule},
		{"bad-key=@", nameRule},
	} {
		add(hostileCase{"--var " + v.arg, []string{"run", "--var", "OK=1", "--var", v.arg, "--", "/bin/sh", "-c", "touch RAN"}, "", 2, []string{"--var #2", v.want}})
	}

	for _, a := range []string{"../x", "A", "a/b", "", ".", strings.Repeat("a", 65), "-a"} {
		if a != "" { // --account "" is no --account
			add(hostileCase{fmt.Sprintf("--account %q", a), []string{"--account", a, "secrets", "list"}, "", 2, []string{"account name"}})
		}
		add(hostileCase{fmt.Sprintf("account add %q", a), []string{"account", "add", "--backend", "local", "--", a}, "", 2, []string{"account name"}})
	}
	add(hostileCase{"unknown account", []string{"--account", "nosuch", "secrets", "list"}, "", 1, []string{`unknown account "nosuch"`, "ast account add nosuch"}})
	add(hostileCase{"account use unknown", []string{"account", "use", "nosuch"}, "", 1, []string{`unknown account "nosuch"`}})
	add(hostileCase{"unknown backend", []string{"account", "add", "x", "--backend", "nosuch"}, "", 1, []string{`unknown backend "nosuch"`, "ast-plugin-nosuch", "local, hashicorp, awssm"}})
	add(hostileCase{"backend ../x", []string{"account", "add", "x", "--backend", "../x"}, "", 2, []string{"backend name"}})
	add(hostileCase{"local dir relative", []string{"account", "add", "x", "--backend", "local", "--set", "dir=../elsewhere"}, "", 2, []string{"absolute path"}})
	add(hostileCase{"local unknown setting", []string{"account", "add", "x", "--backend", "local", "--set", "path=/tmp"}, "", 2, []string{`unknown setting "path"`}})

	before := snapshot(t, s.root, s.tmp)
	refused := 0
	for _, c := range cases {
		r := s.runWith(runOpts{stdin: []byte(c.stdin)}, c.args...)
		if r.code != c.code {
			t.Errorf("%s: want exit %d:\n%s", c.name, c.code, r)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%s: the message should contain %q:\n%s", c.name, w, r)
			}
		}
		if fileExists(filepath.Join(s.root, "RAN")) {
			t.Fatalf("%s: ast run started its command", c.name)
		}
		if diff := diffSnapshots(before, snapshot(t, s.root, s.tmp)); diff != "" {
			t.Fatalf("%s: files changed: %s", c.name, diff)
		}
		refused++
	}
	if es := s.list("--values"); len(es) != 1 || es[0].Name != "EXISTING" {
		t.Errorf("after the refused commands the account holds %v, want only EXISTING", names(es))
	}
	// The limits themselves are allowed.
	s.must(s.run("secrets", "create", strings.Repeat("N", 128), "--value", strings.Repeat("v", 65536)))
	s.must(s.runIn(strings.Repeat("w", 65536)+"\n", "secrets", "create", "_"))
	t.Logf("hostile summary: inputs=%d refused_as_expected=%d written=0", len(cases), refused)
}

// TestMalformedConfig writes broken config files: every command fails with exit 1 and a
// message naming the file and the line of the problem (or the key).
func TestMalformedConfig(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
		// atUse: the file loads; the problem shows when the account is used.
		atUse bool
	}{
		{"bad indentation", "active_account: a\naccounts:\n  a:\n    backend: local\n   settings: [\n", []string{"line 5"}, false},
		{"tab", "active_account: a\naccounts:\n  a:\n\tbackend: local\n", []string{"line 4"}, false},
		{"unterminated quote", "active_account: a\naccounts:\n  a:\n    backend: \"local\n", []string{"line 4"}, false},
		{"stray list item", "active_account: a\naccounts:\n  a:\n    backend: local\n  - x\n", []string{"line 5"}, false},
		{"bad flow mapping", "active_account: a\naccounts:\n  a:\n    backend: local\n    settings: {dir: [}\n", []string{"line 5"}, false},
		{"mapping in a value", "active_account: a\n\naccounts:\n  a: {backend: local}\nfoo: bar: baz\n", []string{"line 5"}, false},
		{"duplicate key", "active_account: a\naccounts:\n  a:\n    backend: local\n  a:\n    backend: local\n", []string{"line 5", `"a"`, "line 3"}, false},
		{"unknown key", "active_account: a\naccounts:\n  a:\n    backend: local\n    bogus: 1\n", []string{"line 5", `unknown key "bogus"`, "backend, settings"}, false},
		{"wrong type", "active_account: a\naccounts:\n  a:\n    backend: [local]\n", []string{"line 4", "found a list where text belongs"}, false},
		{"bad account name", "active_account: a\naccounts:\n  ../evil:\n    backend: local\n", []string{"../evil", "account name"}, false},
		{"bad backend name", "accounts:\n  a:\n    backend: ../../bin/sh\n", []string{"backend name"}, false},
		{"unknown backend", "active_account: a\naccounts:\n  a:\n    backend: nosuch\n", []string{`unknown backend "nosuch"`}, true},
		{"binary garbage", "\x00\x01\x02\xff\xfe", []string{"config"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			s.writeConfig(tc.yaml)
			before := snapshot(t, s.root, s.tmp)
			commands := [][]string{{"secrets", "list"}, {"secrets", "create", "A", "--value", "v"}, {"account", "list"}}
			want := append([]string{s.cfgFile}, tc.want...)
			if tc.atUse {
				commands, want = commands[:2], tc.want
			}
			for _, args := range commands {
				r := s.run(args...)
				if r.code != 1 {
					t.Errorf("want exit 1:\n%s", r)
				}
				for _, w := range want {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("the message should contain %q:\n%s", w, r)
					}
				}
			}
			if diff := diffSnapshots(before, snapshot(t, s.root, s.tmp)); diff != "" {
				t.Errorf("files changed: %s", diff)
			}
			if b, _ := os.ReadFile(s.cfgFile); string(b) != tc.yaml {
				t.Errorf("the config file was changed")
			}
		})
	}
}
