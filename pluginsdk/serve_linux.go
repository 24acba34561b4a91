package pluginsdk

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// disableCoreDumps marks the process not dumpable: no core file, no ptrace and no
// /proc/PID/mem or environ for the user's other processes. Unlike a hard RLIMIT_CORE of 0,
// it is not inherited across exec, so nothing the plugin starts loses its core files.
func disableCoreDumps() {
	_ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
}

func setParentDeathSignal() {
	_ = unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0, 0, 0)
}

// setProcessName sets the name ps and top show (at most 15 bytes).
func setProcessName(name string) {
	b := make([]byte, 16)
	copy(b[:15], name)
	_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&b[0])), 0, 0, 0)
}

func peerUID(fd int) (int, error) {
	cred, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return 0, err
	}
	return int(cred.Uid), nil
}

// executableFD is the descriptor by which ast executes a plugin (/proc/self/fd/3): it
// stays open in the plugin, not close-on-exec (a #! interpreter needs it).
const executableFD = 3

// closeExecutableOnExec marks descriptor 3 close-on-exec when it is the plugin's own
// executable, so that what the plugin starts (a credential helper, say) does not inherit it.
func closeExecutableOnExec() {
	var fd, exe unix.Stat_t
	if unix.Fstat(executableFD, &fd) == nil && unix.Stat("/proc/self/exe", &exe) == nil && fd.Dev == exe.Dev && fd.Ino == exe.Ino {
		unix.CloseOnExec(executableFD)
	}
}
