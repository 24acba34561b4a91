package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestAgentEnviron(t *testing.T) {
	user := []string{
		"PATH=/usr/bin", "HOME=/home/u", "USER=u", "LOGNAME=u", "SHELL=/bin/sh", "LANG=C.UTF-8",
		"LC_ALL=C", "LC_TIME=en_GB", "TZ=UTC", "TMPDIR=/tmp/u", "TERM=xterm",
		"VAULT_TOKEN=s.canary", "VAULT_SECRET_ID=canary", "AWS_SECRET_ACCESS_KEY=canary",
		"AWS_ACCESS_KEY_ID=AKIA", "AWS_REGION=eu-west-1", "AST_ACCOUNT=prod", "OPENAI_API_KEY=x",
		"MYAPP_MODE=dev", "MYAPP_DEBUG=1", "MYAPPX=1", "NOEQUALS", "LCX=1",
	}
	minimal := []string{"PATH=/usr/bin", "HOME=/home/u", "USER=u", "LOGNAME=u", "SHELL=/bin/sh", "LANG=C.UTF-8",
		"LC_ALL=C", "LC_TIME=en_GB", "TZ=UTC", "TMPDIR=/tmp/u", "TERM=xterm"}
	cases := []struct {
		name string
		pass []string
		want []string
	}{
		{"minimal", nil, minimal},
		{"a name", []string{"AWS_REGION"}, append(slices.Clone(minimal), "AWS_REGION=eu-west-1")},
		{"a prefix", []string{"MYAPP_*"}, append(slices.Clone(minimal), "MYAPP_MODE=dev", "MYAPP_DEBUG=1")},
		{"a credential named on purpose", []string{"VAULT_TOKEN"}, append(slices.Clone(minimal), "VAULT_TOKEN=s.canary")},
		{"a name that is not there", []string{"NOPE"}, minimal},
	}
	for _, c := range cases {
		got := AgentEnviron(user, c.pass)
		slices.Sort(got)
		want := slices.Clone(c.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %q, want %q", c.name, got, want)
		}
	}
}

func TestCheckPassEnv(t *testing.T) {
	for _, ok := range []string{"AWS_REGION", "MYAPP_*", "_X", "A*", "x1"} {
		if err := CheckPassEnv(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"*", "", "1A", "A-B", "*_X", "A**", "A*B", "A B", "A=B"} {
		if err := CheckPassEnv(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParsePassEnv(t *testing.T) {
	cases := []struct {
		yaml string
		want []string
		bad  int // number of problems
	}{
		{"command: [x]\npass_env: [AWS_REGION, MYAPP_*]\n", []string{"AWS_REGION", "MYAPP_*"}, 0},
		{"command: [x]\npass_env: []\n", nil, 0},
		{"command: [x]\npass_env: AWS_REGION\n", nil, 1},
		{"command: [x]\npass_env: ['*', 'A-B', [x]]\n", nil, 3},
	}
	for _, c := range cases {
		bp, err := Parse("a", "/b/a.yaml", []byte(c.yaml), "/w")
		var n int
		if be, ok := err.(*BlueprintError); ok {
			n = len(be.Problems)
		} else if err != nil {
			t.Fatalf("%q: %v", c.yaml, err)
		}
		if n != c.bad {
			t.Errorf("%q: %d problems (%v), want %d", c.yaml, n, err, c.bad)
		}
		if err == nil && !slices.Equal(bp.PassEnv, c.want) {
			t.Errorf("%q: PassEnv %q, want %q", c.yaml, bp.PassEnv, c.want)
		}
	}
}

func TestShadowed(t *testing.T) {
	cwd, cfg := t.TempDir(), t.TempDir()
	dirs := Dirs(cwd, cfg)
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write := func(dir, agent string) string {
		p := filepath.Join(dir, agent+BlueprintExt)
		if err := os.WriteFile(p, []byte("command: [x]\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	both := write(dirs[0], "both")
	mine := write(dirs[1], "both")
	only := write(dirs[1], "only")
	if got := Shadowed("both", dirs, both); !slices.Equal(got, []string{mine}) {
		t.Errorf("both: %q, want %q", got, []string{mine})
	}
	if got := Shadowed("only", dirs, only); len(got) != 0 {
		t.Errorf("only: %q, want none", got)
	}
}
