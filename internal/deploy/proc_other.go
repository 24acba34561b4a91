//go:build !linux

package deploy

import (
	"errors"
	"syscall"
)

// Without /proc the start time is unknown (0): a reused pid cannot be told from the
// agent, and a zombie counts as running.
func processStart(int) (uint64, error) { return 0, errors.New("no /proc on this system") }

func running(p Process) bool {
	err := syscall.Kill(p.PID, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// confirm, without /proc, can check only that the pid is alive and ask for its group.
func confirm(p Process) (pgrp int, ok bool) {
	if !running(p) {
		return 0, false
	}
	g, err := syscall.Getpgid(p.PID)
	return g, err == nil
}

func groupRunning(pgid int) bool {
	err := syscall.Kill(-pgid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
