package pluginsdk

import "testing"

func TestOrphaned(t *testing.T) {
	cases := []struct {
		name          string
		before, after int
		hostEnv       string
		want          bool
	}{
		{"ast is the parent", 500, 500, "500", false},
		{"ast is process 1 (a container)", 1, 1, "1", false},
		{"ast died before the plugin looked", 1, 1, "500", true},
		{"ast died under a subreaper", 77, 77, "500", true},
		{"ast died while the signal was armed", 500, 1, "500", true},
		{"another host", 500, 500, "", false},
		{"another host, re-parented to init", 1, 1, "", true},
		{"malformed variable", 500, 500, "x", false},
	}
	for _, c := range cases {
		if got := orphaned(c.before, c.after, c.hostEnv); got != c.want {
			t.Errorf("%s: orphaned(%d, %d, %q) = %t, want %t", c.name, c.before, c.after, c.hostEnv, got, c.want)
		}
	}
}
