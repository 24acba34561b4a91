package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/config"
)

// NewCmdAccount is `ast account`.
func NewCmdAccount(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "account",
		Args:  cobra.ArbitraryArgs,
		RunE:  groupRunE,
		Short: "Add, choose, list and show accounts",
		Long: `An account is a named vault on one backend. With no configuration there is one
account, default, on the local encrypted-file backend. --account NAME (or AST_ACCOUNT)
picks the account for one command; 'ast account use' changes the active one.

Backends and their settings (--set KEY=VALUE):
  local       dir, key_file
  hashicorp   address, mount, prefix, namespace, ca_cert, tls_server_name, role_id, secret_id_env
  awssm       region, profile, prefix, kms_key_id, endpoint, recovery_window_days
Credentials are never stored in ast's configuration: see README.md.`,
	}
	cmd.AddCommand(NewCmdAccountAdd(f), NewCmdAccountUse(f), NewCmdAccountList(f), NewCmdAccountShow(f))
	return cmd
}

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
		return err
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

// NewCmdAccountUse is `ast account use NAME`.
func NewCmdAccountUse(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "use NAME",
		Short: "Make an account the active one",
		Args:  exactArgs(1, "one NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			if err := cfg.Use(args[0]); err != nil {
				return err
			}
			if err := config.Update(cfg.Path(), func(c *config.Config) error { return c.Use(args[0]) }); err != nil {
				return err
			}
			printf(f.IO.ErrOut, "✓ Active account: %s\n", args[0])
			return nil
		},
	}
}

type accountView struct {
	Name     string            `json:"name"`
	Backend  string            `json:"backend"`
	Active   bool              `json:"active"`
	Settings map[string]string `json:"settings"`
}

func accountViews(f *Factory) ([]accountView, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	active := cfg.Active(f.AccountFlag, f.Getenv("AST_ACCOUNT"))
	if _, err := cfg.Account(active); err != nil {
		warnf(f.IO.ErrOut, "the active account %q does not exist; choose one with: ast account use NAME", active)
	}
	var out []accountView
	for _, n := range cfg.AccountNames() {
		a, _ := cfg.Account(n)
		s := a.Settings
		if s == nil {
			s = map[string]string{}
		}
		out = append(out, accountView{Name: n, Backend: a.Backend, Active: n == active, Settings: s})
	}
	return out, nil
}

// NewCmdAccountList is `ast account list`.
func NewCmdAccountList(f *Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List accounts; the active one is marked",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			views, err := accountViews(f)
			if err != nil {
				return err
			}
			if output == "json" {
				return writeJSON(f.IO.Out, views)
			}
			t := newTable(f.IO.Out, f.IO.OutTTY, "", "ACCOUNT", "BACKEND")
			for _, v := range views {
				mark := ""
				if v.Active {
					mark = "*"
				}
				t.add(mark, v.Name, v.Backend)
			}
			return t.print()
		},
	}
	outputFlag(cmd, &output)
	return cmd
}

// NewCmdAccountShow is `ast account show [NAME]`.
func NewCmdAccountShow(f *Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "show [NAME]",
		Short: "Show an account (the active one by default): backend and settings",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageErrorf("account show takes at most one NAME")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			views, err := accountViews(f)
			if err != nil {
				return err
			}
			cfg, _ := f.Config()
			name := cfg.Active(f.AccountFlag, f.Getenv("AST_ACCOUNT"))
			if len(args) == 1 {
				name = args[0]
			}
			if _, err := cfg.Account(name); err != nil {
				return err
			}
			for _, v := range views {
				if v.Name != name {
					continue
				}
				if output == "json" {
					return writeJSON(f.IO.Out, v)
				}
				printf(f.IO.Out, "account:  %s\nbackend:  %s\nactive:   %t\n", v.Name, v.Backend, v.Active)
				keys := make([]string, 0, len(v.Settings))
				for k := range v.Settings {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				if len(keys) > 0 {
					fmt.Fprintln(f.IO.Out, "settings:")
				}
				for _, k := range keys {
					printf(f.IO.Out, "  %s: %s\n", k, v.Settings[k])
				}
			}
			return nil
		},
	}
	outputFlag(cmd, &output)
	return cmd
}
