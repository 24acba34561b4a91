package faults

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/ast-cli/ast/internal/termtext"
)

// dirty is every character class the sanitizer escapes, each between two middle dots
// (so that a tab or newline of the data can be told from the layout's), then the OSC 52
// clipboard write and carriage-return row forgery of issue 13. The hostile plugin
// (internal/faults/internal/hostileplugin) answers with the same text.
func dirty() string {
	s := "·"
	for r := rune(1); r < 0x20; r++ {
		s += string(r) + "·"
	}
	for _, r := range []rune{0x7f, 0x85, 0x9b, 0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c,
		0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x2028, 0x2029} {
		s += string(r) + "·"
	}
	return s + "\x1b]52;c;ZWNobyBwd25lZA==\a\x1b[2J\x1b[H\rFAKE\tsecret\t1\t(hidden)·"
}

// yamlQuote writes s as a YAML double-quoted scalar with every non-printable-ASCII
// character as an escape.
func yamlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r >= 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

var (
	hostileOnce sync.Once
	hostileErr  error
)

// installHostile builds the hostile plugin once and links it into the sandbox's bin.
func (s *sandbox) installHostile() {
	s.t.Helper()
	src := filepath.Join(buildDir, "ast-plugin-hostile")
	hostileOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			hostileErr = err
			return
		}
		cmd := exec.Command(goTool(), "build", "-o", src, "./internal/faults/internal/hostileplugin")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			hostileErr = fmt.Errorf("building the hostile plugin: %v\n%s", err, out)
			return
		}
		hostileErr = os.Chmod(src, 0o755)
	})
	if hostileErr != nil {
		s.t.Fatal(hostileErr)
	}
	copyFile(s.t, src, filepath.Join(s.bin, "ast-plugin-hostile"), 0o755)
}

// rawControls returns what in out is a character the sanitizer escapes arriving raw: any
// control, C1, bidi or separator character except newline and tab, invalid UTF-8, and,
// unless inMessages, a newline or tab of the data (between two middle dots). "" when
// there is none. Error and warning messages (stderr) keep newlines and tabs: their layout
// uses them (a .env file's problems, a batch's failures, one per line).
func rawControls(out string, inMessages bool) string {
	var found []string
	for _, r := range termtext.Controls() {
		if r != '\n' && r != '\t' && strings.ContainsRune(out, r) {
			found = append(found, fmt.Sprintf("%U", r))
		}
	}
	if !utf8.ValidString(out) {
		found = append(found, "invalid UTF-8")
	}
	for _, seq := range []string{"·\t·", "·\n·"} {
		if !inMessages && strings.Contains(out, seq) {
			found = append(found, fmt.Sprintf("%q", seq))
		}
	}
	return strings.Join(found, " ")
}

// TestOutputSanitized feeds every character the sanitizer escapes through every command
// that prints: names, values, versions, capabilities, error text and log warnings from a
// hostile backend plugin; account settings; a blueprint's command, literals and the path
// of its directory; --var literals. None may reach stdout or stderr raw, piped or on a
// terminal (a pty from script(1)); JSON output stays exact.
func TestOutputSanitized(t *testing.T) {
	s := newSandbox(t)
	s.installHostile()
	d := dirty()
	s.writeConfig("active_account: h\naccounts:\n  h:\n    backend: hostile\n    settings:\n      note: " +
		yamlQuote(d) + "\n  l:\n    backend: local\n")

	// A project directory whose name holds an invalid UTF-8 byte (0x9b is CSI on an 8-bit
	// terminal) and an OSC sequence; its blueprint is dirty everywhere a string may be.
	project := filepath.Join(s.root, "proj\x9b\x1b]0;title\a\r")
	if err := os.MkdirAll(filepath.Join(project, "blueprints"), 0o700); err != nil {
		t.Fatal(err)
	}
	bp := fmt.Sprintf("description: %s\ncommand: [%s, %s]\nenv:\n  LIT: %s\n  REF: \"@PLAIN\"\n",
		yamlQuote(d), yamlQuote("/nonexistent/"+d), yamlQuote(d), yamlQuote(d))
	if err := os.WriteFile(filepath.Join(project, "blueprints", "bot.yaml"), []byte(bp), 0o600); err != nil {
		t.Fatal(err)
	}
	envFile := s.writeInput("dirty.env", []byte("A=1\nB=\"x\\ty\\rz\"\n"))

	cases := []struct {
		args []string
		json bool // stdout is JSON: exact (checked below), escapes only DEL, C1 and bidi
		// exact: piped stdout is the value exactly (secrets get); on a terminal it is escaped.
		exact bool
		// quiet: the command prints none of the data (it fails first, or the data is not
		// shown); the others must show the data's OSC 52 sequence, escaped.
		quiet bool
	}{
		{args: []string{"secrets", "list"}},
		{args: []string{"secrets", "list", "--values"}},
		{args: []string{"secrets", "list", "--values", "--output", "json"}, json: true},
		{args: []string{"secrets", "get", "PLAIN"}, exact: true},
		{args: []string{"secrets", "get", "MISSING"}},
		{args: []string{"secrets", "set", "PLAIN", "--value", "v"}},
		{args: []string{"secrets", "create", "NEW", "--value", "v"}},
		{args: []string{"secrets", "create", "NEW", "--value", "v", "--plain"}},
		{args: []string{"secrets", "update", "PLAIN", "--value", "v"}},
		{args: []string{"secrets", "delete", "PLAIN"}},
		{args: []string{"secrets", "import", "--file", envFile}},
		{args: []string{"secrets", "import", "--file", envFile, "--overwrite"}},
		{args: []string{"secrets", "import", "--file", envFile, "--dry-run"}},
		{args: []string{"run", "--var", "A=@PLAIN", "--", "true"}},
		{args: []string{"run", "--var", "A=@MISSING", "--", "true"}},
		{args: []string{"run", "--", "/nonexistent/" + d}},
		{args: []string{"plugin", "list"}},
		{args: []string{"version"}},
		{args: []string{"account", "list"}, quiet: true},
		{args: []string{"account", "show", "h"}},
		{args: []string{"blueprint", "list"}},
		{args: []string{"blueprint", "deploy", "bot", "--dry-run"}},
		{args: []string{"blueprint", "deploy", "bot", "--dry-run", "--var", "CLI=" + d + "\xff\x9b"}},
		{args: []string{"blueprint", "deploy", "bot"}},
		{args: []string{"blueprint", "deploy", "bot", "--foreground"}},
		{args: []string{"secrets", "list", "--account", "h" + d}},
		{args: []string{"account", "use", d}},
		{args: []string{"blueprint", "logs", d}},
	}
	for _, c := range cases {
		name := strings.Join(c.args[:min(2, len(c.args))], " ")
		for _, tty := range []bool{false, true} {
			var stdout, stderr string
			if tty {
				stdout = s.runPTY(project, c.args...)
			} else {
				r := s.runDir(project, c.args...)
				stdout, stderr = r.stdout, r.stderr
				if c.exact {
					if stdout != d {
						t.Errorf("%s: piped stdout is not the exact value", name)
					}
					stdout = ""
				}
			}
			raw := rawControls(stdout, tty)
			if r := rawControls(stderr, true); r != "" {
				raw += " " + r
			}
			if raw != "" {
				t.Errorf("%s (tty %t): raw %s in\n%q\n%q", name, tty, raw, stdout, stderr)
			}
			if !c.quiet && !strings.Contains(stdout+stderr, `\x1b`) && !strings.Contains(stdout+stderr, `\x01`) {
				t.Errorf("%s (tty %t): the data is not in the output (escaped):\n%q\n%q", name, tty, stdout, stderr)
			}
		}
	}

	// JSON is the exact form.
	r := s.runDir(project, "secrets", "list", "--values", "--output", "json")
	var listed []listedEntry
	if err := json.Unmarshal([]byte(r.stdout), &listed); err != nil {
		t.Fatalf("secrets list --output json: %v\n%s", err, r)
	}
	exact := false
	for _, e := range listed {
		exact = exact || (e.Name == "PLAIN" && e.Value != nil && *e.Value == d)
	}
	if !exact {
		t.Errorf("secrets list --output json does not hold the value exactly:\n%s", r)
	}
}

// runDir runs ast in dir with args (the sandbox's account h, piped).
func (s *sandbox) runDir(dir string, args ...string) result {
	s.t.Helper()
	cmd, stdout, stderr := s.command(runOpts{}, append([]string{"--account", "h"}, args...)...)
	cmd.Dir = dir
	err := cmd.Run()
	return result{args: args, stdout: stdout.String(), stderr: stderr.String(), code: exitCode(err)}
}

// runPTY runs ast in dir with args on a terminal (script(1) gives it a pty for stdin,
// stdout and stderr) and returns what the terminal received, with the pty's own CRLF
// line ends turned back into LF.
func (s *sandbox) runPTY(dir string, args ...string) string {
	s.t.Helper()
	if _, err := exec.LookPath("script"); err != nil {
		s.t.Skip("script(1) is not installed")
	}
	words := []string{shellQuote(s.ast()), "--account", "h"}
	for _, a := range args {
		words = append(words, shellQuote(a))
	}
	cmd := exec.Command("script", "-qec", strings.Join(words, " ")+" </dev/null", "/dev/null")
	cmd.Dir = dir
	cmd.Env = s.environ("SHELL=/bin/sh", "TERM=xterm")
	out, _ := cmd.Output()
	return strings.ReplaceAll(string(out), "\r\n", "\n")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
