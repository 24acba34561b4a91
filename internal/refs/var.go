// Package refs parses the variables of a run or deploy (`--var KEY=VALUE`, a blueprint's
// env map) and resolves their `@NAME` references against the active account's entries.
//
// The grammar is DESIGN.md "References". The package is pure: it reads and writes nothing
// itself; resolution goes through the one-method Getter interface, which a
// pluginsdk.Backend satisfies. Resolved values are held as pluginsdk.Value, which prints
// as a redaction marker; Resolved.Environ is the one place they are revealed, for the
// environment of the process ast starts.
package refs

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/ast-cli/ast/pluginsdk"
)

// Var is one variable of a run or deploy: its key and where its value comes from.
type Var struct {
	// Key is the environment variable name the value is given to; a valid entry name
	// (pluginsdk.ValidateName).
	Key string
	// Ref is the name of the referenced entry of the active account, or "" when the
	// value is a literal.
	Ref string
	// Field is the field of the entry a reference takes (`@NAME#FIELD`), or "" for the
	// entry's whole value: a data key of a Vault secret ast did not write, else a
	// top-level key of a JSON object value.
	Field string
	// Literal is the value when Ref is "". It may be empty.
	Literal string
}

// IsRef reports whether v takes its value from an entry (Ref is set).
func (v Var) IsRef() bool { return v.Ref != "" }

// ParseVar parses one `--var` argument, `KEY=VALUE`, by the grammar of DESIGN.md
// "References":
//
//   - KEY is the text before the first "=" and must be a valid name
//     (pluginsdk.ValidateName); VALUE is everything after it and may contain "=".
//   - VALUE "@" is the shorthand for "@KEY".
//   - VALUE "@NAME" is a reference to entry NAME, which must be a valid name: "@bad-name"
//     and "@@X" are errors.
//   - VALUE "@NAME#FIELD" (split at the first "#") takes one field of entry NAME; FIELD is
//     the rest, verbatim: non-empty, without NUL or control characters. "@#FIELD" is an
//     error (the shorthand is "@" alone).
//   - VALUE starting with `\@` is the literal text after the backslash (`\@@x` is "@@x").
//     Only that one escape exists: every other backslash is literal.
//   - Any other VALUE is literal, including "user@example.com" and "".
//
// A literal must not contain a NUL byte (no environment variable can hold one).
//
// Errors: a *VarError (or several, joined with errors.Join, when the key and the value
// are both wrong) wrapping pluginsdk.ErrInvalidArgument, for a missing "=", an empty or
// invalid KEY, or an invalid reference. Error text names the key but never the value:
// a mistyped reference may be a password that lacks its `\`.
func ParseVar(arg string) (Var, error) {
	return parseArg(arg, 0)
}

// ParseVars parses every `--var` argument, in the order given; the result has one Var per
// key, sorted by key. A KEY given twice is an error (which one was meant is a guess), not
// a silent override; a blueprint's env is still overridden by --var (Merge).
//
// Errors: every problem of every argument at once, as *VarError values joined with
// errors.Join in argument order, each naming its argument by 1-based position ("--var #2");
// errors.Is(err, pluginsdk.ErrInvalidArgument) is true. On error the Vars are nil.
func ParseVars(args []string) ([]Var, error) {
	vars := make([]Var, 0, len(args))
	var errs []error
	first := map[string]int{}
	for i, arg := range args {
		v, err := parseArg(arg, i+1)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if at, ok := first[v.Key]; ok {
			errs = append(errs, pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
				"--var #%d: %s is already given by --var #%d; give each KEY once", i+1, v.Key, at))
			continue
		}
		first[v.Key] = i + 1
		vars = append(vars, v)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return Merge(nil, vars), nil
}

// ParseValue parses a variable given as a key and a value apart, such as one item of a
// blueprint's env map, by the same grammar as ParseVar (the value "@" means "@KEY").
// Errors are those of ParseVar, worded for a variable rather than a --var argument.
func ParseValue(key, value string) (Var, error) {
	v, errs := parse(key, value, varWhere{pos: 0, flag: false})
	if len(errs) > 0 {
		return Var{}, errors.Join(errs...)
	}
	return v, nil
}

// Merge returns defaults overridden by overrides: one Var per key, the value of the last
// override with that key, else of the last default with it, sorted by key so that the
// order never depends on a map or on argument order. The inputs are not modified.
// Typical use: a blueprint's env map (defaults) and the --var arguments (overrides).
func Merge(defaults, overrides []Var) []Var {
	byKey := make(map[string]Var, len(defaults)+len(overrides))
	for _, v := range defaults {
		byKey[v.Key] = v
	}
	for _, v := range overrides {
		byKey[v.Key] = v
	}
	out := make([]Var, 0, len(byKey))
	for _, v := range byKey {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// VarError is one problem with one variable. Its text names the variable by position
// and key but never contains the value. It unwraps to an error that wraps
// pluginsdk.ErrInvalidArgument.
type VarError struct {
	// Pos is the 1-based position of the argument among those given to ParseVars; 0 when
	// the variable was parsed alone.
	Pos int
	// Key is the variable's key when it is a valid name, else "" (the key's problem is then
	// in Err).
	Key string
	// Err says what is wrong.
	Err error

	flag bool // from a --var argument rather than ParseValue
}

func (e *VarError) Error() string {
	var b strings.Builder
	if e.flag {
		b.WriteString("--var")
	} else {
		b.WriteString("variable")
	}
	if e.Pos > 0 {
		fmt.Fprintf(&b, " #%d", e.Pos)
	}
	if e.Key != "" {
		b.WriteString(" " + e.Key)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *VarError) Unwrap() error { return e.Err }

// varWhere says which variable an error is about.
type varWhere struct {
	pos  int
	flag bool
}

func (w varWhere) err(key string, err error) *VarError {
	if pluginsdk.ValidateName(key) != nil {
		key = ""
	}
	return &VarError{Pos: w.pos, Key: key, Err: err, flag: w.flag}
}

func parseArg(arg string, pos int) (Var, error) {
	w := varWhere{pos: pos, flag: true}
	key, value, ok := strings.Cut(arg, "=")
	switch {
	case !ok:
		// The argument may be a value typed without its key: quote it only when it is a
		// name (names are never secret).
		what := fmt.Sprintf("the argument (%d bytes)", len(arg))
		if pluginsdk.ValidateName(arg) == nil {
			what = fmt.Sprintf("%q", arg)
		}
		return Var{}, w.err("", pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
			`%s has no "=": the form is KEY=VALUE, KEY=@NAME for a reference to entry NAME, or KEY=@ for KEY=@KEY`, what))
	case key == "":
		return Var{}, w.err("", pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
			`the key before "=" is empty: the form is KEY=VALUE, and %s`, pluginsdk.NameRule))
	}
	v, errs := parse(key, value, w)
	if len(errs) > 0 {
		return Var{}, errors.Join(errs...)
	}
	return v, nil
}

// parse applies the grammar of DESIGN.md "References" to a key and value. It returns
// every problem found (at most one for the key and one for the value).
func parse(key, value string, w varWhere) (Var, []error) {
	var errs []error
	if err := pluginsdk.ValidateName(key); err != nil {
		msg := err.Error()
		if s := pluginsdk.SuggestName(key); s != "" && s != key {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		errs = append(errs, w.err("", pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "the key: %s", msg)))
	}
	v := Var{Key: key}
	switch {
	case value == "@":
		// The shorthand KEY=@ names the entry KEY; an invalid KEY is reported above.
		v.Ref = key
	case strings.HasPrefix(value, `\@`):
		v.Literal = value[1:]
	case strings.HasPrefix(value, "@"):
		ref, field, hasField := strings.Cut(value[1:], "#")
		v.Ref, v.Field = ref, field
		switch {
		case hasField && ref == "":
			errs = append(errs, w.err(key, pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
				`not a valid reference: "@#" names no entry; a field reference is @NAME#FIELD, and the shorthand @ stands alone; %s`, escapeHint)))
		default:
			if err := checkRef(ref); err != nil {
				errs = append(errs, w.err(key, err))
			} else if hasField {
				if err := checkField(field); err != nil {
					errs = append(errs, w.err(key, err))
				}
			}
		}
	default:
		v.Literal = value
	}
	if !v.IsRef() && strings.IndexByte(v.Literal, 0) >= 0 {
		errs = append(errs, w.err(key, pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
			"the value contains a NUL byte, which no environment variable can hold")))
	}
	if len(errs) > 0 {
		return Var{}, errs
	}
	return v, nil
}

// escapeHint tells how to write what checkRef refused as a literal.
const escapeHint = `for a literal value that starts with "@", write \@ in front of it`

// checkRef checks the entry name of a reference. Its error states the rule and where the
// name breaks it, but does not quote the name: a value meant as a literal (a password
// that starts with "@") must not end up on stderr.
func checkRef(name string) error {
	if pluginsdk.ValidateName(name) == nil {
		return nil
	}
	var what string
	switch {
	case strings.HasPrefix(name, "@"):
		what = `"@@" does not start a reference`
	case len(name) > pluginsdk.MaxNameBytes:
		what = fmt.Sprintf(`the name after "@" is %d bytes`, len(name))
	default:
		// A name the backend holds but ast cannot (db-creds, rds.primary) is reached through
		// an alias, which secrets list suggests.
		what = fmt.Sprintf(`byte %d of the name after "@" is not allowed (a backend's name like db-creds `+
			`is referenced through an alias: ast secrets list shows the one to set)`, badByte(name)+1)
	}
	return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
		"not a valid reference: %s; %s; %s", what, pluginsdk.NameRule, escapeHint)
}

// checkField checks the field of a reference: non-empty, no NUL or control character (C0,
// DEL, C1). The error says where but does not quote the field, as checkRef does not.
func checkField(field string) error {
	if field == "" {
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
			`not a valid reference: the field after "#" is empty; the form is @NAME#FIELD; %s`, escapeHint)
	}
	for i, r := range field {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
				`not a valid reference: byte %d of the field after "#" is a control character; %s`, i+1, escapeHint)
		}
	}
	return nil
}

// badByte returns the index of the first byte of name that breaks the name rule, or
// len(name) if none does. It asks pluginsdk.ValidateName so that the rule has one home.
func badByte(name string) int {
	for i := 1; i <= len(name); i++ {
		if pluginsdk.ValidateName(name[:i]) != nil {
			return i - 1
		}
	}
	return len(name)
}
