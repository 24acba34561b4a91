// Command ast-plugin-hashicorp is ast's HashiCorp Vault KV v2 backend plugin. ast starts it;
// it is not meant to be run by hand.
package main

import (
	"github.com/ast-cli/ast/plugins/hashicorp"
	"github.com/ast-cli/ast/pluginsdk"
)

func main() { pluginsdk.Serve(hashicorp.New()) }
