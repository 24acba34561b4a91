package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/internal/deploy"
	"github.com/ast-cli/ast/internal/refs"
	"github.com/ast-cli/ast/pluginsdk"
)

// RunOptions are the options of `ast run`.
type RunOptions struct {
	IO      *IOStreams
	Backend func(context.Context) (pluginsdk.Backend, string, error)
	Environ func() []string
	// Close stops the backend plugin before the command starts.
	Close func()
	// AccountArg is " --account NAME" when hints must name the account.
	AccountArg func() string

	Vars []string
	// CleanEnv starts CMD from deploy.AgentEnviron (the agents' minimal environment)
	// instead of the whole of the user's.
	CleanEnv bool
	Command  []string
}

// NewCmdRun is `ast run [--var KEY=VALUE]... -- CMD [ARG]...`.
// varGrammar is the --var grammar and its errors, in the help of run and blueprint deploy
// (internal/refs ParseVar, Resolve and Field are where each rule is enforced).
const varGrammar = `  KEY=@NAME        the value of entry NAME of the active account (secret or plain)
  KEY=@            shorthand for KEY=@KEY
  KEY=@NAME#FIELD  one field of entry NAME: split at the first #, FIELD is the rest,
                   verbatim, non-empty, without control characters; a data key of a
                   Vault secret ast did not write, else a top-level key of a JSON object
                   value (an AWS SecretString, an entry holding JSON); a string gives
                   its text, a number, true, false or null its JSON text (5432)
  KEY=\@text       the literal text "@text"
  KEY=anything     a literal value (user@example.com is a literal too)
An item whose name in the backend is not an entry name (db-creds, rds.primary) is
referenced through an alias of the account's aliases setting (see 'ast secrets list').

Errors never show a value; they name the variable, or the entry and the field:
  exit 2, nothing is read: a KEY or NAME that is not a valid name, @#FIELD (the
    shorthand is @ alone), an empty FIELD, a control character in FIELD;
  exit 1, nothing starts, all reported at once: every missing entry (with the command
    that creates it), every entry the backend refuses (permission denied; an AWS
    secret that holds binary data, not text), every FIELD that is missing (the fields
    present are named), that is a JSON object or array (its type is named), or whose
    entry's value is not a JSON object.
`

func NewCmdRun(f *Factory) *cobra.Command {
	opts := &RunOptions{IO: f.IO, Backend: f.activeBackend, Environ: f.Environ, Close: f.Close, AccountArg: f.AccountArg}
	cmd := &cobra.Command{
		Use:   "run [--var KEY=VALUE]... -- CMD [ARG]...",
		Short: "Run a command with variables resolved from the account",
		Long: `Run CMD with the given variables added to its environment, and exit with its status.

--var KEY=VALUE grammar (the same as 'ast blueprint deploy'):
` + varGrammar + `
Every reference is resolved in one batched call before CMD starts; if any is missing,
every missing name is reported and CMD does not run. Values reach CMD only through its
environment: never ast's own environment, its arguments or its output.

CMD inherits your environment, as a command you type does; --clean-env starts it from
the minimal environment a deployed agent gets (PATH, HOME, USER, LOGNAME, SHELL, LANG,
LC_*, TZ, TMPDIR, TERM) plus the variables, leaving VAULT_TOKEN, AWS_* keys and the
rest of your environment behind.`,
		Example: `  ast run --var ANTHROPIC_API_KEY=@ -- python agent.py
  ast run --var DB_PASSWORD=@PROD_DB_PASSWORD --var MODE=prod -- ./server`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("run needs a command after --: ast run [--var KEY=VALUE]... -- CMD [ARG]...")
			}
			if err := splitVar(cmd); err != nil {
				return err
			}
			if cmd.ArgsLenAtDash() < 0 {
				return usageErrorf("run needs its command after --: %s", commandAfterDash(cmd, args[0]))
			}
			if cmd.ArgsLenAtDash() > 0 {
				return usageErrorf("unexpected arguments before --: %v; the whole command goes after --: %s",
					args[:cmd.ArgsLenAtDash()], commandAfterDash(cmd, args[0]))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Command = args
			return runRun(cmd.Context(), opts)
		},
	}
	cmd.SetFlagErrorFunc(commandFlagError)
	cmd.Flags().StringArrayVar(&opts.Vars, "var", nil, "a variable KEY=VALUE, KEY=@NAME or KEY=@ (repeatable)")
	cmd.Flags().BoolVar(&opts.CleanEnv, "clean-env", false, "start CMD from a minimal environment (PATH, HOME, USER, LANG, LC_*, TZ, TMPDIR, TERM, ...) plus the variables, as an agent")
	return cmd
}

func runRun(ctx context.Context, opts *RunOptions) error {
	vars, err := refs.ParseVars(opts.Vars)
	if err != nil {
		return &usageError{err}
	}
	var getter refs.Getter
	account := ""
	if hasRef(vars) {
		b, name, err := opts.Backend(ctx)
		if err != nil {
			return err
		}
		getter, account = b, name
	}
	resolved, err := refs.Resolve(ctx, getter, vars)
	if err != nil {
		return nameAccount(err, account, opts.AccountArg)
	}
	opts.Close() // the plugin has done its part; it does not outlive resolution
	// CMD is the user's own command, run as they would run it: it inherits their whole
	// environment (as with doppler run, op run, chamber exec) unless --clean-env asks for
	// an agent's minimal one.
	base := opts.Environ()
	if opts.CleanEnv {
		base = deploy.AgentEnviron(base, nil)
	}
	return runChild(opts.IO, opts.Command, resolved.Environ(base))
}

// commandFlagError is the flag error of a command that runs another command after --
// (ast run): a flag that comes after the first positional argument is the command's own
// (`ast run --var R=@R sh -c 'echo $R'` fails on -c), so the error says where the command
// goes, as kubectl exec does. Other flag errors are usage errors as they are.
func commandFlagError(cmd *cobra.Command, err error) error {
	if pos := cmd.Flags().Args(); len(pos) > 0 && cmd.ArgsLenAtDash() < 0 {
		if serr := splitVar(cmd); serr != nil {
			return serr
		}
		return usageErrorf("%v\nthe command to run goes after --, so that its flags are its own: %s",
			err, commandAfterDash(cmd, pos[0]))
	}
	return &usageError{err}
}

// splitVar is the usage error of a --var without '=' (--var KEY VALUE: a space for the
// '='), nil when there is none: then the next word, which the messages about the command
// quote as the command's first word, is likely a literal value, so none is quoted.
func splitVar(cmd *cobra.Command) error {
	vars, _ := cmd.Flags().GetStringArray("var")
	for i, v := range vars {
		if !strings.Contains(v, "=") {
			return usageErrorf("--var #%d has no \"=\": the form is one word, --var KEY=VALUE, KEY=@NAME or KEY=@ "+
				"(the words after it are not shown: one may be the value)", i+1)
		}
	}
	return nil
}

// commandAfterDash is the usage line of cmd (ast run) with the command the user typed in
// place: "ast run [--var KEY=VALUE]... -- sh [ARG]...". Only the command's first word is
// quoted, never its arguments or the --var values (which may hold literals not meant for
// a log).
func commandAfterDash(cmd *cobra.Command, first string) string {
	use, _, _ := strings.Cut(cmd.Use, " -- ")
	_, flags, _ := strings.Cut(use, " ")
	return fmt.Sprintf("%s %s -- %s [ARG]...", cmd.CommandPath(), flags, first)
}

// nameAccount completes a missing-entry error with the account (and, in its hint, the
// --account that reaches it).
func nameAccount(err error, account string, accountArg func() string) error {
	var missing *refs.MissingError
	if errors.As(err, &missing) {
		missing.Account = account
		if accountArg != nil {
			missing.AccountArg = accountArg()
		}
	}
	return err
}

func hasRef(vars []refs.Var) bool {
	for _, v := range vars {
		if v.IsRef() {
			return true
		}
	}
	return false
}

// runChild runs argv attached to the terminal with env, the same way the local deploy
// target runs a --foreground agent, and returns a silentError carrying its exit status.
func runChild(ios *IOStreams, argv []string, env []string) error {
	code, err := deploy.RunAttached(deploy.Spec{Command: argv, Env: env}, ios.In, ios.Out, ios.ErrOut, nil)
	// A command that cannot start exits as a shell's would: 127 not found, 126 not executable.
	switch {
	case errors.Is(err, exec.ErrNotFound), errors.Is(err, fs.ErrNotExist):
		printError(ios.ErrOut, err)
		return &silentError{code: 127}
	case errors.Is(err, fs.ErrPermission):
		printError(ios.ErrOut, err)
		return &silentError{code: 126}
	case err != nil:
		return err
	}
	if code != 0 {
		return &silentError{code: code}
	}
	return nil
}
