package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/pluginsdk"
)

// ListOptions are the options of `secrets list`.
type ListOptions struct {
	IO      *IOStreams
	Backend func(context.Context) (pluginsdk.Backend, string, error)
	// AccountArg is " --account NAME" when hints must name the account (may be nil).
	AccountArg func() string
	Values     bool
	Fields     bool
	Output     string
}

func (o *ListOptions) accountArg() string {
	if o.AccountArg == nil {
		return ""
	}
	return o.AccountArg()
}

// NewCmdList is `ast secrets list`.
func NewCmdList(f *Factory) *cobra.Command {
	opts := &ListOptions{IO: f.IO, Backend: f.activeBackend, AccountArg: f.AccountArg}
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
reading them needs permission to read the values, a plain list does not.`,
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
	entries, err := b.List(ctx, pluginsdk.ListOptions{Values: opts.Values, Fields: opts.Fields})
	if err != nil {
		return err
	}
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
			if v, ok := plainValue(e); ok {
				out[i].Value = &v
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
		if e.External && opts.IO.OutTTY {
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
	return t.print()
}
