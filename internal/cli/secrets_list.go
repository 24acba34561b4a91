package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/internal/termtext"
	"github.com/ast-cli/ast/pluginsdk"
)

// ListOptions are the options of `secrets list`.
type ListOptions struct {
	IO      *IOStreams
	Backend func(context.Context) (pluginsdk.Backend, string, error)
	// AccountArg is " --account NAME" when hints must name the account (may be nil).
	AccountArg func() string
	// Aliases returns the account's aliases setting, for the hint that adds one (may be nil).
	Aliases func() string
	Values  bool
	Fields  bool
	Output  string
}

func (o *ListOptions) accountArg() string {
	if o.AccountArg == nil {
		return ""
	}
	return o.AccountArg()
}

// NewCmdList is `ast secrets list`.
func NewCmdList(f *Factory) *cobra.Command {
	opts := &ListOptions{IO: f.IO, Backend: f.activeBackend, AccountArg: f.AccountArg, Aliases: func() string {
		a, err := f.ActiveAccount()
		if err != nil {
			return ""
		}
		return a.Settings["aliases"]
	}}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List entries: names, kinds, versions, times (never a secret's value)",
		Long: `List the entries of the active account: name, kind, version and last update.
--values also shows plain variables' values; a secret's value is never shown.
On a terminal this is a table; piped, tab-separated lines (name, kind, version,
updated, and value with --values; tabs and newlines inside a value become spaces, use
--output json for exact values); --output json prints an array of objects with name, kind, created_at,
updated_at, version and, with --values, value for plain variables.

Entries ast did not write (vault kv put, an AWS rotation, the console; see the account's
path setting) are secrets marked external (on a terminal "secret (external)", in JSON
"external": true). --fields adds their field names (names only: the data keys of a Vault
secret, the top-level keys of a JSON value), which a reference takes as @NAME#FIELD;
reading them needs permission to read the values, a plain list does not.

Items of the account's folder whose names are not valid entry names (db-creds,
rds.primary) are listed under their own names, marked "needs alias", with the nearest
valid name (letters upper-cased, every other character but digits and '_' made '_', no
leading or trailing '_', '_' before a leading digit: db-creds → DB_CREDS) and the
aliases setting that makes them referable (JSON: "needs_alias": true, "suggested_name",
"alias"): ast account set ACCOUNT --set aliases=DB_CREDS:db-creds.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error { return runList(cmd.Context(), opts) },
	}
	cmd.Flags().BoolVar(&opts.Values, "values", false, "show plain variables' values (secrets stay hidden)")
	cmd.Flags().BoolVar(&opts.Fields, "fields", false, "show the field names of external entries (never their values)")
	outputFlag(cmd, &opts.Output)
	return cmd
}

// listedEntry is one element of `secrets list --output json`.
type listedEntry struct {
	Name      string   `json:"name"`
	Kind      string   `json:"kind"`
	CreatedAt *string  `json:"created_at"`
	UpdatedAt *string  `json:"updated_at"`
	Version   int64    `json:"version"`
	Value     *string  `json:"value,omitempty"`
	External  bool     `json:"external,omitempty"`
	Fields    []string `json:"fields,omitempty"`
	// Items whose backend names are not entry names: the nearest valid name (unique in the
	// listing) and the ALIAS:backend-name item of the aliases setting that reaches them.
	NeedsAlias    bool   `json:"needs_alias,omitempty"`
	SuggestedName string `json:"suggested_name,omitempty"`
	Alias         string `json:"alias,omitempty"`
}

// suggestNames gives each item that needs an alias the nearest valid name
// (pluginsdk.SuggestName), unique among the listed names, the aliases of the aliases
// setting and the other suggestions
// ("_2", "_3", ... appended on a clash, within MaxNameBytes); none when nothing usable is
// left (the name has no letter, digit or '_') or the name is not aliasable.
func suggestNames(entries []pluginsdk.Entry, aliases string) map[string]string {
	taken := map[string]bool{}
	// The aliases the setting has already, also one whose item is gone (not listed): the
	// hint's setting keeps them, and an alias given twice is refused.
	for _, item := range strings.Split(aliases, ",") {
		if alias, _, ok := strings.Cut(item, ":"); ok {
			taken[strings.TrimSpace(alias)] = true
		}
	}
	for _, e := range entries {
		if !e.NeedsAlias {
			taken[e.Name] = true
		}
	}
	out := map[string]string{}
	for _, e := range entries {
		if !e.NeedsAlias {
			continue
		}
		base := pluginsdk.SuggestName(e.Name)
		if base == "" || !aliasable(e.Name) {
			continue
		}
		s := base
		for i := 2; taken[s]; i++ {
			n := fmt.Sprintf("_%d", i)
			s = base[:min(len(base), pluginsdk.MaxNameBytes-len(n))] + n
		}
		taken[s], out[e.Name] = true, s
	}
	return out
}

// aliasable reports whether name can stand as the backend name of an ALIAS:name item of
// the aliases setting as printed: no ',' or ':' (which would split it into other items:
// "x,API_KEY:evil" is two aliases), no space at either end (trimmed away), nothing
// termtext escapes (the printed command would not name it).
func aliasable(name string) bool {
	return !strings.ContainsAny(name, ",:") && strings.TrimSpace(name) == name && !termtext.Unsafe(name)
}

func rfc3339(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

func runList(ctx context.Context, opts *ListOptions) error {
	if err := checkOutput(opts.Output); err != nil {
		return err
	}
	b, account, err := opts.Backend(ctx)
	if err != nil {
		return err
	}
	entries, err := b.List(ctx, pluginsdk.ListOptions{Values: opts.Values, Fields: opts.Fields, Unnamed: true})
	if err != nil {
		return err
	}
	var aliases string
	if opts.Aliases != nil {
		aliases = opts.Aliases()
	}
	suggested := suggestNames(entries, aliases)
	// The plugin contract already keeps secret values out of List; the core does not
	// rely on that alone.
	plainValue := func(e pluginsdk.Entry) (string, bool) {
		if !opts.Values || e.Kind != pluginsdk.KindPlain {
			return "", false
		}
		return e.Value.Reveal(), true
	}
	if opts.Output == "json" {
		out := make([]listedEntry, len(entries))
		for i, e := range entries {
			out[i] = listedEntry{Name: e.Name, Kind: string(e.Kind), CreatedAt: rfc3339(e.CreatedAt),
				UpdatedAt: rfc3339(e.UpdatedAt), Version: e.Version, External: e.External}
			if opts.Fields {
				out[i].Fields = e.Fields
			}
			if v, ok := plainValue(e); ok && !e.NeedsAlias {
				out[i].Value = &v
			}
			if e.NeedsAlias {
				out[i].NeedsAlias, out[i].SuggestedName = true, suggested[e.Name]
				if out[i].SuggestedName != "" {
					out[i].Alias = out[i].SuggestedName + ":" + e.Name
				}
			}
		}
		return writeJSON(opts.IO.Out, out)
	}
	header := []string{"NAME", "KIND", "VERSION", "UPDATED"}
	if opts.Values {
		header = append(header, "VALUE")
	}
	if opts.Fields {
		header = append(header, "FIELDS")
	}
	t := newTable(opts.IO.Out, opts.IO.OutTTY, header...)
	for _, e := range entries {
		updated := ""
		if u := rfc3339(e.UpdatedAt); u != nil {
			updated = *u
		}
		kind := string(e.Kind)
		switch {
		case e.NeedsAlias && opts.IO.OutTTY:
			kind += " (external, needs alias)"
		case e.External && opts.IO.OutTTY:
			kind += " (external)"
		}
		row := []string{e.Name, kind, fmt.Sprint(e.Version), updated}
		if opts.Values {
			v, ok := plainValue(e)
			if !ok {
				v = "(hidden)"
			}
			row = append(row, v)
		}
		if opts.Fields {
			row = append(row, strings.Join(e.Fields, ","))
		}
		t.add(row...)
	}
	if len(entries) == 0 && opts.IO.OutTTY {
		printf(opts.IO.ErrOut, "No entries in account %s yet; add one with: ast secrets set NAME%s\n", account, opts.accountArg())
		return nil
	}
	if err := t.print(); err != nil {
		return err
	}
	printAliasHint(opts, account, entries, suggested)
	return nil
}

// printAliasHint tells, on stderr, which listed items need an alias to be referenced, and
// the command that gives them the suggested ones (keeping the aliases already set).
func printAliasHint(opts *ListOptions, account string, entries []pluginsdk.Entry, suggested map[string]string) {
	var items, names []string
	for _, e := range entries {
		if !e.NeedsAlias {
			continue
		}
		names = append(names, e.Name)
		if s := suggested[e.Name]; s != "" {
			items = append(items, s+":"+e.Name)
		}
	}
	if len(names) == 0 {
		return
	}
	are := "is not a valid entry name"
	if len(names) > 1 {
		are = "are not valid entry names"
	}
	printf(opts.IO.ErrOut, "%s %s (%s): a reference reaches %s only through an alias",
		strings.Join(names, ", "), are, pluginsdk.NameRule, themOrIt(len(names)))
	if len(items) > 0 {
		setting := strings.Join(items, ",")
		if opts.Aliases != nil {
			if have := strings.Trim(strings.TrimSpace(opts.Aliases()), ","); have != "" {
				setting = have + "," + setting
			}
		}
		printf(opts.IO.ErrOut, ":\n  ast account set %s --set %s\n", account, shellWord("aliases="+setting))
	} else {
		printf(opts.IO.ErrOut, ": ast account set %s --set aliases=ALIAS:backend-name\n", account)
	}
}

// shellWord quotes s for a shell when it has anything but letters, digits and _,.:=@+/-.
func shellWord(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_,.:=@+/-", r)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}
