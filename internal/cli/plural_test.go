package cli

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/internal/refs"
	"github.com/ast-cli/ast/pluginsdk"
)

// TestCountWords: every message whose words follow a count agrees with it ("no entry
// named A", "no entries named A and B"; "1 argument", "2 arguments"; "A was", "A and B
// were").
func TestCountWords(t *testing.T) {
	deleteMsg := func(names []string, fail error, present ...string) func(*testing.T) string {
		return func(t *testing.T) string {
			b := newSlow(t, 0, fail)
			for _, n := range present {
				if _, err := b.Backend.Put(context.Background(), []pluginsdk.Entry{{Name: n, Kind: pluginsdk.KindSecret,
					Value: pluginsdk.NewValue("v")}}, pluginsdk.Create); err != nil {
					t.Fatal(err)
				}
			}
			ios, _, _ := Test("")
			err := runDelete(context.Background(), &DeleteOptions{IO: ios, Names: names,
				Backend: func(context.Context) (pluginsdk.Backend, string, error) { return b, "test", nil }})
			if err == nil {
				t.Fatal("runDelete: no error")
			}
			return err.Error()
		}
	}
	argsMsg := func(check cobra.PositionalArgs, n int) func(*testing.T) string {
		return func(t *testing.T) string {
			err := check(&cobra.Command{Use: "x"}, make([]string, n))
			if err == nil {
				t.Fatal("no error")
			}
			return err.Error()
		}
	}
	gone := pluginsdk.Errorf(pluginsdk.ErrUnavailable, "gone")
	cases := []struct {
		name string
		msg  func(*testing.T) string
		want string
	}{
		{"delete: one missing", deleteMsg([]string{"A"}, nil), "no entry named A in account test"},
		{"delete: two missing", deleteMsg([]string{"A", "B"}, nil), "no entries named A and B in account test"},
		{"delete: three missing", deleteMsg([]string{"A", "B", "C"}, nil), "no entries named A, B and C in account test"},
		{"delete: one unknown", deleteMsg([]string{"A", "B"}, gone, "A", "B"), "not known whether B was deleted"},
		{"delete: two unknown", deleteMsg([]string{"A", "B", "C", "D"}, gone, "A", "B", "C", "D"), "not known whether C and D were deleted"},
		{"exact args: 1 given", argsMsg(exactArgs(0, "no arguments"), 1), "(got 1 argument)"},
		{"exact args: 2 given", argsMsg(exactArgs(1, "one NAME"), 2), "(got 2 arguments)"},
		{"exact args: 0 given", argsMsg(exactArgs(1, "one NAME"), 0), "(got 0 arguments)"},
		{"name args: 0 given", argsMsg(nameArgs, 0), "(got 0 arguments)"},
		{"name args: 3 given", argsMsg(nameArgs, 3), "(got 3 arguments)"},
		{"references: one missing", func(*testing.T) string { return (&refs.MissingError{Names: []string{"A"}}).Error() },
			"no entry named A in the account; create it with"},
		{"references: two missing", func(*testing.T) string { return (&refs.MissingError{Names: []string{"A", "B"}}).Error() },
			"no entries named A, B in the account; create each with"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.msg(t); !strings.Contains(got, tc.want) {
				t.Errorf("message %q lacks %q", got, tc.want)
			}
		})
	}
	if !errors.Is(&refs.MissingError{Names: []string{"A"}}, pluginsdk.ErrNotFound) {
		t.Error("MissingError does not unwrap to ErrNotFound")
	}
}

func TestPlural(t *testing.T) {
	for n, want := range map[int]string{0: "entries", 1: "entry", 2: "entries", 10: "entries"} {
		if got := plural(n, "entry", "entries"); got != want {
			t.Errorf("plural(%d) = %s, want %s", n, got, want)
		}
	}
}
