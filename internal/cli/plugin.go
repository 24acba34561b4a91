package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/internal/host"
)

// NewCmdPlugin is `ast plugin`.
func NewCmdPlugin(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plugin",
		Args:  cobra.ArbitraryArgs,
		RunE:  groupRunE,
		Short: "Inspect backend plugins",
		Long: `Backend NAME is the executable ast-plugin-NAME, looked up next to ast, in each directory
of $AST_PLUGIN_PATH, and in the data directory's plugins/; or a path pinned in the
config file's plugins: section, with an optional sha256 checked before it starts:

  plugins:
    example:
      path: /opt/ast/ast-plugin-example
      sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08

A plugin, or its directory, that group or others can write to is refused.`,
	}
	cmd.AddCommand(NewCmdPluginList(f), NewCmdPluginTest(f), NewCmdPluginPin(f))
	return cmd
}

type pluginView struct {
	Backend      string   `json:"backend"`
	Path         string   `json:"path"`
	Source       string   `json:"source"`
	Version      string   `json:"version,omitempty"`
	Protocol     int      `json:"protocol,omitempty"`
	Capabilities []string `json:"capabilities"`
	Checksum     string   `json:"checksum"`
	SHA256       string   `json:"sha256,omitempty"`
	Error        string   `json:"error,omitempty"`
}

// NewCmdPluginList is `ast plugin list`.
func NewCmdPluginList(f *Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the backend plugins found, with version, protocol, capabilities and checksum status",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			finder, err := f.Finder()
			if err != nil {
				return err
			}
			var views []pluginView
			for _, loc := range finder.All() {
				views = append(views, describePlugin(cmd.Context(), f, loc))
			}
			if output == "json" {
				if views == nil {
					views = []pluginView{}
				}
				return writeJSON(f.IO.Out, views)
			}
			t := newTable(f.IO.Out, f.IO.OutTTY, "BACKEND", "VERSION", "PROTOCOL", "CAPABILITIES", "CHECKSUM", "PATH")
			for _, v := range views {
				version, protocol := v.Version, fmt.Sprint(v.Protocol)
				if v.Error != "" {
					version, protocol = "error: "+v.Error, "-"
				}
				t.add(v.Backend, version, protocol, strings.Join(v.Capabilities, ","), v.Checksum, v.Path)
			}
			return t.print()
		},
	}
	outputFlag(cmd, &output)
	return cmd
}

// describePlugin starts the plugin (without configuring it) and asks for its Info.
// Checksum status: "pinned, ok", "pinned, MISMATCH", or "not pinned".
func describePlugin(ctx context.Context, f *Factory, loc host.Location) pluginView {
	v := pluginView{Backend: loc.Backend, Path: loc.Path, Source: loc.Source, Capabilities: []string{}, Checksum: "not pinned"}
	sum, err := host.FileSHA256(loc.Path)
	if err == nil {
		v.SHA256 = sum
	}
	if loc.SHA256 != "" {
		v.Checksum = "pinned, ok"
		if sum != loc.SHA256 {
			v.Checksum = "pinned, MISMATCH"
			v.Error = "checksum differs from the pinned one; not started"
			return v
		}
	}
	p, err := f.StartPlugin(ctx, loc)
	if err != nil {
		v.Error = err.Error()
		return v
	}
	defer p.Close()
	info := p.Describe()
	v.Version, v.Protocol = info.Version, info.Protocol
	if info.Capabilities != nil {
		v.Capabilities = info.Capabilities
	}
	return v
}
