package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/config"
	"github.com/ast-cli/ast/internal/deploy"
	"github.com/ast-cli/ast/internal/refs"
	"github.com/ast-cli/ast/pluginsdk"
)

// lockWait bounds the wait for another ast that is deploying or stopping the same agent.
const lockWait = 20 * time.Second

// DeployOptions are the options of `ast blueprint deploy`.
type DeployOptions struct {
	blueprintEnv
	// Account returns the active account; Backend starts and configures its plugin;
	// Close stops every plugin started (before the agent starts: it must inherit nothing
	// from a plugin).
	Account func() (config.Account, error)
	Backend func(context.Context, config.Account) (pluginsdk.Backend, error)
	Close   func()
	// Environ is the user's environment; the agent inherits only deploy.AgentEnviron of it.
	Environ func() []string
	Now     func() time.Time
	// Grace is how long a running agent that is replaced gets to exit after SIGTERM.
	Grace time.Duration
	// AccountArg is " --account NAME" when hints must name the account.
	AccountArg func() string
	// Watch is how long a detached agent is watched after it starts: one that ends
	// within it is reported as a failed deploy, with its status.
	Watch time.Duration

	TargetDeployOptions

	Agent      string
	Vars       []string
	DryRun     bool
	Foreground bool
	Output     string
}

// NewCmdDeploy is `ast blueprint deploy AGENT [--var KEY=VALUE]... [--dry-run] [--foreground]`.
func NewCmdDeploy(f *Factory) *cobra.Command {
	opts := &DeployOptions{
		blueprintEnv: newBlueprintEnv(f),
		Account:      f.ActiveAccount,
		Backend:      f.Backend,
		Close:        f.Close,
		Environ:      f.Environ,
		Now:          time.Now,
		Grace:        deploy.DefaultGrace,
		Watch:        time.Second,
		AccountArg:   f.AccountArg,
		TargetDeployOptions: TargetDeployOptions{TargetConfig: f.Config, StartTarget: f.StartTarget,
			Wait: true, Timeout: DefaultRolloutTimeout},
	}
	cmd := &cobra.Command{
		Use:   "deploy AGENT [--var KEY=VALUE]... [--target NAME] [--dry-run] [--foreground]",
		Short: "Resolve an agent's variables and start it",
		Long: `Deploy AGENT from blueprints/AGENT.yaml: its env, overridden by --var, is resolved against
the active account in one batched call, and the agent starts on this machine as a detached
process with the variables in its environment. If any reference is missing, every missing
name is reported and nothing starts. A running AGENT is replaced: SIGTERM to its process
group, SIGKILL 5 seconds later if it is still there.

--var KEY=VALUE grammar (the same as 'ast run'):
` + varGrammar + `
--dry-run prints the plan (where each variable would come from, never a value) without
starting the backend or the agent.

--target NAME (or target: NAME in the blueprint) deploys to a configured target instead
(see 'ast target'): on kubernetes, a Secret ast-AGENT with the resolved references and a
Deployment AGENT that refers to it; --wait (on by default) waits up to --timeout for the
rollout, --dry-run prints the manifests with every value replaced by its source. --foreground runs the agent attached to this terminal
and exits with its status. Values reach the agent only through its environment: never
ast's own environment, arguments, output, log file or deployment record.`,
		Example: `  ast blueprint deploy my-agent
  ast blueprint deploy my-agent --var ANTHROPIC_API_KEY=@ --var REGION=eu-west-1
  ast blueprint deploy my-agent --dry-run --output json`,
		Args: exactArgs(1, "one AGENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Agent = args[0]
			return runDeploy(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringArrayVar(&opts.Vars, "var", nil, "a variable KEY=VALUE, KEY=@NAME or KEY=@ (repeatable; overrides the blueprint's env)")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print the plan (sources, never values) and start nothing")
	cmd.Flags().BoolVar(&opts.Foreground, "foreground", false, "run the agent attached to the terminal and exit with its status")
	cmd.Flags().StringVar(&opts.Target, "target", "", "deploy to this target (default: the blueprint's target:, else local)")
	cmd.Flags().BoolVar(&opts.Wait, "wait", true, "targets other than local: wait until the rollout is complete (--wait=false to return at once)")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", DefaultRolloutTimeout, "targets other than local: how long --wait waits")
	cmd.Flags().BoolVar(&opts.Adopt, "adopt", false, "targets other than local: take over existing objects of the agent's name that ast did not create")
	outputFlag(cmd, &opts.Output)
	return cmd
}

// deployPlan is the output of `deploy --dry-run`.
type deployPlan struct {
	DryRun          bool     `json:"dry_run"`
	Agent           string   `json:"agent"`
	Description     string   `json:"description,omitempty"`
	Account         string   `json:"account"`
	Backend         string   `json:"backend"`
	Target          string   `json:"target"`
	Blueprint       string   `json:"blueprint"`
	BlueprintDigest string   `json:"blueprint_digest"`
	Command         []string `json:"command"`
	Workdir         string   `json:"workdir"`
	Log             string   `json:"log"`
	Replaces        *int     `json:"replaces_pid,omitempty"`
	// PassEnv is the blueprint's pass_env: variables the agent inherits beyond
	// deploy.MinimalEnv.
	PassEnv   []string          `json:"pass_env"`
	Variables []deploy.Variable `json:"variables"`
}

func runDeploy(ctx context.Context, opts *DeployOptions) error {
	if err := checkAgent(opts.Agent); err != nil {
		return err
	}
	if err := checkOutput(opts.Output); err != nil {
		return err
	}
	if opts.DryRun && opts.Foreground {
		return usageErrorf("--dry-run and --foreground exclude each other")
	}
	overrides, err := refs.ParseVars(opts.Vars)
	if err != nil {
		return &usageError{err}
	}
	cwd, dirs, store, err := opts.locate()
	if err != nil {
		return err
	}
	bp, err := deploy.Load(opts.Agent, dirs, cwd)
	if err != nil {
		return err
	}
	warnShadowed(opts.IO.ErrOut, bp.Path, deploy.Shadowed(bp.Agent, dirs, bp.Path))
	vars := refs.Merge(bp.Env, overrides)
	fromFlag := make(map[string]bool, len(overrides))
	for _, v := range overrides {
		fromFlag[v.Key] = true
	}
	acct, err := opts.Account()
	if err != nil {
		return err
	}
	if name := targetOf(opts.Target, bp); name != config.TargetLocal {
		return runDeployTarget(ctx, opts, bp, vars, fromFlag, acct, name)
	}
	if err := bp.CheckLocal(); err != nil {
		return err
	}
	// A --var literal may be a secret typed on the command line: the plan and the record
	// keep its length and a keyed hash, never its text (deploy.Variables).
	var literalKey []byte
	if hasLiteral(overrides) {
		if literalKey, err = store.LiteralKey(); err != nil {
			return err
		}
	}
	if opts.DryRun {
		// No plugin: a dry run needs no value, so nothing is fetched.
		return printPlan(opts, bp, acct, store, deploy.Variables(refs.Plan(vars), fromFlag, literalKey))
	}
	if fi, err := os.Stat(bp.Workdir); err != nil || !fi.IsDir() {
		return fmt.Errorf("blueprint %s: the agent's working directory %s does not exist", bp.Path, bp.Workdir)
	}

	var getter refs.Getter
	if hasRef(vars) {
		b, err := opts.Backend(ctx, acct)
		if err != nil {
			return err
		}
		getter = b
	}
	resolved, err := refs.Resolve(ctx, getter, vars)
	opts.Close() // the plugin has done its part: the agent must inherit nothing from it
	if err != nil {
		return fmt.Errorf("deploying %s: %w", bp.Agent, nameAccount(err, acct.Name, opts.AccountArg))
	}

	lockCtx, cancel := context.WithTimeout(ctx, lockWait)
	unlock, err := store.Lock(lockCtx, bp.Agent)
	cancel()
	if err != nil {
		return err
	}
	var once sync.Once
	release := func() { once.Do(unlock) }
	defer release()

	if err := replaceRunning(ctx, opts.IO, store, bp.Agent, opts.Grace); err != nil {
		return err
	}
	d := &deploy.Deployment{
		Agent: bp.Agent, Account: acct.Name, Backend: acct.Backend, Target: deploy.TargetLocal,
		Blueprint: bp.Path, BlueprintDigest: bp.Digest, Command: bp.Command, Workdir: bp.Workdir,
		Variables: deploy.Variables(resolved.Sources, fromFlag, literalKey),
	}
	// An agent, detached or --foreground, starts from the minimal environment plus the
	// blueprint's pass_env: not ast's whole environment, which holds the user's credentials
	// to the backend (VAULT_TOKEN, AWS_* keys) and so to every entry of the account.
	spec := deploy.Spec{Command: bp.Command, Dir: bp.Workdir, Env: resolved.Environ(deploy.AgentEnviron(opts.Environ(), bp.PassEnv))}

	if opts.Foreground {
		printf(opts.IO.ErrOut, "Running %s from %s with account %s\n", bp.Agent, bp.Path, acct.Name)
		d.Foreground = true
		code, err := deploy.RunAttached(spec, opts.IO.In, opts.IO.Out, opts.IO.ErrOut, func(p deploy.Process) error {
			d.PID, d.PGID, d.ProcessStart, d.StartedAt = p.PID, p.PGID, p.Start, opts.Now().UTC()
			err := store.Write(d)
			release() // `ast blueprint stop` from another terminal must not wait for this one
			return err
		})
		if err != nil {
			return fmt.Errorf("deploying %s: %w", bp.Agent, err)
		}
		recordExit(ctx, opts, store, d, code)
		if code != 0 {
			return &silentError{code: code}
		}
		return nil
	}

	log, err := store.OpenLog(bp.Agent)
	if err != nil {
		return err
	}
	p, exit, err := deploy.StartDetachedWatch(spec, log, opts.Watch)
	log.Close()
	if err != nil {
		return fmt.Errorf("deploying %s: %w", bp.Agent, err)
	}
	d.PID, d.PGID, d.ProcessStart, d.StartedAt = p.PID, p.PGID, p.Start, opts.Now().UTC()
	d.Log = store.LogPath(bp.Agent)
	if exit != nil {
		// It ended at once: keep the record so that list shows how, and logs has its
		// output. A failure (status != 0) is a failed deploy, not "Deployed".
		d.ExitStatus, d.ExitedAt = &exit.Status, &exit.At
		if err := store.Write(d); err != nil {
			return err
		}
		if exit.Status != 0 {
			return fmt.Errorf("%s exited with status %d within %v of starting; see its output with: ast blueprint logs %s",
				bp.Agent, exit.Status, opts.Watch, bp.Agent)
		}
	}
	if err := store.Write(d); err != nil {
		// An agent without a record could be neither listed nor stopped.
		_, _ = deploy.Stop(context.WithoutCancel(ctx), p, opts.Grace)
		return fmt.Errorf("deploying %s: %w (the agent was stopped)", bp.Agent, err)
	}
	if opts.Output == "json" {
		return writeJSON(opts.IO.Out, d)
	}
	printf(opts.IO.ErrOut, "✓ Deployed %s (pid %d) with account %s\n", d.Agent, d.PID, d.Account)
	if exit != nil {
		printf(opts.IO.ErrOut, "  it has already finished (status 0 within %v of starting)\n", opts.Watch)
	}
	printf(opts.IO.ErrOut, "  blueprint: %s\n", bp.Path)
	printf(opts.IO.ErrOut, "  logs: ast blueprint logs %s   (%s)\n", d.Agent, d.Log)
	return nil
}

// recordExit adds a --foreground agent's exit to its record, so that list and logs say
// how it ended; a record that another deploy has replaced meanwhile is left alone.
func recordExit(ctx context.Context, opts *DeployOptions, store deploy.Store, d *deploy.Deployment, code int) {
	lockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lockWait)
	unlock, err := store.Lock(lockCtx, d.Agent)
	cancel()
	if err != nil {
		return
	}
	defer unlock()
	if cur, err := store.Read(d.Agent); err != nil || cur.PID != d.PID {
		return
	}
	at := opts.Now().UTC()
	d.ExitStatus, d.ExitedAt = &code, &at
	if err := store.Write(d); err != nil {
		warnf(opts.IO.ErrOut, "recording how %s ended: %v", d.Agent, err)
	}
}

// replaceRunning stops agent when its record says it is running. A record that cannot
// be read is an error: its agent may be running and could not be stopped.
func replaceRunning(ctx context.Context, ios *IOStreams, store deploy.Store, agent string, grace time.Duration) error {
	old, err := store.Read(agent)
	if errors.Is(err, deploy.ErrNotDeployed) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w; if %s is not running, remove that file", err, agent)
	}
	stopped, err := deploy.Stop(ctx, old.Process(), grace)
	if err != nil {
		return fmt.Errorf("replacing the running %s: %w", agent, err)
	}
	if stopped {
		fmt.Fprintf(ios.ErrOut, "✓ Stopped the running %s (pid %d)\n", agent, old.PID)
	}
	return nil
}

func printPlan(opts *DeployOptions, bp *deploy.Blueprint, acct config.Account, store deploy.Store, vars []deploy.Variable) error {
	plan := deployPlan{
		DryRun: true, Agent: bp.Agent, Description: bp.Description, Account: acct.Name, Backend: acct.Backend,
		Target: deploy.TargetLocal, Blueprint: bp.Path, BlueprintDigest: bp.Digest, Command: bp.Command,
		Workdir: bp.Workdir, Log: store.LogPath(bp.Agent), PassEnv: nonNil(bp.PassEnv), Variables: vars,
	}
	if old, err := store.Read(bp.Agent); err == nil && deploy.Running(old.Process()) {
		plan.Replaces = &old.PID
	}
	if opts.Output == "json" {
		return writeJSON(opts.IO.Out, plan)
	}
	w := opts.IO.Out
	printf(w, "Deploy plan for %s (dry run: nothing is started)\n", plan.Agent)
	printf(w, "  blueprint  %s (%s)\n", plan.Blueprint, plan.BlueprintDigest)
	printf(w, "  command    %s\n", shellJoin(plan.Command))
	printf(w, "  workdir    %s\n", plan.Workdir)
	printf(w, "  account    %s (backend %s)\n", plan.Account, plan.Backend)
	printf(w, "  log        %s\n", plan.Log)
	inherits := "the minimal environment (" + strings.Join(deploy.MinimalEnv, ", ") + ", LC_*)"
	if len(plan.PassEnv) > 0 {
		inherits += " and pass_env " + strings.Join(plan.PassEnv, ", ")
	}
	printf(w, "  inherits   %s\n", inherits)
	if plan.Replaces != nil {
		printf(w, "  replaces   the running %s (pid %d)\n", plan.Agent, *plan.Replaces)
	}
	fmt.Fprintln(w)
	if len(vars) == 0 {
		fmt.Fprintln(w, "No variables.")
		return nil
	}
	t := newTable(w, opts.IO.OutTTY, "VARIABLE", "SOURCE", "FROM")
	for _, v := range vars {
		t.add(v.Key, sourceText(v), v.From)
	}
	return t.print()
}

// sourceText says where a variable comes from, for people. For an entry it never holds a
// value; a blueprint's literal is shown as written, a --var literal by its length and the
// start of its keyed hash.
func sourceText(v deploy.Variable) string {
	s := v.Source
	switch {
	case v.Hidden() && v.LiteralHMAC != "":
		return fmt.Sprintf("literal (%d bytes, %.28s…)", *v.LiteralBytes, v.LiteralHMAC)
	case v.Hidden():
		return fmt.Sprintf("literal (%d bytes)", *v.LiteralBytes)
	case s.Kind != refs.SourceReference:
		return "literal " + strconv.Quote(s.Literal)
	}
	text := "entry " + s.Entry
	if s.Field != "" {
		text += ", field " + strconv.Quote(s.Field)
	}
	switch {
	case s.Version > 0 && s.EntryKind != "":
		text += fmt.Sprintf(" (%s, version %d)", s.EntryKind, s.Version)
	case s.Version > 0:
		text += fmt.Sprintf(" (version %d)", s.Version)
	}
	return text
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellJoin shows argv as a shell would need it typed.
func shellJoin(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if shellSafe.MatchString(a) {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

// nonNil returns s, or an empty slice for nil (JSON [] rather than null).
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// warnShadowed says on w that the blueprint at used, found first (in the working
// directory), hides the user's own blueprints of the same agent: a cloned repository's
// blueprints/AGENT.yaml would otherwise receive the references meant for the user's.
func warnShadowed(w io.Writer, used string, shadowed []string) {
	for _, p := range shadowed {
		warnf(w, "%s shadows %s: the working directory's blueprint is the one used", used, p)
	}
}

// hasLiteral reports whether any of vars is a literal.
func hasLiteral(vars []refs.Var) bool {
	for _, v := range vars {
		if !v.IsRef() {
			return true
		}
	}
	return false
}
