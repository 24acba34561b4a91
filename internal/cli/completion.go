package cli

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/config"
	"github.com/ast-cli/ast/internal/deploy"
	"github.com/ast-cli/ast/pluginsdk"
)

// NewCmdCompletion is `ast completion bash|zsh|fish|powershell`: cobra's generators,
// made visible, with dynamic completion of entry names, accounts, agents and backends
// (the functions below; an entry's value is never listed).
func NewCmdCompletion() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `Print the completion script for a shell. Completion covers commands and flags, and
entry names (never values), accounts, agents, backends and targets. Load it:

  bash:        source <(ast completion bash)     # or save it in /etc/bash_completion.d/ast
  zsh:         ast completion zsh > "${fpath[1]}/_ast"
  fish:        ast completion fish > ~/.config/fish/completions/ast.fish
  powershell:  ast completion powershell | Out-String | Invoke-Expression`,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || !strings.Contains(" bash zsh fish powershell ", " "+args[0]+" ") {
				return usageErrorf("completion takes one shell: bash, zsh, fish or powershell")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			root, out := cmd.Root(), cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, true)
			}
			return root.GenPowerShellCompletionWithDesc(out)
		},
	}
	return cmd
}

type completeFunc = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective)

// completeFirst completes the first positional argument with list, and nothing after it.
func completeFirst(list func(ctx context.Context) []string) completeFunc {
	return completeEach(list, 1)
}

// completeEach completes up to max positional arguments (0: any number) with list.
func completeEach(list func(ctx context.Context) []string, max int) completeFunc {
	return func(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		if max > 0 && len(args) >= max {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, s := range list(cmd.Context()) {
			if strings.HasPrefix(s, prefix) && !contains(args, s) {
				out = append(out, s)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// entryNames lists the active account's entry names: names and kinds only (List without
// values), so no value is ever fetched for a completion.
func (f *Factory) entryNames(ctx context.Context) []string {
	b, _, err := f.activeBackend(ctx)
	if err != nil {
		return nil
	}
	entries, err := b.List(ctx, pluginsdk.ListOptions{})
	if err != nil {
		return nil
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name
	}
	return names
}

func (f *Factory) accountNames(context.Context) []string {
	cfg, err := f.Config()
	if err != nil {
		return nil
	}
	return cfg.AccountNames()
}

func (f *Factory) completeAccounts(cmd *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
	return completeEach(f.accountNames, 0)(cmd, nil, prefix)
}

// backendNames lists the backends whose plugins are found.
func (f *Factory) backendNames(context.Context) []string {
	finder, err := f.Finder()
	if err != nil {
		return nil
	}
	var names []string
	for _, loc := range finder.All() {
		names = append(names, loc.Backend)
	}
	return names
}

// agentNames lists agents with a blueprint or a deployment record.
func (f *Factory) agentNames(context.Context) []string {
	e := newBlueprintEnv(f)
	_, dirs, store, err := e.locate()
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var names []string
	if found, _, err := deploy.List(dirs); err == nil {
		for _, l := range found {
			if !seen[l.Agent] {
				seen[l.Agent], names = true, append(names, l.Agent)
			}
		}
	}
	if ds, _, err := store.List(); err == nil {
		for _, d := range ds {
			if !seen[d.Agent] {
				seen[d.Agent], names = true, append(names, d.Agent)
			}
		}
	}
	return names
}

// targetNames lists the configured targets, and the built-in local one if withLocal
// (--target takes it; target show and remove do not).
func (f *Factory) targetNames(withLocal bool) func(context.Context) []string {
	return func(context.Context) []string {
		cfg, err := f.Config()
		if err != nil {
			return nil
		}
		names := cfg.TargetNames()
		if withLocal {
			names = append([]string{config.TargetLocal}, names...)
		}
		return names
	}
}

// wireCompletion gives each command's arguments and flags their dynamic completion, in
// one place: a command path, what its positional arguments are.
func wireCompletion(root *cobra.Command, f *Factory) {
	args := map[string]completeFunc{
		"secrets set":      completeFirst(f.entryNames),
		"secrets update":   completeFirst(f.entryNames),
		"secrets get":      completeFirst(f.entryNames),
		"secrets delete":   completeEach(f.entryNames, 0),
		"account use":      completeFirst(f.accountNames),
		"account show":     completeFirst(f.accountNames),
		"account set":      completeFirst(f.accountNames),
		"account remove":   completeFirst(f.accountNames),
		"blueprint deploy": completeFirst(f.agentNames),
		"blueprint stop":   completeFirst(f.agentNames),
		"blueprint logs":   completeFirst(f.agentNames),
		"target show":      completeFirst(f.targetNames(false)),
		"target remove":    completeFirst(f.targetNames(false)),
	}
	target := map[string]completeFunc{"target": completeEach(f.targetNames(true), 0)}
	flags := map[string]map[string]completeFunc{
		"account add":      {"backend": completeEach(f.backendNames, 0)},
		"blueprint deploy": target,
		"blueprint stop":   target,
		"blueprint logs":   target,
	}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		path := strings.TrimPrefix(c.CommandPath(), root.Name()+" ")
		if fn, ok := args[path]; ok && c.ValidArgsFunction == nil {
			c.ValidArgsFunction = fn
		}
		for flag, fn := range flags[path] {
			_ = c.RegisterFlagCompletionFunc(flag, func(cmd *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
				return fn(cmd, nil, prefix)
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
