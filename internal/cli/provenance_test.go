package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ast-cli/ast/config"
	"github.com/ast-cli/ast/pluginsdk"
)

// TestBlueprintProvenance: deploy --dry-run, deploy and list name the blueprint file
// used, and a working directory's blueprint that shadows the user's own in the config
// directory is reported on stderr.
func TestBlueprintProvenance(t *testing.T) {
	fx := newDeployFixture(t, map[string]string{
		"bot":  "command: [\"true\"]\n",
		"solo": "command: [\"true\"]\n",
	})
	cfgBlueprints := filepath.Join(fx.cwd, "cfg", "blueprints")
	if err := os.MkdirAll(cfgBlueprints, 0o700); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(cfgBlueprints, "bot.yaml")
	if err := os.WriteFile(mine, []byte("command: [\"true\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(fx.cwd, "blueprints", "bot.yaml")
	shadowWarning := "warning: " + repo + " shadows " + mine

	deployOpts := func(ios *IOStreams, agent string, dry bool) *DeployOptions {
		return &DeployOptions{
			blueprintEnv: fx.env(ios),
			Account:      func() (config.Account, error) { return config.Account{Name: "team", Backend: "local"}, nil },
			Backend: func(context.Context, config.Account) (pluginsdk.Backend, error) {
				return nil, nil
			},
			Close: func() {}, Environ: os.Environ, Now: time.Now, Grace: time.Second,
			Agent: agent, DryRun: dry,
		}
	}
	cases := []struct {
		name        string
		run         func(ios *IOStreams) error
		usedIn      string // "out" or "err": where the blueprint path is named
		used        string
		wantWarning bool
	}{
		{"dry run, shadowing", func(ios *IOStreams) error { return runDeploy(context.Background(), deployOpts(ios, "bot", true)) }, "out", repo, true},
		{"deploy, shadowing", func(ios *IOStreams) error { return runDeploy(context.Background(), deployOpts(ios, "bot", false)) }, "err", repo, true},
		{"dry run, alone", func(ios *IOStreams) error { return runDeploy(context.Background(), deployOpts(ios, "solo", true)) }, "out",
			filepath.Join(fx.cwd, "blueprints", "solo.yaml"), false},
		{"list", func(ios *IOStreams) error {
			return runBlueprintList(&BlueprintListOptions{blueprintEnv: fx.env(ios)})
		}, "out", repo, true},
	}
	for _, c := range cases {
		ios, out, errOut := Test("")
		if err := c.run(ios); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		where := out.String()
		if c.usedIn == "err" {
			where = errOut.String()
		}
		if !strings.Contains(where, c.used) {
			t.Errorf("%s: the blueprint used (%s) is not named:\n%s", c.name, c.used, where)
		}
		if got := strings.Contains(errOut.String(), shadowWarning); got != c.wantWarning {
			t.Errorf("%s: shadow warning %t, want %t; stderr:\n%s", c.name, got, c.wantWarning, errOut)
		}
	}
}
