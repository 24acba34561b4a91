package cli

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/config"
	"github.com/ast-cli/ast/internal/deploy"
)

// BlueprintListOptions are the options of `ast blueprint list`.
type BlueprintListOptions struct {
	blueprintEnv
	agentTarget
	Output string
}

// NewCmdBlueprintList is `ast blueprint list`.
func NewCmdBlueprintList(f *Factory) *cobra.Command {
	opts := &BlueprintListOptions{blueprintEnv: newBlueprintEnv(f), agentTarget: newAgentTarget(f)}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List blueprints and deployed agents, and whether each is running",
		Long: `List the blueprints found (the working directory's blueprints/, then the config
directory's) and every deployed agent, with its status: running (with its pid), exited
(deployed, no longer running: with its exit status and time where ast saw it end, that is
after a --foreground run or a crash within a second of deploying), or not deployed. On a terminal this is a table; piped,
tab-separated lines (agent, status, pid, started, blueprint, target); --output json prints an
array of objects with agent, status, running, pid, started_at, account, blueprint,
description, target (and, for targets other than local, where, image, desired, ready).

Each configured target is asked for the agents ast manages there (a kubernetes target by
the app.kubernetes.io/managed-by=ast label, so teammates' agents show up), waiting at most
15 seconds per target. A target that does not answer is a row with agent "-" and status
unreachable (in JSON with its error), and its reason is printed on stderr; the other
targets and the local agents are still listed.

Exit status: 0 when every target answered; 1 when one did not (after the full listing).`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error { return runBlueprintList(opts) },
	}
	outputFlag(cmd, &opts.Output)
	return cmd
}

// listedAgent is one element of `blueprint list --output json`.
type listedAgent struct {
	Agent       string  `json:"agent"`
	Status      string  `json:"status"`
	Running     bool    `json:"running"`
	PID         int     `json:"pid,omitempty"`
	StartedAt   *string `json:"started_at"`
	ExitStatus  *int    `json:"exit_status,omitempty"`
	ExitedAt    *string `json:"exited_at,omitempty"`
	Foreground  bool    `json:"foreground,omitempty"`
	Account     string  `json:"account,omitempty"`
	Blueprint   string  `json:"blueprint"`
	Description string  `json:"description,omitempty"`
	Target      string  `json:"target"`
	Where       string  `json:"where,omitempty"`
	Image       string  `json:"image,omitempty"`
	Desired     *int    `json:"desired,omitempty"`
	Ready       *int    `json:"ready,omitempty"`
	// Error says why a target is unreachable (status "unreachable").
	Error string `json:"error,omitempty"`
}

// Agent statuses shown by list.
const (
	statusRunning     = "running"
	statusExited      = "exited"
	statusNotDeployed = "not deployed"
	statusUnreachable = "unreachable"
)

func runBlueprintList(opts *BlueprintListOptions) error {
	if err := checkOutput(opts.Output); err != nil {
		return err
	}
	cwd, dirs, store, err := opts.locate()
	if err != nil {
		return err
	}
	found, ignored, err := deploy.List(dirs)
	if err != nil {
		return err
	}
	for _, p := range ignored {
		warnf(opts.IO.ErrOut, "ignoring %s: %s", p, deploy.AgentRule)
	}
	for _, l := range found {
		warnShadowed(opts.IO.ErrOut, l.Path, l.Shadowed)
	}
	deployments, bad, err := store.List()
	if err != nil {
		return err
	}
	for _, e := range bad {
		warnf(opts.IO.ErrOut, "%v", e)
	}

	byAgent := map[string]*listedAgent{}
	var agents []*listedAgent
	add := func(a *listedAgent) {
		byAgent[a.Agent] = a
		agents = append(agents, a)
	}
	for _, l := range found {
		a := &listedAgent{Agent: l.Agent, Status: statusNotDeployed, Blueprint: l.Path, Target: config.TargetLocal}
		if bp, err := deploy.ReadFile(l.Agent, l.Path, cwd); err == nil {
			a.Description = bp.Description
			if bp.Target != "" {
				a.Target = bp.Target // where a deploy without --target would go
			}
		}
		add(a)
	}
	for _, d := range deployments {
		a, ok := byAgent[d.Agent]
		if !ok {
			a = &listedAgent{Agent: d.Agent, Target: config.TargetLocal}
			add(a)
		}
		// The record says which blueprint is deployed, wherever it was found.
		a.Blueprint, a.Account, a.Status, a.StartedAt = d.Blueprint, d.Account, statusExited, rfc3339(d.StartedAt)
		a.Foreground = d.Foreground
		if deploy.Running(d.Process()) {
			a.Status, a.Running, a.PID = statusRunning, true, d.PID
		} else if d.ExitStatus != nil {
			a.ExitStatus = d.ExitStatus
			if d.ExitedAt != nil {
				a.ExitedAt = rfc3339(*d.ExitedAt)
			}
		}
	}
	remote, err := opts.listTargets(context.Background(), byAgent)
	if err != nil {
		return err
	}
	agents = append(agents, remote...)
	sort.SliceStable(agents, func(i, j int) bool { return agents[i].Agent < agents[j].Agent })

	if err := printListed(opts, dirs, agents); err != nil {
		return err
	}
	for _, a := range remote {
		if a.Status == statusUnreachable {
			return &silentError{ExitFailure} // its reason is on stderr
		}
	}
	return nil
}

// printListed prints the agents as a table, tab-separated lines or JSON.
func printListed(opts *BlueprintListOptions, dirs []string, agents []*listedAgent) error {
	if opts.Output == "json" {
		out := make([]listedAgent, len(agents))
		for i, a := range agents {
			out[i] = *a
		}
		return writeJSON(opts.IO.Out, out)
	}
	if len(agents) == 0 {
		if opts.IO.OutTTY {
			printf(opts.IO.ErrOut, "No blueprints in %s and no deployed agents.\n", strings.Join(dirs, " or "))
		}
		return nil
	}
	t := newTable(opts.IO.Out, opts.IO.OutTTY, "AGENT", "STATUS", "PID", "STARTED", "BLUEPRINT", "TARGET")
	for _, a := range agents {
		pid, started := "", ""
		if a.Running && a.PID > 0 { // a remote target's agent has no pid here
			pid = strconv.Itoa(a.PID)
		}
		if a.StartedAt != nil {
			started = *a.StartedAt
		}
		target := a.Target
		if a.Where != "" {
			target += " (" + a.Where + ")"
		}
		t.add(a.Agent, statusText(a), pid, started, a.Blueprint, target)
	}
	return t.print()
}

// statusText is an agent's status for the table: "exited (status 3 at TIME)" where the
// end was seen (a --foreground run, a crash at start), "exited (status unknown)" for an
// agent that ended after its deploy returned; "(foreground)" marks a --foreground run.
func statusText(a *listedAgent) string {
	s := a.Status
	switch {
	case a.Status != statusExited:
	case a.ExitStatus != nil && a.ExitedAt != nil:
		s += fmt.Sprintf(" (status %d at %s)", *a.ExitStatus, *a.ExitedAt)
	case a.ExitStatus != nil:
		s += fmt.Sprintf(" (status %d)", *a.ExitStatus)
	default:
		s += " (status unknown)"
	}
	if a.Foreground && a.Status != statusNotDeployed {
		s += " (foreground)"
	}
	return s
}
