// Command ast keeps an account's secrets and plain variables and resolves them at deploy
// time. See README.md.
package main

import (
	"os"

	"github.com/ast-cli/ast/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:])) }
