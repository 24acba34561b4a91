package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ast-cli/ast/internal/termtext"
	"github.com/ast-cli/ast/pluginsdk"
)

// Exit codes of ast, documented in README.md.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
	// ExitCancelled is a shell's code for SIGINT: Ctrl-C at a prompt or during a call.
	ExitCancelled = 130
)

// usageError is a mistake in how ast was called: exit code 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// configError is a problem of the configuration (an account's settings, the environment
// they fall back to, such as a missing AWS region): exit 1, whatever code the plugin gave.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

// settingsError turns the configuration error of settings given on the command line
// (account add/set --set) into the usage error it is there.
func settingsError(err error) error {
	var ce *configError
	if errors.As(err, &ce) && errors.Is(err, pluginsdk.ErrInvalidArgument) {
		return &usageError{ce.err}
	}
	return err
}

// silentError carries an exit code for a failure already reported (a child's exit code
// in ast run, a batch whose failures were printed name by name).
type silentError struct{ code int }

func (e *silentError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// exitCode prints err on w and returns the exit code for it. This is the one place that
// turns errors into messages and codes. The message passes termtext.Text: an error may
// quote a server, a plugin, a file or an argument, and none of them reaches the terminal
// with a raw control or bidi character (newlines and tabs of a multi-line message stay).
func exitCode(err error, w io.Writer) int {
	if err == nil {
		return ExitOK
	}
	var silent *silentError
	if errors.As(err, &silent) {
		return silent.code
	}
	var usage *usageError
	switch {
	case errors.As(err, &usage), strings.HasPrefix(err.Error(), "unknown command "):
		fmt.Fprintf(w, "ast: %s\n", termtext.Text(err.Error()))
		// A hint only where the command line itself was not understood; a rule broken by a
		// name or value is already stated in the message.
		if msg := err.Error(); strings.HasPrefix(msg, "unknown ") || strings.Contains(msg, "flag") {
			fmt.Fprintln(w, "Run 'ast --help' for usage.")
		}
		return ExitUsage
	case errors.Is(err, errCancelled), errors.Is(err, context.Canceled):
		fmt.Fprintln(w, "ast: cancelled")
		return ExitCancelled
	case errors.As(err, new(*configError)):
		fmt.Fprintf(w, "ast: %s\n", termtext.Text(err.Error()))
		return ExitFailure
	case errors.Is(err, pluginsdk.ErrInvalidArgument):
		fmt.Fprintf(w, "ast: %s\n", termtext.Text(err.Error()))
		return ExitUsage
	}
	fmt.Fprintf(w, "ast: %s\n", termtext.Text(err.Error()))
	return ExitFailure
}

// warnf prints "warning: MESSAGE" on w, the message through termtext.Text like an error's:
// a warning names files, lines and server text. Every warning of ast goes through it.
func warnf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "warning: %s\n", termtext.Text(fmt.Sprintf(format, args...)))
}

// printError prints "ast: ERR" on w through termtext.Text, for an error that is reported
// and then carried on as a silentError (exitCode never sees it).
func printError(w io.Writer, err error) {
	fmt.Fprintf(w, "ast: %s\n", termtext.Text(err.Error()))
}
