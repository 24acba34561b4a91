package pluginsdk

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/ast-cli/ast/pluginsdk/internal/backendv1"
)

// Handshake is the go-plugin handshake of ast backend plugins. The magic cookie only tells
// a plugin that ast started it; it is not a security measure.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "AST_BACKEND_PLUGIN",
	MagicCookieValue: "b7c5d1f0-ast-backend",
}

// PluginName is the name of the backend in go-plugin's plugin set.
const PluginName = "backend"

// MaxMessageBytes bounds one gRPC message either way: a List of 10,000 entries or an import
// of 10,000 values of 64 KiB each must fit in one call.
const MaxMessageBytes = 1 << 30

// PluginSets returns the versioned plugin sets of this SDK for impl (nil on the host side).
// Each protocol version maps to its own set, so a later protocol is served beside this one.
func PluginSets(impl Backend) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		ProtocolVersion: {PluginName: &GRPCPlugin{Impl: impl}},
	}
}

// GRPCDialOptions are the options hosts pass to go-plugin's client (ClientConfig.GRPCDialOptions).
func GRPCDialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithDefaultCallOptions(
		grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.MaxCallSendMsgSize(MaxMessageBytes))}
}

// GRPCPlugin is the go-plugin adapter of Backend over protocol 1. Impl is set on the plugin
// side and nil on the host side.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl Backend
}

// GRPCServer registers the backend service.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterBackendServer(s, &grpcServer{impl: p.Impl})
	return nil
}

// GRPCClient returns a Backend that calls the plugin over conn.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return &grpcClient{c: pb.NewBackendClient(conn)}, nil
}

// grpcServer is the plugin side: it turns requests into calls of the Backend.
type grpcServer struct {
	pb.UnimplementedBackendServer
	impl Backend
}

func (s *grpcServer) Configure(ctx context.Context, r *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	return &pb.ConfigureResponse{}, toStatus(s.impl.Configure(ctx, r.Account, r.Settings))
}

func (s *grpcServer) Info(ctx context.Context, _ *pb.InfoRequest) (*pb.InfoResponse, error) {
	info, err := s.impl.Info(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.InfoResponse{Name: info.Name, Version: info.Version, Protocol: int32(info.Protocol),
		MaxBatch: int32(info.MaxBatch), Capabilities: info.Capabilities}, nil
}

func (s *grpcServer) List(ctx context.Context, r *pb.ListRequest) (*pb.ListResponse, error) {
	entries, err := s.impl.List(ctx, ListOptions{Values: r.Values})
	if err != nil {
		return nil, toStatus(err)
	}
	out := make([]*pb.Entry, len(entries))
	for i, e := range entries {
		if e.Kind != KindPlain || !r.Values {
			e.Value = Value{} // a secret's value never crosses the wire in List
		}
		out[i] = entryToProto(e)
	}
	return &pb.ListResponse{Entries: out}, nil
}

func (s *grpcServer) Get(ctx context.Context, r *pb.GetRequest) (*pb.GetResponse, error) {
	res, err := s.impl.Get(ctx, r.Names)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.GetResponse{Results: resultsToProto(res)}, nil
}

func (s *grpcServer) Put(ctx context.Context, r *pb.PutRequest) (*pb.PutResponse, error) {
	entries := make([]Entry, len(r.Entries))
	for i, e := range r.Entries {
		entries[i] = entryFromProto(e)
	}
	res, err := s.impl.Put(ctx, entries, PutMode(r.Mode))
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.PutResponse{Results: resultsToProto(res)}, nil
}

func (s *grpcServer) Delete(ctx context.Context, r *pb.DeleteRequest) (*pb.DeleteResponse, error) {
	res, err := s.impl.Delete(ctx, r.Names)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.DeleteResponse{Results: resultsToProto(res)}, nil
}

// grpcClient is the host side: a Backend whose calls go to the plugin.
type grpcClient struct{ c pb.BackendClient }

func (c *grpcClient) Configure(ctx context.Context, account string, settings map[string]string) error {
	_, err := c.c.Configure(ctx, &pb.ConfigureRequest{Account: account, Settings: settings})
	return fromStatus(err)
}

func (c *grpcClient) Info(ctx context.Context) (Info, error) {
	r, err := c.c.Info(ctx, &pb.InfoRequest{})
	if err != nil {
		return Info{}, fromStatus(err)
	}
	return Info{Name: r.Name, Version: r.Version, Protocol: int(r.Protocol), MaxBatch: int(r.MaxBatch),
		Capabilities: r.Capabilities}, nil
}

func (c *grpcClient) List(ctx context.Context, opts ListOptions) ([]Entry, error) {
	r, err := c.c.List(ctx, &pb.ListRequest{Values: opts.Values})
	if err != nil {
		return nil, fromStatus(err)
	}
	out := make([]Entry, len(r.Entries))
	for i, e := range r.Entries {
		out[i] = entryFromProto(e)
	}
	return out, nil
}

func (c *grpcClient) Get(ctx context.Context, names []string) ([]Result, error) {
	r, err := c.c.Get(ctx, &pb.GetRequest{Names: names})
	if err != nil {
		return nil, fromStatus(err)
	}
	return resultsFromProto(r.Results, len(names))
}

func (c *grpcClient) Put(ctx context.Context, entries []Entry, mode PutMode) ([]Result, error) {
	// Protobuf strings must be valid UTF-8, so an entry that is not cannot be sent: it is
	// answered here, per name, as the plugin would have answered it.
	out := make([]Result, len(entries))
	var sent []int
	req := &pb.PutRequest{Mode: pb.PutMode(mode)}
	for i, e := range entries {
		if !utf8.ValidString(e.Name) || !utf8.ValidString(e.Value.Reveal()) {
			out[i] = Result{Entry: Entry{Name: strings.ToValidUTF8(e.Name, "?"), Kind: e.Kind},
				Err: Errorf(ErrInvalidArgument, "the name or value is not valid UTF-8")}
			continue
		}
		sent = append(sent, i)
		req.Entries = append(req.Entries, entryToProto(e))
	}
	if len(sent) == 0 {
		return out, nil
	}
	r, err := c.c.Put(ctx, req)
	if err != nil {
		return nil, fromStatus(err)
	}
	res, err := resultsFromProto(r.Results, len(sent))
	if err != nil {
		return nil, err
	}
	for j, i := range sent {
		out[i] = res[j]
	}
	return out, nil
}

func (c *grpcClient) Delete(ctx context.Context, names []string) ([]Result, error) {
	r, err := c.c.Delete(ctx, &pb.DeleteRequest{Names: names})
	if err != nil {
		return nil, fromStatus(err)
	}
	return resultsFromProto(r.Results, len(names))
}

func entryToProto(e Entry) *pb.Entry {
	return &pb.Entry{Name: e.Name, Kind: kindToProto(e.Kind), Value: e.Value.Reveal(), Version: e.Version,
		CreatedAtUnixNano: unixNano(e.CreatedAt), UpdatedAtUnixNano: unixNano(e.UpdatedAt)}
}

func entryFromProto(e *pb.Entry) Entry {
	if e == nil {
		return Entry{}
	}
	return Entry{Name: e.Name, Kind: kindFromProto(e.Kind), Value: NewValue(e.Value), Version: e.Version,
		CreatedAt: fromUnixNano(e.CreatedAtUnixNano), UpdatedAt: fromUnixNano(e.UpdatedAtUnixNano)}
}

func kindToProto(k Kind) pb.Kind {
	switch k {
	case KindSecret:
		return pb.Kind_KIND_SECRET
	case KindPlain:
		return pb.Kind_KIND_PLAIN
	}
	return pb.Kind_KIND_UNSPECIFIED
}

func kindFromProto(k pb.Kind) Kind {
	switch k {
	case pb.Kind_KIND_SECRET:
		return KindSecret
	case pb.Kind_KIND_PLAIN:
		return KindPlain
	}
	return ""
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func resultsToProto(res []Result) []*pb.Result {
	out := make([]*pb.Result, len(res))
	for i, r := range res {
		p := &pb.Result{Entry: entryToProto(r.Entry)}
		if r.Err != nil {
			p.Code, p.Message = uint32(codeForWire(r.Err)), r.Err.Error()
		}
		out[i] = p
	}
	return out
}

func resultsFromProto(res []*pb.Result, want int) ([]Result, error) {
	if len(res) != want {
		return nil, Errorf(ErrInternal, "plugin answered %d results for %d names", len(res), want)
	}
	out := make([]Result, len(res))
	for i, r := range res {
		out[i].Entry = entryFromProto(r.Entry)
		if codes.Code(r.Code) != codes.OK {
			out[i].Err = &Error{Code: codes.Code(r.Code), Message: r.Message}
		}
	}
	return out, nil
}

// codeForWire maps an error to its wire code: its *Error code, or Canceled/DeadlineExceeded
// for context errors, or Internal.
func codeForWire(err error) codes.Code {
	switch c := CodeOf(err); {
	case c != codes.Unknown:
		return c
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	}
	return codes.Internal
}

func toStatus(err error) error {
	if err == nil {
		return nil
	}
	return status.Error(codeForWire(err), err.Error())
}

// fromStatus turns a gRPC error back into an *Error with the same code, so that
// errors.Is(err, ErrNotFound) holds on the host as it did in the plugin.
func fromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.DeadlineExceeded:
		return &Error{Code: codes.DeadlineExceeded, Message: "the plugin did not answer in time"}
	case codes.Canceled:
		return context.Canceled
	}
	return &Error{Code: st.Code(), Message: st.Message()}
}
