//go:build unix && !linux

package cli

import "golang.org/x/sys/unix"

// fread is FREAD of the BSDs' <sys/fcntl.h>: TIOCFLUSH with it flushes the input queue.
// golang.org/x/sys/unix does not define it for every BSD (darwin).
const fread = 1

// flushInput discards the terminal input queue (tcflush TCIFLUSH).
func flushInput(fd int) { _ = unix.IoctlSetPointerInt(fd, unix.TIOCFLUSH, fread) }
