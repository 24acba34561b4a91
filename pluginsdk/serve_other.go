//go:build unix && !linux

package pluginsdk

import "golang.org/x/sys/unix"

func disableCoreDumps() {
	_ = unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0})
}

func setParentDeathSignal() {}
