package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestReadStatOddCommandName(t *testing.T) {
	// A command name with spaces and ")" must not shift the fields.
	dir := t.TempDir()
	exe := filepath.Join(dir, "a) b (c")
	if err := os.Symlink("/bin/sleep", exe); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "30")
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot run a renamed sleep: %v", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	s, err := readStat(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	own, _ := readStat(os.Getpid())
	if s.start < own.start || s.pgrp != own.pgrp || !s.alive() {
		t.Errorf("stat of %q = %+v (ours %+v)", exe, s, own)
	}
}
