package pluginsdk

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/credentials"
)

// errNoPeerCredentials is what peerUID returns where the system has no way to ask a Unix
// socket for its peer's user.
var errNoPeerCredentials = errors.New("peer credentials are not available on this system")

// sameUserCreds are the plugin server's transport credentials: no encryption (the socket
// is local, in a directory only the user can enter), and a handshake that closes any
// connection whose peer runs as another user than the plugin. It is defence in depth
// behind the 0700 socket directory: a umask, a group or a directory mode that let another
// user reach the socket still does not let it call the plugin.
type sameUserCreds struct {
	uid int
	log hclog.Logger
}

type peerAuthInfo struct {
	credentials.CommonAuthInfo
	uid int
}

func (peerAuthInfo) AuthType() string { return "peercred" }

// ServerHandshake refuses conn unless its peer's user id is the plugin's own.
func (c sameUserCreds) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	uid, err := connPeerUID(conn)
	if errors.Is(err, errNoPeerCredentials) {
		// Nothing to ask: the 0700 socket directory is the only guard.
		return conn, peerAuthInfo{CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.NoSecurity}, uid: -1}, nil
	}
	if err != nil {
		_ = conn.Close()
		if c.log != nil {
			c.log.Warn("refused a connection whose peer credentials cannot be read", "error", err.Error())
		}
		return nil, nil, fmt.Errorf("peer credentials: %w", err)
	}
	if uid != c.uid {
		_ = conn.Close()
		if c.log != nil {
			c.log.Warn("refused a connection from another user", "peer_uid", uid)
		}
		return nil, nil, fmt.Errorf("refused a connection from user id %d (the plugin serves user id %d only)", uid, c.uid)
	}
	return conn, peerAuthInfo{CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.NoSecurity}, uid: uid}, nil
}

// ClientHandshake is not used: these credentials are for the plugin's server only.
func (sameUserCreds) ClientHandshake(context.Context, string, net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return nil, nil, errors.New("pluginsdk: same-user credentials are for the server side")
}

func (sameUserCreds) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "peercred"}
}

func (c sameUserCreds) Clone() credentials.TransportCredentials { return c }

func (sameUserCreds) OverrideServerName(string) error { return nil }

// connPeerUID returns the user id of the process at the other end of conn, a Unix socket
// connection. A connection of another kind is an error.
func connPeerUID(conn net.Conn) (int, error) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return 0, fmt.Errorf("a %T is not a socket", conn)
	}
	if _, ok := conn.LocalAddr().(*net.UnixAddr); !ok {
		return 0, fmt.Errorf("not a Unix socket (%s)", conn.LocalAddr().Network())
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, err
	}
	uid, perr := 0, error(nil)
	if err := raw.Control(func(fd uintptr) { uid, perr = peerUID(int(fd)) }); err != nil {
		return 0, err
	}
	return uid, perr
}
