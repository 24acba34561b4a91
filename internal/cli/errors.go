package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

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

// silentError carries an exit code for a failure already reported (a child's exit code
// in ast run, a batch whose failures were printed name by name).
type silentError struct{ code int }

func (e *silentError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// exitCode prints err on w and returns the exit code for it. This is the one place that
// turns errors into messages and codes.
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
		fmt.Fprintf(w, "ast: %s\n", err)
		// A hint only where the command line itself was not understood; a rule broken by a
		// name or value is already stated in the message.
		if msg := err.Error(); strings.HasPrefix(msg, "unknown ") || strings.Contains(msg, "flag") {
			fmt.Fprintln(w, "Run 'ast --help' for usage.")
		}
		return ExitUsage
	case errors.Is(err, errCancelled), errors.Is(err, context.Canceled):
		fmt.Fprintln(w, "ast: cancelled")
		return ExitCancelled
	case errors.Is(err, pluginsdk.ErrInvalidArgument):
		fmt.Fprintf(w, "ast: %s\n", err)
		return ExitUsage
	}
	fmt.Fprintf(w, "ast: %s\n", err)
	return ExitFailure
}
