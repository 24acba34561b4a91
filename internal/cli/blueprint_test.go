package cli

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ast-cli/ast/config"
	"github.com/ast-cli/ast/internal/deploy"
	"github.com/ast-cli/ast/internal/refs"
	"github.com/ast-cli/ast/pluginsdk"
)

// getBackend is a backend whose only working call is Get, answered from entries.
type getBackend struct {
	pluginsdk.Backend
	entries map[string]pluginsdk.Entry
	gets    int
}

func (b *getBackend) Get(_ context.Context, names []string) ([]pluginsdk.Result, error) {
	b.gets++
	out := make([]pluginsdk.Result, len(names))
	for i, n := range names {
		if e, ok := b.entries[n]; ok {
			out[i].Entry = e
		} else {
			out[i].Err = pluginsdk.Errorf(pluginsdk.ErrNotFound, "entry %q not found", n)
		}
	}
	return out, nil
}

// deployFixture is a working directory with blueprints and a state directory.
type deployFixture struct {
	cwd, state string
}

func newDeployFixture(t *testing.T, blueprints map[string]string) deployFixture {
	t.Helper()
	root := t.TempDir()
	fx := deployFixture{cwd: filepath.Join(root, "work"), state: filepath.Join(root, "state", "ast")}
	if err := os.MkdirAll(filepath.Join(fx.cwd, "blueprints"), 0o700); err != nil {
		t.Fatal(err)
	}
	for agent, yaml := range blueprints {
		if err := os.WriteFile(filepath.Join(fx.cwd, "blueprints", agent+".yaml"), []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		ds, _, _ := deploy.Store{Dir: fx.state}.List()
		for _, d := range ds {
			if d.PGID > 0 && deploy.Running(d.Process()) {
				_ = syscall.Kill(-d.PGID, syscall.SIGKILL)
			}
		}
	})
	return fx
}

func (fx deployFixture) env(ios *IOStreams) blueprintEnv {
	return blueprintEnv{
		IO: ios,
		Paths: func() (config.Paths, error) {
			return config.Paths{ConfigDir: filepath.Join(fx.cwd, "cfg"), StateDir: fx.state}, nil
		},
		Getwd: func() (string, error) { return fx.cwd, nil },
	}
}

func TestDeployDryRunStartsNoBackend(t *testing.T) {
	fx := newDeployFixture(t, map[string]string{
		"my-agent": "command: [python3, agent.py, 'two words']\nenv:\n  ANTHROPIC_API_KEY: \"@\"\n  MODE: dev\n",
	})
	for _, output := range []string{"", "json"} {
		ios, out, _ := Test("")
		opts := &DeployOptions{
			blueprintEnv: fx.env(ios),
			Account:      func() (config.Account, error) { return config.Account{Name: "team", Backend: "hashicorp"}, nil },
			Backend: func(context.Context, config.Account) (pluginsdk.Backend, error) {
				t.Fatal("a dry run started the backend")
				return nil, nil
			},
			Close: func() {}, Environ: os.Environ, Now: time.Now,
			Agent: "my-agent", Vars: []string{"MODE=prod", `AT=\@x`}, DryRun: true, Output: output,
		}
		if err := runDeploy(context.Background(), opts); err != nil {
			t.Fatalf("output %q: %v", output, err)
		}
		if output == "json" {
			var plan deployPlan
			if err := json.Unmarshal(out.Bytes(), &plan); err != nil {
				t.Fatalf("json: %v\n%s", err, out)
			}
			want := []deploy.Variable{
				{Source: refs.Source{Key: "ANTHROPIC_API_KEY", Kind: refs.SourceReference, Entry: "ANTHROPIC_API_KEY"}, From: deploy.FromBlueprint},
				{Source: refs.Source{Key: "AT", Kind: refs.SourceLiteral}, From: deploy.FromFlag},
				{Source: refs.Source{Key: "MODE", Kind: refs.SourceLiteral}, From: deploy.FromFlag},
			}
			if !plan.DryRun || plan.Account != "team" || plan.Workdir != fx.cwd || len(plan.Variables) != 3 {
				t.Fatalf("plan = %+v", plan)
			}
			for i := range want {
				got := plan.Variables[i]
				if i > 0 { // --var literals: length and keyed hash, never the text
					if got.LiteralBytes == nil || *got.LiteralBytes != len([]string{"", "@x", "prod"}[i]) ||
						!strings.HasPrefix(got.LiteralHMAC, "hmac-sha256:") {
						t.Errorf("variable %d = %+v: want the literal's length and hash", i, got)
					}
					got.LiteralBytes, got.LiteralHMAC = nil, ""
				}
				if got != want[i] {
					t.Errorf("variable %d = %+v, want %+v", i, plan.Variables[i], want[i])
				}
			}
			continue
		}
		for _, s := range []string{
			"command    python3 agent.py 'two words'\n",
			"account    team (backend hashicorp)\n",
			"ANTHROPIC_API_KEY\tentry ANTHROPIC_API_KEY\tblueprint\n",
			"AT\tliteral (2 bytes, hmac-sha256:",
			"MODE\tliteral (4 bytes, hmac-sha256:",
		} {
			if !strings.Contains(out.String(), s) {
				t.Errorf("dry run output lacks %q:\n%s", s, out)
			}
		}
		if strings.Contains(out.String(), "prod") {
			t.Errorf("dry run output holds the text of a --var literal:\n%s", out)
		}
	}
	if _, err := os.Stat(filepath.Join(fx.state, "deployments")); err == nil {
		t.Errorf("a dry run wrote to the state directory")
	}
}

func TestDeployResolvesAfterClosingThePlugin(t *testing.T) {
	const secret = "canary-in-process-3c4d"
	fx := newDeployFixture(t, map[string]string{
		"agent": `command: ["sh", "-c", "printf %s \"$KEY\" > seen.tmp && mv seen.tmp seen"]` + "\nenv:\n  KEY: \"@API_KEY\"\n",
		"miss":  "command: [\"true\"]\nenv:\n  A: \"@NOPE_ONE\"\n  B: \"@API_KEY\"\n",
	})
	b := &getBackend{entries: map[string]pluginsdk.Entry{
		"API_KEY": {Name: "API_KEY", Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue(secret), Version: 2},
	}}
	closed := false
	newOpts := func(ios *IOStreams, agent string, vars ...string) *DeployOptions {
		return &DeployOptions{
			blueprintEnv: fx.env(ios),
			Account:      func() (config.Account, error) { return config.Account{Name: "default", Backend: "local"}, nil },
			Backend:      func(context.Context, config.Account) (pluginsdk.Backend, error) { return b, nil },
			Close:        func() { closed = true },
			Environ: func() []string {
				if !closed {
					t.Error("the agent's environment was built while the plugin ran")
				}
				return []string{"PATH=" + os.Getenv("PATH")}
			},
			Now: time.Now, Grace: time.Second, Agent: agent, Vars: vars,
		}
	}

	ios, out, errOut := Test("")
	err := runDeploy(context.Background(), newOpts(ios, "miss", "C=@NOPE_TWO"))
	if !errors.Is(err, pluginsdk.ErrNotFound) || !strings.Contains(err.Error(), "NOPE_ONE, NOPE_TWO") || b.gets != 1 {
		t.Errorf("missing references: %v (%d Get calls); want one Get naming both", err, b.gets)
	}
	if !closed {
		t.Errorf("the plugin was not closed after a failed resolution")
	}

	closed = false
	if err := runDeploy(context.Background(), newOpts(ios, "agent")); err != nil {
		t.Fatal(err)
	}
	seen := filepath.Join(fx.cwd, "seen")
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(seen); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got, _ := os.ReadFile(seen); string(got) != secret {
		t.Errorf("the agent did not see the resolved value")
	}
	if strings.Contains(out.String()+errOut.String(), secret) {
		t.Errorf("deploy printed the value")
	}
	rec, _ := os.ReadFile(filepath.Join(fx.state, "deployments", "agent.json"))
	if strings.Contains(string(rec), secret) || !strings.Contains(string(rec), `"version": 2`) {
		t.Errorf("record holds the value or lacks the entry's version")
	}
	if _, err := os.Stat(filepath.Join(fx.state, "deployments", "miss.json")); err == nil {
		t.Errorf("the failed deploy left a record")
	}
}

func TestSourceTextAndShellJoin(t *testing.T) {
	for _, tt := range []struct {
		src  deploy.Variable
		want string
	}{
		{deploy.Variable{Source: refs.Source{Kind: refs.SourceLiteral, Literal: "us-east-1"}}, `literal "us-east-1"`},
		{deploy.Variable{Source: refs.Source{Kind: refs.SourceLiteral}}, `literal ""`},
		{deploy.Variables([]refs.Source{{Key: "K", Kind: refs.SourceLiteral, Literal: "typed"}}, map[string]bool{"K": true}, []byte("k"))[0],
			"literal (5 bytes, hmac-sha256:6e7c4299df815717…)"},
		{deploy.Variables([]refs.Source{{Key: "K", Kind: refs.SourceLiteral, Literal: "typed"}}, map[string]bool{"K": true}, nil)[0],
			"literal (5 bytes)"},
		{deploy.Variable{Source: refs.Source{Kind: refs.SourceReference, Entry: "K"}}, "entry K"},
		{deploy.Variable{Source: refs.Source{Kind: refs.SourceReference, Entry: "K", EntryKind: pluginsdk.KindSecret, Version: 3}}, "entry K (secret, version 3)"},
	} {
		if got := sourceText(tt.src); got != tt.want {
			t.Errorf("sourceText(%+v) = %q, want %q", tt.src, got, tt.want)
		}
	}
	if got, want := shellJoin([]string{"sh", "-c", "echo 'hi' $X", "a=b"}), `sh -c 'echo '\''hi'\'' $X' a=b`; got != want {
		t.Errorf("shellJoin = %s, want %s", got, want)
	}
}
