// Package cli is ast's command line: one file per command group, each command an options
// struct, a constructor that declares flags, and a run function that does the work.
package cli

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Version is set at build time (-ldflags -X).
var Version = "dev"

// Main runs ast with args and returns the exit code. It is all cmd/ast calls.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	disableCoreDumps()
	f := NewFactory(System())
	defer f.Close()
	return Run(ctx, f, args)
}

// Run executes the root command for args with f, and returns the exit code.
func Run(ctx context.Context, f *Factory, args []string) int {
	root := NewRootCmd(f)
	root.SetArgs(args)
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	err := root.ExecuteContext(ctx)
	f.Close()
	return exitCode(err, f.IO.ErrOut)
}

// NewRootCmd builds the ast command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "ast",
		Short: "Keep an account's secrets and plain variables, and resolve them when deploying agents",
		Long: `ast keeps an account's vault of secrets (encrypted, write-only: API keys, tokens,
passwords) and plain variables (readable config: a region, a feature flag), and resolves
--var KEY=@NAME references when an agent is deployed or a command is run.

Entries live in a backend chosen per account: a local encrypted file (the default),
HashiCorp Vault, AWS Secrets Manager, or a third-party plugin.`,
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.PersistentFlags().StringVar(&f.AccountFlag, "account", "", "use this account for one command (env AST_ACCOUNT)")
	root.AddCommand(
		NewCmdSecrets(f),
		NewCmdAccount(f),
		NewCmdRun(f),
		NewCmdPlugin(f),
		NewCmdBlueprint(f),
	)
	root.CompletionOptions.HiddenDefaultCmd = true
	return root
}

// exactArgs is cobra.ExactArgs with a usage error that says what the command takes.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s takes %s (got %d arguments); see '%s --help'", cmd.CommandPath(), what, len(args), cmd.CommandPath())
		}
		return nil
	}
}

// groupRunE makes a command group print its help when called alone and refuse an
// unknown subcommand with a usage error (cobra would print help and succeed).
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return cmd.Help()
}
