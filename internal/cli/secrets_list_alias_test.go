package cli

import (
	"reflect"
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := suggestNames(tt.entries)
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
