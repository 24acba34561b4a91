package refs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/ast-cli/ast/pluginsdk"
)

// Field returns field of value for a reference `@NAME#FIELD`: value must be a JSON object
// (an AWS SecretString, a Vault secret ast did not write, which its backend hands over as
// its data object, or an entry holding JSON), field one of its top-level keys. A string
// gives its text; a number, true, false or null its JSON text as written. Duplicate keys:
// the last one counts, as in encoding/json.
//
// Errors, none of which contains the value or a field's value (field names are shown):
//   - the value is not a JSON object (ErrFailedPrecondition);
//   - the field is missing: the message lists the fields present, sorted (ErrNotFound);
//   - the field is an object or an array: the message names its JSON type
//     (ErrFailedPrecondition).
func Field(value, field string) (string, error) {
	dec := json.NewDecoder(strings.NewReader(value))
	dec.UseNumber()
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil || obj == nil || dec.More() {
		return "", pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
			"has no field %q: its value is not a JSON object (a field is a top-level key of a JSON object value, or a data key of a Vault secret ast did not write)", field)
	}
	raw, ok := obj[field]
	if !ok {
		names := make([]string, 0, len(obj))
		for k := range obj {
			names = append(names, fmt.Sprintf("%q", k))
		}
		sort.Strings(names)
		present := "none"
		if len(names) > 0 {
			present = strings.Join(names, ", ")
		}
		return "", pluginsdk.Errorf(pluginsdk.ErrNotFound, "has no field %q (its fields: %s)", field, present)
	}
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) > 0 && raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, "field %q is not a valid JSON string", field)
		}
		return s, nil
	case len(raw) > 0 && raw[0] == '{':
		return "", pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, "field %q is a JSON object, not a string, number, boolean or null", field)
	case len(raw) > 0 && raw[0] == '[':
		return "", pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, "field %q is a JSON array, not a string, number, boolean or null", field)
	}
	return string(raw), nil // a number as written, true, false or null
}

// FieldError is the failure to take a field of a referenced entry. Err is a pluginsdk
// error (errors.Is against ErrNotFound for a missing field); its text names the entry and
// the field, never a value.
type FieldError struct {
	Name, Field string
	Err         error
}

func (e *FieldError) Error() string { return fmt.Sprintf("entry %s %v", e.Name, e.Err) }

func (e *FieldError) Unwrap() error { return e.Err }
