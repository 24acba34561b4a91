// Package hashicorp is ast's HashiCorp Vault backend: it keeps an account's entries in a
// KV version 2 secrets engine.
//
// # Layout
//
// Each entry is one KV v2 secret at MOUNT/data/PREFIX/ACCOUNT/NAME (defaults: mount
// "secret", prefix "ast"), holding its value under the single data key "value", so
//
//	vault kv get -mount=secret -field=value ast/ACCOUNT/NAME
//
// prints it. Versions are Vault's (current_version); CreatedAt is the secret's
// created_time, UpdatedAt the created_time of its current version.
//
// # Kind labels
//
// The kind lives in the secret's custom_metadata:
//
//	ast_kind          secret | plain
//	ast_account       the account (for people reading Vault)
//	ast_kind_version  the version the label describes
//	ast_kind_time     that version's created_time
//
// A value is written first (data endpoint, check-and-set), then its label (metadata
// endpoint): two requests that cannot be made atomic. An entry therefore reads as plain
// only when the label says plain AND names the current version and its creation time;
// anything else — no label, a label of an older version left by a crash between the two
// writes, a stale label that lost a race with a later writer, a label of an earlier
// incarnation of the name — reads as secret, the safe default: at worst a plain variable is
// shown as a secret until it is written again, never a secret's value listed as plain.
//
// # Delete
//
// Delete removes the secret's metadata and every version (vault kv metadata delete): the
// name leaves List and resolution, the next Create starts again at version 1 as on every
// other backend, and no deleted credential lingers in Vault. Recovery of deleted entries is
// Vault's business (snapshots), not ast's. A secret whose current version was soft-deleted by
// hand (vault kv delete) reads as missing; Create writes over it with check-and-set on its
// current version.
//
// # Requests
//
// Configure makes no request. Authentication happens at the first call that needs Vault;
// the mount is checked (sys/internal/ui/mounts/MOUNT) once before the first write, because
// a KV v2 write to a KV v1 mount succeeds at the wrong path, and otherwise only when a
// read comes back empty. Every request has a 10 s budget including at most two retries;
// what a retry cannot fix (a refused connection, an unknown host, a sealed Vault) is not
// retried.
package hashicorp
