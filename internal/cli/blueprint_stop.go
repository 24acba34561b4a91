package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/internal/deploy"
)

// BlueprintStopOptions are the options of `ast blueprint stop`.
type BlueprintStopOptions struct {
	blueprintEnv
	Grace time.Duration
	Agent string
}

// NewCmdBlueprintStop is `ast blueprint stop AGENT`.
func NewCmdBlueprintStop(f *Factory) *cobra.Command {
	opts := &BlueprintStopOptions{blueprintEnv: newBlueprintEnv(f), Grace: deploy.DefaultGrace}
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
