// Command ast-plugin-awssm is ast's AWS Secrets Manager backend plugin. ast starts it; it
// is not meant to be run by hand.
package main

import (
	"github.com/ast-cli/ast/plugins/awssm"
	"github.com/ast-cli/ast/pluginsdk"
)

func main() { pluginsdk.Serve(awssm.New()) }
