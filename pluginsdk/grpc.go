package pluginsdk

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
	caps := info.Capabilities
	if !slices.Contains(caps, CapStream) { // this SDK serves the stream, whatever the backend says
		caps = append(slices.Clip(caps), CapStream)
	}
	return &pb.InfoResponse{Name: info.Name, Version: info.Version, Protocol: int32(info.Protocol),
		MaxBatch: int32(info.MaxBatch), Capabilities: caps}, nil
}

func (s *grpcServer) List(ctx context.Context, r *pb.ListRequest) (*pb.ListResponse, error) {
	entries, err := s.impl.List(ctx, ListOptions{Values: r.Values, Fields: r.Fields, Unnamed: r.Unnamed})
	if err != nil {
		return nil, toStatus(err)
	}
	out := make([]*pb.Entry, len(entries))
	for i, e := range entries {
		if e.Kind != KindPlain || !r.Values {
			e.Value = Value{} // a secret's value never crosses the wire in List
		}
		e.FieldSource = Value{} // nor its fields
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
	res, err := s.impl.Put(ctx, entriesFromProto(r.Entries), PutMode(r.Mode))
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.PutResponse{Results: resultsToProto(withoutValues(res))}, nil
}

func (s *grpcServer) Delete(ctx context.Context, r *pb.DeleteRequest) (*pb.DeleteResponse, error) {
	res, err := s.impl.Delete(ctx, r.Names)
	if err != nil {
		return nil, toStatus(err)
	}
	return &pb.DeleteResponse{Results: resultsToProto(withoutValues(res))}, nil
}

func (s *grpcServer) PutStream(r *pb.PutRequest, st grpc.ServerStreamingServer[pb.BatchEvent]) error {
	entries := entriesFromProto(r.Entries)
	return serveStream(st, len(entries), func(ctx context.Context) ([]Result, error) {
		return s.impl.Put(ctx, entries, PutMode(r.Mode))
	})
}

func (s *grpcServer) DeleteStream(r *pb.DeleteRequest, st grpc.ServerStreamingServer[pb.BatchEvent]) error {
	return serveStream(st, len(r.Names), func(ctx context.Context) ([]Result, error) {
		return s.impl.Delete(ctx, r.Names)
	})
}

// heartbeatGap is the least time between two plain heartbeats on a stream: a backend
// that calls Heartbeat in a tight loop must not flood the host.
const heartbeatGap = 500 * time.Millisecond

// serveStream runs a Put or Delete of n items (run) whose Report and Heartbeat calls go
// to st as they happen, then sends the final results. When run fails, the error ends the
// stream; what was reported stays reported.
func serveStream(st grpc.ServerStreamingServer[pb.BatchEvent], n int, run func(context.Context) ([]Result, error)) error {
	ss := &streamSender{st: st, reported: make([]bool, n)}
	ctx := WithHeartbeat(WithReporter(st.Context(), ss.result), ss.heartbeat)
	res, err := run(ctx)
	ss.close()
	if err != nil {
		return toStatus(err)
	}
	if len(res) != n {
		return status.Errorf(codes.Internal, "the backend answered %d results for %d names", len(res), n)
	}
	return st.Send(&pb.BatchEvent{Event: &pb.BatchEvent_Final{Final: &pb.BatchResults{Results: resultsToProto(withoutValues(res))}}})
}

// streamSender sends what a backend reports during one streaming call. gRPC streams are
// not safe for concurrent sends, and backends report from several goroutines.
type streamSender struct {
	mu       sync.Mutex
	st       grpc.ServerStreamingServer[pb.BatchEvent]
	reported []bool
	last     time.Time // when the last message was sent
	done     bool      // the call returned, or a send failed (the host is gone)
}

func (s *streamSender) result(i int, r Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done || i < 0 || i >= len(s.reported) || s.reported[i] {
		return
	}
	s.reported[i] = true
	r.Entry.Value = Value{}
	s.send(&pb.BatchEvent{Event: &pb.BatchEvent_Result{Result: &pb.IndexedResult{Index: int32(i), Result: resultToProto(r)}}})
}

func (s *streamSender) heartbeat(retry bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done || (!retry && time.Since(s.last) < heartbeatGap) {
		return
	}
	s.send(&pb.BatchEvent{Event: &pb.BatchEvent_Heartbeat{Heartbeat: &pb.Heartbeat{Retry: retry}}})
}

// send sends ev; s.mu is held.
func (s *streamSender) send(ev *pb.BatchEvent) {
	if err := s.st.Send(ev); err != nil {
		s.done = true
		return
	}
	s.last = time.Now()
}

func (s *streamSender) close() {
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
}

// grpcClient is the host side: a Backend whose calls go to the plugin. It calls Put and
// Delete the streaming way when Info says the plugin serves it (CapStream); it asks Info
// first if it has not been asked yet.
type grpcClient struct {
	c      pb.BackendClient
	stream atomic.Int32 // streamUnknown, streamNo or streamYes
}

const (
	streamUnknown int32 = iota
	streamNo
	streamYes
)

// streams reports whether the plugin serves the streaming Put and Delete.
func (c *grpcClient) streams(ctx context.Context) (bool, error) {
	if c.stream.Load() == streamUnknown {
		if _, err := c.Info(ctx); err != nil {
			return false, err
		}
	}
	return c.stream.Load() == streamYes, nil
}

func (c *grpcClient) Configure(ctx context.Context, account string, settings map[string]string) error {
	_, err := c.c.Configure(ctx, &pb.ConfigureRequest{Account: account, Settings: settings})
	return fromStatus(err)
}

func (c *grpcClient) Info(ctx context.Context) (Info, error) {
	r, err := c.c.Info(ctx, &pb.InfoRequest{})
	if err != nil {
		return Info{}, fromStatus(err)
	}
	if slices.Contains(r.Capabilities, CapStream) {
		c.stream.Store(streamYes)
	} else {
		c.stream.Store(streamNo)
	}
	return Info{Name: r.Name, Version: r.Version, Protocol: int(r.Protocol), MaxBatch: int(r.MaxBatch),
		Capabilities: r.Capabilities}, nil
}

func (c *grpcClient) List(ctx context.Context, opts ListOptions) ([]Entry, error) {
	r, err := c.c.List(ctx, &pb.ListRequest{Values: opts.Values, Fields: opts.Fields, Unnamed: opts.Unnamed})
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

// Put sends the entries and returns one result per entry. The caller's WithReporter
// function sees each result as it comes. When the call fails midway, Put returns the
// error and all len(entries) results: those that came before the failure are real, the
// others carry ErrOutcomeUnknown.
func (c *grpcClient) Put(ctx context.Context, entries []Entry, mode PutMode) ([]Result, error) {
	col, record := c.collect(ctx, len(entries))
	// Protobuf strings must be valid UTF-8, so an entry that is not cannot be sent: it is
	// answered here, per name, as the plugin would have answered it.
	var sent []int
	req := &pb.PutRequest{Mode: pb.PutMode(mode)}
	for i, e := range entries {
		if !utf8.ValidString(e.Name) || !utf8.ValidString(e.Value.Reveal()) {
			record(i, Result{Entry: Entry{Name: strings.ToValidUTF8(e.Name, "?"), Kind: e.Kind},
				Err: Errorf(ErrInvalidArgument, "the name or value is not valid UTF-8")})
			continue
		}
		sent = append(sent, i)
		req.Entries = append(req.Entries, entryToProto(e))
	}
	var err error
	if len(sent) > 0 {
		err = c.batch(ctx, len(sent), func(j int, r Result) { record(sent[j], r) },
			func(ctx context.Context) (grpc.ServerStreamingClient[pb.BatchEvent], error) {
				return c.c.PutStream(ctx, req)
			},
			func(ctx context.Context) ([]*pb.Result, error) {
				r, err := c.c.Put(ctx, req)
				return r.GetResults(), err
			})
	}
	return col.results(func(i int) Result { return OutcomeUnknown(entries[i].Name) }), err
}

// Delete removes the names and returns one result per name, as Put does.
func (c *grpcClient) Delete(ctx context.Context, names []string) ([]Result, error) {
	col, record := c.collect(ctx, len(names))
	req := &pb.DeleteRequest{Names: names}
	err := c.batch(ctx, len(names), record,
		func(ctx context.Context) (grpc.ServerStreamingClient[pb.BatchEvent], error) {
			return c.c.DeleteStream(ctx, req)
		},
		func(ctx context.Context) ([]*pb.Result, error) {
			r, err := c.c.Delete(ctx, req)
			return r.GetResults(), err
		})
	return col.results(func(i int) Result { return OutcomeUnknown(names[i]) }), err
}

// collect returns a collector of n results and the function that records one result in
// it and passes it on to the caller's reporter (once per item).
func (c *grpcClient) collect(ctx context.Context, n int) (*collector, func(int, Result)) {
	col, report := newCollector(n), reporterOf(ctx)
	return col, func(i int, r Result) {
		if col.record(i, r) {
			report(i, r)
		}
	}
}

// batch runs one Put or Delete of n items: through the stream when the plugin serves it,
// else the unary way. record gets each item's result (index into the request) as it
// comes; the error is the call's.
func (c *grpcClient) batch(ctx context.Context, n int, record func(int, Result),
	stream func(context.Context) (grpc.ServerStreamingClient[pb.BatchEvent], error),
	unary func(context.Context) ([]*pb.Result, error)) error {
	streams, err := c.streams(ctx)
	if err != nil {
		return err
	}
	if !streams {
		rs, err := unary(ctx)
		if err != nil {
			return fromStatus(err)
		}
		res, err := resultsFromProto(rs, n)
		if err != nil {
			return err
		}
		for i, r := range res {
			record(i, r)
		}
		return nil
	}
	ctx, cancel := context.WithCancel(ctx) // ends the stream when we stop reading it
	defer cancel()
	st, err := stream(ctx)
	if err != nil {
		return fromStatus(err)
	}
	beat := heartbeatOf(ctx)
	for {
		ev, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return Errorf(ErrInternal, "the plugin ended its reply without the final results")
		} else if err != nil {
			return fromStatus(err)
		}
		switch e := ev.Event.(type) {
		case *pb.BatchEvent_Result:
			if i := int(e.Result.GetIndex()); i >= 0 && i < n {
				record(i, resultFromProto(e.Result.GetResult()))
			}
		case *pb.BatchEvent_Heartbeat:
			beat(e.Heartbeat.GetRetry())
		case *pb.BatchEvent_Final:
			res, err := resultsFromProto(e.Final.GetResults(), n)
			if err != nil {
				return err
			}
			for i, r := range res {
				record(i, r) // items already reported keep their first result
			}
			return nil
		}
	}
}

func entriesFromProto(es []*pb.Entry) []Entry {
	out := make([]Entry, len(es))
	for i, e := range es {
		out[i] = entryFromProto(e)
	}
	return out
}

func entryToProto(e Entry) *pb.Entry {
	return &pb.Entry{Name: e.Name, Kind: kindToProto(e.Kind), Value: e.Value.Reveal(), Version: e.Version,
		CreatedAtUnixNano: unixNano(e.CreatedAt), UpdatedAtUnixNano: unixNano(e.UpdatedAt),
		External: e.External, Fields: e.Fields, NeedsAlias: e.NeedsAlias, FieldSource: e.FieldSource.Reveal()}
}

func entryFromProto(e *pb.Entry) Entry {
	if e == nil {
		return Entry{}
	}
	return Entry{Name: e.Name, Kind: kindFromProto(e.Kind), Value: NewValue(e.Value), Version: e.Version,
		CreatedAt: fromUnixNano(e.CreatedAtUnixNano), UpdatedAt: fromUnixNano(e.UpdatedAtUnixNano),
		External: e.External, Fields: e.Fields, NeedsAlias: e.NeedsAlias, FieldSource: NewValue(e.FieldSource)}
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

// withoutValues drops the values of Put and Delete results, whatever the backend put
// there: only Get carries values.
func withoutValues(res []Result) []Result {
	out := slices.Clone(res)
	for i := range out {
		out[i].Entry.Value = Value{}
	}
	return out
}

func resultsToProto(res []Result) []*pb.Result {
	out := make([]*pb.Result, len(res))
	for i, r := range res {
		out[i] = resultToProto(r)
	}
	return out
}

func resultToProto(r Result) *pb.Result {
	p := &pb.Result{Entry: entryToProto(r.Entry), Note: r.Note}
	if r.Err != nil {
		p.Code, p.Message = uint32(codeForWire(r.Err, codes.Internal)), r.Err.Error()
		if CodeOf(r.Err) == codes.Unknown && (errors.Is(r.Err, context.Canceled) || errors.Is(r.Err, context.DeadlineExceeded)) {
			// A name whose write was cut off: it may have happened. (Code Canceled on the
			// wire is ErrNotAttempted, which says it certainly did not.)
			p.Code = uint32(codes.Aborted)
		}
	}
	return p
}

func resultsFromProto(res []*pb.Result, want int) ([]Result, error) {
	if len(res) != want {
		return nil, Errorf(ErrInternal, "plugin answered %d results for %d names", len(res), want)
	}
	out := make([]Result, len(res))
	for i, r := range res {
		out[i] = resultFromProto(r)
	}
	return out, nil
}

func resultFromProto(r *pb.Result) Result {
	out := Result{Entry: entryFromProto(r.GetEntry()), Note: r.GetNote()}
	if codes.Code(r.GetCode()) != codes.OK {
		out.Err = &Error{Code: codes.Code(r.GetCode()), Message: r.GetMessage()}
	}
	return out
}

// codeForWire maps an error to its wire code: its *Error code, or Canceled/DeadlineExceeded
// for context errors, or plain for any other error. A per-name error without a code is
// Internal; a call's is Unknown, which tells the host that the backend gave plain text
// (the host names the plugin in front of it).
func codeForWire(err error, plain codes.Code) codes.Code {
	switch c := CodeOf(err); {
	case c != codes.Unknown:
		return c
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	}
	return plain
}

func toStatus(err error) error {
	if err == nil {
		return nil
	}
	return status.Error(codeForWire(err, codes.Unknown), err.Error())
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
