package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/config"
	"github.com/ast-cli/ast/internal/deploy"
)

// NewCmdBlueprint is `ast blueprint`: deploy agents from blueprints, list, stop, logs.
func NewCmdBlueprint(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "blueprint",
		Aliases: []string{"blueprints"},
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRunE,
		Short:   "Deploy agents from blueprints with variables resolved at deploy time",
		Long: `A blueprint is a YAML file blueprints/AGENT.yaml, looked up in the working directory,
then in the config directory's blueprints/ (~/.config/ast/blueprints/):

  description: answers support tickets    # optional
  command: ["python3", "agent.py"]         # required: the argv (use ["sh", "-c", "..."] for a shell line)
  workdir: ..                              # optional: relative to the blueprint's directory;
                                           # default: the directory ast runs in
  env:                                     # optional: default variables, --var grammar
    ANTHROPIC_API_KEY: "@"                 #   the entry of the same name
    DB_PASSWORD: "@PROD_DB_PASSWORD"       #   entry PROD_DB_PASSWORD
    LOG_LEVEL: info                        #   a literal (\@... for a literal starting with @)

YAML needs values that start with "@" quoted. Agent names are lowercase letters, digits,
'-' and '_'.

The agent runs on this machine as a detached process of yours, with the variables in its
environment. Its stdout and stderr are appended to $XDG_STATE_HOME/ast/agents/AGENT.log;
the deployment record, $XDG_STATE_HOME/ast/deployments/AGENT.json, says which blueprint,
command and account were used and where each variable came from, never a value.`,
	}
	cmd.AddCommand(NewCmdDeploy(f), NewCmdBlueprintList(f), NewCmdBlueprintStop(f), NewCmdBlueprintLogs(f))
	return cmd
}

// blueprintEnv is what the blueprint commands share: the terminal, ast's paths and the
// working directory (where blueprints/ is looked up first).
type blueprintEnv struct {
	IO    *IOStreams
	Paths func() (config.Paths, error)
	Getwd func() (string, error)
}

func newBlueprintEnv(f *Factory) blueprintEnv {
	return blueprintEnv{IO: f.IO, Paths: f.Paths, Getwd: os.Getwd}
}

// locate returns the working directory, the blueprint directories in lookup order and the
// deployment store.
func (e blueprintEnv) locate() (cwd string, dirs []string, store deploy.Store, err error) {
	paths, err := e.Paths()
	if err != nil {
		return "", nil, store, err
	}
	if cwd, err = e.Getwd(); err != nil {
		return "", nil, store, fmt.Errorf("finding the working directory: %w", err)
	}
	return cwd, deploy.Dirs(cwd, paths.ConfigDir), deploy.Store{Dir: paths.StateDir}, nil
}

func checkAgent(name string) error {
	if err := deploy.ValidateAgentName(name); err != nil {
		return &usageError{err}
	}
	return nil
}
