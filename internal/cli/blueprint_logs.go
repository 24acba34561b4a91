package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/config"
	"github.com/ast-cli/ast/internal/deploy"
)

// BlueprintLogsOptions are the options of `ast blueprint logs`.
type BlueprintLogsOptions struct {
	blueprintEnv
	// Poll is how often --follow looks for new output.
	Poll   time.Duration
	Agent  string
	Follow bool
	agentTarget
}

// NewCmdBlueprintLogs is `ast blueprint logs AGENT [--follow]`.
func NewCmdBlueprintLogs(f *Factory) *cobra.Command {
	opts := &BlueprintLogsOptions{blueprintEnv: newBlueprintEnv(f), Poll: 200 * time.Millisecond, agentTarget: newAgentTarget(f)}
	cmd := &cobra.Command{
		Use:   "logs AGENT [--follow]",
		Short: "Print a deployed agent's output",
		Long: `Print the log of AGENT: its stdout and stderr from every deploy, appended to
$XDG_STATE_HOME/ast/agents/AGENT.log. With --follow, keep printing new output until the
agent stops running (or Ctrl-C).`,
		Args: exactArgs(1, "one AGENT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Agent = args[0]
			return runBlueprintLogs(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVarP(&opts.Follow, "follow", "f", false, "keep printing new output while the agent runs")
	cmd.Flags().StringVar(&opts.Target, "target", "", "the target the agent runs on (needed only when it is deployed on two)")
	return cmd
}

func runBlueprintLogs(ctx context.Context, opts *BlueprintLogsOptions) error {
	if err := checkAgent(opts.Agent); err != nil {
		return err
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
		return logsOnTarget(ctx, opts.agentTarget, opts.IO, opts.Agent, target, opts.Follow)
	}
	p := store.LogPath(opts.Agent)
	f, err := store.ReadLog(opts.Agent) // no symbolic link followed
	if errors.Is(err, os.ErrNotExist) {
		if d, rerr := store.Read(opts.Agent); rerr == nil && d.Foreground {
			return fmt.Errorf("no log for agent %s: it ran with --foreground (at %s), and its output went to that terminal",
				opts.Agent, d.StartedAt.UTC().Format(time.RFC3339))
		}
		return fmt.Errorf("no log for agent %s (%s): it has not been deployed on this machine", opts.Agent, p)
	}
	if err != nil {
		return fmt.Errorf("reading the log: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(opts.IO.Out, f); err != nil {
		return err
	}
	if !opts.Follow {
		return nil
	}
	running := func() bool {
		d, err := store.Read(opts.Agent)
		return err == nil && deploy.Running(d.Process())
	}
	t := time.NewTicker(opts.Poll)
	defer t.Stop()
	for {
		alive := running()
		if truncated(f) {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return err
			}
		}
		if _, err := io.Copy(opts.IO.Out, f); err != nil {
			return err
		}
		if !alive {
			return nil // what it wrote before it ended has been copied
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// truncated reports whether f is now shorter than what was read of it (the log was
// emptied), so that reading starts over.
func truncated(f *os.File) bool {
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Size() < off
}
