package cli

import (
	"context"
	"maps"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/config"
)

// AccountSetOptions are the options of `account set`.
type AccountSetOptions struct {
	F     *Factory
	Name  string
	Set   []string
	Unset []string
}

// NewCmdAccountSet is `ast account set NAME [--set K=V]... [--unset K]...`.
func NewCmdAccountSet(f *Factory) *cobra.Command {
	opts := &AccountSetOptions{F: f}
	cmd := &cobra.Command{
		Use:   "set NAME [--set KEY=VALUE]... [--unset KEY]...",
		Short: "Change an account's backend settings",
		Long: `Change settings of account NAME: --set adds or replaces one, --unset removes one (the
backend's default, or its environment variable, applies again). The backend's plugin is
started once to check the new settings; nothing is written if it refuses them. No entry
is read, written or moved.`,
		Example: `  ast account set team --set address=https://vault.example.com:8200
  ast account set prod --unset profile`,
		Args: exactArgs(1, "one NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runAccountSet(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringArrayVar(&opts.Set, "set", nil, "a backend setting KEY=VALUE to add or replace (repeatable)")
	cmd.Flags().StringArrayVar(&opts.Unset, "unset", nil, "a backend setting KEY to remove (repeatable)")
	return cmd
}

func runAccountSet(ctx context.Context, opts *AccountSetOptions) error {
	f := opts.F
	if len(opts.Set) == 0 && len(opts.Unset) == 0 {
		return usageErrorf("account set needs --set KEY=VALUE or --unset KEY")
	}
	set, err := parseSettings(opts.Set)
	if err != nil {
		return err
	}
	for _, k := range opts.Unset {
		if _, ok := set[k]; ok {
			return usageErrorf("--set and --unset both name %s", k)
		}
	}
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	change := func(a config.Account) (config.Account, error) {
		settings := maps.Clone(a.Settings)
		if settings == nil {
			settings = map[string]string{}
		}
		for _, k := range opts.Unset {
			if _, ok := settings[k]; !ok {
				return a, usageErrorf("account %s has no setting %s to unset", a.Name, k)
			}
			delete(settings, k)
		}
		maps.Copy(settings, set)
		a.Settings = settings
		return a, nil
	}
	current, err := cfg.Account(opts.Name)
	if err != nil {
		return err
	}
	next, err := change(current)
	if err != nil {
		return err
	}
	if err := cfg.CheckLocation(next); err != nil {
		return &usageError{err}
	}
	// Starting the plugin checks that the backend takes the new settings.
	if _, err := f.Backend(ctx, next); err != nil {
		return settingsError(err)
	}
	err = config.Update(cfg.Path(), func(c *config.Config) error {
		a, err := c.Account(opts.Name) // afresh: another command may have changed it
		if err != nil {
			return err
		}
		if a, err = change(a); err != nil {
			return err
		}
		if err := c.CheckLocation(a); err != nil {
			return &usageError{err}
		}
		if c.Accounts == nil {
			c.Accounts = map[string]config.Account{}
		}
		c.Accounts[opts.Name] = a // default, when it is set, is written out (still local)
		return nil
	})
	if err != nil {
		return err
	}
	var what []string
	for _, k := range opts.Set {
		k, _, _ = strings.Cut(k, "=")
		what = append(what, "set "+strings.TrimSpace(k))
	}
	for _, k := range opts.Unset {
		what = append(what, "unset "+k)
	}
	printf(f.IO.ErrOut, "✓ Changed account %s: %s\n", opts.Name, strings.Join(what, ", "))
	return nil
}
