//go:build unix

package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

const nobody = 65534

// TestLoadRefuses checks that a config file or directory that another user could change
// is refused with the path and the command that fixes it, and loads after that command.
func TestLoadRefuses(t *testing.T) {
	tests := []struct {
		name   string
		target string // "file" or "dir"
		mode   os.FileMode
		chown  bool
		fix    string
	}{
		{"file 0666", "file", 0o666, false, "chmod go-w "},
		{"file 0664", "file", 0o664, false, "chmod go-w "},
		{"file 0646", "file", 0o646, false, "chmod go-w "},
		{"dir 0777", "dir", 0o777, false, "chmod go-w "},
		{"dir 0770", "dir", 0o770, false, "chmod go-w "},
		{"file foreign", "file", 0, true, "chown "},
		{"dir foreign", "dir", 0, true, "chown "},
		{"file 0644 is fine", "file", 0o644, false, ""},
		{"dir 0755 is fine", "dir", 0o755, false, ""},
	}
	refused := 0
	for _, tt := range tests {
		if tt.chown && os.Geteuid() != 0 {
			t.Logf("%s: skipped (chown needs root)", tt.name)
			continue
		}
		dir := filepath.Join(t.TempDir(), "ast")
		path := filepath.Join(dir, "config.yaml")
		if err := Update(path, func(c *Config) error { return c.AddAccount(Account{Name: "team", Backend: "local"}) }); err != nil {
			t.Fatal(err)
		}
		target := path
		if tt.target == "dir" {
			target = dir
		}
		var err error
		if tt.chown {
			err = os.Chown(target, nobody, nobody)
		} else {
			err = os.Chmod(target, tt.mode)
		}
		if err != nil {
			t.Fatal(err)
		}
		_, lerr := Load(path)
		uerr := Update(path, func(c *Config) error { return c.Use("team") })
		for what, err := range map[string]error{"Load": lerr, "Update": uerr} {
			if tt.fix == "" {
				if err != nil {
					t.Errorf("%s: %s: %v, want accepted", tt.name, what, err)
				}
				continue
			}
			if err == nil || !strings.Contains(err.Error(), target+" ") || !strings.Contains(err.Error(), "fix it with: "+tt.fix) ||
				!errors.Is(err, fs.ErrPermission) {
				t.Errorf("%s: %s: %v, want refused naming %s and %q", tt.name, what, err, target, tt.fix)
			} else {
				refused++
			}
		}
		if c, err := loadAfterFix(target, tt.chown); tt.fix != "" && (err != nil || c.ActiveAccount != "") {
			t.Errorf("%s: after the fix: %v (a refused Update must write nothing: active %q)", tt.name, err, c.ActiveAccount)
		}
	}
	t.Logf("config trust summary: %d refusals", refused)
}

func loadAfterFix(target string, chown bool) (*Config, error) {
	var err error
	if chown {
		err = os.Chown(target, os.Getuid(), os.Getgid())
	} else {
		err = os.Chmod(target, 0o700)
	}
	if err != nil {
		return nil, err
	}
	path := target
	if fi, _ := os.Stat(target); fi.IsDir() {
		path = filepath.Join(target, "config.yaml")
	}
	return Load(path)
}

// TestUpdateNoLinks plants a symbolic link at the lock's name and checks that Update
// refuses it and leaves its target alone; the temp file of Save is O_EXCL.
func TestUpdateNoLinks(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("victim"), 0o644)
	os.Symlink(victim, path+".lock")
	err := Update(path, func(c *Config) error { return c.AddAccount(Account{Name: "x", Backend: "local"}) })
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("Update with a link at the lock: %v", err)
	}
	if fi, _ := os.Stat(victim); fi.Mode().Perm() != 0o644 {
		t.Errorf("the victim's mode changed to %v", fi.Mode())
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the config was written despite the refused lock")
	}
}

// TestConcurrentUpdate runs 16 processes that each add one account through Update at
// the same moment, 20 rounds, and checks that every round saves 16 accounts. The
// processes are this test binary re-run as a helper (TestHelperAddAccount).
func TestConcurrentUpdate(t *testing.T) {
	procs, rounds := 16, 20
	if testing.Short() {
		rounds = 3
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	lost := 0
	for r := range rounds {
		path := filepath.Join(t.TempDir(), "ast", "config.yaml")
		start := filepath.Join(filepath.Dir(filepath.Dir(path)), "go")
		var wg sync.WaitGroup
		errs := make([]error, procs)
		cmds := make([]*exec.Cmd, procs)
		for i := range procs {
			cmd := exec.Command(exe, "-test.run=^TestHelperAddAccount$")
			cmd.Env = append(os.Environ(), "AST_CONFIG_HELPER="+path, "AST_CONFIG_HELPER_NAME=acct"+strconv.Itoa(i),
				"AST_CONFIG_HELPER_START="+start)
			cmds[i] = cmd
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
		}
		// All have started; the start file releases them at once.
		os.WriteFile(start, nil, 0o600)
		for i, cmd := range cmds {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = cmd.Wait() }()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d: helper %d: %v", r, i, err)
			}
		}
		c, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Accounts) != procs {
			lost += procs - len(c.Accounts)
			t.Errorf("round %d: %d accounts saved, want %d", r, len(c.Accounts), procs)
		}
	}
	t.Logf("concurrent update summary: %d processes x %d rounds, %d accounts lost", procs, rounds, lost)
}

// TestHelperAddAccount is the child of TestConcurrentUpdate: it waits for the start file,
// then adds its account with Update.
func TestHelperAddAccount(t *testing.T) {
	path := os.Getenv("AST_CONFIG_HELPER")
	if path == "" {
		t.Skip("a helper of TestConcurrentUpdate")
	}
	for {
		if _, err := os.Stat(os.Getenv("AST_CONFIG_HELPER_START")); err == nil {
			break
		}
		syscall.Nanosleep(&syscall.Timespec{Nsec: 1e6}, nil)
	}
	name := os.Getenv("AST_CONFIG_HELPER_NAME")
	if err := Update(path, func(c *Config) error { return c.AddAccount(Account{Name: name, Backend: "local"}) }); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
