package refs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ast-cli/ast/pluginsdk"
)

func TestField(t *testing.T) {
	const rds = `{"username":"u","password":"p\u00e4\"ss","port":5432,"ratio":1.50,"tls":true,"proxy":null,"tags":["a"],"opts":{"x":1},"":"empty key"}`
	tests := []struct {
		value, field string
		want         string
		code         error    // nil: success
		errHas       []string // on error
	}{
		{rds, "username", "u", nil, nil},
		{rds, "password", "pä\"ss", nil, nil},
		{rds, "port", "5432", nil, nil},
		{rds, "ratio", "1.50", nil, nil},
		{rds, "tls", "true", nil, nil},
		{rds, "proxy", "null", nil, nil},
		{rds, "tags", "", pluginsdk.ErrFailedPrecondition, []string{`"tags"`, "JSON array"}},
		{rds, "opts", "", pluginsdk.ErrFailedPrecondition, []string{`"opts"`, "JSON object"}},
		{rds, "host", "", pluginsdk.ErrNotFound, []string{`"host"`, `"", "opts", "password", "port", "proxy", "ratio", "tags", "tls", "username"`}},
		{`{"a":"1","a":"2"}`, "a", "2", nil, nil},
		{`{}`, "a", "", pluginsdk.ErrNotFound, []string{"its fields: none"}},
		{`not json s3cr3t`, "a", "", pluginsdk.ErrFailedPrecondition, []string{"not a JSON object"}},
		{`["s3cr3t"]`, "a", "", pluginsdk.ErrFailedPrecondition, []string{"not a JSON object"}},
		{`{"a":"s3cr3t"} {"b":1}`, "a", "", pluginsdk.ErrFailedPrecondition, []string{"not a JSON object"}},
		{`null`, "a", "", pluginsdk.ErrFailedPrecondition, []string{"not a JSON object"}},
		{`"s3cr3t"`, "a", "", pluginsdk.ErrFailedPrecondition, []string{"not a JSON object"}},
	}
	for i, tt := range tests {
		got, err := Field(tt.value, tt.field)
		what := fmt.Sprintf("case %d (field %q)", i, tt.field)
		if tt.code == nil {
			if err != nil || got != tt.want {
				t.Errorf("%s: got %d bytes, %v; want %d bytes", what, len(got), err, len(tt.want))
			}
			continue
		}
		if !errors.Is(err, tt.code) {
			t.Errorf("%s: got %v, want code %v", what, err, pluginsdk.CodeOf(tt.code))
			continue
		}
		for _, s := range tt.errHas {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: error %q does not say %s", what, err, s)
			}
		}
		for _, leak := range []string{"s3cr3t", "pä", "5432", "empty key"} {
			if strings.Contains(err.Error(), leak) {
				t.Errorf("%s: the error holds a field's value", what)
			}
		}
	}
}

// FuzzField: whatever the value and field, an error never contains the value (when it is
// long enough not to appear in the fixed text by chance), and a field taken from a JSON
// object built around it comes back exactly.
func FuzzField(f *testing.F) {
	f.Add(`{"username":"u","password":"p","port":5432}`, "password")
	f.Add(`{"a":{"b":1}}`, "a")
	f.Add(`xx`, "a")
	f.Fuzz(func(t *testing.T, value, field string) {
		if _, err := Field(value, field); err != nil {
			if len(value) >= 24 && !strings.Contains(field, value) && strings.Contains(err.Error(), value) {
				t.Fatalf("the error contains the value")
			}
		}
		if !utf8.ValidString(value) || !utf8.ValidString(field) {
			return
		}
		obj, _ := json.Marshal(map[string]string{field: value, field + "x": "other"})
		if got, err := Field(string(obj), field); err != nil || got != value {
			t.Fatalf("field of a built object: %d bytes, %v; want %d bytes", len(got), err, len(value))
		}
	})
}

// TestResolveFields: many fields of few entries make one Get with each entry once; every
// field problem is reported at once, without values.
func TestResolveFields(t *testing.T) {
	g := &fakeGetter{entries: map[string]pluginsdk.Entry{
		"db":  {Name: "db", Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue(`{"password":"p","username":"u"}`), Version: 2},
		"rds": {Name: "rds", Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue(`{"port":5432,"password":"s3cr3t"}`), Version: 1},
	}}
	vars, err := ParseVars([]string{"DB_PASSWORD=@db#password", "DB_USER=@db#username", "PORT=@rds#port", "RDS=@rds"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Resolve(context.Background(), g, vars)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.calls) != 1 || strings.Join(g.calls[0], ",") != "db,rds" {
		t.Errorf("Get calls %v, want one of db,rds", g.calls)
	}
	checkEnv(t, res.Env, []wantEnv{{"DB_PASSWORD", "p"}, {"DB_USER", "u"}, {"PORT", "5432"}, {"RDS", `{"port":5432,"password":"s3cr3t"}`}})
	if s := res.Sources[0]; s.Entry != "db" || s.Field != "password" || s.Version != 2 {
		t.Errorf("source of DB_PASSWORD: %+v", s)
	}

	vars, _ = ParseVars([]string{"A=@db#host", "B=@rds#port", "C=@rds#missing"})
	_, err = Resolve(context.Background(), g, vars)
	var fe *FieldError
	if !errors.As(err, &fe) || !errors.Is(err, pluginsdk.ErrNotFound) {
		t.Fatalf("missing fields: %v", err)
	}
	for _, s := range []string{`entry db has no field "host"`, `entry rds has no field "missing"`, `"password", "username"`} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %s", err, s)
		}
	}
	if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "5432") {
		t.Error("the error holds a value")
	}
}

// TestResolveFieldSource: an entry whose whole value is one of its fields (a Vault secret
// with a "value" key and others) gives @NAME its value and @NAME#FIELD any of its fields.
func TestResolveFieldSource(t *testing.T) {
	g := &fakeGetter{entries: map[string]pluginsdk.Entry{
		"db": {Name: "db", Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue("v-whole"), External: true,
			FieldSource: pluginsdk.NewValue(`{"value":"v-whole","other":"o-field","port":5432}`)},
	}}
	vars, _ := ParseVars([]string{"W=@db", "V=@db#value", "O=@db#other", "P=@db#port"})
	res, err := Resolve(context.Background(), g, vars)
	if err != nil {
		t.Fatal(err)
	}
	checkEnv(t, res.Env, []wantEnv{{"O", "o-field"}, {"P", "5432"}, {"V", "v-whole"}, {"W", "v-whole"}})
	vars, _ = ParseVars([]string{"H=@db#host"})
	_, err = Resolve(context.Background(), g, vars)
	if err == nil || !strings.Contains(err.Error(), `"other", "port", "value"`) || strings.Contains(err.Error(), "o-field") {
		t.Errorf("a missing field of the field source: %v", err)
	}
}

// TestResolveAllErrors: a missing entry does not hide the field errors of the same
// command; every problem is reported at once, by name.
func TestResolveAllErrors(t *testing.T) {
	denied := pluginsdk.Errorf(pluginsdk.ErrPermissionDenied, "access denied")
	g := &fakeGetter{entries: map[string]pluginsdk.Entry{
		"rds": {Name: "rds", Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue(`{"port":5432,"opts":{"a":"s3cr3t"}}`)},
		"tok": {Name: "tok", Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue("x")},
	}, errs: map[string]error{"tok": denied}}
	vars, _ := ParseVars([]string{"A=@GONE", "B=@rds#host", "C=@rds#opts", "D=@tok", "E=@rds#port"})
	_, err := Resolve(context.Background(), g, vars)
	var me *MissingError
	var fe *FieldError
	var ee *EntryError
	if !errors.As(err, &me) || !errors.As(err, &fe) || !errors.As(err, &ee) {
		t.Fatalf("want a missing entry, an entry error and field errors together: %v", err)
	}
	for _, s := range []string{"no entry named GONE", "entry tok", `entry rds has no field "host"`, `field "opts" is a JSON object`} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %s", err, s)
		}
	}
	if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "5432") {
		t.Error("the error holds a value")
	}
	if len(g.calls) != 1 {
		t.Errorf("%d Get calls, want 1", len(g.calls))
	}
}
