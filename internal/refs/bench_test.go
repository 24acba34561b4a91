package refs

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/ast-cli/ast/pluginsdk"
)

// BenchmarkResolve1000 is the core's share of `ast run` with 1,000 references: parsing
// the --var arguments, one batched Get (answered in memory, so no plugin cost is
// measured), and building the child's environment. scripts/bench compares it with the
// end-to-end time.
func BenchmarkResolve1000(b *testing.B) {
	const n = 1000
	args := make([]string, n)
	entries := make(map[string]pluginsdk.Entry, n)
	for i := range n {
		name := fmt.Sprintf("BENCH_%05d", i+1)
		args[i] = name + "=@"
		entries[name] = pluginsdk.Entry{Name: name, Kind: pluginsdk.KindSecret, Version: 1,
			Value: pluginsdk.NewValue(fmt.Sprintf("v%05d-0123456789abcdef01234567", i+1))}
	}
	g := &fakeGetter{entries: entries}
	base := os.Environ()
	ctx := context.Background()
	for b.Loop() {
		g.calls = g.calls[:0]
		vars, err := ParseVars(args)
		if err != nil {
			b.Fatal(err)
		}
		r, err := Resolve(ctx, g, vars)
		if err != nil {
			b.Fatal(err)
		}
		if env := r.Environ(base); len(env) < n {
			b.Fatalf("Environ: %d variables, want at least %d", len(env), n)
		}
	}
}
