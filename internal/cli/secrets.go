package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/pluginsdk"
)

// NewCmdSecrets is `ast secrets`: the entries of the active account.
func NewCmdSecrets(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "secrets",
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRunE,
		Aliases: []string{"secret"},
		Short:   "Create, list, update, delete and import secrets and plain variables",
		Long: `Entries of the active account. A secret is write-only: its value is never shown, only
used through references (ast run, ast blueprint deploy). A plain variable (--plain) is
readable with 'ast secrets list --values'.

Names: letters, digits and underscores, not starting with a digit, at most 128 bytes
(they become environment variable names). Values: UTF-8 text, 1 byte to 64 KiB, no NUL.`,
	}
	cmd.AddCommand(newCmdWrite(f, pluginsdk.Create), newCmdWrite(f, pluginsdk.Update),
		NewCmdList(f), NewCmdDelete(f), NewCmdImport(f))
	return cmd
}

// WriteOptions are the options of `secrets create` and `secrets update`, which differ
// only by the Put mode.
type WriteOptions struct {
	IO      *IOStreams
	Backend func(context.Context) (pluginsdk.Backend, string, error) // backend and account name

	Mode     pluginsdk.PutMode
	Name     string
	Value    string
	HasValue bool
	Plain    bool
}

func newCmdWrite(f *Factory, mode pluginsdk.PutMode) *cobra.Command {
	opts := &WriteOptions{IO: f.IO, Mode: mode, Backend: f.activeBackend}
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a secret (or, with --plain, a plain variable)",
		Long: `Create a secret, or with --plain a plain variable, in the active account.

The value comes from --value, else a prompt with hidden input on a terminal, else standard
input (one trailing newline is dropped), so 'ast secrets create KEY < key.pem' works.
Creating a name that exists fails: use 'ast secrets update'.`,
		Example: `  ast secrets create ANTHROPIC_API_KEY
  ast secrets create REGION --value us-east-1 --plain
  printf %s "$TOKEN" | ast secrets create GITHUB_TOKEN`,
		Args: exactArgs(1, "one NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name, opts.HasValue = args[0], cmd.Flags().Changed("value")
			return runWrite(cmd.Context(), opts)
		},
	}
	if mode == pluginsdk.Update {
		cmd.Use, cmd.Short = "update NAME", "Change the value of an existing secret or plain variable"
		cmd.Long = `Change the value of an existing entry of the active account; its kind stays.

The value comes from --value, else a prompt with hidden input on a terminal, else standard
input (one trailing newline is dropped). Updating a name that does not exist fails.`
		cmd.Example = `  ast secrets update ANTHROPIC_API_KEY
  ast secrets update REGION --value eu-west-1`
	}
	cmd.Flags().StringVar(&opts.Value, "value", "", "the value (visible in your shell history and process list: prefer the prompt or stdin for secrets)")
	if mode == pluginsdk.Create {
		cmd.Flags().BoolVar(&opts.Plain, "plain", false, "store a plain (readable, not secret) variable")
	}
	return cmd
}

// activeBackend starts the backend of the active account.
func (f *Factory) activeBackend(ctx context.Context) (pluginsdk.Backend, string, error) {
	acct, err := f.ActiveAccount()
	if err != nil {
		return nil, "", err
	}
	b, err := f.Backend(ctx, acct)
	return b, acct.Name, err
}

func runWrite(ctx context.Context, opts *WriteOptions) error {
	if err := checkName(opts.Name); err != nil {
		return err
	}
	// The value is read before the plugin starts: the plugin shares stdin.
	value, err := readValue(ctx, opts.IO, opts.Name, opts.Value, opts.HasValue)
	if err != nil {
		return err
	}
	b, account, err := opts.Backend(ctx)
	if err != nil {
		return err
	}
	kind := pluginsdk.KindSecret
	if opts.Plain {
		kind = pluginsdk.KindPlain
	}
	if opts.Mode == pluginsdk.Update {
		// An update keeps the kind, which the backend knows.
		if kind, err = kindOf(ctx, b, opts.Name); err != nil {
			return err
		}
	}
	res, err := b.Put(ctx, []pluginsdk.Entry{{Name: opts.Name, Kind: kind, Value: value}}, opts.Mode)
	if err != nil {
		return err
	}
	if err := res[0].Err; err != nil {
		switch {
		case errors.Is(err, pluginsdk.ErrAlreadyExists):
			return fmt.Errorf("%s already exists in account %s; change it with: ast secrets update %s", opts.Name, account, opts.Name)
		case errors.Is(err, pluginsdk.ErrNotFound):
			return fmt.Errorf("%s does not exist in account %s; create it with: ast secrets create %s", opts.Name, account, opts.Name)
		}
		return fmt.Errorf("%s: %w", opts.Name, err)
	}
	verb := map[pluginsdk.PutMode]string{pluginsdk.Create: "Created", pluginsdk.Update: "Updated"}[opts.Mode]
	fmt.Fprintf(opts.IO.ErrOut, "✓ %s %s %s in account %s\n", verb, kindWord(kind), opts.Name, account)
	return nil
}

// checkName validates an entry name given on the command line: a usage error that states
// the rule and suggests the nearest valid name.
func checkName(name string) error {
	err := pluginsdk.ValidateName(name)
	if err == nil {
		return nil
	}
	if s := pluginsdk.SuggestName(name); s != "" && s != name {
		return usageErrorf("%v (did you mean %s?)", err, s)
	}
	return &usageError{err}
}

func kindWord(k pluginsdk.Kind) string {
	if k == pluginsdk.KindPlain {
		return "plain variable"
	}
	return "secret"
}

// kindOf returns the kind of the entry name, or an error naming it when it is missing.
func kindOf(ctx context.Context, b pluginsdk.Backend, name string) (pluginsdk.Kind, error) {
	entries, err := b.List(ctx, pluginsdk.ListOptions{})
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if e.Name == name {
			return e.Kind, nil
		}
	}
	return "", fmt.Errorf("%s does not exist in this account; create it with: ast secrets create %s", name, name)
}

// readValue returns the value of a create or update: flag, else a hidden prompt on a
// terminal, else stdin with one trailing newline dropped. The value is validated; errors
// never contain it.
func readValue(ctx context.Context, ios *IOStreams, name, flag string, hasFlag bool) (pluginsdk.Value, error) {
	var s string
	switch {
	case hasFlag:
		s = flag
	case ios.InTTY:
		var err error
		if s, err = ios.PromptHidden(ctx, fmt.Sprintf("Value for %s (input hidden): ", name)); err != nil {
			return pluginsdk.Value{}, err
		}
	default:
		b, err := io.ReadAll(io.LimitReader(ios.In, pluginsdk.MaxValueBytes+3))
		if err != nil {
			return pluginsdk.Value{}, fmt.Errorf("reading the value from standard input: %w", err)
		}
		b, _ = bytes.CutSuffix(b, []byte("\n"))
		b, _ = bytes.CutSuffix(b, []byte("\r"))
		s = string(b)
	}
	v := pluginsdk.NewValue(s)
	if err := pluginsdk.ValidateValue(v); err != nil {
		return v, &usageError{fmt.Errorf("%s: %w", name, err)}
	}
	return v, nil
}

// ListOptions are the options of `secrets list`.
type ListOptions struct {
	IO      *IOStreams
	Backend func(context.Context) (pluginsdk.Backend, string, error)
	Values  bool
	Output  string
}

// NewCmdList is `ast secrets list`.
func NewCmdList(f *Factory) *cobra.Command {
	opts := &ListOptions{IO: f.IO, Backend: f.activeBackend}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List entries: names, kinds, versions, times (never a secret's value)",
		Long: `List the entries of the active account: name, kind, version and last update.
--values also shows plain variables' values; a secret's value is never shown.
On a terminal this is a table; piped, tab-separated lines (name, kind, version,
updated, and value with --values; tabs and newlines inside a value become spaces, use
--output json for exact values); --output json prints an array of objects with name, kind, created_at,
updated_at, version and, with --values, value for plain variables.`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error { return runList(cmd.Context(), opts) },
	}
	cmd.Flags().BoolVar(&opts.Values, "values", false, "show plain variables' values (secrets stay hidden)")
	outputFlag(cmd, &opts.Output)
	return cmd
}

// listedEntry is one element of `secrets list --output json`.
type listedEntry struct {
	Name      string  `json:"name"`
	Kind      string  `json:"kind"`
	CreatedAt *string `json:"created_at"`
	UpdatedAt *string `json:"updated_at"`
	Version   int64   `json:"version"`
	Value     *string `json:"value,omitempty"`
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
	b, _, err := opts.Backend(ctx)
	if err != nil {
		return err
	}
	entries, err := b.List(ctx, pluginsdk.ListOptions{Values: opts.Values})
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
				UpdatedAt: rfc3339(e.UpdatedAt), Version: e.Version}
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
	t := newTable(opts.IO.Out, opts.IO.OutTTY, header...)
	for _, e := range entries {
		updated := ""
		if u := rfc3339(e.UpdatedAt); u != nil {
			updated = *u
		}
		row := []string{e.Name, string(e.Kind), fmt.Sprint(e.Version), updated}
		if opts.Values {
			v, ok := plainValue(e)
			if !ok {
				v = "(hidden)"
			}
			row = append(row, v)
		}
		t.add(row...)
	}
	if len(entries) == 0 && opts.IO.OutTTY {
		fmt.Fprintln(opts.IO.ErrOut, "No entries in this account yet; add one with: ast secrets create NAME")
		return nil
	}
	return t.print()
}

// DeleteOptions are the options of `secrets delete`.
type DeleteOptions struct {
	IO      *IOStreams
	Backend func(context.Context) (pluginsdk.Backend, string, error)
	Names   []string
}

// NewCmdDelete is `ast secrets delete NAME...`.
func NewCmdDelete(f *Factory) *cobra.Command {
	opts := &DeleteOptions{IO: f.IO, Backend: f.activeBackend}
	return &cobra.Command{
		Use:     "delete NAME...",
		Aliases: []string{"rm"},
		Short:   "Delete entries",
		Long: `Delete one or more entries of the active account. A name that does not exist is an
error (the others are still deleted).`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("%s takes one or more NAMEs", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Names = args
			return runDelete(cmd.Context(), opts)
		},
	}
}

func runDelete(ctx context.Context, opts *DeleteOptions) error {
	for _, n := range opts.Names {
		if err := checkName(n); err != nil {
			return err
		}
	}
	b, account, err := opts.Backend(ctx)
	if err != nil {
		return err
	}
	res, err := b.Delete(ctx, opts.Names)
	if err != nil {
		return err
	}
	var missing, failed []string
	for i, r := range res {
		name := opts.Names[i]
		switch {
		case r.Err == nil:
			fmt.Fprintf(opts.IO.ErrOut, "✓ Deleted %s from account %s\n", name, account)
		case errors.Is(r.Err, pluginsdk.ErrNotFound):
			missing = append(missing, name)
		default:
			failed = append(failed, fmt.Sprintf("%s: %v", name, r.Err))
		}
	}
	if len(missing) > 0 {
		failed = append(failed, fmt.Sprintf("no entry named %s in account %s", joinNames(missing), account))
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "\n"))
	}
	return nil
}
