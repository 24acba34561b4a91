package faults

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ast-cli/ast/config"
)

// TestConcurrentAccountAdd starts 16 `ast account add` commands at once, 20 rounds, and
// checks that every round saves 16 accounts (issue 12: before, 8 concurrent adds all
// printed "Added" and saved one or two).
func TestConcurrentAccountAdd(t *testing.T) {
	procs, rounds := 16, 20
	if testing.Short() {
		rounds = 3
	}
	lost, failed := 0, 0
	for r := range rounds {
		s := newSandbox(t)
		var wg sync.WaitGroup
		results := make([]result, procs)
		cmds := make([]*exec.Cmd, procs)
		bufs := make([]func() (string, string), procs)
		for i := range procs {
			cmd, stdout, stderr := s.command(runOpts{}, "account", "add", "acct"+strconv.Itoa(i), "--backend", "local")
			cmds[i], bufs[i] = cmd, func() (string, string) { return stdout.String(), stderr.String() }
		}
		for i, cmd := range cmds {
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := cmd.Wait()
				out, errOut := bufs[i]()
				results[i] = result{stdout: out, stderr: errOut, code: exitCode(err)}
			}()
		}
		wg.Wait()
		for i, res := range results {
			if res.code != 0 {
				failed++
				t.Errorf("round %d: add %d: %s", r, i, res)
			}
		}
		c, err := config.Load(s.cfgFile)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Accounts) != procs {
			lost += procs - len(c.Accounts)
			t.Errorf("round %d: %d accounts saved, want %d", r, len(c.Accounts), procs)
		}
	}
	t.Logf("concurrent account add summary: %d commands x %d rounds, %d failed, %d accounts lost", procs, rounds, failed, lost)
}

// TestUntrustedFilesRefused runs ast where another user could have changed its files:
// a config file or directory writable by others, a key file owned by uid 65534 (planted
// by that user), a data directory writable by others. Each command must exit 1 naming
// the path and the command that fixes it, and write nothing.
func TestUntrustedFilesRefused(t *testing.T) {
	cases := []struct {
		name  string
		root  bool // needs root (chown)
		spoil func(s *sandbox) string
		fix   string
	}{
		{"config file 0666", false, func(s *sandbox) string { os.Chmod(s.cfgFile, 0o666); return s.cfgFile }, "chmod go-w "},
		{"config dir 0777", false, func(s *sandbox) string { d := filepath.Dir(s.cfgFile); os.Chmod(d, 0o777); return d }, "chmod go-w "},
		{"config file of uid 65534", true, func(s *sandbox) string { os.Chown(s.cfgFile, 65534, 65534); return s.cfgFile }, "chown "},
		{"key file of uid 65534", true, func(s *sandbox) string {
			k := filepath.Join(s.dataDir, "keys", "local.key")
			os.Chown(k, 65534, 65534)
			return k
		}, "chown "},
		{"data dir 0777", false, func(s *sandbox) string { os.Chmod(s.dataDir, 0o777); return s.dataDir }, "chmod go-w "},
		{"state dir 0777", false, func(s *sandbox) string {
			d := s.stateDir
			os.MkdirAll(filepath.Join(d, "deployments"), 0o700)
			os.Chmod(d, 0o777)
			return d
		}, "chmod go-w "},
	}
	refused := 0
	for _, c := range cases {
		if c.root && os.Geteuid() != 0 {
			t.Logf("%s: skipped (needs root)", c.name)
			continue
		}
		s := newSandbox(t)
		s.writeConfig("accounts:\n  default:\n    backend: local\n")
		s.must(s.run("secrets", "create", "A", "--value", "x"))
		path := c.spoil(s)
		cmds := [][]string{{"secrets", "list"}, {"secrets", "create", "B", "--value", "y"}}
		if strings.HasPrefix(c.name, "state") {
			cmds = [][]string{{"blueprint", "list"}}
		}
		for _, args := range cmds {
			r := s.run(args...)
			if r.code != 1 || !strings.Contains(r.stderr, path) || !strings.Contains(r.stderr, "fix it with: "+c.fix) {
				t.Errorf("%s: %s", c.name, r)
			} else {
				refused++
			}
		}
	}
	t.Logf("untrusted files summary: %d commands refused with the path and the fix", refused)
}
