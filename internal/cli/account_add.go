package cli

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/config"
)

// AccountAddOptions are the options of `account add`.
type AccountAddOptions struct {
	F        *Factory
	Name     string
	Backend  string
	Settings []string
	Use      bool
}

// NewCmdAccountAdd is `ast account add NAME --backend B [--set K=V]...`.
func NewCmdAccountAdd(f *Factory) *cobra.Command {
	opts := &AccountAddOptions{F: f}
	cmd := &cobra.Command{
		Use:   "add NAME --backend BACKEND [--set KEY=VALUE]...",
		Short: "Add an account on a backend",
		Long: `Add an account. The backend's plugin is started once to check the settings; no
entry is read or written.`,
		Example: `  ast account add dev --backend local
  ast account add team --backend hashicorp --set address=https://vault.example.com:8200
  ast account add prod --backend awssm --set region=eu-west-1 --set prefix=myapp`,
		Args: exactArgs(1, "one NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runAccountAdd(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Backend, "backend", "", "the backend: local, hashicorp, awssm, or a plugin's name (required)")
	cmd.Flags().StringArrayVar(&opts.Settings, "set", nil, "a backend setting KEY=VALUE (repeatable)")
	cmd.Flags().BoolVar(&opts.Use, "use", false, "also make it the active account")
	return cmd
}

func parseSettings(args []string) (map[string]string, error) {
	settings := map[string]string{}
	for _, s := range args {
		k, v, ok := strings.Cut(s, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, usageErrorf("--set %q: a setting is KEY=VALUE", s)
		}
		if k != strings.ToLower(k) {
			return nil, usageErrorf("--set %q: setting names are lowercase", s)
		}
		settings[k] = v
	}
	return settings, nil
}

func runAccountAdd(ctx context.Context, opts *AccountAddOptions) error {
	f := opts.F
	if opts.Name == config.DefaultAccount {
		return usageErrorf("the default account always exists, on the local backend; add the account under another name "+
			"(ast account add NAME --backend %s), or change default's local settings with: ast account set default --set key_file=PATH", orBackend(opts.Backend))
	}
	if opts.Backend == "" {
		return usageErrorf("account add needs --backend (local, hashicorp, awssm, or a plugin's name)")
	}
	settings, err := parseSettings(opts.Settings)
	if err != nil {
		return err
	}
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	acct := config.Account{Name: opts.Name, Backend: opts.Backend, Settings: settings}
	if err := cfg.AddAccount(acct); err != nil {
		return &usageError{err}
	}
	// Starting the plugin checks that the backend exists and takes these settings.
	if _, err := f.Backend(ctx, acct); err != nil {
		return settingsError(err)
	}
	// The file is changed under its lock from a fresh read, so a concurrent command's
	// account is kept (and one of the same name added meanwhile is a conflict).
	err = config.Update(cfg.Path(), func(c *config.Config) error {
		if err := c.AddAccount(acct); err != nil {
			return &usageError{err}
		}
		if opts.Use {
			c.ActiveAccount = opts.Name
		}
		return nil
	})
	if err != nil {
		return err
	}
	printf(f.IO.ErrOut, "✓ Added account %s on backend %s\n", opts.Name, opts.Backend)
	if !opts.Use {
		printf(f.IO.ErrOut, "  Make it active with: ast account use %s\n", opts.Name)
	}
	return nil
}

func orBackend(b string) string {
	if b == "" {
		return "BACKEND"
	}
	return b
}
