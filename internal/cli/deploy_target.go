package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ast-cli/ast/config"
	"github.com/ast-cli/ast/internal/deploy"
	"github.com/ast-cli/ast/internal/refs"
	"github.com/ast-cli/ast/internal/termtext"
	"github.com/ast-cli/ast/pluginsdk"
)

// DefaultRolloutTimeout bounds deploy --wait on a target other than local.
const DefaultRolloutTimeout = 5 * time.Minute

// TargetDeployOptions are the deploy options that matter for targets other than local.
type TargetDeployOptions struct {
	// Target is --target ("" to use the blueprint's, else local).
	Target string
	// TargetConfig loads the config (targets:); StartTarget starts and configures a
	// target's plugin (stopped by Close).
	TargetConfig func() (*config.Config, error)
	StartTarget  func(context.Context, config.Target) (pluginsdk.Target, error)
	Wait         bool
	// Timeout bounds the wait for the rollout.
	Timeout time.Duration
	Adopt   bool
}

// targetOf returns the target an agent is deployed to: --target, else the blueprint's
// target:, else local.
func targetOf(flag string, bp *deploy.Blueprint) string {
	switch {
	case flag != "":
		return flag
	case bp.Target != "":
		return bp.Target
	}
	return config.TargetLocal
}

// unsupportedOn lists, per target type, the blueprint fields it refuses (with why).
var unsupportedOn = map[string]map[string]string{
	"kubernetes": {
		"workdir":  "has no meaning on kubernetes (the image sets the working directory)",
		"pass_env": "has no meaning on kubernetes (this machine's environment does not reach the cluster)",
	},
}

// checkForTarget reports every blueprint field the target type does not take, with its
// line, and a missing image.
func checkForTarget(bp *deploy.Blueprint, t config.Target) error {
	var probs []deploy.Problem
	for field, why := range unsupportedOn[t.Type] {
		if line, ok := bp.Lines[field]; ok {
			probs = append(probs, deploy.Problem{Line: line, Field: field, Msg: fmt.Sprintf("%s (target %s)", why, t.Name)})
		}
	}
	if t.Type == "kubernetes" && bp.Image == "" {
		probs = append(probs, deploy.Problem{Field: "image", Msg: fmt.Sprintf("missing field: target %s (kubernetes) runs a container image, e.g. image: python:3.12-slim", t.Name)})
	}
	if len(probs) == 0 {
		return nil
	}
	for i := range probs {
		for j := i + 1; j < len(probs); j++ {
			if probs[j].Line < probs[i].Line {
				probs[i], probs[j] = probs[j], probs[i]
			}
		}
	}
	return &deploy.BlueprintError{Path: bp.Path, Problems: probs}
}

// workload builds what the target plugin deploys from the variables' sources and, except
// in a dry run, their resolved values. References and literals given on the command line
// (which may be secrets) are sensitive: they reach the workload through the target's secret
// store; blueprint literals are written into the workload's definition.
func workload(bp *deploy.Blueprint, sources []refs.Source, env []refs.EnvVar, fromFlag map[string]bool) pluginsdk.Workload {
	w := pluginsdk.Workload{Agent: bp.Agent, Image: bp.Image, Command: bp.Command, BlueprintDigest: bp.Digest, Spec: bp.Kubernetes}
	values := map[string]pluginsdk.Value{}
	for _, e := range env {
		values[e.Key] = e.Value
	}
	for _, s := range sources {
		v := pluginsdk.TargetVariable{Key: s.Key, Value: values[s.Key], SourceKind: s.Kind, Entry: s.Entry,
			Field: s.Field, EntryKind: s.EntryKind, Version: s.Version, Origin: deploy.FromBlueprint}
		if fromFlag[s.Key] {
			v.Origin = deploy.FromFlag
		}
		v.Sensitive = s.Kind == refs.SourceReference || fromFlag[s.Key]
		if s.Kind != refs.SourceReference && !v.Sensitive && env == nil {
			v.Value = pluginsdk.NewValue(s.Literal) // a blueprint literal is written as is, dry run or not
		}
		w.Env = append(w.Env, v)
	}
	return w
}

// runDeployTarget deploys bp to a target other than local: resolve the references (one
// batched Get, then the backend plugin is stopped), hand the workload to the target's
// plugin, wait for the rollout, and write the deployment record (sources, never values).
func runDeployTarget(ctx context.Context, opts *DeployOptions, bp *deploy.Blueprint, vars []refs.Var, fromFlag map[string]bool, acct config.Account, name string) error {
	if opts.Foreground {
		return usageErrorf("--foreground runs the agent on this machine; target %s is not local", name)
	}
	cfg, err := opts.TargetConfig()
	if err != nil {
		return err
	}
	t, err := cfg.Target(name)
	if err != nil {
		return &usageError{err}
	}
	if err := checkForTarget(bp, t); err != nil {
		return err
	}
	paths, err := opts.Paths()
	if err != nil {
		return err
	}
	store := TargetStore(paths, t.Name)
	if opts.DryRun {
		// No backend: a dry run needs no value, so nothing is fetched.
		w := workload(bp, refs.Plan(vars), nil, fromFlag)
		p, err := opts.StartTarget(ctx, t)
		if err != nil {
			return err
		}
		res, err := p.Deploy(ctx, w, pluginsdk.DeployOptions{DryRun: true, Adopt: opts.Adopt})
		if err != nil {
			return fmt.Errorf("deploying %s to target %s: %w", bp.Agent, t.Name, err)
		}
		if opts.Output == "json" {
			return writeJSON(opts.IO.Out, map[string]any{"dry_run": true, "agent": bp.Agent, "target": t.Name,
				"objects": res.Objects, "manifests": res.Manifests})
		}
		printf(opts.IO.Out, "# Deploy plan for %s on target %s (dry run: nothing is written; values are shown by source)\n", bp.Agent, t.Name)
		_, err = io.WriteString(opts.IO.Out, termtext.Text(res.Manifests))
		return err
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
	opts.Close() // the backend has done its part
	if err != nil {
		return fmt.Errorf("deploying %s: %w", bp.Agent, err)
	}
	lockCtx, cancel := context.WithTimeout(ctx, lockWait)
	unlock, err := store.Lock(lockCtx, bp.Agent)
	cancel()
	if err != nil {
		return err
	}
	defer unlock()

	p, err := opts.StartTarget(ctx, t)
	if err != nil {
		return err
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultRolloutTimeout
	}
	if opts.Wait && opts.IO.ErrTTY && opts.Output != "json" {
		printf(opts.IO.ErrOut, "Deploying %s to target %s and waiting for the rollout (up to %s)...\n", bp.Agent, t.Name, timeout.String())
	}
	pctx, stopProgress := startRollout(ctx, opts.IO, opts.Output, bp.Agent)
	res, err := p.Deploy(pctx, workload(bp, resolved.Sources, resolved.Env, fromFlag),
		pluginsdk.DeployOptions{Wait: opts.Wait, Timeout: timeout, Adopt: opts.Adopt})
	stopProgress()
	if err != nil && res.Status.Agent == "" {
		// The workload was not written as asked (the plugin's error says what was): no
		// record. One that was, and whose rollout failed, is recorded below.
		return fmt.Errorf("deploying %s to target %s: %w", bp.Agent, t.Name, err)
	}
	// As on the local target, a --var literal is recorded as its length and keyed hash.
	var literalKey []byte
	if hasLiteral(flagVars(vars, fromFlag)) {
		if literalKey, err = (deploy.Store{Dir: paths.StateDir}).LiteralKey(); err != nil {
			return err
		}
	}
	d := &deploy.Deployment{
		Agent: bp.Agent, Account: acct.Name, Backend: acct.Backend, Target: t.Name,
		Blueprint: bp.Path, BlueprintDigest: bp.Digest, Command: bp.Command,
		Variables: deploy.Variables(resolved.Sources, fromFlag, literalKey), StartedAt: opts.Now().UTC(),
	}
	if werr := store.Write(d); werr != nil {
		return fmt.Errorf("deployed %s to target %s, but: %w", bp.Agent, t.Name, werr)
	}
	if err != nil { // written, but the rollout failed: the objects stay, say so
		return fmt.Errorf("deploying %s to target %s: %w", bp.Agent, t.Name, err)
	}
	if opts.Output == "json" {
		return writeJSON(opts.IO.Out, map[string]any{"agent": bp.Agent, "target": t.Name, "changed": res.Changed,
			"objects": res.Objects, "where": res.Status.Where, "desired": res.Status.Desired,
			"available": res.Status.Available, "state": res.Status.State, "variables": d.Variables})
	}
	verb := "Deployed"
	if !res.Changed {
		verb = "Unchanged:"
	}
	printf(opts.IO.ErrOut, "✓ %s %s on target %s (%s), account %s", verb, bp.Agent, t.Name, res.Status.Where, acct.Name)
	if opts.Wait {
		printf(opts.IO.ErrOut, ": %d/%d available", res.Status.Available, res.Status.Desired)
	}
	fmt.Fprintln(opts.IO.ErrOut)
	return nil
}

// stopOnTarget stops agent on the named target and removes its record there.
func stopOnTarget(ctx context.Context, f func(context.Context, config.Target) (pluginsdk.Target, error), cfg *config.Config, store deploy.Store, ios *IOStreams, agent, name string, timeout time.Duration) error {
	t, err := cfg.Target(name)
	if err != nil {
		return &usageError{err}
	}
	p, err := f(ctx, t)
	if err != nil {
		return err
	}
	found, err := p.Stop(ctx, agent, timeout)
	if err != nil {
		return fmt.Errorf("stopping %s on target %s: %w", agent, t.Name, err)
	}
	if err := store.Remove(agent); err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("agent %s is not deployed on target %s (see: ast blueprint list)", agent, t.Name)
	}
	printf(ios.ErrOut, "✓ Stopped %s on target %s (its objects are gone)\n", agent, t.Name)
	return nil
}

// targetsOfAgent returns the targets other than local that hold a record of agent.
func targetsOfAgent(paths config.Paths, cfg *config.Config, agent string) []string {
	var out []string
	for _, n := range cfg.TargetNames() {
		if _, err := TargetStore(paths, n).Read(agent); err == nil || !errors.Is(err, deploy.ErrNotDeployed) {
			out = append(out, n)
		}
	}
	return out
}

// agentTarget is what stop and logs need to reach an agent on any target.
type agentTarget struct {
	// Target is --target ("": wherever the agent's record is).
	Target       string
	TargetConfig func() (*config.Config, error)
	StartTarget  func(context.Context, config.Target) (pluginsdk.Target, error)
	Close        func()
}

func newAgentTarget(f *Factory) agentTarget {
	return agentTarget{TargetConfig: f.Config, StartTarget: f.StartTarget, Close: f.Close}
}

// find returns the target of agent: --target; else the one target whose records hold
// the agent (local's in localStore, or a configured target's); else local, whose
// commands say what is not deployed. An agent recorded on two targets needs --target.
func (a agentTarget) find(paths func() (config.Paths, error), localStore deploy.Store, agent string) (string, error) {
	if a.Target != "" {
		return a.Target, nil
	}
	if a.TargetConfig == nil { // no targets wired in (tests of the local target)
		return config.TargetLocal, nil
	}
	cfg, err := a.TargetConfig()
	if err != nil {
		return "", err
	}
	p, err := paths()
	if err != nil {
		return "", err
	}
	var on []string
	if _, err := localStore.Read(agent); err == nil || !errors.Is(err, deploy.ErrNotDeployed) {
		on = append(on, config.TargetLocal)
	}
	on = append(on, targetsOfAgent(p, cfg, agent)...)
	switch len(on) {
	case 0:
		return config.TargetLocal, nil
	case 1:
		return on[0], nil
	}
	return "", usageErrorf("agent %s is deployed on %s: say which with --target", agent, joinNames(on))
}

// logsOnTarget streams agent's logs from the named target.
func logsOnTarget(ctx context.Context, a agentTarget, ios *IOStreams, agent, name string, follow bool) error {
	cfg, err := a.TargetConfig()
	if err != nil {
		return err
	}
	t, err := cfg.Target(name)
	if err != nil {
		return &usageError{err}
	}
	p, err := a.StartTarget(ctx, t)
	if err != nil {
		return err
	}
	if err := p.Logs(ctx, agent, pluginsdk.LogOptions{Follow: follow}, ios.Out); err != nil && ctx.Err() == nil {
		return fmt.Errorf("logs of %s on target %s: %w", agent, t.Name, err)
	}
	return nil
}

// listTargets asks every configured target for the agents ast manages there, at most
// targetStatusWait each. A target that cannot be asked is one row with status
// "unreachable" and agent "-" (and "ast: cannot list the agents of target NAME: REASON" on stderr). byAgent holds the local rows: a blueprint
// that is deployed only on a target is not listed twice.
func (o *BlueprintListOptions) listTargets(ctx context.Context, byAgent map[string]*listedAgent) ([]*listedAgent, error) {
	if o.TargetConfig == nil { // no targets wired in (tests of the local target)
		return nil, nil
	}
	cfg, err := o.TargetConfig()
	if err != nil {
		return nil, err
	}
	defer o.Close()
	var out []*listedAgent
	for _, name := range cfg.TargetNames() {
		t := cfg.Targets[name]
		cctx, cancel := context.WithTimeout(ctx, targetStatusWait)
		var sts []pluginsdk.AgentStatus
		p, err := o.StartTarget(cctx, t)
		if err == nil {
			sts, err = p.Status(cctx, nil)
		}
		cancel()
		o.Close()
		if err != nil {
			printError(o.IO.ErrOut, fmt.Errorf("cannot list the agents of target %s: %w", name, err))
			out = append(out, &listedAgent{Agent: "-", Status: statusUnreachable, Target: name, Error: err.Error()})
			continue
		}
		for _, s := range sts {
			desired, ready := s.Desired, s.Ready
			a := &listedAgent{Agent: s.Agent, Status: fmt.Sprintf("%s %d/%d", s.State, s.Ready, s.Desired),
				Running: s.Ready > 0, Target: name, Where: s.Where, Image: s.Image, Desired: &desired, Ready: &ready}
			if local, ok := byAgent[s.Agent]; ok && local.Status == statusNotDeployed {
				// the blueprint found here is the one deployed there: one row
				local.Status, local.Running, local.Target, local.Where = a.Status, a.Running, a.Target, a.Where
				local.Image, local.Desired, local.Ready = a.Image, a.Desired, a.Ready
				continue
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// flagVars returns the variables of vars given on the command line.
func flagVars(vars []refs.Var, fromFlag map[string]bool) []refs.Var {
	var out []refs.Var
	for _, v := range vars {
		if fromFlag[v.Key] {
			out = append(out, v)
		}
	}
	return out
}
