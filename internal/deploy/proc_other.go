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

func groupRunning(pgid int) bool {
	err := syscall.Kill(-pgid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
