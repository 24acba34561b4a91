package host

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// dirOpenFlags open a directory for lookups only: O_PATH needs no read permission, so a
// directory of mode 0711 can be walked too.
const dirOpenFlags = unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC

// descriptorPath returns the path under which a child process, that has the plugin open
// as its descriptor childFD (not close-on-exec), executes exactly that file:
// /proc/self/fd/N. A #! script works too: the kernel hands the interpreter that path, and
// the descriptor is still open in the interpreter. It fails when /proc is not mounted.
func descriptorPath(f *os.File, childFD int) (string, error) {
	if err := unix.Access(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), unix.F_OK); err != nil {
		return "", errNoExecByDescriptor
	}
	return fmt.Sprintf("/proc/self/fd/%d", childFD), nil
}
