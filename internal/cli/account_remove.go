package cli

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/config"
)

// AccountRemoveOptions are the options of `account remove`.
type AccountRemoveOptions struct {
	F     *Factory
	Name  string
	Force bool
}

// NewCmdAccountRemove is `ast account remove NAME [--force]`.
func NewCmdAccountRemove(f *Factory) *cobra.Command {
	opts := &AccountRemoveOptions{F: f}
	cmd := &cobra.Command{
		Use:     "remove NAME [--force]",
		Aliases: []string{"rm"},
		Short:   "Forget an account (its entries stay in the backend)",
		Long: `Remove NAME from the config file. No entry is deleted: the backend keeps them, and adding
the account again with the same backend and settings finds them. The active account (the
config's active_account, or AST_ACCOUNT) is refused unless --force; default cannot be
removed (it always exists).`,
		Example: `  ast account remove staging
  ast account remove team --force`,
		Args: exactArgs(1, "one NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runAccountRemove(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Force, "force", false, "remove it even if it is the active account (default becomes active)")
	return cmd
}

func runAccountRemove(opts *AccountRemoveOptions) error {
	f := opts.F
	if opts.Name == config.DefaultAccount {
		return usageErrorf("the default account cannot be removed: it always exists, on the local backend. " +
			"To stop using it, choose another with: ast account use NAME")
	}
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	paths, err := f.Paths()
	if err != nil {
		return err
	}
	if opts.Name == f.Getenv("AST_ACCOUNT") && !opts.Force {
		return fmt.Errorf("%s is the active account (from AST_ACCOUNT); unset AST_ACCOUNT, or remove it anyway with --force", opts.Name)
	}
	var removed config.Account
	wasActive := false
	err = config.Update(cfg.Path(), func(c *config.Config) error {
		a, ok := c.Accounts[opts.Name]
		if !ok {
			_, err := c.Account(opts.Name) // the error lists the accounts
			return err
		}
		if c.ActiveAccount == opts.Name {
			if !opts.Force {
				return fmt.Errorf("%s is the active account; choose another first (ast account use NAME), or remove it anyway with --force", opts.Name)
			}
			c.ActiveAccount, wasActive = "", true
		}
		delete(c.Accounts, opts.Name)
		removed = a
		return nil
	})
	if err != nil {
		return err
	}
	printf(f.IO.ErrOut, "✓ Removed account %s; no entry was deleted: they stay in backend %s (%s)\n",
		opts.Name, removed.Backend, whereEntriesStay(removed, paths, f.Getenv))
	printf(f.IO.ErrOut, "  Add it back with: ast account add %s --backend %s%s\n", opts.Name, removed.Backend, setFlags(removed.Settings))
	if wasActive {
		printf(f.IO.ErrOut, "  The active account is now %s\n", config.DefaultAccount)
	}
	return nil
}

// whereEntriesStay says where a removed account's entries are, from its effective settings.
func whereEntriesStay(a config.Account, p config.Paths, getenv func(string) string) string {
	eff := map[string]string{}
	for _, s := range effectiveSettings(a, p, getenv) {
		eff[s.Key] = s.Value
	}
	switch a.Backend {
	case "local":
		return "store " + filepath.Join(eff["dir"], "vaults", a.Name+".age") + ", key " + eff["key_file"]
	case "hashicorp":
		return fmt.Sprintf("Vault %s, %s/%s/%s", eff["address"], eff["mount"], eff["prefix"], a.Name)
	case "awssm":
		return fmt.Sprintf("AWS Secrets Manager, region %s, names %s/%s/…", eff["region"], eff["prefix"], a.Name)
	}
	return "its own storage"
}

// setFlags is " --set K=V" for each setting, in key order.
func setFlags(settings map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		fmt.Fprintf(&b, " --set %s=%s", k, shellJoin([]string{settings[k]}))
	}
	return b.String()
}
