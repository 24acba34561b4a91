package host

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInterpreterChecks: a #! script plugin's interpreter, and the program "#!/usr/bin/env
// NAME" finds in $PATH, get the checks of the plugin itself (the kernel runs them with the
// script's path: whoever could change them could run code as the user).
func TestInterpreterChecks(t *testing.T) {
	pub := publicDir(t)
	me := os.Geteuid()
	script := func(t *testing.T, dir, name, shebang string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(shebang+"\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	safe := mkdir(t, filepath.Join(pub, "safe"), 0o755, me)
	open := mkdir(t, filepath.Join(pub, "open"), 0o777, me) // not sticky: anyone may replace what is in it
	loose := script(t, open, "interp", "#!/bin/sh")
	chained := script(t, safe, "chained", "#!"+loose)
	script(t, open, "evilsh", "#!/bin/sh")
	script(t, open, "evil sh", "#!/bin/sh")
	repo := mkdir(t, filepath.Join(pub, "repo"), 0o755, me)
	script(t, repo, "reposh", "#!/bin/sh")

	cases := []struct {
		name, shebang, path, cwd string
		want                     string // in the error; "" = accepted
	}{
		{name: "/bin/sh", shebang: "#!/bin/sh"},
		{name: "env and a name in a safe $PATH", shebang: "#!/usr/bin/env sh", path: "/usr/bin:/bin"},
		{name: "spaces and an argument", shebang: "#!  /bin/sh -e"},
		{name: "an interpreter in a world-writable directory", shebang: "#!" + loose,
			want: "its #! interpreter: the directory " + open + " is writable by group or others"},
		{name: "a chain through it", shebang: "#!" + chained,
			want: "its #! interpreter: its #! interpreter: the directory " + open},
		{name: "env finds the name in a world-writable $PATH directory", shebang: "#!/usr/bin/env evilsh", path: open,
			want: "the directory " + open + " is writable by group or others"},
		{name: "env finds the name through a relative $PATH entry", shebang: "#!/usr/bin/env reposh", path: ".", cwd: repo,
			want: "its #! interpreter reposh would be reposh, found through a relative $PATH entry"},
		{name: "a missing interpreter", shebang: "#!" + filepath.Join(safe, "nothing"), want: "no such file"},
		{name: "env -S: its first word after assignments", shebang: "#!/usr/bin/env -S A=1 evilsh -x", path: open,
			want: "the directory " + open + " is writable by group or others"},
		{name: "env -S in a safe $PATH", shebang: "#!/usr/bin/env -S A=1 sh -e", path: "/usr/bin:/bin"},
		{name: "env takes its one argument whole, blanks and all", shebang: "#!/usr/bin/env evil sh", path: open + ":/usr/bin:/bin",
			want: "the directory " + open + " is writable by group or others"},
		{name: "env with another option", shebang: "#!/usr/bin/env -i sh", want: "env options other than -S hide what runs"},
		{name: "env with an assignment only runs nothing", shebang: "#!/usr/bin/env A=1"},
		{name: "env -S quoting", shebang: `#!/usr/bin/env -S "reposh" -u`, want: "env -S with quotes"},
		{name: "env -S escapes", shebang: `#!/usr/bin/env -S reposh\_-u`, want: "env -S with quotes"},
		{name: "env -S variables", shebang: "#!/usr/bin/env -S ${PROG}", want: "env -S with quotes"},
		{name: "env -S setting PATH", shebang: "#!/usr/bin/env -S PATH=.:/usr/bin sh", want: "env -S setting PATH"},
		{name: "a #! line longer than the kernel reads", shebang: "#!/usr/bin/env" + strings.Repeat(" ", 250) + "reposhX",
			want: "its #! line is longer than 255 bytes"},
		{name: "a writable $PATH directory before the one that holds the name", shebang: "#!/usr/bin/env sh", path: open + ":/usr/bin:/bin",
			want: "the $PATH directory " + open + ", where env looks for sh"},
		{name: "an empty $PATH entry is the current directory", shebang: "#!/usr/bin/env reposh", path: "/usr/bin:", cwd: repo,
			want: "found through a relative $PATH entry"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.path != "" {
				t.Setenv("PATH", c.path)
			}
			if c.cwd != "" {
				t.Chdir(c.cwd)
			}
			dir := mkdir(t, filepath.Join(pub, "p"+string(rune('a'+i))), 0o755, me)
			p := script(t, dir, "ast-plugin-fault", c.shebang)
			err := Verify(faultLocation(p))
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}
