package cli

import (
	"context"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// VersionOptions are the options of `ast version`.
type VersionOptions struct {
	F      *Factory
	Output string
}

// NewCmdVersion is `ast version` (also `ast --version`).
func NewCmdVersion(f *Factory) *cobra.Command {
	opts := &VersionOptions{F: f}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the versions of ast, Go and each backend plugin found",
		Long: `Print ast's version and commit, the Go version it was built with, and the version each
backend plugin found reports (each is started once and asked for its Info; none is
configured, nothing is read).`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error { return runVersion(cmd.Context(), opts) },
	}
	outputFlag(cmd, &opts.Output)
	return cmd
}

// versionInfo is the output of `ast version --output json`.
type versionInfo struct {
	Version   string          `json:"version"`
	Commit    string          `json:"commit,omitempty"`
	Modified  bool            `json:"modified,omitempty"`
	GoVersion string          `json:"go_version"`
	Platform  string          `json:"platform"`
	Plugins   []pluginVersion `json:"plugins"`
}

type pluginVersion struct {
	Backend string `json:"backend"`
	Version string `json:"version,omitempty"`
	Path    string `json:"path"`
	Error   string `json:"error,omitempty"`
}

func runVersion(ctx context.Context, opts *VersionOptions) error {
	if err := checkOutput(opts.Output); err != nil {
		return err
	}
	f := opts.F
	v := versionInfo{Version: Version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, Plugins: []pluginVersion{}}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	// Asking each plugin is what tells the truth about the binary that will run (a
	// plugin installed apart from ast may be older); it costs one start per plugin.
	if finder, err := f.Finder(); err == nil {
		for _, loc := range finder.All() {
			d := describePlugin(ctx, f, loc)
			v.Plugins = append(v.Plugins, pluginVersion{Backend: d.Backend, Version: d.Version, Path: d.Path, Error: d.Error})
		}
	}
	if opts.Output == "json" {
		return writeJSON(f.IO.Out, v)
	}
	commit := v.Commit
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if commit == "" {
		commit = "unknown"
	} else if v.Modified {
		commit += " (modified)"
	}
	printf(f.IO.Out, "ast %s\n  commit  %s\n  go      %s %s\n", v.Version, commit, v.GoVersion, v.Platform)
	if len(v.Plugins) > 0 {
		printf(f.IO.Out, "plugins:\n")
	}
	t := newTable(f.IO.Out, true, "  BACKEND", "VERSION", "PATH")
	for _, p := range v.Plugins {
		version := p.Version
		if p.Error != "" {
			version = "error: " + p.Error
		}
		t.add("  "+p.Backend, version, p.Path)
	}
	if len(v.Plugins) > 0 {
		return t.print()
	}
	return nil
}
