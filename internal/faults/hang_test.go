package faults

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// holdStoreLock takes the local backend's writer lock of account, as another ast process
// in the middle of a write would: a write started now waits inside its plugin, with the
// value already handed over, until release is called. The store must exist.
func (s *sandbox) holdStoreLock(account string) (lockPath string, release func()) {
	s.t.Helper()
	lockPath = filepath.Join(s.dataDir, "vaults", account+".lock")
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		s.t.Fatal(err)
	}
	released := false
	release = func() {
		if !released {
			released = true
			_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
			f.Close()
		}
	}
	s.t.Cleanup(release)
	return lockPath, release
}

// started is an ast command running in the background.
type started struct {
	s      *sandbox
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
	begin  time.Time
}

// start starts ast with args in the background; wait collects it. If the test ends first,
// the command is killed.
func (s *sandbox) start(o runOpts, args ...string) *started {
	s.t.Helper()
	cmd, stdout, stderr := s.command(o, args...)
	st := &started{s: s, cmd: cmd, stdout: stdout, stderr: stderr, done: make(chan struct{}), begin: time.Now()}
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(st.done) }()
	s.t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-st.done
	})
	return st
}

func (st *started) pid() int { return st.cmd.Process.Pid }

// wait waits for the command to end (at most timeout) and returns its result.
func (st *started) wait(timeout time.Duration) result {
	st.s.t.Helper()
	select {
	case <-st.done:
	case <-time.After(timeout):
		_ = syscall.Kill(-st.cmd.Process.Pid, syscall.SIGKILL)
		<-st.done
		st.s.t.Fatalf("ast %v did not end within %s\nstderr:\n%s", st.cmd.Args[1:], timeout, st.stderr)
	}
	return result{args: st.cmd.Args[1:], stdout: st.stdout.String(), stderr: st.stderr.String(),
		code: st.cmd.ProcessState.ExitCode(), duration: time.Since(st.begin)}
}

// plugin waits until the command has started the plugin of backend and returns its pid.
func (st *started) plugin(backend string) int {
	st.s.t.Helper()
	var pid int
	ok := waitFor(20*time.Second, func() bool {
		for _, p := range descendants(st.pid()) {
			if exeName(p) == "ast-plugin-"+backend {
				pid = p
				return true
			}
		}
		return false
	})
	if !ok {
		st.s.t.Fatalf("the %s plugin of %v did not start\nstderr:\n%s", backend, st.cmd.Args[1:], st.stderr)
	}
	return pid
}

// waitOpen waits until process pid has the file path open (a plugin waiting for a lock
// has opened the lock file).
func (st *started) waitOpen(pid int, path string) {
	st.s.t.Helper()
	ok := waitFor(20*time.Second, func() bool {
		ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		for _, e := range ents {
			if target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name())); err == nil && target == path {
				return true
			}
		}
		return false
	})
	if !ok {
		st.s.t.Fatalf("process %d never opened %s", pid, path)
	}
}

// waitConnected waits until process pid has a TCP connection established (a plugin waiting
// for a backend that accepted its connection and does not answer).
func (st *started) waitConnected(pid int) {
	st.s.t.Helper()
	ok := waitFor(20*time.Second, func() bool {
		ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		sockets := map[string]bool{}
		for _, e := range ents {
			if target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name())); err == nil {
				sockets[target] = true
			}
		}
		tcp, _ := os.ReadFile(fmt.Sprintf("/proc/%d/net/tcp", pid))
		return len(sockets) > 0 && containsEstablishedInode(string(tcp), sockets)
	})
	if !ok {
		st.s.t.Fatalf("process %d never connected to the backend", pid)
	}
}

// containsEstablishedInode reports whether a /proc/net/tcp table has an established
// connection (state 01) whose socket inode is among fds ("socket:[INODE]").
func containsEstablishedInode(table string, fds map[string]bool) bool {
	lines := strings.Split(table, "\n")
	for _, l := range lines[min(1, len(lines)):] {
		f := strings.Fields(l)
		if len(f) > 9 && f[3] == "01" && fds["socket:["+f[9]+"]"] {
			return true
		}
	}
	return false
}
