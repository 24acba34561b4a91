// Command ast-plugin-example is an example third-party backend of ast, built only on
// github.com/ast-cli/ast/pluginsdk. It keeps each entry in a JSON file of its own,
//
//	$XDG_DATA_HOME/ast/example/ACCOUNT/NAME.json
//
// (~/.local/share/ast/example/... when XDG_DATA_HOME is unset; the account setting "dir"
// replaces $XDG_DATA_HOME/ast/example). It needs no settings:
//
//	go build -o ~/.local/share/ast/plugins/ast-plugin-example .
//	ast account add scratch --backend example [--set dir=/some/absolute/dir]
//
// Values are stored unencrypted, protected only by file permissions (0600 files in 0700
// directories): it shows how a backend is written, not where to keep real secrets. Put
// and Delete show the pattern to copy for a batch: each name's outcome is reported with
// pluginsdk.Report as soon as it is final, and the names a cancelled call never started
// are reported ErrNotAttempted. See pluginsdk/README.md for the plugin author's guide.
package main

import "github.com/ast-cli/ast/pluginsdk"

func main() { pluginsdk.Serve(newBackend()) }
