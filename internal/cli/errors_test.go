package cli

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/ast-cli/ast/pluginsdk"
)

// TestExitCodes: README's table of exit codes.
func TestExitCodes(t *testing.T) {
	region := pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "no AWS region: set the account's region")
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"success", nil, 0},
		{"failure", errors.New("backend unreachable"), 1},
		{"missing AWS region at Configure is configuration", &configError{fmt.Errorf("account prod (backend awssm): %w", region)}, 1},
		{"the same from account add --set is usage", settingsError(&configError{region}), 2},
		{"usage", usageErrorf("bad flag"), 2},
		{"invalid argument from a call", region, 2},
		{"cancelled", errCancelled, 130},
		{"child status", &silentError{code: 7}, 7},
	}
	for _, tc := range tests {
		if got := exitCode(tc.err, io.Discard); got != tc.want {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.want)
		}
	}
}
