package faults

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAgentEnvironment checks what a child of ast inherits from ast's environment, which
// holds backend credentials: a deployed agent (detached or --foreground) and `ast run
// --clean-env` get the minimal environment plus their variables and the blueprint's
// pass_env; `ast run` gets the user's whole environment.
func TestAgentEnvironment(t *testing.T) {
	s := newSandbox(t)
	s.addAccounts(account{name: "default", backend: "local"})
	s.must(s.run("secrets", "create", "TOKEN", "--value", "resolved-value"))
	creds := []string{"VAULT_TOKEN=s.canary-vault", "VAULT_SECRET_ID=canary-approle",
		"AWS_SECRET_ACCESS_KEY=canary-aws", "AWS_ACCESS_KEY_ID=AKIACANARY", "MYAPP_MODE=dev", "OTHER=x"}
	out := filepath.Join(s.root, "env.out")
	blueprints := filepath.Join(s.root, "blueprints")
	if err := os.MkdirAll(blueprints, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(agent, passEnv string) {
		bp := "command: [sh, -c, 'env > " + out + ".tmp && mv " + out + ".tmp " + out + "']\nenv:\n  TOKEN: \"@\"\n"
		if passEnv != "" {
			bp += "pass_env: " + passEnv + "\n"
		}
		if err := os.WriteFile(filepath.Join(blueprints, agent+".yaml"), []byte(bp), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("plain", "")
	write("passing", "[AWS_SECRET_ACCESS_KEY, MYAPP_*]")

	cases := []struct {
		name    string
		args    []string
		present []string // names that must be in the child's environment
		absent  []string
	}{
		{"deploy", []string{"blueprint", "deploy", "plain"},
			[]string{"PATH", "HOME", "LANG", "TMPDIR", "TOKEN"},
			[]string{"VAULT_TOKEN", "VAULT_SECRET_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "MYAPP_MODE", "OTHER", "XDG_CONFIG_HOME"}},
		{"deploy --foreground", []string{"blueprint", "deploy", "plain", "--foreground"},
			[]string{"PATH", "HOME", "TOKEN"},
			[]string{"VAULT_TOKEN", "VAULT_SECRET_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "MYAPP_MODE", "OTHER"}},
		{"deploy with pass_env", []string{"blueprint", "deploy", "passing"},
			[]string{"PATH", "TOKEN", "AWS_SECRET_ACCESS_KEY", "MYAPP_MODE"},
			[]string{"VAULT_TOKEN", "VAULT_SECRET_ID", "AWS_ACCESS_KEY_ID", "OTHER"}},
		{"run --clean-env", []string{"run", "--clean-env", "--var", "TOKEN=@", "--", "sh", "-c", "env > " + out},
			[]string{"PATH", "HOME", "TOKEN"},
			[]string{"VAULT_TOKEN", "VAULT_SECRET_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "MYAPP_MODE", "OTHER"}},
		{"run", []string{"run", "--var", "TOKEN=@", "--", "sh", "-c", "env > " + out},
			[]string{"PATH", "TOKEN", "VAULT_TOKEN", "AWS_SECRET_ACCESS_KEY", "OTHER"}, nil},
	}
	for _, c := range cases {
		os.Remove(out)
		s.must(s.runWith(runOpts{env: creds}, c.args...))
		var env []byte
		if !waitFor(10*time.Second, func() bool {
			var err error
			env, err = os.ReadFile(out)
			return err == nil
		}) {
			t.Fatalf("%s: the child wrote no environment", c.name)
		}
		names := map[string]bool{}
		for _, line := range strings.Split(string(env), "\n") {
			if n, _, ok := strings.Cut(line, "="); ok {
				names[n] = true
			}
		}
		for _, n := range c.present {
			if !names[n] {
				t.Errorf("%s: %s is missing from the child's environment", c.name, n)
			}
		}
		for _, n := range c.absent {
			if names[n] {
				t.Errorf("%s: the child inherited %s", c.name, n)
			}
		}
	}
	s.run("blueprint", "stop", "plain")
	s.run("blueprint", "stop", "passing")
}
