// Command brokenplugin is an ast backend plugin that breaks one rule of the backend
// contract on purpose, for the tests of `ast plugin test`: the suite must fail it in the
// check that names the rule. It is the local backend (entries in the "dir" setting's
// directory) with one fault, chosen by the environment (the host passes it to plugins):
//
//	AST_BROKEN=racy_create    Create checks, waits, then writes: concurrent creates of one
//	                          name from several processes all win (a lost create)
//	AST_BROKEN=leaks_value    a per-name error of Put carries the value written
//	AST_BROKEN=plain_errors   "already exists" is a plain error, without the code
//	AST_BROKEN=noisy          works, but writes to stderr during List and logs through a
//	                          logger made after Serve (for AST_LOG=debug)
//	AST_BROKEN=list_fails     List fails with a plain error "boom from List"
//
// It is not shipped.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ast-cli/ast/plugins/local"
	"github.com/ast-cli/ast/pluginsdk"
)

func main() {
	pluginsdk.Serve(&broken{Backend: local.New(), fault: os.Getenv("AST_BROKEN")})
}

type broken struct {
	*local.Backend
	fault string
}

func (b *broken) Info(ctx context.Context) (pluginsdk.Info, error) {
	info, err := b.Backend.Info(ctx)
	info.Name = "broken"
	return info, err
}

func (b *broken) List(ctx context.Context, opts pluginsdk.ListOptions) ([]pluginsdk.Entry, error) {
	switch b.fault {
	case "noisy":
		fmt.Fprintln(os.Stderr, "brokenplugin: a line on stderr during List")
		pluginsdk.NewLogger("late").Warn("a warning from a logger made after Serve")
	case "list_fails":
		return nil, errors.New("boom from List")
	}
	return b.Backend.List(ctx, opts)
}

// Put breaks the rule of its fault. The local backend reports each result as it goes
// (pluginsdk.Report), and a reported result is final; so the inner calls report into a
// context of their own, and Put reports its own, altered, results at the end.
func (b *broken) Put(ctx context.Context, entries []pluginsdk.Entry, mode pluginsdk.PutMode) ([]pluginsdk.Result, error) {
	res, err := b.put(pluginsdk.WithReporter(ctx, func(int, pluginsdk.Result) {}), entries, mode)
	for i := range res {
		pluginsdk.Report(ctx, i, res[i])
	}
	return res, err
}

func (b *broken) put(ctx context.Context, entries []pluginsdk.Entry, mode pluginsdk.PutMode) ([]pluginsdk.Result, error) {
	if b.fault == "racy_create" && mode == pluginsdk.Create {
		out := make([]pluginsdk.Result, len(entries))
		for i, e := range entries {
			got, err := b.Backend.Get(ctx, []string{e.Name})
			if err != nil {
				return nil, err
			}
			if got[0].Err == nil {
				out[i].Err = pluginsdk.Errorf(pluginsdk.ErrAlreadyExists, "entry %q already exists", e.Name)
				continue
			}
			time.Sleep(50 * time.Millisecond) // check, then write: another process wins meanwhile
			res, err := b.Backend.Put(ctx, []pluginsdk.Entry{e}, pluginsdk.Upsert)
			if err != nil {
				return nil, err
			}
			out[i] = res[0]
		}
		return out, nil
	}
	res, err := b.Backend.Put(ctx, entries, mode)
	if err != nil {
		return nil, err
	}
	for i := range res {
		switch {
		case b.fault == "leaks_value" && res[i].Err != nil:
			res[i].Err = &pluginsdk.Error{Code: pluginsdk.CodeOf(res[i].Err),
				Message: fmt.Sprintf("%v (value %s)", res[i].Err, entries[i].Value.Reveal())}
		case b.fault == "plain_errors" && errors.Is(res[i].Err, pluginsdk.ErrAlreadyExists):
			res[i].Err = errors.New(res[i].Err.Error())
		}
	}
	return res, nil
}
