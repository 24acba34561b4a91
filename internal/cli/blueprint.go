package cli

import "github.com/spf13/cobra"

// NewCmdBlueprint is `ast blueprint`: being built (deploy, list, stop, logs).
func NewCmdBlueprint(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "blueprint",
		Short: "Deploy agents from blueprints with variables resolved at deploy time",
	}
}
