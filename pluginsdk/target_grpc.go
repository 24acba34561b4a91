package pluginsdk

import (
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	tpb "github.com/ast-cli/ast/pluginsdk/internal/targetv1"
)

// TargetHandshake is the go-plugin handshake of ast deploy target plugins. Its cookie
// differs from Handshake's, so that a target plugin is never started as a backend or the
// other way round.
var TargetHandshake = plugin.HandshakeConfig{
	ProtocolVersion:  TargetProtocolVersion,
	MagicCookieKey:   "AST_TARGET_PLUGIN",
	MagicCookieValue: "5e0c3a9e-ast-target",
}

// TargetPluginName is the name of the target in go-plugin's plugin set.
const TargetPluginName = "target"

// TargetPluginSets returns the versioned plugin sets of the target protocol for impl (nil
// on the host side).
func TargetPluginSets(impl Target) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		TargetProtocolVersion: {TargetPluginName: &TargetGRPCPlugin{Impl: impl}},
	}
}

// TargetGRPCPlugin is the go-plugin adapter of Target. Impl is set on the plugin side and
// nil on the host side.
type TargetGRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl Target
}

// GRPCServer registers the target service.
func (p *TargetGRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	tpb.RegisterTargetServer(s, &targetServer{impl: p.Impl})
	return nil
}

// GRPCClient returns a Target that calls the plugin over conn.
func (p *TargetGRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return &targetClient{c: tpb.NewTargetClient(conn)}, nil
}

type targetServer struct {
	tpb.UnimplementedTargetServer
	impl Target
}

func (s *targetServer) Configure(ctx context.Context, r *tpb.ConfigureRequest) (*tpb.ConfigureResponse, error) {
	return &tpb.ConfigureResponse{}, toStatus(s.impl.Configure(ctx, r.Target, r.Settings))
}

func (s *targetServer) Info(ctx context.Context, _ *tpb.InfoRequest) (*tpb.InfoResponse, error) {
	info, err := s.impl.Info(ctx)
	if err != nil {
		return nil, toStatus(err)
	}
	caps := info.Capabilities
	if !slices.Contains(caps, CapDeployProgress) { // this SDK serves the stream, whatever the target says
		caps = append(slices.Clip(caps), CapDeployProgress)
	}
	return &tpb.InfoResponse{Name: info.Name, Version: info.Version, Protocol: int32(info.Protocol), Capabilities: caps}, nil
}

func (s *targetServer) Deploy(ctx context.Context, r *tpb.DeployRequest) (*tpb.DeployResponse, error) {
	res, err := s.impl.Deploy(ctx, workloadFromProto(r.Workload), DeployOptions{
		Wait: r.Wait, Timeout: time.Duration(r.TimeoutMs) * time.Millisecond, DryRun: r.DryRun, Adopt: r.Adopt})
	if err != nil {
		return nil, toStatus(err)
	}
	return deployToProto(res), nil
}

func deployToProto(res DeployResult) *tpb.DeployResponse {
	return &tpb.DeployResponse{Changed: res.Changed, Objects: res.Objects, Manifests: res.Manifests, Status: statusToProto(res.Status)}
}

func deployFromProto(r *tpb.DeployResponse) DeployResult {
	if r == nil {
		return DeployResult{}
	}
	return DeployResult{Changed: r.Changed, Objects: r.Objects, Manifests: r.Manifests, Status: statusFromProto(r.Status)}
}

// DeployStream is Deploy whose ReportProgress calls go to the host as they happen; the
// result goes last, also when Deploy failed after writing or with its workload in place
// (a rollout that did not complete); then the error ends the stream.
func (s *targetServer) DeployStream(r *tpb.DeployRequest, st tpb.Target_DeployStreamServer) error {
	var mu sync.Mutex
	done := false
	send := func(ev *tpb.DeployEvent) {
		mu.Lock()
		defer mu.Unlock()
		if !done && st.Send(ev) != nil {
			done = true // the host is gone; Deploy's context ends too
		}
	}
	ctx := WithProgress(st.Context(), func(a AgentStatus) {
		send(&tpb.DeployEvent{Event: &tpb.DeployEvent_Progress{Progress: statusToProto(a)}})
	})
	res, err := s.impl.Deploy(ctx, workloadFromProto(r.Workload), DeployOptions{
		Wait: r.Wait, Timeout: time.Duration(r.TimeoutMs) * time.Millisecond, DryRun: r.DryRun, Adopt: r.Adopt})
	if err == nil || len(res.Objects) > 0 || res.Status.Agent != "" {
		send(&tpb.DeployEvent{Event: &tpb.DeployEvent_Result{Result: deployToProto(res)}})
	}
	mu.Lock()
	done = true
	mu.Unlock()
	return toStatus(err)
}

func (s *targetServer) Status(ctx context.Context, r *tpb.StatusRequest) (*tpb.StatusResponse, error) {
	sts, err := s.impl.Status(ctx, r.Agents)
	if err != nil {
		return nil, toStatus(err)
	}
	out := &tpb.StatusResponse{}
	for _, st := range sts {
		out.Agents = append(out.Agents, statusToProto(st))
	}
	return out, nil
}

func (s *targetServer) Stop(ctx context.Context, r *tpb.StopRequest) (*tpb.StopResponse, error) {
	found, err := s.impl.Stop(ctx, r.Agent, time.Duration(r.TimeoutMs)*time.Millisecond)
	if err != nil {
		return nil, toStatus(err)
	}
	return &tpb.StopResponse{Found: found}, nil
}

// chunkWriter sends what it is given as LogsChunk messages.
type chunkWriter struct{ s tpb.Target_LogsServer }

func (w chunkWriter) Write(p []byte) (int, error) {
	if err := w.s.Send(&tpb.LogsChunk{Data: append([]byte(nil), p...)}); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (s *targetServer) Logs(r *tpb.LogsRequest, stream tpb.Target_LogsServer) error {
	return toStatus(s.impl.Logs(stream.Context(), r.Agent, LogOptions{Follow: r.Follow, TailLines: r.TailLines}, chunkWriter{stream}))
}

// targetClient is the host side. It calls Deploy the streaming way when Info says the
// plugin serves it (CapDeployProgress); it asks Info first if it has not been asked yet.
type targetClient struct {
	c      tpb.TargetClient
	stream atomic.Int32 // streamUnknown, streamNo or streamYes
}

func (c *targetClient) Configure(ctx context.Context, target string, settings map[string]string) error {
	_, err := c.c.Configure(ctx, &tpb.ConfigureRequest{Target: target, Settings: settings})
	return fromStatus(err)
}

func (c *targetClient) Info(ctx context.Context) (Info, error) {
	r, err := c.c.Info(ctx, &tpb.InfoRequest{})
	if err != nil {
		return Info{}, fromStatus(err)
	}
	if slices.Contains(r.Capabilities, CapDeployProgress) {
		c.stream.Store(streamYes)
	} else {
		c.stream.Store(streamNo)
	}
	return Info{Name: r.Name, Version: r.Version, Protocol: int(r.Protocol), Capabilities: r.Capabilities}, nil
}

func (c *targetClient) Deploy(ctx context.Context, w Workload, opts DeployOptions) (DeployResult, error) {
	req := &tpb.DeployRequest{Workload: workloadToProto(w), Wait: opts.Wait,
		TimeoutMs: opts.Timeout.Milliseconds(), DryRun: opts.DryRun, Adopt: opts.Adopt}
	if c.stream.Load() == streamUnknown {
		if _, err := c.Info(ctx); err != nil {
			return DeployResult{}, err
		}
	}
	if c.stream.Load() != streamYes {
		r, err := c.c.Deploy(ctx, req)
		if err != nil {
			return DeployResult{}, fromStatus(err)
		}
		return deployFromProto(r), nil
	}
	ctx, cancel := context.WithCancel(ctx) // ends the stream when we stop reading it
	defer cancel()
	st, err := c.c.DeployStream(ctx, req)
	if err != nil {
		return DeployResult{}, fromStatus(err)
	}
	progress, _ := ctx.Value(progressKey{}).(func(AgentStatus))
	var res DeployResult
	got := false
	for {
		ev, err := st.Recv()
		switch {
		case errors.Is(err, io.EOF) && got:
			return res, nil
		case errors.Is(err, io.EOF):
			return res, Errorf(ErrInternal, "the target plugin ended its reply without the result")
		case err != nil:
			return res, fromStatus(err)
		}
		switch e := ev.Event.(type) {
		case *tpb.DeployEvent_Progress:
			if progress != nil {
				progress(statusFromProto(e.Progress))
			}
		case *tpb.DeployEvent_Result:
			res, got = deployFromProto(e.Result), true
		}
	}
}

func (c *targetClient) Status(ctx context.Context, agents []string) ([]AgentStatus, error) {
	r, err := c.c.Status(ctx, &tpb.StatusRequest{Agents: agents})
	if err != nil {
		return nil, fromStatus(err)
	}
	out := make([]AgentStatus, len(r.Agents))
	for i, a := range r.Agents {
		out[i] = statusFromProto(a)
	}
	return out, nil
}

func (c *targetClient) Stop(ctx context.Context, agent string, timeout time.Duration) (bool, error) {
	r, err := c.c.Stop(ctx, &tpb.StopRequest{Agent: agent, TimeoutMs: timeout.Milliseconds()})
	if err != nil {
		return false, fromStatus(err)
	}
	return r.Found, nil
}

func (c *targetClient) Logs(ctx context.Context, agent string, opts LogOptions, w io.Writer) error {
	stream, err := c.c.Logs(ctx, &tpb.LogsRequest{Agent: agent, Follow: opts.Follow, TailLines: opts.TailLines})
	if err != nil {
		return fromStatus(err)
	}
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fromStatus(err)
		}
		if _, err := w.Write(chunk.Data); err != nil {
			return err
		}
	}
}

func workloadToProto(w Workload) *tpb.Workload {
	out := &tpb.Workload{Agent: w.Agent, Image: w.Image, Command: w.Command, BlueprintDigest: w.BlueprintDigest, Spec: w.Spec}
	for _, v := range w.Env {
		out.Env = append(out.Env, &tpb.Variable{Key: v.Key, Value: v.Value.Reveal(), Sensitive: v.Sensitive,
			SourceKind: v.SourceKind, Entry: v.Entry, Field: v.Field, EntryKind: string(v.EntryKind), Version: v.Version, Origin: v.Origin})
	}
	return out
}

func workloadFromProto(w *tpb.Workload) Workload {
	if w == nil {
		return Workload{}
	}
	out := Workload{Agent: w.Agent, Image: w.Image, Command: w.Command, BlueprintDigest: w.BlueprintDigest, Spec: w.Spec}
	for _, v := range w.Env {
		out.Env = append(out.Env, TargetVariable{Key: v.Key, Value: NewValue(v.Value), Sensitive: v.Sensitive,
			SourceKind: v.SourceKind, Entry: v.Entry, Field: v.Field, EntryKind: Kind(v.EntryKind), Version: v.Version, Origin: v.Origin})
	}
	return out
}

func statusToProto(s AgentStatus) *tpb.AgentStatus {
	return &tpb.AgentStatus{Agent: s.Agent, Where: s.Where, Image: s.Image, Desired: int32(s.Desired),
		Ready: int32(s.Ready), Updated: int32(s.Updated), Available: int32(s.Available), State: s.State, Message: s.Message}
}

func statusFromProto(s *tpb.AgentStatus) AgentStatus {
	if s == nil {
		return AgentStatus{}
	}
	return AgentStatus{Agent: s.Agent, Where: s.Where, Image: s.Image, Desired: int(s.Desired),
		Ready: int(s.Ready), Updated: int(s.Updated), Available: int(s.Available), State: s.State, Message: s.Message}
}
