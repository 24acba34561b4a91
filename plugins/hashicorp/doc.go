// Package hashicorp is ast's HashiCorp Vault backend: it keeps an account's entries in a
// KV version 2 secrets engine.
//
// # Layout
//
// Each entry is one KV v2 secret at MOUNT/data/PREFIX/ACCOUNT/NAME (defaults: mount
// "secret", prefix "ast"). Every version ast writes holds exactly two data keys: "value",
// the value, and "ast_kind", its kind (secret or plain), so
//
//	vault kv get -mount=secret -field=value ast/ACCOUNT/NAME
//
// prints it. Versions are Vault's (current_version); CreatedAt is the secret's
// created_time, UpdatedAt the created_time of its current version.
//
// # Kinds
//
// The kind that counts is the one in the versioned data, beside the value it describes:
// only a writer of the value can set it. An entry is in ast's layout when its current
// version's data keys are exactly "value" (text) and "ast_kind"; anything else — a version
// written by vault kv put, a rotation job, ast's own earlier one-key layout — reads as a
// secret, and "ast_kind" is never shown as a field. Nothing is migrated: no release wrote
// another layout.
//
// After the data, ast writes a hint into the secret's custom_metadata, so that List can
// show kinds from the metadata alone (no read of values, no read permission on the data):
//
//	ast_kind          secret | plain
//	ast_account       the account (for people reading Vault)
//	ast_kind_version  the version the hint describes
//	ast_kind_time     that version's created_time
//
// The hint is only a hint: whoever may update the metadata (without any access to the
// data) may rewrite it. List without values shows it when it describes the current version
// (else secret) and prints no value; List with values reads the current version's data
// (unless the hint says secret, which can only hide a value) and shows a value only when
// the data proves the entry plain. Get reads the kind from the data alone.
//
// # Entries ast did not write
//
// The path setting points an account at a folder others write too (vault kv put, a
// rotation job). A secret there whose current version is not in ast's layout is external:
// a secret, never listed with a value. Get answers its whole value (the "value" key when
// it is text, else the data as a JSON object) and, in Entry.FieldSource, its data as a
// JSON object (without "ast_kind"), so that @NAME#FIELD reaches every data key, also
// beside "value". List with Fields reads the data of unlabelled secrets for their key
// names. List without values or fields tells External from the label alone, which a token
// that may update metadata can forge: the host confirms with Get before it overwrites or
// deletes an entry List shows as its own. With Unnamed, List adds the folder's keys that
// are not entry names (db-creds) as external secrets with NeedsAlias; the aliases setting
// (ALIAS:key, one segment of the folder: no "/", "." or "..") makes them entries.
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
