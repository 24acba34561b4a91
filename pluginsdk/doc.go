// Package pluginsdk is the contract between ast and the backends that store its entries,
// and everything needed to write one: the Backend interface, the entry types and their
// rules, the error codes, Serve, and (in pluginsdk/sdktest) the conformance suite.
//
// ast stores nothing itself. Every account names a backend, and for each command ast
// starts that backend's plugin, an executable ast-plugin-NAME, as a child process and
// talks to it over gRPC through hashicorp/go-plugin. Both sides see the same Go interface,
// Backend: the plugin implements it, the host calls it, and this package carries the calls
// across. The built-in backends (local, hashicorp, awssm) are plugins like any other.
//
// This guide builds a backend from an empty directory. Its worked case is the example
// plugin in examples/ast-plugin-example of the ast repository: about 300 lines that keep
// each entry as a JSON file, $XDG_DATA_HOME/ast/example/ACCOUNT/NAME.json.
//
// # 1. A module of your own
//
// A plugin is its own Go module and depends on this package only, never on ast's core:
//
//	mkdir ast-plugin-example && cd ast-plugin-example
//	go mod init example.com/ast-plugin-example
//	go get github.com/ast-cli/ast/pluginsdk
//
// (The example, which lives inside the ast repository, points its go.mod at the checkout
// with a replace directive instead.) The binary then links pluginsdk's dependencies
// (go-plugin, gRPC, protobuf, hclog) and none of ast's: `go list -deps .` shows neither
// cobra, viper nor a cloud SDK unless you import one.
//
// # 2. Implement Backend
//
// A Backend serves one account of one user for the life of one process:
//
//   - Configure(ctx, account, settings) comes first and once, with the account's name
//     ([a-z0-9][a-z0-9_-]{0,63}; check it again before it becomes a path or a key) and its
//     settings from ast's configuration (`ast account add NAME --backend B --set KEY=VALUE`).
//     An unknown or malformed setting is ErrInvalidArgument: a typo must not be ignored.
//     A backend that needs no settings must work with none; the example takes one
//     optional setting, dir. Credentials never come as settings: read them from the
//     environment (the plugin inherits ast's) and your store's own files, as its CLI does.
//     Calls before Configure fail with ErrFailedPrecondition. Serve lets one Configure
//     through per process, whatever its outcome, and refuses a second one with
//     ErrFailedPrecondition before it reaches the Backend.
//   - Info(ctx) may come before Configure. It returns Name (the backend's name, as in
//     `--backend NAME`), your release Version, Protocol (always ProtocolVersion),
//     MaxBatch and Capabilities (see Versioning).
//   - List(ctx, opts) returns every entry of the account: name, kind, version and times,
//     sorted by name in byte order (as Go compares strings). A secret's Value is always
//     empty; a plain variable's Value is set only when opts.Values. Drop secret values in
//     the backend itself, before they reach the wire: the List of the example does.
//   - Get(ctx, names) returns the values of the named entries, secrets and plain alike.
//     ast calls it only to resolve references when it deploys or runs something.
//   - Put(ctx, entries, mode) writes: Create fails for a name that exists
//     (ErrAlreadyExists), Update for a name that does not (ErrNotFound), Upsert does
//     either. Update and Upsert replace the value and take the kind given: keep nothing of
//     the old entry but its name (and its created time and version count). A successful
//     result carries the entry's name, kind and version, never its value.
//   - Delete(ctx, names) removes entries; a missing name is ErrNotFound. The name is then
//     free for Create.
//
// Batches answer per name: results[i] is the outcome of names[i] (or entries[i]), with the
// per-name error in Result.Err. A bad or existing name never fails its neighbours. The
// error a method returns is for the call as a whole: the store is unreachable, the
// credentials are refused, the mode is unknown. MaxBatch in Info caps the names per call
// (0: no cap); ast splits larger batches itself.
//
// Two accounts never see each other's entries. Keep each account under a prefix that
// ends at the account boundary (PREFIX/ACCOUNT/, not PREFIX/ACCOUNT, which would let
// account a1 list the entries of a10).
//
// Several ast commands, so several plugin processes, may serve one account at once. Each
// write must be atomic, and of clients that Create one name at the same time exactly one
// may win; the others get ErrAlreadyExists. Use what your store has for that: a
// conditional write, a check-and-set (Vault's cas), a transaction, a lock. The example
// writes a temporary file and hard-links it to NAME.json, which fails when the name
// exists (see its write function).
//
// Every call carries a context with ast's per-call deadline; pass it on to your store's
// client. Returning ctx.Err() is fine: it reaches ast as a deadline or a cancellation.
//
// # The rules of names and values
//
// The same for every backend, so that all behave alike (see ValidateName, ValidateValue):
//
//   - Names are [A-Za-z_][A-Za-z0-9_]*, 1 to 128 bytes (MaxNameBytes), case-sensitive:
//     they become environment variable names. A name never holds a path separator, which
//     keeps it inside its account's space, but your store must keep NAME and name apart
//     (the example refuses a case-insensitive file system).
//   - Values are UTF-8 text of 1 byte to 64 KiB (MaxValueBytes), newlines allowed, no NUL
//     byte. Store them byte for byte: no trimming, no decoding, no interpolation.
//   - Kinds are KindSecret and KindPlain; store the kind with the entry.
//
// Check every name, value and kind you receive, in every call, and refuse a bad one with
// a per-name ErrInvalidArgument: ast checks them too, but other hosts may not, and a name
// like ../other/X must never reach a path.
//
// # Errors
//
// Build errors with Errorf and a sentinel; ast tests them with errors.Is, on its side of
// the wire too, and turns them into messages and exit codes:
//
//	ErrNotFound            the name has no entry (Get, Update, Delete)
//	ErrAlreadyExists       Create of a name that has an entry
//	ErrInvalidArgument     a bad name, value, kind, mode or setting
//	ErrPermissionDenied    the store refused the credentials for this operation
//	ErrUnavailable         the store cannot be reached, or stayed throttled after retries
//	ErrFailedPrecondition  not configured, a sealed or damaged store, a lost check-and-set
//	ErrInternal            anything else: a bug
//
// For example: pluginsdk.Errorf(pluginsdk.ErrNotFound, "entry %q not found", name). Any
// other error reaches ast as ErrInternal.
//
// # Never leak a value
//
// No error message, log line or panic ever contains a value, nor anything derived from one
// (a decoder's error can quote it: drop such errors' text). Value helps: it prints as a
// redaction marker with every fmt verb, and Reveal is the one way to its text; call it
// only where the text goes into your store. Names, account names and paths are not
// secret.
//
// Log with NewLogger: JSON lines on stderr, which ast shows only with AST_LOG=debug.
// Never print to stdout: it is go-plugin's handshake channel, and a stray line breaks the
// connection. Never read stdin either: it is ast's (prompts, --file -).
//
// # 3. main: Serve
//
// A plugin's main is one call:
//
//	func main() { pluginsdk.Serve(newBackend()) }
//
// Serve never returns. It marks the process not dumpable (no core file, no ptrace or
// /proc/PID/mem for the user's other processes), exits when ast exits (even by SIGKILL),
// accepts connections only from its own user, and when the binary is run by hand it says
// what it is and exits with status 1.
//
// # 4. Test with sdktest
//
// pluginsdk/sdktest is the conformance suite every backend runs from its own tests. It
// checks all of the above, calling your Backend directly and again over a real go-plugin
// gRPC connection, with a fresh account per check:
//
//	func TestConformance(t *testing.T) {
//		sdktest.Run(t, sdktest.Config{
//			New:      func(*testing.T) pluginsdk.Backend { return newBackend() },
//			Settings: map[string]string{"dir": t.TempDir()},
//		})
//	}
//
// New returns a new, unconfigured instance: the suite calls it many times, one instance
// per simulated ast process (Writers of them at once in the concurrency checks, 16 by
// default). For a backend on a server, point Settings at a test server and skip the test
// with a clear message when none is given. sdktest.NewMemory is an in-memory reference
// backend, handy when testing code that uses a Backend.
//
// # 5. Install
//
// Build the binary as ast-plugin-NAME, where NAME (the account name rule: 1 to 64
// lowercase letters, digits, '-' or '_') is what accounts call the backend, and put it where ast looks, first match wins:
//
//  1. the path pinned for NAME in the plugins: section of ast's configuration
//     ($AST_CONFIG, else $XDG_CONFIG_HOME/ast/config.yaml), see below;
//  2. the directory of the ast executable;
//  3. each directory of $AST_PLUGIN_PATH (separated by colons);
//  4. the plugins directory of ast's data directory: $XDG_DATA_HOME/ast/plugins, else
//     ~/.local/share/ast/plugins.
//
// A pin gives the path and, optionally, the executable's SHA-256, which ast checks before
// it starts the plugin (`sha256sum ast-plugin-example` prints it):
//
//	plugins:
//	  example:
//	    path: /opt/ast/ast-plugin-example
//	    sha256: 3f1c...   # 64 hex digits
//
// The path of a pin or a plugin directory must be absolute. ast refuses an executable
// that belongs to neither you nor root or that group or others can write, and so every
// directory and symbolic link on the way to it (a sticky directory such as /tmp
// excepted), as ssh does with authorized_keys; it executes the very file it checked and
// hashed. Then:
//
//	go build -o ~/.local/share/ast/plugins/ast-plugin-example .
//	ast plugin list                       # name, version, protocol, capabilities, checksum status
//	ast account add scratch --backend example
//	ast --account scratch secrets create API_KEY --value s3cr3t
//
// # Versioning
//
// ProtocolVersion is the version of the wire protocol; it is also the go-plugin handshake
// version (Handshake), and Info.Protocol reports it. Protocols are served through
// go-plugin's versioned plugin sets (PluginSets): when a protocol 2 comes, a plugin built
// with a later SDK serves both, and a host speaks the highest both know, so neither side
// has to upgrade first. Rebuilding with a later SDK of the same protocol changes nothing
// on the wire.
//
// Within a protocol, optional features are capabilities, strings in Info.Capabilities;
// report only what your backend really does:
//
//   - CapVersions: Entry.Version counts the versions the store keeps (without it, report a
//     version of at least 1 that never goes down; the example counts writes);
//   - CapTimestamps: CreatedAt and UpdatedAt are kept by the store;
//   - CapAtomicBatch: the successful names of a Put or Delete batch land in one atomic
//     step (results stay per name).
//
// New operations arrive as new capabilities, not as changes to Backend; hosts ignore
// capabilities they do not know. Info.Version is your own release, shown by
// `ast plugin list`.
package pluginsdk
