package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/ast-cli/ast/pluginsdk"
)

// TestImportLimits checks that a .env file over the size or entry limit is refused with
// exit code 2 (InvalidArgument) before any backend starts, so nothing is written; and
// that a file just at the entry limit gets to the backend.
func TestImportLimits(t *testing.T) {
	manyEntries := func(n int) []byte {
		var b bytes.Buffer
		for i := range n {
			fmt.Fprintf(&b, "K%d=v\n", i)
		}
		return b.Bytes()
	}
	tests := []struct {
		name    string
		src     []byte
		want    string // "" = reaches the backend
		started bool
	}{
		{"one byte over the size limit", append(bytes.Repeat([]byte("#"), maxEnvFileBytes), '\n'), "larger than 64 MiB", false},
		{"one entry over the count limit", manyEntries(maxEnvEntries + 1), "defines 10001 entries, more than the 10000", false},
		{"at the count limit", manyEntries(maxEnvEntries), "", true},
	}
	for _, tt := range tests {
		for _, file := range []string{"-", "big.env"} {
			ios, _, _ := Test(string(tt.src))
			started := false
			opts := &ImportOptions{IO: ios, File: file, DryRun: true,
				Open: func(string) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(tt.src)), nil },
				Backend: func(context.Context) (pluginsdk.Backend, string, error) {
					started = true
					return nil, "", errors.New("the test's backend")
				},
			}
			err := runImport(context.Background(), opts)
			if started != tt.started {
				t.Errorf("%s (--file %s): backend started %v, want %v", tt.name, file, started, tt.started)
			}
			if tt.want == "" {
				continue
			}
			if !errors.Is(err, pluginsdk.ErrInvalidArgument) || !strings.Contains(err.Error(), tt.want) ||
				!strings.Contains(err.Error(), "nothing was imported") {
				t.Errorf("%s (--file %s): %v, want InvalidArgument with %q", tt.name, file, err, tt.want)
			}
		}
	}
}
