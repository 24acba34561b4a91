package cli

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ast-cli/ast/pluginsdk"
)

func TestSuggestNames(t *testing.T) {
	tests := []struct {
		name    string
		entries []pluginsdk.Entry
		want    map[string]string
	}{
		{"nearest valid name", []pluginsdk.Entry{{Name: "db-creds", NeedsAlias: true}, {Name: "rds.primary", NeedsAlias: true}},
			map[string]string{"db-creds": "DB_CREDS", "rds.primary": "RDS_PRIMARY"}},
		{"a leading digit gets an underscore", []pluginsdk.Entry{{Name: "1-key", NeedsAlias: true}}, map[string]string{"1-key": "_1_KEY"}},
		{"a clash with an entry", []pluginsdk.Entry{{Name: "DB_CREDS"}, {Name: "db-creds", NeedsAlias: true}},
			map[string]string{"db-creds": "DB_CREDS_2"}},
		{"a clash between suggestions", []pluginsdk.Entry{{Name: "a.b", NeedsAlias: true}, {Name: "a-b", NeedsAlias: true}, {Name: "A_B_2"}},
			map[string]string{"a.b": "A_B", "a-b": "A_B_3"}},
		{"nothing usable", []pluginsdk.Entry{{Name: "--", NeedsAlias: true}}, map[string]string{}},
		{"entries need none", []pluginsdk.Entry{{Name: "db"}}, map[string]string{}},
		// Names at the length limit: the number still fits.
		{"long names that clash", []pluginsdk.Entry{{Name: strings.Repeat("a", 200) + "-x", NeedsAlias: true}, {Name: strings.Repeat("a", 200) + "-y", NeedsAlias: true}},
			map[string]string{strings.Repeat("a", 200) + "-x": strings.Repeat("A", 128), strings.Repeat("a", 200) + "-y": strings.Repeat("A", 126) + "_2"}},
		// A backend name the aliases setting cannot hold (its separators, a leading space, a control
		// character: a plugin's, or a hostile server's) gets no suggested ALIAS:name item,
		// which would split into other aliases (API_KEY:evil) when pasted.
		{"separators in the name", []pluginsdk.Entry{{Name: "x,API_KEY:evil", NeedsAlias: true}, {Name: " a", NeedsAlias: true}, {Name: "c\nd", NeedsAlias: true}, {Name: "ok-1", NeedsAlias: true}, {Name: "a b", NeedsAlias: true}},
			map[string]string{"ok-1": "OK_1", "a b": "A_B"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := suggestNames(tt.entries, "")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			for _, s := range got {
				if err := pluginsdk.ValidateName(s); err != nil {
					t.Errorf("suggestion %q: %v", s, err)
				}
			}
		})
	}
}

// TestSuggestNamesKeepsTheSettingsAliases: an alias of the aliases setting whose item is
// gone (so not listed) is still taken: the hint's setting keeps it, and an alias given
// twice is refused.
func TestSuggestNamesKeepsTheSettingsAliases(t *testing.T) {
	got := suggestNames([]pluginsdk.Entry{{Name: "db-creds", NeedsAlias: true}}, "OTHER:x, DB_CREDS : gone")
	if want := map[string]string{"db-creds": "DB_CREDS_2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
