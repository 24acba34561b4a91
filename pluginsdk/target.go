package pluginsdk

import (
	"context"
	"io"
	"time"
)

// TargetProtocolVersion is the version of the deploy target protocol this SDK speaks,
// negotiated through go-plugin's versioned plugin sets like ProtocolVersion.
const TargetProtocolVersion = 1

// TargetExecutablePrefix starts the file name of every deploy target plugin: target type
// TYPE is the executable ast-target-TYPE, found where backend plugins are.
const TargetExecutablePrefix = "ast-target-"

// Target runs agents somewhere other than this machine: a Kubernetes cluster, say. A
// plugin implements it and hands it to ServeTarget; the host sees the same interface
// through a gRPC client. Every method takes a context that carries the host's deadline.
// A target never puts a value into an error, a log line, an object's metadata or a
// manifest printed in a dry run.
type Target interface {
	// Configure is called once, right after the plugin starts, with the target's name
	// (the account-name rule) and its settings from ast's configuration. An unknown or
	// malformed setting is ErrInvalidArgument.
	Configure(ctx context.Context, target string, settings map[string]string) error

	// Info describes the plugin (Protocol is TargetProtocolVersion). It may be called
	// before Configure.
	Info(ctx context.Context) (Info, error)

	// Deploy creates or updates the agent's workload so that it runs with w's variables,
	// idempotently: deploying the same workload twice changes nothing the second time
	// (Changed false). With opts.Wait it returns when the workload is running as asked,
	// or with ErrUnavailable (naming the reasons) when opts.Timeout passes first. With
	// opts.DryRun it writes nothing and returns the manifests it would write in Manifests,
	// every value replaced by its source (w's values are empty then). An existing object
	// ast does not manage is ErrFailedPrecondition unless opts.Adopt. While it waits it
	// calls ReportProgress(ctx, ...) when the rollout's counts or reasons change. A Deploy
	// that fails after writing returns what it wrote in the result beside the error, and
	// the workload's Status when the workload is in place (a rollout that did not
	// complete in time); Status.Agent is empty when it is not.
	Deploy(ctx context.Context, w Workload, opts DeployOptions) (DeployResult, error)

	// Status reports the named agents, or every agent ast manages on the target when
	// agents is empty, sorted by agent. An agent that is not deployed is missing from the
	// answer (no error).
	Status(ctx context.Context, agents []string) ([]AgentStatus, error)

	// Stop removes the agent's workload and everything Deploy wrote for it, and waits up
	// to timeout for it to be gone. found is false when nothing of the agent was there.
	Stop(ctx context.Context, agent string, timeout time.Duration) (found bool, err error)

	// Logs writes the agent's output to w, following it with opts.Follow until ctx ends
	// or the workload stops.
	Logs(ctx context.Context, agent string, opts LogOptions, w io.Writer) error
}

// Workload is what Deploy runs: the agent from its blueprint, with resolved variables.
type Workload struct {
	Agent   string
	Image   string
	Command []string // empty: the image's entrypoint
	// Env holds the variables sorted by key. A sensitive one (a reference to an entry, or
	// a literal given on the command line) must reach the workload through the target's
	// secret store, never as a literal in its definition.
	Env             []TargetVariable
	BlueprintDigest string
	// Spec is the JSON of the blueprint's block for this target type (kubernetes: ...),
	// nil when the blueprint has none.
	Spec []byte
}

// TargetVariable is one variable of a Workload and where it came from. Value is empty in a
// dry run.
type TargetVariable struct {
	Key       string
	Value     Value
	Sensitive bool
	// SourceKind is "reference" (Entry, Field, EntryKind, Version say which) or "literal".
	SourceKind string
	Entry      string
	// Field is the field of Entry the reference takes (`@NAME#FIELD`), "" for its whole value.
	Field     string
	EntryKind Kind
	Version   int64
	// Origin is "blueprint" or "--var".
	Origin string
}

// DeployOptions tune a Deploy.
type DeployOptions struct {
	Wait    bool
	Timeout time.Duration
	DryRun  bool
	Adopt   bool
}

// DeployResult is what a Deploy did.
type DeployResult struct {
	// Changed is false when every object was already as asked (nothing was written).
	Changed bool
	// Objects names what was written ("Secret ns/ast-agent", ...): only objects that
	// changed; in a dry run, every object the deploy would write.
	Objects []string
	// Manifests is the dry run's output, values replaced by their sources.
	Manifests string
	Status    AgentStatus
}

// AgentStatus is the state of one agent on a target.
type AgentStatus struct {
	Agent string
	// Where says where on the target ("namespace ast-test", ...).
	Where   string
	Image   string
	Desired int
	Ready   int
	// Updated counts replicas running the latest definition (0 when the target does not
	// say).
	Updated int
	// Available counts replicas that have been ready long enough to serve.
	Available int
	// State is "available", "progressing", "stopped" or "failed".
	State string
	// Message is a short, value-free reason for a state other than available (in
	// progress reports, why the pods are not ready yet, "; "-separated).
	Message string
}

// LogOptions tune Logs.
type LogOptions struct {
	Follow bool
	// TailLines is how many lines of each instance's log to start with; 0: all.
	TailLines int64
}

type progressKey struct{}

// ReportProgress tells the caller of a Deploy how its rollout is going (counts, state, why
// pods are not ready), as the target sees it while it waits. Call it when something
// changed, not on every poll: hosts print one line per report when their output is not a
// terminal. Safe for concurrent use; a no-op when the host did not ask for progress (an
// older host) or after Deploy has returned.
func ReportProgress(ctx context.Context, st AgentStatus) {
	if fn, ok := ctx.Value(progressKey{}).(func(AgentStatus)); ok && fn != nil {
		fn(st)
	}
}

// WithProgress returns a context for Deploy whose progress reports fn sees as they come:
// over gRPC on the goroutine that called Deploy, in-process on the target's goroutine.
func WithProgress(ctx context.Context, fn func(AgentStatus)) context.Context {
	return context.WithValue(ctx, progressKey{}, fn)
}
