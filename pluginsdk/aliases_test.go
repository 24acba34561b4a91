package pluginsdk

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseAliases(t *testing.T) {
	oneSegment := func(s string) bool { return !strings.ContainsAny(s, "/ ") }
	tests := []struct {
		setting string
		want    map[string]string
		errHas  []string
	}{
		{"", map[string]string{}, nil},
		{"DB_CREDS:db-creds, API_KEY:api.key", map[string]string{"DB_CREDS": "db-creds", "API_KEY": "api.key"}, nil},
		{"DB:db-creds,", map[string]string{"DB": "db-creds"}, nil},
		{"nocolon", nil, []string{`"nocolon" has no ":"`}},
		{"bad-alias:x", nil, []string{`alias "bad-alias"`}},
		{"A:../x,B:x/y,C:..,D:", nil, []string{`"../x"`, `"x/y"`, `".."`, `""`}},
		{"A:x,A:y", nil, []string{"alias A is given twice"}},
		{"A:x,B:x", nil, []string{`"x" has two aliases`}},
	}
	for _, tt := range tests {
		got, err := ParseAliases(tt.setting, oneSegment)
		if tt.errHas == nil {
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%q: got %v, %v; want %v", tt.setting, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%q: got %v, want ErrInvalidArgument", tt.setting, err)
			continue
		}
		for _, s := range tt.errHas {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%q: error %q does not say %s", tt.setting, err, s)
			}
		}
	}
}
