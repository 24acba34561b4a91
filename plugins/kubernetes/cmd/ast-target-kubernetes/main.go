// Command ast-target-kubernetes is ast's Kubernetes deploy target plugin. ast starts it;
// it is not meant to be run by hand.
package main

import (
	"github.com/ast-cli/ast/plugins/kubernetes"
	"github.com/ast-cli/ast/pluginsdk"
)

func main() { pluginsdk.ServeTarget(kubernetes.New()) }
