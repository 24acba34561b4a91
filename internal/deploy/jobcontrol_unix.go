//go:build unix

package deploy

import (
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// forwardedSignals are the signals RunAttached passes on to the agent: every catchable
// one but SIGCHLD (about ast's own children), SIGURG (Go's runtime preempts goroutines
// with it), SIGTTIN and SIGTTOU (job control of ast itself), SIGPIPE (about ast's own
// writes) and SIGPROF (profiling).
var forwardedSignals = []os.Signal{
	syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGILL, syscall.SIGTRAP,
	syscall.SIGABRT, syscall.SIGBUS, syscall.SIGFPE, syscall.SIGUSR1, syscall.SIGSEGV,
	syscall.SIGUSR2, syscall.SIGALRM, syscall.SIGTERM, syscall.SIGCONT, syscall.SIGTSTP,
	syscall.SIGXCPU, syscall.SIGXFSZ, syscall.SIGVTALRM, syscall.SIGWINCH, syscall.SIGIO,
	syscall.SIGSYS,
}

// foregroundTerminal returns stdin's descriptor when stdin is ast's controlling terminal
// and ast's process group is its foreground group: only then does ast hand the terminal
// to its child, as a shell does (an ast started in the background must not take it).
func foregroundTerminal(stdin io.Reader) (int, bool) {
	f, ok := stdin.(*os.File)
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	fg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil {
		return 0, false
	}
	return fd, fg == unix.Getpgrp()
}

// takeTerminal makes ast's process group the terminal's foreground group again. ast is
// then in the background, where tcsetpgrp raises SIGTTOU: it is ignored for the call.
func takeTerminal(fd int) {
	signal.Ignore(syscall.SIGTTOU)
	defer signal.Reset(syscall.SIGTTOU)
	_ = unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, unix.Getpgrp())
}
