package cli

import "golang.org/x/sys/unix"

// disableCoreDumps keeps values that pass through ast's memory out of core files, and out
// of reach of the user's other processes (ptrace, /proc/PID/mem, /proc/PID/environ):
// prctl(PR_SET_DUMPABLE, 0). It is reset by exec, so `ast run`'s child and deployed agents
// keep the user's core size limit, which a hard RLIMIT_CORE of 0 would have taken from
// them for good.
func disableCoreDumps() {
	_ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
}
