package config

import (
	"strings"
	"testing"
)

// TestResolvePathsRefusesRelative: a relative HOME or XDG_* directory would put ast's
// files, and the plugins it runs, wherever the current directory is; each is refused with
// a message naming the variable.
func TestResolvePathsRefusesRelative(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string // in the error; "" = no error
	}{
		{"absolute", map[string]string{"HOME": "/home/u"}, ""},
		{"relative HOME", map[string]string{"HOME": "home/u"}, "$HOME"},
		{"HOME of a dot", map[string]string{"HOME": "."}, "$HOME"},
		{"relative XDG_CONFIG_HOME", map[string]string{"HOME": "/home/u", "XDG_CONFIG_HOME": "cfg"}, "$XDG_CONFIG_HOME"},
		{"relative XDG_DATA_HOME", map[string]string{"HOME": "/home/u", "XDG_DATA_HOME": "./data"}, "$XDG_DATA_HOME"},
		{"relative XDG_STATE_HOME", map[string]string{"HOME": "/home/u", "XDG_STATE_HOME": "state"}, "$XDG_STATE_HOME"},
		{"relative HOME unused", map[string]string{"HOME": "rel", "XDG_CONFIG_HOME": "/c", "XDG_DATA_HOME": "/d", "XDG_STATE_HOME": "/s"}, ""},
	}
	for _, c := range cases {
		_, err := ResolvePaths(func(k string) string { return c.env[k] })
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "relative")):
			t.Errorf("%s: got %v, want an error naming %s", c.name, err, c.want)
		}
	}
}
