// Command faultplugin is an ast backend plugin named "fault" that misbehaves on purpose,
// for the tests of internal/host and cmd/ast: it is how those tests get a plugin that
// panics, hangs, exits or prints garbage in a real process. It is not shipped.
//
// The environment chooses what it does (the host passes its environment to plugins):
//
//	AST_FAULT=ok            an in-memory backend that works (the default)
//	AST_FAULT=panic         List, Get, Put and Delete panic; the panic value holds panicMarker
//	AST_FAULT=hang          List, Get, Put and Delete never return, ignoring their context
//	AST_FAULT=exit-in-call  List, Get, Put and Delete exit the process with status 0
//	AST_FAULT=fail          List, Get, Put and Delete fail as a live backend does: List
//	                        ErrUnavailable, Get ErrInternal, Put an error without a code,
//	                        Delete ErrPermissionDenied
//	AST_FAULT=garbage       prints a line on stdout before the go-plugin handshake
//	AST_FAULT=exit          exits with status 3 before the handshake
//	AST_FAULT=proto2        speaks only backend protocol 2 (served with go-plugin directly)
//	AST_FAULT=proto0        speaks only backend protocol 0, as a plugin older than protocol 1
//	AST_FAULT=report-exit   Put and Delete write and report AST_FAULT_AFTER names (counted
//	                        over all calls), then exit
//	AST_FAULT=report-hang   the same, but hang instead of exiting
//	AST_FAULT=slow          Put and Delete take AST_FAULT_DELAY per name, reporting each
//	AST_FAULT=slow-heartbeat  Put and Delete take AST_FAULT_DELAY per name, sending only
//	                        heartbeats (a retry for each name), and answer at the end
//
// In every other mode Put and Delete report each name as they go (pluginsdk.Report).
//
//	AST_FAULT_PIDDIR=DIR    creates DIR/PID when it starts, DIR/PID.call when a faulty call begins
//	AST_FAULT_CALLS=FILE    appends "OP N" to FILE for each List, Get, Put and Delete of N items
//	AST_FAULT_MAXBATCH=N    reports N as Info.MaxBatch
//	AST_FAULT_SEED=A,B      starts with secrets A and B (the store is the process's memory)
//	AST_FAULT_AFTER=N       see report-exit and report-hang (default 0)
//	AST_FAULT_DELAY=D       see slow (a Go duration, default 100ms)
//
// Before a faulty call it logs a warning through pluginsdk.NewLogger, so that tests can
// check that a plugin's own warnings reach the user while its panic output does not.
package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/ast-cli/ast/pluginsdk"
)

// panicMarker is in the panic value of AST_FAULT=panic. It stands for a secret that a
// crashing plugin might have in its panic text: ast must not print it without AST_LOG=debug.
const panicMarker = "fault-panic-marker-4f1d"

// warningMarker is in the warning the plugin logs before a faulty call.
const warningMarker = "fault-warning-marker-9c2e"

func main() {
	mode := os.Getenv("AST_FAULT")
	if dir := os.Getenv("AST_FAULT_PIDDIR"); dir != "" {
		touch(filepath.Join(dir, strconv.Itoa(os.Getpid())))
	}
	maxBatch, _ := strconv.Atoi(os.Getenv("AST_FAULT_MAXBATCH"))
	after, _ := strconv.Atoi(os.Getenv("AST_FAULT_AFTER"))
	delay, err := time.ParseDuration(os.Getenv("AST_FAULT_DELAY"))
	if err != nil {
		delay = 100 * time.Millisecond
	}
	b := &backend{mode: mode, maxBatch: maxBatch, after: after, delay: delay, entries: map[string]pluginsdk.Entry{},
		log: pluginsdk.NewLogger("fault")}
	for _, name := range strings.FieldsFunc(os.Getenv("AST_FAULT_SEED"), func(r rune) bool { return r == ',' }) {
		b.entries[name] = pluginsdk.Entry{Name: name, Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue("seed"), Version: 1}
	}
	switch mode {
	case "", "ok", "panic", "hang", "exit-in-call", "fail", "report-exit", "report-hang", "slow", "slow-heartbeat":
	case "garbage":
		fmt.Println("hello from a plugin that prints on stdout")
	case "exit":
		fmt.Fprintln(os.Stderr, "fault plugin: exiting before the handshake")
		os.Exit(3)
	case "proto2":
		serveProtocol(b, 2)
		return
	case "proto0":
		serveProtocol(b, 0)
		return
	default:
		fmt.Fprintf(os.Stderr, "fault plugin: unknown AST_FAULT %q\n", mode)
		os.Exit(2)
	}
	pluginsdk.Serve(b)
}

// serveProtocol serves b as protocol version only, the way a plugin from a later (or an
// earlier) ast would.
func serveProtocol(b pluginsdk.Backend, version int) {
	hs := pluginsdk.Handshake
	hs.ProtocolVersion = uint(version)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  hs,
		VersionedPlugins: map[int]plugin.PluginSet{version: {pluginsdk.PluginName: &pluginsdk.GRPCPlugin{Impl: b}}},
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger:           pluginsdk.NewLogger("plugin"),
	})
}

func touch(path string) {
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		fmt.Fprintf(os.Stderr, "fault plugin: %v\n", err)
		os.Exit(2)
	}
}

// backend is a map of entries, lost when the process ends, with faults on demand.
type backend struct {
	mode     string
	maxBatch int
	after    int
	delay    time.Duration
	log      hclog.Logger

	mu      sync.Mutex
	entries map[string]pluginsdk.Entry
	done    int // names of Put and Delete calls begun, for report-exit and report-hang
}

// failures are the errors of AST_FAULT=fail.
var failures = map[string]error{
	"List":   pluginsdk.Errorf(pluginsdk.ErrUnavailable, "the fault backend cannot reach its server at 192.0.2.1:8200"),
	"Get":    pluginsdk.Errorf(pluginsdk.ErrInternal, "the fault backend has a bug"),
	"Put":    errors.New("an error without a code"),
	"Delete": pluginsdk.Errorf(pluginsdk.ErrPermissionDenied, "the fault backend refuses the token"),
}

// call records a data call and then fails as the mode says: a panic, a hang or an exit
// here, or an error the caller returns.
func (b *backend) call(op string, n int) error {
	if f := os.Getenv("AST_FAULT_CALLS"); f != "" {
		out, err := os.OpenFile(f, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err == nil {
			fmt.Fprintf(out, "%s %d\n", op, n)
			out.Close()
		}
	}
	switch b.mode {
	case "fail":
		return failures[op]
	case "panic", "hang", "exit-in-call":
	default:
		return nil
	}
	if dir := os.Getenv("AST_FAULT_PIDDIR"); dir != "" {
		touch(filepath.Join(dir, strconv.Itoa(os.Getpid())+".call"))
	}
	b.log.Warn("about to fail on purpose", "marker", warningMarker, "mode", b.mode, "op", op)
	switch b.mode {
	case "panic":
		panic(fmt.Sprintf("fault plugin: %s with a value in memory: %s", op, panicMarker))
	case "hang":
		for {
			time.Sleep(time.Hour)
		}
	case "exit-in-call":
		os.Exit(0)
	}
	return nil
}

func (b *backend) Configure(context.Context, string, map[string]string) error { return nil }

func (b *backend) Info(context.Context) (pluginsdk.Info, error) {
	return pluginsdk.Info{Name: "fault", Version: "0.0.1-test", Protocol: pluginsdk.ProtocolVersion,
		MaxBatch: b.maxBatch, Capabilities: []string{pluginsdk.CapVersions}}, nil
}

func (b *backend) List(_ context.Context, opts pluginsdk.ListOptions) ([]pluginsdk.Entry, error) {
	if err := b.call("List", 0); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	out := []pluginsdk.Entry{}
	for _, name := range slices.Sorted(maps.Keys(b.entries)) {
		e := b.entries[name]
		if e.Kind != pluginsdk.KindPlain || !opts.Values {
			e.Value = pluginsdk.Value{}
		}
		out = append(out, e)
	}
	return out, nil
}

func (b *backend) Get(_ context.Context, names []string) ([]pluginsdk.Result, error) {
	if err := b.call("Get", len(names)); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]pluginsdk.Result, len(names))
	for i, name := range names {
		if e, ok := b.entries[name]; ok {
			out[i].Entry = e
		} else {
			out[i].Err = pluginsdk.Errorf(pluginsdk.ErrNotFound, "entry %q not found", name)
		}
	}
	return out, nil
}

func (b *backend) Put(ctx context.Context, entries []pluginsdk.Entry, mode pluginsdk.PutMode) ([]pluginsdk.Result, error) {
	if err := b.call("Put", len(entries)); err != nil {
		return nil, err
	}
	return b.each(ctx, len(entries), func(i int) (r pluginsdk.Result) {
		e := entries[i]
		old, exists := b.entries[e.Name]
		switch {
		case pluginsdk.ValidateName(e.Name) != nil:
			r.Err = pluginsdk.ValidateName(e.Name)
		case pluginsdk.ValidateValue(e.Value) != nil:
			r.Err = pluginsdk.ValidateValue(e.Value)
		case exists && mode == pluginsdk.Create:
			r.Err = pluginsdk.Errorf(pluginsdk.ErrAlreadyExists, "entry %q already exists", e.Name)
		case !exists && mode == pluginsdk.Update:
			r.Err = pluginsdk.Errorf(pluginsdk.ErrNotFound, "entry %q not found", e.Name)
		default:
			e.Version = old.Version + 1
			b.entries[e.Name] = e
			r.Entry = pluginsdk.Entry{Name: e.Name, Kind: e.Kind, Version: e.Version}
		}
		return r
	})
}

func (b *backend) Delete(ctx context.Context, names []string) ([]pluginsdk.Result, error) {
	if err := b.call("Delete", len(names)); err != nil {
		return nil, err
	}
	return b.each(ctx, len(names), func(i int) (r pluginsdk.Result) {
		name := names[i]
		if _, ok := b.entries[name]; ok {
			delete(b.entries, name)
			r.Entry = pluginsdk.Entry{Name: name}
			r.Note = "deleted by the fault plugin"
		} else {
			r.Entry.Name = name
			r.Err = pluginsdk.Errorf(pluginsdk.ErrNotFound, "entry %q not found", name)
		}
		return r
	})
}

// each applies one to the n items of a Put or Delete in order, under the lock, and
// reports each result, with the faults of the report-* and slow modes.
func (b *backend) each(ctx context.Context, n int, one func(i int) pluginsdk.Result) ([]pluginsdk.Result, error) {
	out := make([]pluginsdk.Result, n)
	for i := range n {
		b.mu.Lock()
		done := b.done
		b.done++
		b.mu.Unlock()
		switch {
		case b.mode == "report-exit" && done == b.after:
			time.Sleep(300 * time.Millisecond) // lets the reported results reach the host
			os.Exit(0)
		case b.mode == "report-hang" && done == b.after:
			for {
				time.Sleep(time.Hour)
			}
		case b.mode == "slow":
			time.Sleep(b.delay)
		case b.mode == "slow-heartbeat":
			pluginsdk.Retrying(ctx)
			for end := time.Now().Add(b.delay); time.Now().Before(end); {
				time.Sleep(b.delay / 4)
				pluginsdk.Heartbeat(ctx)
			}
		}
		b.mu.Lock()
		out[i] = one(i)
		b.mu.Unlock()
		if b.mode != "slow-heartbeat" {
			pluginsdk.Report(ctx, i, out[i])
		}
	}
	return out, nil
}
