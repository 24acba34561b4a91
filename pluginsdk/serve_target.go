package pluginsdk

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	tpb "github.com/ast-cli/ast/pluginsdk/internal/targetv1"
)

// ServeTarget serves t as an ast deploy target plugin and never returns: it is all a
// target plugin's main does. It gives every guarantee of Serve (memory kept out of core
// files and from other processes, exit when ast dies, refusal to run by hand, connections
// only from its own user, exactly one Configure); stdout is the handshake channel here too.
func ServeTarget(t Target) {
	disableCoreDumps()
	if os.Getenv(TargetHandshake.MagicCookieKey) != TargetHandshake.MagicCookieValue {
		info, _ := t.Info(context.Background())
		fmt.Fprintf(os.Stderr, "%s is the %q deploy target plugin of ast (version %s, target protocol %d).\n"+
			"ast starts it for targets of this type: ast target add NAME --type %s\n"+
			"It is not meant to be run by hand.\n", os.Args[0], info.Name, info.Version, TargetProtocolVersion, info.Name)
		os.Exit(1)
	}
	setProcessName(filepath.Base(os.Args[0]))
	watchParent()
	logger := NewLogger("target")
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  TargetHandshake,
		VersionedPlugins: TargetPluginSets(t),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return plugin.DefaultGRPCServer(append(opts,
				grpc.Creds(sameUserCreds{uid: os.Geteuid(), log: logger}),
				grpc.ChainUnaryInterceptor(targetConfigureOnce()),
				grpc.MaxRecvMsgSize(MaxMessageBytes), grpc.MaxSendMsgSize(MaxMessageBytes)))
		},
		Logger: logger,
	})
	os.Exit(0)
}

// targetConfigureOnce is configureOnce for the target service: a target plugin serves one
// target (one cluster, one namespace) for the life of its process.
func targetConfigureOnce() grpc.UnaryServerInterceptor {
	var done atomic.Bool
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if info.FullMethod == tpb.Target_Configure_FullMethodName && done.Swap(true) {
			return nil, status.Error(codes.FailedPrecondition, "this plugin was already configured: a plugin process serves one Configure")
		}
		return handler(ctx, req)
	}
}
