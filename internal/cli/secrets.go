package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
		Short:   "Set, get, list, delete and import secrets and plain variables",
		Long: `Entries of the active account. A secret is write-only: its value is never shown, only
used through references (ast run, ast blueprint deploy). A plain variable (--plain) is
readable with 'ast secrets get NAME' and 'ast secrets list --values'.

Names: letters, digits and underscores, not starting with a digit, at most 128 bytes
(they become environment variable names). Values: UTF-8 text, 1 byte to 64 KiB, no NUL.`,
	}
	cmd.AddCommand(newCmdWrite(f, pluginsdk.Upsert), newCmdWrite(f, pluginsdk.Create), newCmdWrite(f, pluginsdk.Update),
		NewCmdGet(f), NewCmdList(f), NewCmdDelete(f), NewCmdImport(f))
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

// checkName validates an entry name given on the command line: a usage error that states
// the rule and suggests the nearest valid name. NAME=value is taken for what it is, a
// value on the wrong side of the name.
func checkName(name string) error {
	err := pluginsdk.ValidateName(name)
	if err == nil {
		return nil
	}
	if n, _, ok := cutAssignment(name); ok {
		// The value is not repeated: it may be a secret.
		return usageErrorf("%s=… is not a name (a name is [A-Za-z_][A-Za-z0-9_]*): give the value with --value (ast secrets set %s --value VALUE), --value-file or on standard input", n, n)
	}
	if s := pluginsdk.SuggestName(name); s != "" && s != name {
		return usageErrorf("%v (did you mean %s?)", err, s)
	}
	return &usageError{err}
}

// cutAssignment splits NAME=VALUE when what comes before '=' is a valid name.
func cutAssignment(arg string) (name, value string, ok bool) {
	name, value, ok = strings.Cut(arg, "=")
	return name, value, ok && pluginsdk.ValidateName(name) == nil
}

func kindWord(k pluginsdk.Kind) string {
	if k == pluginsdk.KindPlain {
		return "plain variable"
	}
	return "secret"
}

// missingEntry is the one phrasing of "this account has no entry NAME", with the
// command that creates it (accountArg keeps the hint on the same account).
func missingEntry(name, account, accountArg string) error {
	return fmt.Errorf("no entry named %s in account %s; create it with: ast secrets set %s%s", name, account, name, accountArg)
}

// lookupKind returns the kind of the entry name, whether it exists and whether it is
// external (ast did not write it), with one List (names and kinds only: no value crosses
// the wire). A kind of plain, and an entry listed as ast's own, are confirmed with a Get,
// which reads the kind and the origin the backend proves: a List may show a label nobody
// proved (a Vault metadata label can be written by a token that cannot read or write
// values), writing a secret's new value as plain would make it readable, and writing
// over a secret a team wrote would replace it without --force. A secret whose Get is
// refused (a token that may write but not read) keeps what List said.
func lookupKind(ctx context.Context, b pluginsdk.Backend, name string) (kind pluginsdk.Kind, ok, external bool, err error) {
	entries, err := b.List(ctx, pluginsdk.ListOptions{})
	if err != nil {
		return "", false, false, err
	}
	for _, e := range entries {
		if e.Name != name {
			continue
		}
		if e.Kind != pluginsdk.KindPlain && e.External {
			return pluginsdk.KindSecret, true, true, nil
		}
		res, err := b.Get(ctx, []string{name})
		switch {
		case err != nil:
			return "", false, false, err
		case len(res) != 1:
			return "", false, false, fmt.Errorf("the backend answered %d results for one name", len(res))
		case errors.Is(res[0].Err, pluginsdk.ErrNotFound):
			return "", false, false, nil // deleted since the List
		case res[0].Err != nil && e.Kind != pluginsdk.KindPlain:
			return pluginsdk.KindSecret, true, false, nil // unreadable: List's word
		case res[0].Err != nil:
			return "", false, false, fmt.Errorf("%s: %w", name, res[0].Err)
		}
		if res[0].Entry.External {
			return pluginsdk.KindSecret, true, true, nil
		}
		return res[0].Entry.Kind, true, res[0].Entry.External, nil
	}
	return "", false, false, nil
}
