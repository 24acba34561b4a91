//go:build unix && !linux

package cli

import "golang.org/x/sys/unix"

// flushInput discards the terminal input queue (tcflush TCIFLUSH).
func flushInput(fd int) { _ = unix.IoctlSetPointerInt(fd, unix.TIOCFLUSH, unix.FREAD) }
