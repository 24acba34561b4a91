package cli

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/config"
	"github.com/ast-cli/ast/internal/deploy"
	"github.com/ast-cli/ast/internal/host"
	"github.com/ast-cli/ast/pluginsdk"
)

// targetStatusWait bounds how long list and remove wait for one target's answer.
const targetStatusWait = 15 * time.Second

// NewCmdTarget is `ast target`: the places agents are deployed to.
func NewCmdTarget(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "target",
		Aliases: []string{"targets"},
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRunE,
		Short:   "Add, list, show and remove deploy targets",
		Long: `A deploy target is where 'ast blueprint deploy' runs an agent. The built-in target,
local, runs it as a detached process on this machine and needs no setup. Other targets are
named in the config's targets: section, each with a type, whose plugin (ast-target-TYPE,
found beside ast like the backend plugins) does the work.

Types and their settings (--set KEY=VALUE):
  kubernetes  kubeconfig (an absolute path; default $KUBECONFIG, else ~/.kube/config),
              context (default: the kubeconfig's current context),
              namespace (default: the context's, else default)

A blueprint names its target with target: NAME; --target NAME overrides it.`,
	}
	cmd.AddCommand(NewCmdTargetAdd(f), NewCmdTargetList(f), NewCmdTargetShow(f), NewCmdTargetRemove(f))
	return cmd
}

// StartTarget starts and configures the plugin of the named target. Close stops it.
// Errors name the target and its type.
func (f *Factory) StartTarget(ctx context.Context, t config.Target) (pluginsdk.Target, error) {
	finder, err := f.Finder()
	if err != nil {
		return nil, err
	}
	loc, err := finder.FindTarget(t.Type)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w%s", t.Name, err, didYouMean(t.Type, finder.TargetTypes()))
	}
	opts := host.Options{Stderr: f.IO.ErrOut, Debug: f.Getenv("AST_LOG") == "debug"}
	if s := f.Getenv("AST_PLUGIN_TIMEOUT"); s != "" {
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			opts.CallTimeout = d
		}
	}
	p, err := host.StartTarget(ctx, loc, opts)
	if err != nil {
		return nil, err
	}
	f.plugins = append(f.plugins, p.Plugin)
	if err := p.Configure(ctx, t.Name, t.Settings); err != nil {
		return nil, fmt.Errorf("target %s (type %s): %w", t.Name, t.Type, err)
	}
	return p, nil
}

// TargetStore is where the deployment records of target live: the local target's are in
// STATE/deployments, another target's in STATE/targets/NAME/deployments, so that records
// are keyed by target and agent.
func TargetStore(paths config.Paths, target string) deploy.Store {
	if target == "" || target == config.TargetLocal {
		return deploy.Store{Dir: paths.StateDir}
	}
	return deploy.Store{Dir: paths.StateDir + "/targets/" + target}
}

// TargetAddOptions are the options of `target add`.
type TargetAddOptions struct {
	F        *Factory
	Name     string
	Type     string
	Settings []string
}

// NewCmdTargetAdd is `ast target add NAME --type TYPE [--set KEY=VALUE]...`.
func NewCmdTargetAdd(f *Factory) *cobra.Command {
	opts := &TargetAddOptions{F: f}
	cmd := &cobra.Command{
		Use:   "add NAME --type TYPE [--set KEY=VALUE]...",
		Short: "Add a deploy target",
		Long: `Add a deploy target. Its plugin is started once to check the settings (for kubernetes:
that the kubeconfig is safe to use and names the context); the cluster is not contacted.`,
		Example: `  ast target add prod --type kubernetes --set context=prod-eu --set namespace=agents
  ast target add dev --type kubernetes --set kubeconfig=/home/me/.kube/dev.yaml`,
		Args: exactArgs(1, "one NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runTargetAdd(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Type, "type", "", "the target type: kubernetes, or a plugin's type (required)")
	cmd.Flags().StringArrayVar(&opts.Settings, "set", nil, "a setting KEY=VALUE (repeatable)")
	return cmd
}

func runTargetAdd(ctx context.Context, opts *TargetAddOptions) error {
	f := opts.F
	if opts.Type == "" {
		return usageErrorf("target add needs --type (kubernetes)")
	}
	settings, err := parseSettings(opts.Settings)
	if err != nil {
		return err
	}
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	t := config.Target{Name: opts.Name, Type: opts.Type, Settings: settings}
	if err := cfg.AddTarget(t); err != nil {
		return &usageError{err}
	}
	if _, err := f.StartTarget(ctx, t); err != nil {
		return err
	}
	f.Close()
	err = config.Update(cfg.Path(), func(c *config.Config) error { return c.AddTarget(t) })
	if err != nil {
		return err
	}
	printf(f.IO.ErrOut, "✓ Added target %s of type %s\n", t.Name, t.Type)
	printf(f.IO.ErrOut, "  Deploy to it with: ast blueprint deploy AGENT --target %s (or target: %s in the blueprint)\n", t.Name, t.Name)
	return nil
}

type targetView struct {
	Name     string            `json:"name"`
	Type     string            `json:"type"`
	Settings map[string]string `json:"settings"`
}

func targetViews(cfg *config.Config) []targetView {
	out := []targetView{{Name: config.TargetLocal, Type: config.TargetLocal, Settings: map[string]string{}}}
	for _, n := range cfg.TargetNames() {
		t := cfg.Targets[n]
		s := t.Settings
		if s == nil {
			s = map[string]string{}
		}
		out = append(out, targetView{Name: n, Type: t.Type, Settings: s})
	}
	return out
}

// NewCmdTargetList is `ast target list`.
func NewCmdTargetList(f *Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List deploy targets",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			views := targetViews(cfg)
			if output == "json" {
				return writeJSON(f.IO.Out, views)
			}
			t := newTable(f.IO.Out, f.IO.OutTTY, "TARGET", "TYPE")
			for _, v := range views {
				t.add(v.Name, v.Type)
			}
			return t.print()
		},
	}
	outputFlag(cmd, &output)
	return cmd
}

// NewCmdTargetShow is `ast target show NAME`.
func NewCmdTargetShow(f *Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a deploy target: type and settings",
		Args:  exactArgs(1, "one NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			if args[0] != config.TargetLocal {
				if _, err := cfg.Target(args[0]); err != nil {
					return err
				}
			}
			for _, v := range targetViews(cfg) {
				if v.Name != args[0] {
					continue
				}
				if output == "json" {
					return writeJSON(f.IO.Out, v)
				}
				printf(f.IO.Out, "target:   %s\ntype:     %s\n", v.Name, v.Type)
				keys := make([]string, 0, len(v.Settings))
				for k := range v.Settings {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				if len(keys) > 0 {
					fmt.Fprintln(f.IO.Out, "settings:")
				}
				for _, k := range keys {
					printf(f.IO.Out, "  %s: %s\n", k, v.Settings[k])
				}
			}
			return nil
		},
	}
	outputFlag(cmd, &output)
	return cmd
}

// TargetRemoveOptions are the options of `target remove`.
type TargetRemoveOptions struct {
	F     *Factory
	Name  string
	Force bool
}

// NewCmdTargetRemove is `ast target remove NAME [--force]`.
func NewCmdTargetRemove(f *Factory) *cobra.Command {
	opts := &TargetRemoveOptions{F: f}
	cmd := &cobra.Command{
		Use:     "remove NAME [--force]",
		Aliases: []string{"rm"},
		Short:   "Remove a deploy target from the config",
		Long: `Remove a deploy target from the config. While agents run on it (as its plugin reports,
or, when the target cannot be reached, as ast's deployment records say) this is refused:
stop them first, or give --force to forget the target anyway (the agents keep running).`,
		Args: exactArgs(1, "one NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runTargetRemove(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Force, "force", false, "remove it even while agents run on it")
	return cmd
}

func runTargetRemove(ctx context.Context, opts *TargetRemoveOptions) error {
	f := opts.F
	if opts.Name == config.TargetLocal {
		return usageErrorf("target local is built in and cannot be removed")
	}
	cfg, err := f.Config()
	if err != nil {
		return err
	}
	t, err := cfg.Target(opts.Name)
	if err != nil {
		return err
	}
	if !opts.Force {
		running, err := runningOn(ctx, f, t)
		if err != nil {
			return fmt.Errorf("cannot tell whether agents run on target %s: %w (stop them first, or use --force)", t.Name, err)
		}
		if len(running) > 0 {
			return fmt.Errorf("agents run on target %s: %s; stop them first (ast blueprint stop AGENT --target %s), or use --force",
				t.Name, joinNames(running), t.Name)
		}
	}
	if err := config.Update(cfg.Path(), func(c *config.Config) error { return c.RemoveTarget(t.Name) }); err != nil {
		return err
	}
	printf(f.IO.ErrOut, "✓ Removed target %s\n", t.Name)
	return nil
}

// runningOn returns the agents ast manages on t, as its plugin reports them, sorted.
func runningOn(ctx context.Context, f *Factory, t config.Target) ([]string, error) {
	cctx, cancel := context.WithTimeout(ctx, targetStatusWait)
	defer cancel()
	defer f.Close()
	p, err := f.StartTarget(cctx, t)
	if err != nil {
		return nil, err
	}
	sts, err := p.Status(cctx, nil)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(sts))
	for _, s := range sts {
		out = append(out, s.Agent)
	}
	sort.Strings(out)
	return out, nil
}
