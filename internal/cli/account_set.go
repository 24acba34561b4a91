package cli

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/config"
	"github.com/ast-cli/ast/pluginsdk"
)

// AccountSetOptions are the options of `account set`.
type AccountSetOptions struct {
	F     *Factory
	Name  string
	Set   []string
	Unset []string
	// Force points the account at a new store although its old one holds entries.
	Force bool
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
is written or moved.

A change that points the account at another store (local: dir; hashicorp: address, mount,
prefix, path, namespace; awssm: region, profile, endpoint, prefix, path) leaves the entries
of the old store where they are. When the old store holds entries, ast says so and changes
nothing unless --force is given; then it says where they stay.`,
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
	cmd.Flags().BoolVar(&opts.Force, "force", false, "point the account at another store although the old one holds entries (they stay there)")
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
	paths, err := f.Paths()
	if err != nil {
		return err
	}
	// Entries left behind: a new store is a fresh start, never a move (ast has no copy
	// between stores, and a silent switch looks like lost entries).
	oldStore, newStore := storeOf(current, paths, f.Getenv), storeOf(next, paths, f.Getenv)
	left := 0
	if oldStore != newStore {
		if left, err = countEntries(ctx, f, current); err != nil {
			warnf(f.IO.ErrOut, "could not count the entries of account %s's current store (%v); any there stay in %s", opts.Name, err, oldStore)
		} else if left > 0 && !opts.Force {
			return fmt.Errorf("account %s has %d %s in %s; these settings point it at %s instead, and ast does not move entries: "+
				"they would stay behind, out of the account's reach. Nothing was changed.%s\n"+
				"To point the account there anyway (the entries stay where they are): add --force",
				opts.Name, left, plural(left, "entry", "entries"), oldStore, newStore, moveHint(current, next, paths, f.Getenv))
		}
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
	if left > 0 {
		warnf(f.IO.ErrOut, "the %d %s of account %s stay in %s (not moved); the account now uses %s",
			left, plural(left, "entry", "entries"), opts.Name, oldStore, newStore)
	}
	return nil
}

// storeOf names the store account a uses, from its effective settings: local, the store
// file; hashicorp, the server and the path of an entry NAME; awssm, the region, profile,
// endpoint and name of an entry NAME. Two settings that give the same string use the same
// store. A plugin's store is unknown to ast: "".
func storeOf(a config.Account, p config.Paths, getenv func(string) string) string {
	eff := map[string]string{}
	for _, s := range effectiveSettings(a, p, getenv) {
		eff[s.Key] = s.Value
	}
	loc, _ := config.LocationOf(a)
	switch a.Backend {
	case "local":
		return filepath.Join(eff["dir"], "vaults", a.Name+".age")
	case "hashicorp":
		where := "Vault " + eff["address"]
		if ns := eff["namespace"]; ns != "" && ns != "(not set)" {
			where += " namespace " + ns
		}
		return where + " at " + loc.Entry
	case "awssm":
		where := "AWS Secrets Manager region " + eff["region"]
		for _, k := range []string{"profile", "endpoint"} {
			if v := eff[k]; v != "" && v != "(not set)" {
				where += " " + k + " " + v
			}
		}
		return where + " at " + loc.Entry
	}
	return ""
}

// countEntries lists account a's entries (names only) through its backend's plugin.
func countEntries(ctx context.Context, f *Factory, a config.Account) (int, error) {
	b, err := f.Backend(ctx, a)
	if err != nil {
		return 0, err
	}
	entries, err := b.List(ctx, pluginsdk.ListOptions{})
	return len(entries), err
}

// moveHint says how to take a local account's entries along: the store file moves whole
// (it names its account inside), and it needs the key it is encrypted with, so when the
// new settings would change key_file (its default follows dir) the hint keeps the old one.
func moveHint(from, to config.Account, p config.Paths, getenv func(string) string) string {
	if from.Backend != "local" || to.Backend != "local" {
		return ""
	}
	key := func(a config.Account) string {
		for _, s := range effectiveSettings(a, p, getenv) {
			if s.Key == "key_file" {
				return s.Value
			}
		}
		return ""
	}
	src, dst := storeOf(from, p, getenv), filepath.Dir(storeOf(to, p, getenv))
	hint := fmt.Sprintf("\nTo take them along, move the store:\n  mkdir -m 700 -p %s && mv %s %s/",
		shellJoin([]string{dst}), shellJoin([]string{src}), shellJoin([]string{dst}))
	if oldKey := key(from); oldKey != key(to) {
		hint += fmt.Sprintf("\nthen run this again with --set key_file=%s (the key the store is encrypted with)", shellJoin([]string{oldKey}))
	}
	return hint
}
