// Package pluginsdk is the contract between ast and the backends that store its entries:
// the Backend interface, the entry types and their rules, the error codes, Serve, and (in
// pluginsdk/sdktest) the conformance suite. The plugin author's guide, from an empty
// directory to a plugin that passes `ast plugin test`, is pluginsdk/README.md in the ast
// repository.
//
// A backend plugin is an executable ast-plugin-NAME whose main is one call:
//
//	func main() { pluginsdk.Serve(newBackend(pluginsdk.NewLogger("mystore"))) }
//
// ast starts it per command, calls Configure once with the account and its settings,
// then List, Get, Put and Delete over gRPC (hashicorp/go-plugin), and ends the process;
// there is no Close, so each call leaves the store consistent when it returns.
//
// The essentials (each checked by sdktest and `ast plugin test`):
//   - Batches answer per name: results[i] answers input i, with its own error in
//     Result.Err; the returned error is for the call as a whole.
//   - Errors carry codes: Errorf(ErrNotFound, …) and the other sentinels, tested with
//     errors.Is on both sides of the wire. A plain error arrives as ErrInternal.
//   - No error, log line or panic ever contains a value. Value prints as a redaction
//     marker; Reveal is the one way to its text.
//   - Create fails with ErrAlreadyExists for an existing name, also when a concurrent
//     Create won; Update fails with ErrNotFound; Upsert does either. Check and write in
//     one step.
//   - Names are case-sensitive [A-Za-z_][A-Za-z0-9_]*, at most MaxNameBytes; values are
//     UTF-8, 1 byte to MaxValueBytes, no NUL (ValidateName, ValidateValue).
//   - List is sorted by name and never carries a secret's value.
//   - Put and Delete may stream per-name outcomes with Report, and Heartbeat while they
//     wait.
//
// Log through NewLogger, made before Serve: ast shows a plugin's warnings and errors, and
// everything with AST_LOG=debug. Never print to stdout (go-plugin's handshake channel) or
// read stdin (ast's).
package pluginsdk
