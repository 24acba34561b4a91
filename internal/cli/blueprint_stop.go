package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/config"
	"github.com/ast-cli/ast/internal/deploy"
)

// BlueprintStopOptions are the options of `ast blueprint stop`.
type BlueprintStopOptions struct {
	blueprintEnv
	Grace time.Duration
	Agent string
	agentTarget
	// Timeout bounds the wait for a target's objects to go.
	Timeout time.Duration
}

// NewCmdBlueprintStop is `ast blueprint stop AGENT`.
func NewCmdBlueprintStop(f *Factory) *cobra.Command {
	opts := &BlueprintStopOptions{blueprintEnv: newBlueprintEnv(f), Grace: deploy.DefaultGrace, agentTarget: newAgentTarget(f)}
	cmd := &cobra.Command{
		Use:   "stop AGENT",
		Short: "Stop a deployed agent and remove its deployment record",
		Long: `Stop AGENT: SIGTERM to its process group, SIGKILL if it is still there after the grace
period (--grace, 5s by default). Its deployment record is removed; its log stays. Stopping
an agent that has already exited only removes the record.`,
		Args: exactArgs(1, "one AGENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Agent = args[0]
			return runBlueprintStop(cmd.Context(), opts)
		},
	}
	cmd.Flags().DurationVar(&opts.Grace, "grace", deploy.DefaultGrace, "how long the agent gets to exit after SIGTERM before SIGKILL")
	cmd.Flags().StringVar(&opts.Target, "target", "", "the target the agent runs on (needed only when it is deployed on two)")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 2*time.Minute, "targets other than local: how long to wait for the agent's objects to go")
	return cmd
}

func runBlueprintStop(ctx context.Context, opts *BlueprintStopOptions) error {
	if err := checkAgent(opts.Agent); err != nil {
		return err
	}
	if opts.Grace < 0 {
		return usageErrorf("--grace must not be negative")
	}
	_, _, store, err := opts.locate()
	if err != nil {
		return err
	}
	target, err := opts.agentTarget.find(opts.Paths, store, opts.Agent)
	if err != nil {
		return err
	}
	if target != config.TargetLocal {
		defer opts.Close()
		cfg, err := opts.TargetConfig()
		if err != nil {
			return err
		}
		paths, err := opts.Paths()
		if err != nil {
			return err
		}
		return stopOnTarget(ctx, opts.StartTarget, cfg, TargetStore(paths, target), opts.IO, opts.Agent, target, opts.Timeout)
	}
	lockCtx, cancel := context.WithTimeout(ctx, lockWait)
	unlock, err := store.Lock(lockCtx, opts.Agent)
	cancel()
	if err != nil {
		return err
	}
	defer unlock()
	d, err := store.Read(opts.Agent)
	if errors.Is(err, deploy.ErrNotDeployed) {
		return fmt.Errorf("agent %s is not deployed (see: ast blueprint list)", opts.Agent)
	}
	if err != nil {
		return err
	}
	stopped, err := deploy.Stop(ctx, d.Process(), opts.Grace)
	if err != nil {
		return fmt.Errorf("stopping %s: %w", opts.Agent, err)
	}
	if err := store.Remove(opts.Agent); err != nil {
		return err
	}
	if stopped {
		fmt.Fprintf(opts.IO.ErrOut, "✓ Stopped %s (pid %d)\n", opts.Agent, d.PID)
	} else {
		fmt.Fprintf(opts.IO.ErrOut, "✓ %s was not running (it had exited); removed its deployment record\n", opts.Agent)
	}
	return nil
}
