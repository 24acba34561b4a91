package host

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"

	"google.golang.org/grpc/credentials"
)

// errNoPeerCredentials is what socketPeerUID returns where the system cannot tell a Unix
// socket's peer.
var errNoPeerCredentials = errors.New("peer credentials are not available on this system")

// sameUserServer are the host's transport credentials for the plugin connection: no
// encryption (the socket is local, in ast's own 0700 directory), and a handshake that
// refuses a socket served by another user than ast's, so that nobody who managed to put
// a socket of their own in the plugin's place receives a Configure or a value.
type sameUserServer struct{}

type peerInfo struct{ credentials.CommonAuthInfo }

func (peerInfo) AuthType() string { return "peercred" }

func (sameUserServer) ClientHandshake(_ context.Context, _ string, conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	uid, err := connPeerUID(conn)
	if err != nil && !errors.Is(err, errNoPeerCredentials) {
		_ = conn.Close()
		return nil, nil, fmt.Errorf("the plugin's socket: %w", err)
	}
	if err == nil && uid != os.Geteuid() {
		_ = conn.Close()
		return nil, nil, fmt.Errorf("refusing the plugin's socket: it is served by user id %d, not by you", uid)
	}
	return conn, peerInfo{credentials.CommonAuthInfo{SecurityLevel: credentials.NoSecurity}}, nil
}

func (sameUserServer) ServerHandshake(net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return nil, nil, errors.New("host: same-user credentials are for the client side")
}

func (sameUserServer) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "peercred"}
}

func (c sameUserServer) Clone() credentials.TransportCredentials { return c }

func (sameUserServer) OverrideServerName(string) error { return nil }

// connPeerUID returns the user id of the process at the other end of conn, a Unix socket
// connection; errNoPeerCredentials where the system cannot say.
func connPeerUID(conn net.Conn) (int, error) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return 0, fmt.Errorf("a %T is not a socket", conn)
	}
	if _, ok := conn.LocalAddr().(*net.UnixAddr); !ok {
		return 0, errNoPeerCredentials // go-plugin's TCP loopback, where there are no Unix sockets
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, err
	}
	uid, perr := 0, error(nil)
	if err := raw.Control(func(fd uintptr) { uid, perr = socketPeerUID(int(fd)) }); err != nil {
		return 0, err
	}
	return uid, perr
}
