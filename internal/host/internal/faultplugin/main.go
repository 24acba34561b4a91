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
//
//	AST_FAULT_PIDDIR=DIR    creates DIR/PID when it starts, DIR/PID.call when a faulty call begins
//	AST_FAULT_CALLS=FILE    appends "OP N" to FILE for each List, Get, Put and Delete of N items
//	AST_FAULT_MAXBATCH=N    reports N as Info.MaxBatch
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
	b := &backend{mode: mode, maxBatch: maxBatch, entries: map[string]pluginsdk.Entry{},
		log: pluginsdk.NewLogger("fault")}
	switch mode {
	case "", "ok", "panic", "hang", "exit-in-call", "fail":
	case "garbage":
		fmt.Println("hello from a plugin that prints on stdout")
	case "exit":
		fmt.Fprintln(os.Stderr, "fault plugin: exiting before the handshake")
		os.Exit(3)
	case "proto2":
		serveProtocol2(b)
		return
	default:
		fmt.Fprintf(os.Stderr, "fault plugin: unknown AST_FAULT %q\n", mode)
		os.Exit(2)
	}
	pluginsdk.Serve(b)
}

// serveProtocol2 serves b as protocol 2 only, the way a plugin from a later ast would.
func serveProtocol2(b pluginsdk.Backend) {
	hs := pluginsdk.Handshake
	hs.ProtocolVersion = 2
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  hs,
		VersionedPlugins: map[int]plugin.PluginSet{2: {pluginsdk.PluginName: &pluginsdk.GRPCPlugin{Impl: b}}},
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
	log      hclog.Logger

	mu      sync.Mutex
	entries map[string]pluginsdk.Entry
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

func (b *backend) Put(_ context.Context, entries []pluginsdk.Entry, mode pluginsdk.PutMode) ([]pluginsdk.Result, error) {
	if err := b.call("Put", len(entries)); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]pluginsdk.Result, len(entries))
	for i, e := range entries {
		old, exists := b.entries[e.Name]
		switch {
		case pluginsdk.ValidateName(e.Name) != nil:
			out[i].Err = pluginsdk.ValidateName(e.Name)
		case pluginsdk.ValidateValue(e.Value) != nil:
			out[i].Err = pluginsdk.ValidateValue(e.Value)
		case exists && mode == pluginsdk.Create:
			out[i].Err = pluginsdk.Errorf(pluginsdk.ErrAlreadyExists, "entry %q already exists", e.Name)
		case !exists && mode == pluginsdk.Update:
			out[i].Err = pluginsdk.Errorf(pluginsdk.ErrNotFound, "entry %q not found", e.Name)
		default:
			e.Version = old.Version + 1
			b.entries[e.Name] = e
			out[i].Entry = pluginsdk.Entry{Name: e.Name, Kind: e.Kind, Version: e.Version}
		}
	}
	return out, nil
}

func (b *backend) Delete(_ context.Context, names []string) ([]pluginsdk.Result, error) {
	if err := b.call("Delete", len(names)); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]pluginsdk.Result, len(names))
	for i, name := range names {
		if _, ok := b.entries[name]; ok {
			delete(b.entries, name)
			out[i].Entry = pluginsdk.Entry{Name: name}
		} else {
			out[i].Err = pluginsdk.Errorf(pluginsdk.ErrNotFound, "entry %q not found", name)
		}
	}
	return out, nil
}
