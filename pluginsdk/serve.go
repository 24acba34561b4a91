package pluginsdk

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/ast-cli/ast/pluginsdk/internal/backendv1"
)

// Serve serves b as an ast backend plugin and never returns: it is all a plugin's main
// does. Before serving it
//   - keeps its memory out of core files and away from other processes of the user
//     (prctl(PR_SET_DUMPABLE, 0) on Linux, which also hides /proc/PID/environ and
//     /proc/PID/mem and refuses ptrace by the user's other processes; the core size
//     limit is left as it is),
//   - exits when ast, its parent, dies, even by SIGKILL (a parent-death signal, and a
//     watch of the parent process as a fallback), so no plugin outlives the command,
//   - when run by hand rather than by ast, prints what it is and exits with status 1.
//
// While serving, it accepts connections only from processes of its own user (the peer
// credentials of the Unix socket, SO_PEERCRED on Linux: a refused peer's connection is
// closed before any call and logged as a warning), and exactly one Configure per process,
// whatever its outcome: a second one fails with ErrFailedPrecondition, so nothing can
// rebind a running plugin to another account or address. The socket itself lives in the
// directory ast names in PLUGIN_UNIX_SOCKET_DIR (a fresh 0700 directory per command).
//
// Plugin stdout is go-plugin's handshake channel: b must never print to it. Log through
// NewLogger, which writes to stderr; ast shows those lines only with AST_LOG=debug.
func Serve(b Backend) {
	serve(Handshake, PluginSets(b), pb.Backend_Configure_FullMethodName, "plugin", func() {
		info, _ := b.Info(context.Background())
		fmt.Fprintf(os.Stderr, "%s is the %q backend plugin of ast (version %s, backend protocol %d).\n"+
			"ast starts it for accounts that use this backend: ast account add NAME --backend %s\n"+
			"It is not meant to be run by hand.\n", os.Args[0], info.Name, info.Version, ProtocolVersion, info.Name)
	})
}

// serve is what Serve and ServeTarget share: the guarantees in Serve's doc, then
// go-plugin's server with the handshake and plugin sets of one service, whose Configure
// method (its full gRPC name) is accepted once. byHand says what the plugin is when it
// was not started by ast; serve then exits with status 1.
func serve(handshake plugin.HandshakeConfig, sets map[int]plugin.PluginSet, configure, logName string, byHand func()) {
	disableCoreDumps()
	if os.Getenv(handshake.MagicCookieKey) != handshake.MagicCookieValue {
		byHand()
		os.Exit(1)
	}
	// ast executes the checked file by descriptor (/proc/self/fd/N), which names the
	// process "N" in ps and top: give it back its own name.
	setProcessName(filepath.Base(os.Args[0]))
	closeExecutableOnExec()
	watchParent()
	logger := NewLogger(logName)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: sets,
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts, callLog(logger)...)
			return plugin.DefaultGRPCServer(append(opts,
				grpc.Creds(sameUserCreds{uid: os.Geteuid(), log: logger}),
				grpc.ChainUnaryInterceptor(configureOnce(configure)),
				grpc.MaxRecvMsgSize(MaxMessageBytes), grpc.MaxSendMsgSize(MaxMessageBytes)))
		},
		Logger: logger,
	})
	os.Exit(0)
}

// configureOnce returns a server interceptor that lets the first call of method (a
// service's Configure) through and refuses every later one with FailedPrecondition,
// whether the first succeeded or not: a plugin serves one account (or target) for the
// life of its process.
func configureOnce(method string) grpc.UnaryServerInterceptor {
	var done atomic.Bool
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if info.FullMethod == method && done.Swap(true) {
			return nil, status.Error(codes.FailedPrecondition, "this plugin was already configured: a plugin process serves one Configure")
		}
		return handler(ctx, req)
	}
}

// NewLogger returns a logger for a plugin: JSON lines on stderr, which go-plugin relays to
// the host. The level is debug when AST_LOG=debug, else warn: the host prints a plugin's
// warnings and errors (a "retrying" line, say) on stderr, and everything with AST_LOG=debug.
// Never log a value.
func NewLogger(name string) hclog.Logger {
	level := hclog.Warn
	if os.Getenv("AST_LOG") == "debug" {
		level = hclog.Debug
	}
	return hclog.New(&hclog.LoggerOptions{Name: name, Output: os.Stderr, JSONFormat: true, Level: level})
}

// ParentPIDEnv is the environment variable in which ast tells a plugin its own process
// id, so that the plugin can tell that ast died before the plugin was watching, from ast
// running as process 1 in a container.
const ParentPIDEnv = "AST_PLUGIN_PARENT_PID"

// watchParent exits the plugin when its parent changes (the parent died and the plugin was
// re-parented). It backs up the parent-death signal, which fires only on Linux.
func watchParent() {
	parent := os.Getppid()
	setParentDeathSignal()
	if orphaned(parent, os.Getppid(), os.Getenv(ParentPIDEnv)) {
		os.Exit(1)
	}
	go func() {
		for range time.Tick(250 * time.Millisecond) {
			if os.Getppid() != parent {
				os.Exit(1)
			}
		}
	}()
}

// orphaned reports whether the host died before the plugin armed the parent-death signal:
// the parent changed meanwhile (before is the parent before arming, after the parent
// after), or the parent is not the host that hostEnv (ParentPIDEnv) names. Without
// hostEnv (a host other than ast), a parent of 1 is taken to mean the plugin was
// re-parented to init; with it, ast may itself be process 1, as in a container.
func orphaned(before, after int, hostEnv string) bool {
	if before != after {
		return true
	}
	if host, err := strconv.Atoi(hostEnv); err == nil {
		return host != before
	}
	return before == 1
}
