package pluginsdk

import (
	"context"
	"fmt"
	"os"

	tpb "github.com/ast-cli/ast/pluginsdk/internal/targetv1"
)

// ServeTarget serves t as an ast deploy target plugin and never returns: it is all a
// target plugin's main does. It gives every guarantee of Serve (memory kept out of core
// files and from other processes, exit when ast dies, refusal to run by hand, connections
// only from its own user, exactly one Configure); stdout is the handshake channel here too.
func ServeTarget(t Target) {
	serve(TargetHandshake, TargetPluginSets(t), tpb.Target_Configure_FullMethodName, "target", func() {
		info, _ := t.Info(context.Background())
		fmt.Fprintf(os.Stderr, "%s is the %q deploy target plugin of ast (version %s, target protocol %d).\n"+
			"ast starts it for targets of this type: ast target add NAME --type %s\n"+
			"It is not meant to be run by hand.\n", os.Args[0], info.Name, info.Version, TargetProtocolVersion, info.Name)
	})
}
