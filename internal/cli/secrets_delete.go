package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/internal/termtext"
	"github.com/ast-cli/ast/pluginsdk"
)

// DeleteOptions are the options of `secrets delete`.
type DeleteOptions struct {
	IO      *IOStreams
	Backend func(context.Context) (pluginsdk.Backend, string, error)
	Names   []string
	Force   bool
}

// NewCmdDelete is `ast secrets delete NAME...`.
func NewCmdDelete(f *Factory) *cobra.Command {
	opts := &DeleteOptions{IO: f.IO, Backend: f.activeBackend}
	cmd := &cobra.Command{
		Use:     "delete NAME...",
		Aliases: []string{"rm"},
		Short:   "Delete entries",
		Long: `Delete one or more entries of the active account. A name that does not exist is an
error (the others are still deleted). An entry ast did not write (external: see secrets
list) is deleted only with --force; on Vault a delete removes every version.`,
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
	cmd.Flags().BoolVar(&opts.Force, "force", false, "also delete entries ast did not write (external)")
	return cmd
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
	if !opts.Force {
		ext, err := externalNames(ctx, b, opts.Names)
		if err != nil {
			return err
		}
		if len(ext) > 0 {
			return refuseExternal("delete", ext)
		}
	}
	pctx, stop := startProgress(ctx, opts.IO, "", "Deleting", len(opts.Names))
	res, callErr := b.Delete(pctx, opts.Names)
	stop()
	if callErr != nil && len(res) != len(opts.Names) {
		// A Backend that does not keep partial results: nothing is known.
		res = make([]pluginsdk.Result, len(opts.Names))
		for i, n := range opts.Names {
			res[i] = pluginsdk.OutcomeUnknown(n)
		}
	}
	var missing, unknown, notAttempted, failed []string
	for i, r := range res {
		name := opts.Names[i]
		switch {
		case r.Err == nil && r.Note != "":
			// A deletion that is not what "Deleted" says (AWS: scheduled, restorable).
			printf(opts.IO.ErrOut, "✓ %s (account %s): %s\n", name, account, r.Note)
		case r.Err == nil:
			fmt.Fprintf(opts.IO.ErrOut, "✓ Deleted %s from account %s\n", name, account)
		case errors.Is(r.Err, pluginsdk.ErrNotFound):
			missing = append(missing, name)
		case errors.Is(r.Err, pluginsdk.ErrOutcomeUnknown):
			unknown = append(unknown, name)
		case errors.Is(r.Err, pluginsdk.ErrNotAttempted):
			notAttempted = append(notAttempted, name)
		default:
			failed = append(failed, fmt.Sprintf("%s: %s", name, termtext.Line(r.Err.Error()))) // one line per name
		}
	}
	if len(missing) > 0 {
		failed = append(failed, fmt.Sprintf("no %s named %s in account %s", plural(len(missing), "entry", "entries"), joinNames(missing), account))
	}
	if len(notAttempted) > 0 {
		failed = append(failed, fmt.Sprintf("not deleted (the call stopped before them): %s", joinNames(notAttempted)))
	}
	if len(unknown) > 0 {
		failed = append(failed, fmt.Sprintf("not known whether %s %s deleted (the call stopped first; ast secrets list shows what is there)",
			joinNames(unknown), plural(len(unknown), "was", "were")))
	}
	if callErr != nil {
		if len(failed) == 0 {
			return callErr
		}
		// %w: a Ctrl-C still exits as cancelled.
		return fmt.Errorf("%w\n%s", callErr, strings.Join(failed, "\n"))
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "\n"))
	}
	return nil
}
