package cli

import "github.com/spf13/cobra"

// NewCmdAccountList is `ast account list`.
func NewCmdAccountList(f *Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List accounts; the active one is marked",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			views, err := accountViews(f)
			if err != nil {
				return err
			}
			if output == "json" {
				return writeJSON(f.IO.Out, views)
			}
			t := newTable(f.IO.Out, f.IO.OutTTY, "", "ACCOUNT", "BACKEND")
			for _, v := range views {
				mark := ""
				if v.Active {
					mark = "*"
				}
				t.add(mark, v.Name, v.Backend)
			}
			return t.print()
		},
	}
	outputFlag(cmd, &output)
	return cmd
}
