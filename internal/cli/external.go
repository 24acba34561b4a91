package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/ast-cli/ast/pluginsdk"
)

// externalNames returns those of names that are external entries (not written by ast: see
// pluginsdk.Entry.External), sorted as List answers, with one List (no value).
func externalNames(ctx context.Context, b pluginsdk.Backend, names []string) ([]string, error) {
	entries, err := b.List(ctx, pluginsdk.ListOptions{})
	if err != nil {
		return nil, err
	}
	return externalOf(entries, names), nil
}

// externalOf returns those of names that entries list as external.
func externalOf(entries []pluginsdk.Entry, names []string) []string {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []string
	for _, e := range entries {
		if e.External && want[e.Name] {
			out = append(out, e.Name)
		}
	}
	return out
}

// refuseExternal is the error of a write or delete (what: "overwrite", "delete") that
// would change entries ast did not write, without --force. A delete says that Vault loses
// every version.
func refuseExternal(what string, names []string) error {
	which := "entry " + names[0] + " is"
	if len(names) > 1 {
		which = "entries " + strings.Join(names, ", ") + " are"
	}
	msg := fmt.Sprintf("%s external: ast did not write %s (vault kv put, a rotation job, the console); "+
		"ast does not %s what it did not write unless told to: add --force", which, themOrIt(len(names)), what)
	if what == "delete" {
		msg += " (on Vault a delete removes every version and the metadata, not only the current one)"
	}
	return fmt.Errorf("%s", msg)
}

func themOrIt(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}
