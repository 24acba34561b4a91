//go:build unix && !linux

package pluginsdk

import "golang.org/x/sys/unix"

// disableCoreDumps lowers the soft core size limit to 0 where there is no
// PR_SET_DUMPABLE. The hard limit stays, so what the plugin starts may raise it again.
func disableCoreDumps() {
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_CORE, &lim) == nil {
		lim.Cur = 0
		_ = unix.Setrlimit(unix.RLIMIT_CORE, &lim)
	}
}

func setParentDeathSignal() {}

func setProcessName(string) {}

func closeExecutableOnExec() {}
