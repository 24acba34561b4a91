package pluginsdk

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// CallLogMessage is the message of the debug line a plugin logs for each call it serves
// (AST_LOG=debug), so that what a command asked of its plugins can be counted from the
// outside: ast's stderr then holds, per call, a line like
//
//	[DEBUG] local.ast-plugin-local: plugin call: method=/ast.backend.v1.Backend/Get items=100 code=OK took=2.1ms
//
// method is the gRPC method's full name; items the number of elements in the request's
// repeated fields (the names of a Get, the entries of a Put, the variables of a Deploy);
// code the call's gRPC status code. Never a value: only names of methods and counts.
// scripts/bench and the Kubernetes target's request-count test read it.
const CallLogMessage = "plugin call"

// callLog returns the server options that log every call at debug level (see
// CallLogMessage); none when log is not at debug level, so calls pay nothing otherwise.
func callLog(log hclog.Logger) []grpc.ServerOption {
	if !log.IsDebug() {
		return nil
	}
	unary, stream := callLogInterceptors(log)
	return []grpc.ServerOption{grpc.ChainUnaryInterceptor(unary), grpc.ChainStreamInterceptor(stream)}
}

// callLogInterceptors are callLog's unary and stream interceptors.
func callLogInterceptors(log hclog.Logger) (grpc.UnaryServerInterceptor, grpc.StreamServerInterceptor) {
	unary := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		log.Debug(CallLogMessage, "method", info.FullMethod, "items", items(req), "code", callCode(err), "took", time.Since(start).String())
		return resp, err
	}
	stream := func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		cs := &countingStream{ServerStream: ss}
		err := handler(srv, cs)
		log.Debug(CallLogMessage, "method", info.FullMethod, "items", cs.items, "code", callCode(err), "took", time.Since(start).String())
		return err
	}
	return unary, stream
}

// callCode is the gRPC code of a call's error: a pluginsdk error's code, else the status's.
func callCode(err error) string {
	if c := CodeOf(err); c != codes.Unknown {
		return c.String()
	}
	return status.Code(err).String()
}

// countingStream counts the items of the messages a streaming call receives.
type countingStream struct {
	grpc.ServerStream
	items int
}

func (s *countingStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err == nil {
		s.items += items(m)
	}
	return err
}

// items is the number of elements in m's top-level repeated and map fields (0 for a
// message that is not a protobuf message).
func items(m any) int {
	pm, ok := m.(proto.Message)
	if !ok {
		return 0
	}
	n := 0
	pm.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			n += v.List().Len()
		case fd.IsMap():
			n += v.Map().Len()
		}
		return true
	})
	return n
}
