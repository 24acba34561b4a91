// Package cli is ast's command line: one file per command group, each command an options
// struct, a constructor that declares flags, and a run function that does the work.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

// Version is set at build time (-ldflags -X).
var Version = "dev"

// Main runs ast with args and returns the exit code. It is all cmd/ast calls.
func Main(args []string) int {
	ctx, stop := signalContext(context.Background())
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
	err := root.ExecuteContext(context.WithValue(ctx, commandLineKey{}, args))
	f.Close()
	var silent *silentError
	if sig, ok := context.Cause(ctx).(interrupted); ok && err != nil && !errors.As(err, &silent) {
		// A signal ended the command (a backend call, a read of stdin): exit as a shell
		// reports a job killed by it, 128+N.
		fmt.Fprintf(f.IO.ErrOut, "ast: cancelled (%s)\n", sig)
		return 128 + int(sig.Signal)
	}
	return exitCode(err, f.IO.ErrOut)
}

// interrupted is the cause of a command's context that a signal ended.
type interrupted struct{ syscall.Signal }

func (i interrupted) Error() string  { return "interrupted by " + signalName(i.Signal) }
func (i interrupted) String() string { return signalName(i.Signal) }

// signalContext returns a context that SIGINT, SIGTERM, SIGHUP and SIGQUIT cancel, with
// the signal as its cause (see interrupted). ast run and deploy --foreground forward
// signals to their child on their own (deploy.RunAttached); there the cancellation is
// harmless, as nothing waits on the context while the child runs.
func signalContext(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				cancel(interrupted{s.(syscall.Signal)})
			case <-done:
				return
			}
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// signalName is SIGTERM for syscall.SIGTERM.
func signalName(s syscall.Signal) string {
	if n := unix.SignalName(s); n != "" {
		return n
	}
	return s.String()
}

// NewRootCmd builds the ast command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	var showVersion bool
	root := &cobra.Command{
		Use:   "ast",
		Short: "Keep an account's secrets and plain variables, and resolve them when deploying agents",
		Long: `ast keeps an account's vault of secrets (encrypted, write-only: API keys, tokens,
passwords) and plain variables (readable config: a region, a feature flag), and resolves
--var KEY=@NAME references when an agent is deployed or a command is run.

Entries live in a backend chosen per account: a local encrypted file (the default),
HashiCorp Vault, AWS Secrets Manager, or a third-party plugin.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if showVersion && len(args) == 0 {
				return runVersion(cmd.Context(), &VersionOptions{F: f})
			}
			return groupRunE(cmd, args)
		},
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.PersistentFlags().StringVar(&f.AccountFlag, "account", "", "use this account for one command (env AST_ACCOUNT)")
	root.Flags().BoolVarP(&showVersion, "version", "v", false, "print the versions of ast and its plugins (as 'ast version')")
	_ = root.RegisterFlagCompletionFunc("account", f.completeAccounts)
	root.AddCommand(
		NewCmdSecrets(f),
		NewCmdAccount(f),
		NewCmdRun(f),
		NewCmdPlugin(f),
		NewCmdBlueprint(f),
		NewCmdVersion(f),
		NewCmdCompletion(),
		NewCmdTarget(f),
	)
	root.CompletionOptions.DisableDefaultCmd = true // NewCmdCompletion replaces it, visible
	markGroups(root)
	wireCompletion(root, f)
	return root
}

// markGroups makes every command group (a command with subcommands) report an unknown
// subcommand before any flag it does not know: `ast secrets sett X --value y` is about
// "sett", not "--value". The group's own flags (--help, --account) still work.
func markGroups(cmd *cobra.Command) {
	if cmd.HasSubCommands() {
		cmd.FParseErrWhitelist.UnknownFlags = true
	}
	for _, c := range cmd.Commands() {
		markGroups(c)
	}
}

// exactArgs is cobra.ExactArgs with a usage error that says what the command takes.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s takes %s (got %d %s); see '%s --help'", cmd.CommandPath(), what, len(args), plural(len(args), "argument", "arguments"), cmd.CommandPath())
		}
		return nil
	}
}

// groupRunE makes a command group print its help when called alone and refuse an
// unknown subcommand with a usage error that suggests the nearest ones (cobra would print
// help and succeed). A group called with only flags it does not know is a usage error.
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := nearestCommands(cmd, args[0]); len(s) > 0 {
			msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
		}
		return &usageError{errors.New(msg)}
	}
	if unknown := unknownFlags(cmd); len(unknown) > 0 {
		return usageErrorf("unknown flag %s for %q", unknown[0], cmd.CommandPath())
	}
	return cmd.Help()
}

// nearestCommands returns cmd's subcommands nearest to typed: those one edit away (or
// that it starts), else two edits away.
func nearestCommands(cmd *cobra.Command, typed string) []string {
	for d := 1; d <= 2; d++ {
		cmd.SuggestionsMinimumDistance = d
		if s := cmd.SuggestionsFor(typed); len(s) > 0 {
			return slices.Compact(s) // cobra names a command twice when two of its rules match
		}
	}
	return nil
}

// nearestNames returns the names nearest to typed by nearestCommands' rule (one edit
// away, or a name typed starts, else two edits away), for "did you mean" on names that are
// not commands: a backend, a target type. A name is also suggested for the words of
// knownAsWords people use for it (vault for hashicorp). typed itself is never suggested.
func nearestNames(typed string, names []string) []string {
	c := &cobra.Command{Use: "names"}
	seen := map[string]bool{typed: true}
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			c.AddCommand(&cobra.Command{Use: n, SuggestFor: knownAsWords[n], Run: func(*cobra.Command, []string) {}})
		}
	}
	return nearestCommands(c, typed)
}

// knownAsWords are the other words for a backend or target type.
var knownAsWords = map[string][]string{
	"hashicorp":  {"vault", "hcv", "hashicorp-vault"},
	"awssm":      {"aws", "secretsmanager", "secrets-manager", "aws-secrets-manager", "asm"},
	"kubernetes": {"k8s", "kube", "kubectl"},
}

// didYouMean is " (did you mean A or B?)" for the names nearest to typed, or "".
func didYouMean(typed string, names []string) string {
	if s := nearestNames(typed, names); len(s) > 0 {
		return fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
	}
	return ""
}

// commandLineKey is the context key of ast's arguments, as Run got them.
type commandLineKey struct{}

// unknownFlags returns the flags of the command line that cmd does not define (a group
// ignores them while it parses, so that an unknown subcommand is reported first).
func unknownFlags(cmd *cobra.Command) []string {
	var out []string
	args, _ := cmd.Context().Value(commandLineKey{}).([]string)
	for _, a := range args {
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			continue
		}
		name := strings.TrimLeft(a, "-")
		name, _, _ = strings.Cut(name, "=")
		if strings.HasPrefix(a, "--") {
			if cmd.Flags().Lookup(name) == nil && cmd.InheritedFlags().Lookup(name) == nil {
				out = append(out, a)
			}
		} else if cmd.Flags().ShorthandLookup(name[:1]) == nil && cmd.InheritedFlags().ShorthandLookup(name[:1]) == nil {
			out = append(out, a)
		}
	}
	return out
}
