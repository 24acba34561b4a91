package refs

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/ast-cli/ast/pluginsdk"
)

func TestParseVar(t *testing.T) {
	tests := []struct {
		name string
		arg  string
		want Var
		// On error: texts the message must contain, and texts it must not (values).
		errHas []string
		errNot []string
	}{
		{name: "shorthand", arg: "API_KEY=@", want: Var{Key: "API_KEY", Ref: "API_KEY"}},
		{name: "reference", arg: "DB_URL=@PROD_DB_URL", want: Var{Key: "DB_URL", Ref: "PROD_DB_URL"}},
		{name: "reference underscore", arg: "K=@_x9", want: Var{Key: "K", Ref: "_x9"}},
		{name: "escaped at", arg: `TOKEN=\@abc`, want: Var{Key: "TOKEN", Literal: "@abc"}},
		{name: "escaped double at", arg: `K=\@@x`, want: Var{Key: "K", Literal: "@@x"}},
		{name: "escaped at alone", arg: `K=\@`, want: Var{Key: "K", Literal: "@"}},
		{name: "other backslash literal", arg: `K=\\@x`, want: Var{Key: "K", Literal: `\\@x`}},
		{name: "literal with at", arg: "EMAIL=user@example.com", want: Var{Key: "EMAIL", Literal: "user@example.com"}},
		{name: "literal", arg: "REGION=eu-west-1", want: Var{Key: "REGION", Literal: "eu-west-1"}},
		{name: "empty value", arg: "EMPTY=", want: Var{Key: "EMPTY"}},
		{name: "value with equals", arg: "Q=a=b=@c", want: Var{Key: "Q", Literal: "a=b=@c"}},
		{name: "value with newline", arg: "PEM=line1\nline2", want: Var{Key: "PEM", Literal: "line1\nline2"}},
		{name: "leading space literal", arg: "K= @X", want: Var{Key: "K", Literal: " @X"}},

		{name: "field", arg: "DB_PASSWORD=@db#password", want: Var{Key: "DB_PASSWORD", Ref: "db", Field: "password"}},
		{name: "field split at the first hash", arg: "K=@rds#a#b c.d", want: Var{Key: "K", Ref: "rds", Field: "a#b c.d"}},
		{name: "field unicode", arg: "K=@X#pässwort", want: Var{Key: "K", Ref: "X", Field: "pässwort"}},
		{name: "escaped field-like literal", arg: `K=\@db#password`, want: Var{Key: "K", Literal: "@db#password"}},
		{name: "hash in a literal", arg: "K=a#b", want: Var{Key: "K", Literal: "a#b"}},

		{name: "field without entry", arg: "K=@#password", errHas: []string{"--var K", `"@#"`, "@NAME#FIELD"}, errNot: []string{"password"}},
		{name: "empty field", arg: "K=@db#", errHas: []string{"--var K", "field", "empty"}},
		{name: "control in field", arg: "K=@db#pa\x1bss", errHas: []string{"byte 3", "control"}, errNot: []string{"pa"}},
		{name: "NUL in field", arg: "K=@db#a\x00", errHas: []string{"byte 2", "control"}},
		{name: "bad entry of a field", arg: "K=@db-x#password", errHas: []string{"byte 3"}, errNot: []string{"db-x", "password"}},
		{name: "empty key", arg: "=x", errHas: []string{"key", "empty"}},
		{name: "empty key reference", arg: "=@", errHas: []string{"key", "empty"}},
		{name: "no equals", arg: "K", errHas: []string{`"K"`, `no "="`, "KEY=VALUE"}},
		{name: "no equals not a name", arg: "hunter2!secret", errHas: []string{`no "="`, "14 bytes"}, errNot: []string{"hunter2"}},
		{name: "empty argument", arg: "", errHas: []string{`no "="`}},
		{name: "bad reference", arg: "K=@bad-name", errHas: []string{"--var K", "reference", "byte 4", pluginsdk.NameRule, `\@`}, errNot: []string{"bad-name"}},
		{name: "double at", arg: "K=@@X", errHas: []string{"--var K", `"@@"`, pluginsdk.NameRule, `\@`}, errNot: []string{"@@X"}},
		{name: "reference digit first", arg: "K=@9LIVES", errHas: []string{"byte 1"}, errNot: []string{"9LIVES"}},
		{name: "password lacking escape", arg: "PASS=@pa$$w0rd", errHas: []string{"--var PASS"}, errNot: []string{"pa$$w0rd"}},
		{name: "reference too long", arg: "K=@" + strings.Repeat("A", 129), errHas: []string{"129 bytes"}},
		{name: "shorthand with invalid key", arg: "my-key=@", errHas: []string{`"my-key"`, pluginsdk.NameRule, "MY_KEY"}},
		{name: "invalid key literal", arg: "1X=secretvalue", errHas: []string{`"1X"`}, errNot: []string{"secretvalue"}},
		{name: "invalid key and reference", arg: "a.b=@c-d", errHas: []string{`"a.b"`, "reference"}, errNot: []string{"c-d"}},
		{name: "NUL in literal", arg: "K=a\x00b", errHas: []string{"NUL"}},
		{name: "NUL in escaped literal", arg: "K=\\@a\x00b", errHas: []string{"NUL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseVar(tt.arg)
			if tt.errHas == nil {
				if err != nil {
					t.Fatalf("ParseVar: unexpected error: %v", err)
				}
				if got != tt.want {
					t.Errorf("ParseVar = %+v, want %+v", got, tt.want)
				}
				if got.IsRef() != (tt.want.Ref != "") {
					t.Errorf("IsRef = %v", got.IsRef())
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseVar: no error, got %+v", got)
			}
			if !errors.Is(err, pluginsdk.ErrInvalidArgument) {
				t.Errorf("error is not ErrInvalidArgument: %v", err)
			}
			var ve *VarError
			if !errors.As(err, &ve) {
				t.Errorf("error is not a *VarError: %v", err)
			}
			if got != (Var{}) {
				t.Errorf("ParseVar returned %+v with its error", got)
			}
			msg := err.Error()
			for _, s := range tt.errHas {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not contain %q", msg, s)
				}
			}
			for _, s := range tt.errNot {
				if strings.Contains(msg, s) {
					// The message is the thing that leaked; say so without repeating it.
					t.Errorf("error message contains the value (%d bytes)", len(s))
				}
			}
		})
	}
}

func TestParseValue(t *testing.T) {
	tests := []struct {
		key, value string
		want       Var
		wantErr    bool
	}{
		{key: "A", value: "@", want: Var{Key: "A", Ref: "A"}},
		{key: "A", value: "@B", want: Var{Key: "A", Ref: "B"}},
		{key: "A", value: `\@B`, want: Var{Key: "A", Literal: "@B"}},
		{key: "A", value: "x=y", want: Var{Key: "A", Literal: "x=y"}},
		{key: "A", value: "", want: Var{Key: "A"}},
		{key: "", value: "x", wantErr: true},
		{key: "A=B", value: "x", wantErr: true},
		{key: "A", value: "@b-c", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseValue(tt.key, tt.value)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseValue(%q, %q): error = %v, wantErr %v", tt.key, tt.value, err, tt.wantErr)
			continue
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "variable") {
				t.Errorf("ParseValue(%q, %q): error %q is worded for a --var argument", tt.key, tt.value, err)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("ParseValue(%q, %q) = %+v, want %+v", tt.key, tt.value, got, tt.want)
		}
	}
}

func TestParseVars(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []Var
		// errLines are the expected error lines, each given by texts it must contain.
		errLines [][]string
	}{
		{name: "none", args: nil, want: []Var{}},
		{
			name: "sorted by key",
			args: []string{"B=@B_SECRET", "A=lit", "C=@"},
			want: []Var{{Key: "A", Literal: "lit"}, {Key: "B", Ref: "B_SECRET"}, {Key: "C", Ref: "C"}},
		},
		{
			name: "a key given twice",
			args: []string{"A=@FIRST", "B=b", "A=second", "B=@"},
			errLines: [][]string{
				{"--var #3:", "A is already given by --var #1"},
				{"--var #4:", "B is already given by --var #2"},
			},
		},
		{
			name: "every problem by position",
			args: []string{"OK=1", "=x", "K", "K=@bad-name", "FINE=@", "K2=@@X", "bad key=@"},
			errLines: [][]string{
				{"--var #2:", "empty"},
				{"--var #3:", `"K"`},
				{"--var #4 K:", "reference"},
				{"--var #6 K2:", `"@@"`},
				{"--var #7:", `"bad key"`},
			},
		},
		{
			name:     "two problems in one argument",
			args:     []string{"a-b=@c-d"},
			errLines: [][]string{{"--var #1:", `"a-b"`}, {"--var #1:", "reference"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseVars(tt.args)
			if tt.errLines == nil {
				if err != nil {
					t.Fatalf("ParseVars: unexpected error: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("ParseVars = %+v, want %+v", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseVars: no error, got %+v", got)
			}
			if got != nil {
				t.Errorf("ParseVars returned vars with its error: %+v", got)
			}
			if !errors.Is(err, pluginsdk.ErrInvalidArgument) {
				t.Errorf("error is not ErrInvalidArgument: %v", err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.errLines) {
				t.Fatalf("got %d error lines, want %d:\n%v", len(lines), len(tt.errLines), err)
			}
			for i, want := range tt.errLines {
				for _, s := range want {
					if !strings.Contains(lines[i], s) {
						t.Errorf("error line %d %q does not contain %q", i+1, lines[i], s)
					}
				}
			}
		})
	}
}

func TestMerge(t *testing.T) {
	defaults := []Var{
		{Key: "Z", Literal: "z"},
		{Key: "A", Ref: "A_DEFAULT"},
		{Key: "M", Literal: "m1"},
		{Key: "M", Literal: "m2"},
	}
	overrides := []Var{
		{Key: "A", Literal: "a"},
		{Key: "B", Ref: "B"},
		{Key: "B", Ref: "B2"},
	}
	defaultsCopy := append([]Var(nil), defaults...)
	got := Merge(defaults, overrides)
	want := []Var{
		{Key: "A", Literal: "a"},
		{Key: "B", Ref: "B2"},
		{Key: "M", Literal: "m2"},
		{Key: "Z", Literal: "z"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Merge = %+v, want %+v", got, want)
	}
	if !reflect.DeepEqual(defaults, defaultsCopy) {
		t.Errorf("Merge modified defaults")
	}
	if got := Merge(nil, nil); len(got) != 0 {
		t.Errorf("Merge(nil, nil) = %+v, want empty", got)
	}
}

// FuzzParseVar checks that ParseVar never panics, that what it accepts follows the
// grammar's rules, and that its errors never quote the value.
func FuzzParseVar(f *testing.F) {
	for _, s := range []string{
		"K=@", "K=@NAME", `K=\@x`, `K=\@@x`, "K=user@example.com", "K=", "=x", "K",
		"K=@bad-name", "K=@@X", "bad-key=@", "", "=", "==", "@=@", "K=a\x00b",
		"K=@" + strings.Repeat("A", 200), strings.Repeat("A", 200) + "=@",
		"K=@db#password", "K=@#x", "K=@db#", "K=@a#b#c", "K=@a#\x01",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		v, err := ParseVar(arg)
		key, value, _ := strings.Cut(arg, "=")
		if err != nil {
			if !errors.Is(err, pluginsdk.ErrInvalidArgument) {
				t.Fatalf("error is not ErrInvalidArgument")
			}
			// A value long enough not to occur in the fixed texts by chance must not be
			// quoted (the key may be, and contains no "=").
			if len(value) >= 24 && !strings.Contains(key, value) && strings.Contains(err.Error(), value) {
				t.Fatalf("error message contains the value (%d bytes)", len(value))
			}
			return
		}
		if v.Key != key {
			t.Fatalf("key %q, want the text before the first \"=\" %q", v.Key, key)
		}
		if err := pluginsdk.ValidateName(v.Key); err != nil {
			t.Fatalf("accepted an invalid key: %v", err)
		}
		if v.IsRef() {
			if v.Literal != "" {
				t.Fatalf("a reference with a literal")
			}
			if err := pluginsdk.ValidateName(v.Ref); err != nil {
				t.Fatalf("accepted an invalid reference: %v", err)
			}
			if v.Field != "" {
				if value != "@"+v.Ref+"#"+v.Field || strings.ContainsAny(v.Field, "\x00\x1b\x7f") {
					t.Fatalf("reference %q field %q from value %q", v.Ref, v.Field, value)
				}
			} else if value != "@" && value != "@"+v.Ref {
				t.Fatalf("reference %q from value %q", v.Ref, value)
			}
			return
		}
		if strings.HasPrefix(value, "@") && value != "@" {
			t.Fatalf("value %q starting with @ parsed as a literal", value)
		}
		if want := strings.TrimPrefix(value, `\`); strings.HasPrefix(value, `\@`) && v.Literal != want {
			t.Fatalf("escaped literal %q from value %q", v.Literal, value)
		} else if !strings.HasPrefix(value, `\@`) && v.Literal != value {
			t.Fatalf("literal %q from value %q", v.Literal, value)
		}
	})
}
