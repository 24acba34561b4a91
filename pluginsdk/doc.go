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
// then List, Get, Put and Delete over gRPC (hashicorp/go-plugin), and ends the process.
// Backend has no Close, by decision: ast may kill a plugin at any moment (a hang, Ctrl-C,
// its own death), so a Close would not be called when it matters, and a backend that
// needed one would be wrong. Each call leaves the store consistent and durable when it
// reports or returns, and the process's exit releases connections and files.
//
// The essentials (each checked by sdktest and `ast plugin test`):
//   - Batches answer per name: results[i] answers input i, with its own error in
//     Result.Err; the returned error is for the call as a whole.
//   - Errors carry codes: Errorf(ErrNotFound, …) and the other sentinels, tested with
//     errors.Is on both sides of the wire. A plain error of a whole call reaches the user
//     as ErrInternal naming the plugin (plugin "NAME" failed: TEXT); a plain per-name
//     error as ErrInternal.
//   - No error, log line or panic ever contains a value. Value prints as a redaction
//     marker; Reveal is the one way to its text.
//   - Create fails with ErrAlreadyExists for an existing name, also when a concurrent
//     Create won; Update fails with ErrNotFound; Upsert does either. Check and write in
//     one step.
//   - Names are case-sensitive [A-Za-z_][A-Za-z0-9_]*, at most MaxNameBytes; values are
//     UTF-8, 1 byte to MaxValueBytes, no NUL (ValidateName, ValidateValue).
//   - List is sorted by name and never carries a secret's value.
//   - Put and Delete report each name's outcome with Report(ctx, i, result) as soon as it
//     is final, and call Heartbeat (Retrying before a retry's back-off) while they wait.
//     The SDK streams both to the host (capability CapStream, added by the SDK). The
//     host's deadline for them is a liveness deadline: no result or heartbeat for
//     AST_PLUGIN_TIMEOUT (60 s) fails the call; a long batch that keeps reporting
//     completes. When a call fails midway, the host keeps what was reported: those names
//     are what the user is told was written; names you never started should be reported
//     with ErrNotAttempted; the rest reach the user as ErrOutcomeUnknown ("not known
//     whether it was written"). A backend that reports nothing still works (its results
//     arrive with the reply), but a failure then leaves every name unknown.
//   - Result.Note is an optional short remark about one outcome (AWS: "scheduled for
//     deletion, restorable until DATE (recovery window N days)"), printed in place of
//     "Deleted"; never a value.
//
// # Versions
//
// ProtocolVersion (1) is the wire protocol, also the go-plugin handshake version. A host
// and a plugin speak a protocol both know; go-plugin's versioned plugin sets let a later
// SDK serve several side by side. A plugin that speaks only a newer protocol gets
// "plugin NAME speaks protocol 2, this ast speaks 1: upgrade ast"; one that speaks only
// an older one "…: upgrade the plugin". The rules:
//   - A change that an older peer can ignore is a capability within the protocol, not a
//     new protocol: new RPCs beside the old ones, used only when Info reports the
//     capability, and new message fields that default to the old behaviour. Streaming
//     Put/Delete and Result.Note came this way, so protocol 1 hosts and plugins of
//     before and after them work together: a host calls a plugin without CapStream the
//     unary way, and an older host never asks for the stream.
//   - A change that would make an older peer misread a message (a field's meaning, a
//     removed call) is a new ProtocolVersion, served beside the old one for a release.
//   - Info.Version is the plugin's own release, shown by `ast plugin list`; it has no
//     rule but to change with each release.
//   - Entry.Version is at least 1 and never goes down while the entry exists; a deleted
//     and re-created entry starts again (at 1 if you like). CapVersions says it counts
//     versions the store keeps; counting writes without keeping the old values does not
//     earn it.
//
// Log through NewLogger, made before Serve: ast shows a plugin's warnings and errors, and
// everything with AST_LOG=debug. Never print to stdout (go-plugin's handshake channel) or
// read stdin (ast's).
package pluginsdk
