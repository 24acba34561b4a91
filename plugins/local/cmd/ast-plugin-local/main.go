// Command ast-plugin-local is ast's encrypted-file backend plugin (package local). ast
// starts it; it is not meant to be run by hand.
package main

import (
	"github.com/ast-cli/ast/plugins/local"
	"github.com/ast-cli/ast/pluginsdk"
)

func main() { pluginsdk.Serve(local.New()) }
