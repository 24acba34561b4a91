package pluginsdk

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"

	pb "github.com/ast-cli/ast/pluginsdk/internal/backendv1"
)

func TestCallLogItems(t *testing.T) {
	tests := []struct {
		name string
		msg  any
		want int
	}{
		{"get of 3 names", &pb.GetRequest{Names: []string{"A", "B", "C"}}, 3},
		{"empty get", &pb.GetRequest{}, 0},
		{"put of 2 entries", &pb.PutRequest{Entries: []*pb.Entry{{Name: "A"}, {Name: "B"}}}, 2},
		{"configure's settings map", &pb.ConfigureRequest{Account: "a", Settings: map[string]string{"k": "v"}}, 1},
		{"not a protobuf message", "GET", 0},
		{"nil", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := items(tt.msg); got != tt.want {
				t.Errorf("items = %d, want %d", got, tt.want)
			}
		})
	}
}

// The unary interceptor logs one debug line per call with the method, the item count and
// the status code, and never a value of the request; at another level there is none.
func TestCallLogLine(t *testing.T) {
	const canary = "CANARY-calllog-value"
	tests := []struct {
		name      string
		level     hclog.Level
		handleErr error
		want      []string
	}{
		{"debug, ok", hclog.Debug, nil, []string{CallLogMessage, "method=/ast.backend.v1.Backend/Put", "items=2", "code=OK"}},
		{"debug, error", hclog.Debug, Errorf(ErrNotFound, "no"), []string{"code=NotFound"}},
		{"warn: no line", hclog.Warn, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if opts := callLog(hclog.New(&hclog.LoggerOptions{Output: &buf, Level: tt.level})); (len(opts) == 0) != (tt.want == nil) {
				t.Fatalf("callLog at level %s returned %d options", tt.level, len(opts))
			}
			if tt.want == nil {
				return
			}
			req := &pb.PutRequest{Entries: []*pb.Entry{{Name: "A", Value: canary}, {Name: "B"}}}
			unary, _ := callLogInterceptors(hclog.New(&hclog.LoggerOptions{Output: &buf, Level: tt.level}))
			_, err := unary(context.Background(), req, &grpc.UnaryServerInfo{FullMethod: "/ast.backend.v1.Backend/Put"},
				func(context.Context, any) (any, error) { return nil, tt.handleErr })
			if err != tt.handleErr { //nolint:errorlint // the very error, unwrapped
				t.Errorf("the interceptor changed the error: %v", err)
			}
			line := buf.String()
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("the log line lacks %q: %s", w, line)
				}
			}
			if strings.Contains(line, canary) {
				t.Errorf("the log line holds a value")
			}
		})
	}
}
