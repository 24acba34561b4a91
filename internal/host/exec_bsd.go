//go:build unix && !linux

package host

import (
	"os"

	"golang.org/x/sys/unix"
)

const dirOpenFlags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC

// descriptorPath: no system but Linux is relied on for executing a descriptor; the
// caller executes a private copy instead.
func descriptorPath(*os.File, int) (string, error) { return "", errNoExecByDescriptor }
