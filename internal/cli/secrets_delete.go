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
			failed = append(failed, fmt.Sprintf("%s: %s", name, termtext.Line(r.Err.Error()))) // one line per name
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
