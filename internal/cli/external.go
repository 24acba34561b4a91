package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/ast-cli/ast/pluginsdk"
)

// externalNames returns those of names that are external entries (not written by ast: see
// pluginsdk.Entry.External), sorted as List answers: one List (no value), and one Get of
// the names it shows as ast's own (see externalOf).
func externalNames(ctx context.Context, b pluginsdk.Backend, names []string) ([]string, error) {
	entries, err := b.List(ctx, pluginsdk.ListOptions{})
	if err != nil {
		return nil, err
	}
	return externalOf(ctx, b, entries, names)
}

// externalOf returns those of names that are external: listed as external in entries, or
// listed as ast's own but read as external by one batched Get. List may tell from
// metadata alone (a Vault label, which a token that may update metadata but not values
// can forge to make a secret a team wrote look like ast's); Get reads the version itself,
// as the rule says ("its current version is not in ast's layout"). A name Get cannot read
// (no read permission, deleted since) keeps what List said; a failed Get call fails.
func externalOf(ctx context.Context, b pluginsdk.Backend, entries []pluginsdk.Entry, names []string) ([]string, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	external := map[string]bool{}
	var own []string
	for _, e := range entries {
		switch {
		case !want[e.Name]:
		case e.External:
			external[e.Name] = true
		default:
			own = append(own, e.Name)
		}
	}
	if len(own) > 0 {
		res, err := b.Get(ctx, own)
		if err != nil {
			return nil, err
		}
		for i, r := range res {
			if i < len(own) && r.Err == nil && r.Entry.External {
				external[own[i]] = true
			}
		}
	}
	var out []string
	for _, e := range entries {
		if external[e.Name] {
			out = append(out, e.Name)
		}
	}
	return out, nil
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
