package pluginsdk

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
)

// fakeTarget records what it was given and answers fixed results.
type fakeTarget struct {
	got     Workload
	gotOpts DeployOptions
}

func (f *fakeTarget) Configure(context.Context, string, map[string]string) error { return nil }
func (f *fakeTarget) Info(context.Context) (Info, error) {
	return Info{Name: "fake", Protocol: TargetProtocolVersion}, nil
}
func (f *fakeTarget) Deploy(ctx context.Context, w Workload, o DeployOptions) (DeployResult, error) {
	f.got, f.gotOpts = w, o
	switch w.Agent {
	case "refused":
		return DeployResult{}, Errorf(ErrPermissionDenied, "may not patch deployments")
	case "half":
		return DeployResult{Objects: []string{"Secret ns/ast-half"}}, Errorf(ErrFailedPrecondition, "the Deployment was refused")
	}
	ReportProgress(ctx, AgentStatus{Agent: w.Agent, Desired: 2, Updated: 1, State: "progressing", Message: "pod a-1: Unschedulable"})
	ReportProgress(ctx, AgentStatus{Agent: w.Agent, Desired: 2, Updated: 2, Available: 2, State: "available"})
	return DeployResult{Changed: true, Objects: []string{"Secret ns/ast-a"}, Status: AgentStatus{Agent: w.Agent, Desired: 2, Available: 2, State: "available"}}, nil
}
func (f *fakeTarget) Status(_ context.Context, agents []string) ([]AgentStatus, error) {
	return []AgentStatus{{Agent: "a", Where: "namespace n", Image: "img", Desired: 1, Ready: 1}}, nil
}
func (f *fakeTarget) Stop(_ context.Context, agent string, _ time.Duration) (bool, error) {
	return agent == "a", nil
}
func (f *fakeTarget) Logs(_ context.Context, agent string, _ LogOptions, w io.Writer) error {
	for i := 0; i < 3; i++ {
		fmt.Fprintf(w, "line %d of %s\n", i, agent)
	}
	return nil
}

// TestTargetOverGRPC sends every call through the real gRPC adapter and back.
func TestTargetOverGRPC(t *testing.T) {
	impl := &fakeTarget{}
	client, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{TargetPluginName: &TargetGRPCPlugin{Impl: impl}})
	defer client.Close()
	raw, err := client.Dispense(TargetPluginName)
	if err != nil {
		t.Fatal(err)
	}
	tg := raw.(Target)
	ctx := context.Background()
	w := Workload{Agent: "a", Image: "img", Command: []string{"x"}, BlueprintDigest: "sha256:1", Spec: []byte(`{"replicas":2}`),
		Env: []TargetVariable{{Key: "K", Value: NewValue("v"), Sensitive: true, SourceKind: "reference", Entry: "E", Field: "password", EntryKind: KindSecret, Version: 3, Origin: "blueprint"}}}
	var progress []AgentStatus
	res, err := tg.Deploy(WithProgress(ctx, func(a AgentStatus) { progress = append(progress, a) }), w, DeployOptions{Wait: true, Timeout: 90 * time.Second, Adopt: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(progress) != 2 || progress[0].Updated != 1 || progress[0].Message != "pod a-1: Unschedulable" || progress[1].Available != 2 {
		t.Errorf("progress = %+v", progress)
	}
	if !res.Changed || res.Status.Available != 2 || len(res.Objects) != 1 {
		t.Errorf("result = %+v", res)
	}
	g := impl.got
	if g.Agent != "a" || g.Env[0].Value.Reveal() != "v" || !g.Env[0].Sensitive || g.Env[0].Version != 3 || g.Env[0].Field != "password" || string(g.Spec) != `{"replicas":2}` {
		t.Errorf("the plugin got another workload: %+v", g)
	}
	if impl.gotOpts.Timeout != 90*time.Second || !impl.gotOpts.Wait || !impl.gotOpts.Adopt {
		t.Errorf("options = %+v", impl.gotOpts)
	}
	if _, err := tg.Deploy(ctx, Workload{Agent: "refused"}, DeployOptions{}); CodeOf(err) != ErrPermissionDenied.Code || !strings.Contains(err.Error(), "may not patch") {
		t.Errorf("error = %v, want PermissionDenied", err)
	}
	// A deploy that fails after writing: the error and what it wrote.
	if res, err := tg.Deploy(ctx, Workload{Agent: "half"}, DeployOptions{}); CodeOf(err) != ErrFailedPrecondition.Code || len(res.Objects) != 1 {
		t.Errorf("a half-written deploy: %+v, %v", res, err)
	}
	sts, err := tg.Status(ctx, nil)
	if err != nil || len(sts) != 1 || sts[0].Image != "img" {
		t.Errorf("status = %+v, %v", sts, err)
	}
	if found, err := tg.Stop(ctx, "b", time.Second); err != nil || found {
		t.Errorf("stop of a missing agent: %v %v", found, err)
	}
	var buf bytes.Buffer
	if err := tg.Logs(ctx, "a", LogOptions{}, &buf); err != nil || buf.String() != "line 0 of a\nline 1 of a\nline 2 of a\n" {
		t.Errorf("logs = %q, %v", buf.String(), err)
	}
}

// TestTargetDeployUnary: a host talking to a target plugin whose SDK does not serve
// DeployStream (no capability deploy-progress) deploys the unary way: the result comes,
// without progress.
func TestTargetDeployUnary(t *testing.T) {
	client, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{TargetPluginName: &TargetGRPCPlugin{Impl: &fakeTarget{}}})
	defer client.Close()
	raw, err := client.Dispense(TargetPluginName)
	if err != nil {
		t.Fatal(err)
	}
	tc := raw.(*targetClient)
	tc.stream.Store(streamNo) // as Info from an older SDK leaves it
	reports := 0
	ctx := WithProgress(context.Background(), func(AgentStatus) { reports++ })
	res, err := tc.Deploy(ctx, Workload{Agent: "a"}, DeployOptions{Wait: true})
	if err != nil || !res.Changed || res.Status.Available != 2 || reports != 0 {
		t.Errorf("unary deploy: %+v, %v, %d progress reports", res, err, reports)
	}
	if info, err := tc.Info(context.Background()); err != nil || !slices.Contains(info.Capabilities, CapDeployProgress) {
		t.Errorf("Info of this SDK's target: %+v, %v: want capability %s", info, err, CapDeployProgress)
	}
}
