package cli

import (
	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/config"
)

// NewCmdAccountUse is `ast account use NAME`.
func NewCmdAccountUse(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "use NAME",
		Short: "Make an account the active one",
		Args:  exactArgs(1, "one NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := f.Config()
			if err != nil {
				return err
			}
			if err := cfg.Use(args[0]); err != nil {
				return err
			}
			if err := config.Update(cfg.Path(), func(c *config.Config) error { return c.Use(args[0]) }); err != nil {
				return err
			}
			printf(f.IO.ErrOut, "✓ Active account: %s\n", args[0])
			return nil
		},
	}
}
