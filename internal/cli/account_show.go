package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/config"
	"github.com/ast-cli/ast/internal/termtext"
)

// shownAccount is the output of `account show --output json`: the account as configured
// (settings) and as its backend will see it (effective, each with its source).
type shownAccount struct {
	Name       string             `json:"name"`
	Backend    string             `json:"backend"`
	Active     bool               `json:"active"`
	ActiveFrom string             `json:"active_from,omitempty"`
	Location   string             `json:"location,omitempty"` // where an entry NAME lives (hashicorp, awssm)
	Settings   map[string]string  `json:"settings"`
	Effective  []effectiveSetting `json:"effective"`
}

// NewCmdAccountShow is `ast account show [NAME]`.
func NewCmdAccountShow(f *Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "show [NAME]",
		Short: "Show an account (the active one by default): backend and effective settings with their source",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageErrorf("account show takes at most one NAME")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			paths, err := f.Paths()
			if err != nil {
				return err
			}
			var a config.Account
			if len(args) == 1 {
				if a, err = cfg.Account(args[0]); err != nil {
					return err
				}
			} else if a, err = f.ActiveAccount(); err != nil {
				return err
			}
			activeName, source := f.activeAccountName(cfg)
			v := shownAccount{Name: a.Name, Backend: a.Backend, Active: a.Name == activeName,
				Settings: a.Settings, Effective: effectiveSettings(a, paths, f.Getenv)}
			if loc, ok := config.LocationOf(a); ok {
				v.Location = loc.Entry
			}
			if v.Settings == nil {
				v.Settings = map[string]string{}
			}
			if v.Active {
				v.ActiveFrom = source
			}
			if output == "json" {
				return writeJSON(f.IO.Out, v)
			}
			active := "no"
			if v.Active {
				active = "yes (" + source + ")"
			}
			printf(f.IO.Out, "account:  %s\nbackend:  %s\nactive:   %s\n", v.Name, termtext.Line(v.Backend), active)
			if v.Location != "" {
				printf(f.IO.Out, "location: %s\n", termtext.Line(v.Location))
			}
			if len(v.Effective) > 0 {
				fmt.Fprintln(f.IO.Out, "settings:")
			}
			for _, s := range v.Effective {
				src := s.Source
				if src == "setting" {
					src = "config"
				}
				printf(f.IO.Out, "  %s: %s (%s)\n", termtext.Line(s.Key), termtext.Line(s.Value), src)
			}
			return nil
		},
	}
	outputFlag(cmd, &output)
	return cmd
}
