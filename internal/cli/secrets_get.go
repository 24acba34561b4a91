package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/internal/termtext"
	"github.com/ast-cli/ast/pluginsdk"
)

// GetOptions are the options of `secrets get`.
type GetOptions struct {
	IO         *IOStreams
	Backend    func(context.Context) (pluginsdk.Backend, string, error)
	AccountArg func() string
	Name       string
	Output     string
}

// NewCmdGet is `ast secrets get NAME`.
func NewCmdGet(f *Factory) *cobra.Command {
	opts := &GetOptions{IO: f.IO, Backend: f.activeBackend, AccountArg: f.AccountArg}
	cmd := &cobra.Command{
		Use:   "get NAME",
		Short: "Print a plain variable's value (a secret's value is never printed)",
		Long: `Print the value of the plain variable NAME. Piped, the value is written exactly, with no
newline added (VALUE=$(ast secrets get NAME) and > file keep it byte for byte); on a
terminal it is followed by a newline. --output json prints {name, kind, version, value}.

A secret is write-only: 'get' refuses it (exit 1). Use it through a reference:
ast run --var NAME=@NAME -- CMD.`,
		Example: `  ast secrets get REGION
  REGION=$(ast secrets get REGION)
  ast secrets get REGION -o json`,
		Args: exactArgs(1, "one NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runGet(cmd.Context(), opts)
		},
	}
	outputFlag(cmd, &opts.Output)
	return cmd
}

// gotEntry is the output of `secrets get --output json`.
type gotEntry struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Version int64  `json:"version"`
	Value   string `json:"value"`
}

func runGet(ctx context.Context, opts *GetOptions) error {
	if err := checkName(opts.Name); err != nil {
		return err
	}
	if err := checkOutput(opts.Output); err != nil {
		return err
	}
	b, account, err := opts.Backend(ctx)
	if err != nil {
		return err
	}
	res, err := b.Get(ctx, []string{opts.Name})
	if err != nil {
		return err
	}
	if err := res[0].Err; err != nil {
		if errors.Is(err, pluginsdk.ErrNotFound) {
			return missingEntry(opts.Name, account, opts.AccountArg())
		}
		return fmt.Errorf("%s: %w", opts.Name, err)
	}
	e := res[0].Entry
	if e.Kind != pluginsdk.KindPlain {
		return fmt.Errorf("%s is a secret in account %s: secrets are write-only and never printed. "+
			"Use it through a reference: ast run%s --var %s=@%s -- CMD", opts.Name, account, opts.AccountArg(), opts.Name, opts.Name)
	}
	v := e.Value.Reveal()
	switch {
	case opts.Output == "json":
		return writeJSON(opts.IO.Out, gotEntry{Name: opts.Name, Kind: string(e.Kind), Version: e.Version, Value: v})
	case opts.IO.OutTTY:
		_, err = fmt.Fprintln(opts.IO.Out, termtext.Text(v))
	default:
		_, err = io.WriteString(opts.IO.Out, v)
	}
	return err
}
