package local

import (
	"context"
	"fmt"
	"testing"

	"github.com/ast-cli/ast/pluginsdk"
)

// BenchmarkPut10000 imports 10,000 new entries in one batch into an empty account: one
// read, one encryption, one durable write.
func BenchmarkPut10000(b *testing.B) {
	dir := b.TempDir()
	entries := make([]pluginsdk.Entry, 10000)
	for i := range entries {
		entries[i] = secret(nameOf(i), 0)
	}
	// The key exists before the loop, as it does for every import but the first.
	mustSucceed(b, mustPut(b, newBackend(b, dir, "warmup"), pluginsdk.Create, secret("A", 0)))
	n := 0
	for b.Loop() {
		n++
		mustSucceed(b, mustPut(b, newBackend(b, dir, fmt.Sprintf("acct%d", n)), pluginsdk.Create, entries...))
	}
}

// BenchmarkList1000 lists an account of 1,000 entries with a new Backend each time, as
// each `ast secrets list` starts a new plugin process: Configure, key read, decryption,
// parse.
func BenchmarkList1000(b *testing.B) {
	dir := b.TempDir()
	entries := make([]pluginsdk.Entry, 1000)
	for i := range entries {
		entries[i] = secret(nameOf(i), 0)
		if i%4 == 0 {
			entries[i].Kind = pluginsdk.KindPlain
		}
	}
	mustSucceed(b, mustPut(b, newBackend(b, dir, "default"), pluginsdk.Create, entries...))
	for b.Loop() {
		list, err := newBackend(b, dir, "default").List(context.Background(), pluginsdk.ListOptions{Values: true})
		if err != nil || len(list) != 1000 {
			b.Fatalf("List: %d entries, %v", len(list), err)
		}
	}
}
