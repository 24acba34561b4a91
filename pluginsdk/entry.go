package pluginsdk

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind says whether an entry is a secret (write-only: its value never leaves the backend
// except through Get) or a plain variable (readable: List carries its value).
type Kind string

const (
	KindSecret Kind = "secret"
	KindPlain  Kind = "plain"
)

// Valid reports whether k is one of the two kinds.
func (k Kind) Valid() bool { return k == KindSecret || k == KindPlain }

// Limits of names and values. They are the same for every backend so that all behave
// alike; the value limit is AWS Secrets Manager's documented SecretString maximum.
const (
	MaxNameBytes  = 128
	MaxValueBytes = 64 * 1024
)

// NameRule is the rule every entry name follows, in the words error messages use.
const NameRule = "a name starts with a letter or underscore, has only letters, digits and underscores ([A-Za-z_][A-Za-z0-9_]*), and is at most 128 bytes"

// ValidateName checks an entry name: [A-Za-z_][A-Za-z0-9_]*, 1 to 128 bytes.
// Names become environment variable names, so they are case-sensitive and never contain a
// path separator, which keeps every name inside its account's space on every backend.
// The error wraps ErrInvalidArgument, states the rule and quotes the name (a name is never
// secret).
func ValidateName(name string) error {
	switch {
	case name == "":
		return Errorf(ErrInvalidArgument, "the name is empty: %s", NameRule)
	case len(name) > MaxNameBytes:
		return Errorf(ErrInvalidArgument, "name %.40q... is %d bytes: %s", name, len(name), NameRule)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
		digit := c >= '0' && c <= '9'
		if !letter && !(digit && i > 0) {
			return Errorf(ErrInvalidArgument, "invalid name %q: %s", name, NameRule)
		}
	}
	return nil
}

// MaxAccountBytes is the longest account name.
const MaxAccountBytes = 64

// ValidAccount reports whether account follows the rule for account names:
// [a-z0-9][a-z0-9_-]*, at most 64 bytes. Lowercase only, because account names become
// file names, Vault paths and AWS secret name parts, some of which fold case, and never
// contain a separator, which keeps every account inside its backend's space. The host
// checks it; a backend checks it again before the name becomes a path or a key.
func ValidAccount(account string) bool {
	if account == "" || len(account) > MaxAccountBytes {
		return false
	}
	for i := 0; i < len(account); i++ {
		c := account[i]
		if !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '_' || c == '-'))) {
			return false
		}
	}
	return true
}

// SuggestName turns an invalid name into the closest valid one, for "did you mean" hints:
// spring.datasource.url becomes SPRING_DATASOURCE_URL, my-key becomes MY_KEY. It returns ""
// when nothing usable is left.
func SuggestName(name string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.Trim(b.String(), "_")
	if s == "" {
		return ""
	}
	if s[0] >= '0' && s[0] <= '9' {
		s = "_" + s
	}
	if len(s) > MaxNameBytes {
		s = s[:MaxNameBytes]
	}
	return s
}

// ValidateValue checks an entry value: UTF-8 text of 1 byte to 64 KiB (MaxValueBytes)
// without a NUL byte. Newlines are allowed. The error wraps ErrInvalidArgument and never
// contains the value.
func ValidateValue(v Value) error {
	s := v.s
	switch {
	case s == "":
		return Errorf(ErrInvalidArgument, "the value is empty: a value is 1 byte to 64 KiB of UTF-8 text")
	case len(s) > MaxValueBytes:
		return Errorf(ErrInvalidArgument, "the value is %d bytes: a value is at most 64 KiB (65536 bytes)", len(s))
	case strings.IndexByte(s, 0) >= 0:
		return Errorf(ErrInvalidArgument, "the value contains a NUL byte: a value is UTF-8 text without NUL")
	case !utf8.ValidString(s):
		return Errorf(ErrInvalidArgument, "the value is not valid UTF-8: a value is UTF-8 text")
	}
	return nil
}

// Value holds an entry's value. It prints as a redaction marker with every fmt verb, so a
// stray %v, %s or %#v in a log line or an error cannot leak it; Reveal is the one way out.
type Value struct{ s string }

// NewValue wraps s. It does not validate: see ValidateValue.
func NewValue(s string) Value { return Value{s: s} }

// Reveal returns the value's text. Call it only where the text must go: a backend's
// storage, or the environment of the process ast starts.
func (v Value) Reveal() string { return v.s }

// IsZero reports whether the value is empty (as a secret's value is in List).
func (v Value) IsZero() bool { return v.s == "" }

// Len is the value's length in bytes.
func (v Value) Len() int { return len(v.s) }

const redacted = "[REDACTED]"

func (Value) String() string               { return redacted }
func (Value) GoString() string             { return redacted }
func (Value) Format(f fmt.State, _ rune)   { _, _ = f.Write([]byte(redacted)) }
func (Value) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Entry is one secret or plain variable of an account.
//
// In a Put, callers set Name, Kind and Value; backends fill Version (and the times, when
// they know them) in the result. In List, Value is set only for plain variables, and only
// when asked for. In Get, Value is always set.
type Entry struct {
	Name  string
	Kind  Kind
	Value Value
	// Version identifies the entry's current value: at least 1, and never smaller after a
	// write than before it. With CapVersions it counts the backend's kept versions.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
	// External is true when the entry's current version was not written by ast (vault kv
	// put, a rotation job, the console): it is a secret, and hosts refuse to overwrite or
	// delete it unless told to (--force). In List without values a backend may tell it
	// from metadata; Get tells it from the version itself.
	External bool
	// Fields are the field names (never values) of an external entry, sorted, in List with
	// ListOptions.Fields: the data keys of a Vault secret, the top-level keys of a JSON
	// object value. Nil otherwise.
	Fields []string
	// NeedsAlias is set only in List with ListOptions.Unnamed, on an item whose name in the
	// backend is not a valid entry name (db-creds, rds.primary): Name is then that backend
	// name, and the item is reached only through an alias of the account's aliases setting
	// (SuggestName gives the nearest valid name). Such an item is always External.
	NeedsAlias bool
	// FieldSource is set only in Get, on an external entry whose fields are not its whole
	// value: the JSON object a reference @NAME#FIELD takes FIELD from (a Vault secret whose
	// data has a "value" key besides others: its whole value is that key, its fields are
	// every data key). When zero, fields are taken from Value.
	FieldSource Value
}

// PutMode says what a Put does when the name exists or does not.
type PutMode int

const (
	// Create writes new entries; a name that exists fails with ErrAlreadyExists.
	Create PutMode = iota + 1
	// Update replaces existing entries; a missing name fails with ErrNotFound.
	Update
	// Upsert creates or replaces.
	Upsert
)

func (m PutMode) String() string {
	switch m {
	case Create:
		return "create"
	case Update:
		return "update"
	case Upsert:
		return "upsert"
	}
	return fmt.Sprintf("PutMode(%d)", int(m))
}

// Result is the outcome of one name in a batch: results[i] answers request item i.
// Err is nil or an *Error whose code says what went wrong for that name alone.
// For Get, Entry holds the value; for Put, the written entry's name, kind and version;
// for Delete, the name. Note is an optional short remark for the user about this
// outcome, printed beside it: plain text, at most a line, never a value (AWS: "scheduled
// for deletion, restorable until 2026-12-30 (recovery window 30 days)").
type Result struct {
	Entry Entry
	Err   error
	Note  string
}

// Info describes a plugin.
type Info struct {
	// Name is the backend's name, as accounts refer to it ("local", "hashicorp").
	Name string
	// Version is the plugin's own release version.
	Version string
	// Protocol is the protocol version the plugin speaks (ProtocolVersion when built with
	// this SDK).
	Protocol int
	// MaxBatch is the largest number of names the plugin takes in one call; 0 means no
	// limit. Hosts split larger batches.
	MaxBatch int
	// Capabilities lists optional features, see the Cap constants.
	Capabilities []string
}

// Capabilities a plugin may report in Info.
const (
	// CapVersions: Entry.Version counts real versions kept by the backend.
	CapVersions = "versions"
	// CapTimestamps: Entry.CreatedAt and UpdatedAt are kept by the backend.
	CapTimestamps = "timestamps"
	// CapAtomicBatch: the names of a Put or Delete batch that succeed are written in one
	// atomic step: a crash or a concurrent reader sees all of them or none.
	CapAtomicBatch = "atomic-batch"
	// CapStream: the plugin's SDK serves the streaming forms of Put and Delete, which
	// carry each name's result as the backend reports it (Report) and heartbeats
	// (Heartbeat). The SDK adds it to Info by itself; hosts call plugins without it the
	// unary way, where results arrive only with the reply.
	CapStream = "stream"
	// CapDeployProgress: the target plugin's SDK serves the streaming form of Deploy, which
	// carries the rollout's progress (ReportProgress) while Deploy waits, and what a failed
	// Deploy had written. The SDK adds it to a target's Info by itself; hosts call targets
	// without it the unary way (no progress; a failed Deploy's result is lost).
	CapDeployProgress = "deploy-progress"
)

// ListOptions tunes List.
type ListOptions struct {
	// Values asks for the values of plain variables. A secret's value is never listed.
	Values bool
	// Fields asks for the field names of external entries (Entry.Fields), which may cost
	// a read of their values inside the backend; no value is returned.
	Fields bool
	// Unnamed asks for the items of the account's folder whose names are not valid entry
	// names as well (Entry.NeedsAlias), for the user to give them aliases. Hosts that act on
	// entry names leave it off.
	Unnamed bool
}
