package cli

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/config"
	"github.com/ast-cli/ast/internal/host"
)

// PluginPinOptions are the inputs of `ast plugin pin`.
type PluginPinOptions struct {
	IO      *IOStreams
	Backend string

	Config func() (*config.Config, error)
	Finder func() (host.Finder, error)
}

// NewCmdPluginPin is `ast plugin pin NAME`.
func NewCmdPluginPin(f *Factory) *cobra.Command {
	opts := &PluginPinOptions{IO: f.IO, Config: f.Config, Finder: f.Finder}
	return &cobra.Command{
		Use:   "pin NAME",
		Short: "Pin a backend's plugin to its current path and SHA-256 in the config",
		Long: `Write the plugin of backend NAME, as ast finds it now, into the config file's plugins:
section: its absolute path with symlinks resolved, and the SHA-256 of the file. From then
on ast starts only that file, and only while its checksum matches; after you rebuild or
upgrade the plugin, ast refuses it (showing both checksums) until you pin it again.

Pinning a built-in plugin (local, hashicorp, awssm) works the same way, and must be
redone after each rebuild or upgrade of ast.`,
		Args: exactArgs(1, "a backend NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Backend = args[0]
			return runPluginPin(opts)
		},
	}
}

func runPluginPin(opts *PluginPinOptions) error {
	if err := config.ValidateBackendName(opts.Backend); err != nil {
		return usageErrorf("%v", err)
	}
	finder, err := opts.Finder()
	if err != nil {
		return err
	}
	loc, err := finder.Find(opts.Backend)
	if err != nil {
		return err
	}
	path, err := filepath.Abs(loc.Path)
	if err == nil {
		path, err = filepath.EvalSymlinks(path)
	}
	if err != nil {
		return fmt.Errorf("the %s plugin %s: %w", opts.Backend, loc.Path, err)
	}
	loc.Path, loc.SHA256 = path, ""
	if err := host.Verify(loc); err != nil {
		return err
	}
	sum, err := host.FileSHA256(path)
	if err != nil {
		return fmt.Errorf("the %s plugin %s: %w", opts.Backend, path, err)
	}
	cfg, err := opts.Config()
	if err != nil {
		return err
	}
	var old config.Plugin
	var had bool
	err = config.Update(cfg.Path(), func(c *config.Config) error {
		old, had = c.Plugins[opts.Backend]
		c.PinPlugin(opts.Backend, config.Plugin{Path: path, SHA256: sum})
		return nil
	})
	if err != nil {
		return err
	}
	switch {
	case had && old.Path == path && old.SHA256 == sum:
		fmt.Fprintf(opts.IO.Out, "the %s plugin %s was pinned already (sha256 %s)\n", opts.Backend, path, sum)
	case had:
		fmt.Fprintf(opts.IO.Out, "pinned the %s plugin %s (sha256 %s) in %s, replacing %s (sha256 %s)\n",
			opts.Backend, path, sum, cfg.Path(), old.Path, orNone(old.SHA256))
	default:
		fmt.Fprintf(opts.IO.Out, "pinned the %s plugin %s (sha256 %s) in %s\n", opts.Backend, path, sum, cfg.Path())
	}
	if slices.Contains(host.Builtin, opts.Backend) {
		fmt.Fprintf(opts.IO.Out, "%s is a built-in plugin: run 'ast plugin pin %s' again after each rebuild or upgrade of ast, "+
			"or ast refuses the new binary\n", opts.Backend, opts.Backend)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
