package pluginsdk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	pb "github.com/ast-cli/ast/pluginsdk/internal/backendv1"
)

// scripted is a Backend whose Put and Delete do what the test says; the rest is unused.
type scripted struct {
	caps  []string
	batch func(ctx context.Context, names []string) ([]Result, error)
}

func (s *scripted) Configure(context.Context, string, map[string]string) error { return nil }
func (s *scripted) Info(context.Context) (Info, error) {
	return Info{Name: "scripted", Protocol: ProtocolVersion, Capabilities: s.caps}, nil
}
func (s *scripted) List(context.Context, ListOptions) ([]Entry, error) { return nil, nil }
func (s *scripted) Get(context.Context, []string) ([]Result, error)    { return nil, nil }
func (s *scripted) Put(ctx context.Context, entries []Entry, _ PutMode) ([]Result, error) {
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name
	}
	return s.batch(ctx, names)
}
func (s *scripted) Delete(ctx context.Context, names []string) ([]Result, error) {
	return s.batch(ctx, names)
}

// unaryOnly hides the streaming RPCs, as the server of an SDK from before them.
type unaryOnly struct{ *grpcServer }

func (unaryOnly) PutStream(*pb.PutRequest, grpc.ServerStreamingServer[pb.BatchEvent]) error {
	panic("a host called PutStream of a plugin that does not report CapStream")
}
func (unaryOnly) DeleteStream(*pb.DeleteRequest, grpc.ServerStreamingServer[pb.BatchEvent]) error {
	panic("a host called DeleteStream of a plugin that does not report CapStream")
}

// oldInfo answers Info without CapStream, as an SDK from before streaming did.
func (u unaryOnly) Info(ctx context.Context, r *pb.InfoRequest) (*pb.InfoResponse, error) {
	resp, err := u.grpcServer.Info(ctx, r)
	if resp != nil {
		resp.Capabilities = slices.DeleteFunc(resp.Capabilities, func(c string) bool { return c == CapStream })
	}
	return resp, err
}

// connect serves b over a real gRPC connection and returns the host's client.
func connect(t *testing.T, b Backend, streaming bool) *grpcClient {
	t.Helper()
	conn, srv := plugin.TestGRPCConn(t, func(s *grpc.Server) {
		var impl pb.BackendServer = &grpcServer{impl: b}
		if !streaming {
			impl = unaryOnly{&grpcServer{impl: b}}
		}
		pb.RegisterBackendServer(s, impl)
	})
	t.Cleanup(func() { conn.Close(); srv.Stop() })
	return &grpcClient{c: pb.NewBackendClient(conn)}
}

func ok(name string) Result { return Result{Entry: Entry{Name: name, Kind: KindSecret, Version: 1}} }

// observed is what the host's WithReporter and WithHeartbeat functions saw.
type observed struct {
	mu       sync.Mutex
	reported map[int]Result
	beats    int
	retries  int
}

func observe(ctx context.Context) (context.Context, *observed) {
	o := &observed{reported: map[int]Result{}}
	ctx = WithReporter(ctx, func(i int, r Result) {
		o.mu.Lock()
		defer o.mu.Unlock()
		if _, dup := o.reported[i]; dup {
			panic(fmt.Sprintf("item %d reported twice", i))
		}
		o.reported[i] = r
	})
	ctx = WithHeartbeat(ctx, func(retry bool) {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.beats++
		if retry {
			o.retries++
		}
	})
	return ctx, o
}

// TestStreamedBatches: what a backend reports reaches the host's reporter, and a call that
// fails midway returns every result reported before the failure and ErrOutcomeUnknown for
// the others, over the streaming RPCs; the unary RPCs (a plugin without CapStream) give
// the final results or nothing.
func TestStreamedBatches(t *testing.T) {
	names := []string{"A", "B", "C", "D"}
	boom := Errorf(ErrUnavailable, "the server went away")
	cases := []struct {
		name      string
		batch     func(ctx context.Context, names []string) ([]Result, error)
		streaming bool
		wantErr   error
		// want[i]: "ok", "unknown" or an error code's name
		want        []string
		wantReports int
		wantRetries int
	}{
		{name: "reports every name then answers", streaming: true,
			batch: func(ctx context.Context, names []string) ([]Result, error) {
				out := make([]Result, len(names))
				for i, n := range names {
					out[i] = ok(n)
					Report(ctx, i, out[i])
				}
				return out, nil
			}, want: []string{"ok", "ok", "ok", "ok"}, wantReports: 4},
		{name: "reports nothing, answers at the end", streaming: true,
			batch: func(ctx context.Context, names []string) ([]Result, error) {
				out := make([]Result, len(names))
				for i, n := range names {
					out[i] = ok(n)
				}
				out[2].Err = Errorf(ErrAlreadyExists, "entry %q already exists", names[2])
				return out, nil
			}, want: []string{"ok", "ok", "AlreadyExists", "ok"}, wantReports: 4},
		{name: "fails after reporting two", streaming: true, wantErr: boom,
			batch: func(ctx context.Context, names []string) ([]Result, error) {
				Report(ctx, 1, ok(names[1]))
				Heartbeat(ctx)
				Retrying(ctx)
				Report(ctx, 0, Result{Entry: Entry{Name: names[0]}, Err: Errorf(ErrPermissionDenied, "refused")})
				return nil, boom
			}, want: []string{"PermissionDenied", "ok", "unknown", "unknown"}, wantReports: 2, wantRetries: 1},
		{name: "concurrent reports, duplicates and bad indexes ignored", streaming: true,
			batch: func(ctx context.Context, names []string) ([]Result, error) {
				var wg sync.WaitGroup
				for i, n := range names {
					wg.Add(1)
					go func() {
						defer wg.Done()
						Report(ctx, i, ok(n))
						Report(ctx, i, Result{Err: Errorf(ErrInternal, "a second report")})
					}()
				}
				wg.Wait()
				Report(ctx, -1, ok("X"))
				Report(ctx, len(names), ok("X"))
				out := make([]Result, len(names))
				for i, n := range names {
					out[i] = ok(n)
				}
				return out, nil
			}, want: []string{"ok", "ok", "ok", "ok"}, wantReports: 4},
		{name: "answers too few results", streaming: true, wantErr: ErrInternal,
			batch: func(ctx context.Context, names []string) ([]Result, error) {
				Report(ctx, 3, ok(names[3]))
				return []Result{ok(names[0])}, nil
			}, want: []string{"unknown", "unknown", "unknown", "ok"}, wantReports: 1},
		{name: "unary: answers", streaming: false,
			batch: func(ctx context.Context, names []string) ([]Result, error) {
				Report(ctx, 0, ok(names[0])) // no reporter on a unary call: ignored
				out := make([]Result, len(names))
				for i, n := range names {
					out[i] = ok(n)
				}
				return out, nil
			}, want: []string{"ok", "ok", "ok", "ok"}, wantReports: 4},
		{name: "unary: fails", streaming: false, wantErr: boom,
			batch: func(ctx context.Context, names []string) ([]Result, error) {
				Report(ctx, 0, ok(names[0]))
				return nil, boom
			}, want: []string{"unknown", "unknown", "unknown", "unknown"}},
	}
	for _, c := range cases {
		for _, op := range []string{"Put", "Delete"} {
			t.Run(c.name+"/"+op, func(t *testing.T) {
				client := connect(t, &scripted{batch: c.batch}, c.streaming)
				ctx, o := observe(context.Background())
				var res []Result
				var err error
				if op == "Put" {
					entries := make([]Entry, len(names))
					for i, n := range names {
						entries[i] = Entry{Name: n, Kind: KindSecret, Value: NewValue("v")}
					}
					res, err = client.Put(ctx, entries, Create)
				} else {
					res, err = client.Delete(ctx, names)
				}
				if c.wantErr == nil && err != nil || c.wantErr != nil && !errors.Is(err, c.wantErr) {
					t.Fatalf("error %v, want %v", err, c.wantErr)
				}
				if len(res) != len(names) {
					t.Fatalf("%d results for %d names", len(res), len(names))
				}
				for i, r := range res {
					got := "ok"
					switch {
					case errors.Is(r.Err, ErrOutcomeUnknown):
						got = "unknown"
					case r.Err != nil:
						got = CodeOf(r.Err).String()
					}
					if got != c.want[i] || r.Entry.Name != names[i] {
						t.Errorf("result %d: %s %s (%v), want %s %s", i, r.Entry.Name, got, r.Err, names[i], c.want[i])
					}
					if rep, seen := o.reported[i]; seen && (rep.Entry.Name != r.Entry.Name || CodeOf(rep.Err) != CodeOf(r.Err)) {
						t.Errorf("item %d was reported as %s %v but returned as %s %v", i, rep.Entry.Name, rep.Err, r.Entry.Name, r.Err)
					}
				}
				if len(o.reported) != c.wantReports {
					t.Errorf("the reporter saw %d results, want %d", len(o.reported), c.wantReports)
				}
				if o.retries != c.wantRetries {
					t.Errorf("the host saw %d retries, want %d", o.retries, c.wantRetries)
				}
			})
		}
	}
}

// TestStreamCapability: the SDK adds CapStream to what the backend reports, once.
func TestStreamCapability(t *testing.T) {
	for _, caps := range [][]string{nil, {CapVersions}, {CapStream, CapVersions}} {
		client := connect(t, &scripted{caps: caps}, true)
		info, err := client.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range info.Capabilities {
			if c == CapStream {
				n++
			}
		}
		want := slices.Clone(caps)
		if !slices.Contains(want, CapStream) {
			want = append(want, CapStream)
		}
		if n != 1 || !slices.Equal(info.Capabilities, want) {
			t.Errorf("backend reports %v: Info says %v, want %v", caps, info.Capabilities, want)
		}
	}
}

// TestNotesAndValuesOnTheWire: a result's note crosses the wire, reported or final; a
// value a backend leaves in a Put or Delete result does not.
func TestNotesAndValuesOnTheWire(t *testing.T) {
	const note = "scheduled for deletion, restorable until 2026-12-30 (recovery window 30 days)"
	const value = "a-value-that-must-stay-home"
	for _, streaming := range []bool{true, false} {
		client := connect(t, &scripted{batch: func(ctx context.Context, names []string) ([]Result, error) {
			r := Result{Entry: Entry{Name: names[0], Value: NewValue(value)}, Note: note}
			Report(ctx, 0, r)
			return []Result{r, {Entry: Entry{Name: names[1], Value: NewValue(value)}, Note: note}}, nil
		}}, streaming)
		res, err := client.Delete(context.Background(), []string{"A", "B"})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if r.Note != note {
				t.Errorf("streaming=%t: result %d note %q, want %q", streaming, i, r.Note, note)
			}
			if !r.Entry.Value.IsZero() {
				t.Errorf("streaming=%t: result %d of a Delete carries a value", streaming, i)
			}
		}
	}
}

// TestCallErrorCodes: a call's error without a code reaches the host as code Unknown
// (the host names the plugin in front of it); a per-name one as Internal; coded errors
// keep their code.
func TestCallErrorCodes(t *testing.T) {
	client := connect(t, &scripted{batch: func(ctx context.Context, names []string) ([]Result, error) {
		if names[0] == "PLAIN" {
			return nil, errors.New("boom from Delete")
		}
		return []Result{{Entry: Entry{Name: names[0]}, Err: errors.New("boom for one name")}}, nil
	}}, true)
	_, err := client.Delete(context.Background(), []string{"PLAIN"})
	if CodeOf(err) != codes.Unknown || !strings.Contains(err.Error(), "boom from Delete") {
		t.Errorf("a plain call error: %v (code %v), want code Unknown", err, CodeOf(err))
	}
	res, err := client.Delete(context.Background(), []string{"ONE"})
	if err != nil || !errors.Is(res[0].Err, ErrInternal) {
		t.Errorf("a plain per-name error: %v, %v; want code Internal", res[0].Err, err)
	}
}
