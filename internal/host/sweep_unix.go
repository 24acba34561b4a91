//go:build unix

package host

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// socketDirRE matches the name of a plugin's socket directory: ast-PID-RANDOM, PID the
// process id of the ast that made it (see launch).
var socketDirRE = regexp.MustCompile(`^ast-([1-9][0-9]{0,9})-[0-9]{1,20}$`)

// sweepMinAge is how old a socket directory must be before a sweep may remove it: far more
// than a plugin takes to create its socket (StartTimeout, 10 s), so that a directory an
// ast of another PID namespace (a container sharing /tmp) just made is never taken for
// a dead one while it is still empty.
const sweepMinAge = time.Minute

// maxSweptEntries bounds what a socket directory may hold to be swept: go-plugin makes one
// socket in it; a few more sockets are tolerated, anything else keeps it.
const maxSweptEntries = 4

// sweepSocketDirs removes from base (the directory of socket directories, already checked
// by checkDirPath: others cannot rename or replace entries in it) the socket directories
// that a killed ast (SIGKILL, an OOM kill, a power cut) could not remove, and returns the
// names it removed. A directory is removed only when every one of these holds:
//   - its name is ast-PID-RANDOM and PID is not this process;
//   - no process PID exists (kill(PID, 0) fails with ESRCH; a process of another user
//     answers EPERM and keeps it);
//   - opened without following a symbolic link (O_NOFOLLOW), it is a directory of this
//     user with mode exactly 0700, last changed at least sweepMinAge ago;
//   - it holds at most maxSweptEntries entries, each a socket (never followed) that
//     refuses a connection: nobody serves it.
//
// Entries are unlinked through the directory's descriptor, the directory is removed by
// name with AT_REMOVEDIR (which removes only an empty directory). Anything else is left
// as it is, silently: the sweep is housekeeping, never a reason for a command to fail.
func sweepSocketDirs(base string, now time.Time) []string {
	baseFD, err := unix.Open(base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	dir := os.NewFile(uintptr(baseFD), base)
	defer dir.Close()
	names, _ := dir.Readdirnames(-1)
	var removed []string
	for _, name := range names {
		if sweepOne(baseFD, base, name, now) {
			removed = append(removed, name)
		}
	}
	return removed
}

// sweepOne applies sweepSocketDirs' rules to the entry name of base (open as baseFD) and
// reports whether it removed it.
func sweepOne(baseFD int, base, name string, now time.Time) bool {
	if !strings.HasPrefix(name, "ast-") {
		return false // most of $TMPDIR: skipped before the pattern
	}
	m := socketDirRE.FindStringSubmatch(name)
	if m == nil {
		return false
	}
	pid, err := strconv.Atoi(m[1])
	if err != nil || pid == os.Getpid() || !errors.Is(unix.Kill(pid, 0), unix.ESRCH) {
		return false
	}
	fd, err := unix.Openat(baseFD, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return false // a symbolic link (ELOOP, ENOTDIR), not a directory, gone, not ours to read
	}
	d := os.NewFile(uintptr(fd), filepath.Join(base, name))
	defer d.Close()
	st, err := d.Stat()
	if err != nil {
		return false
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok || !st.IsDir() || int(sys.Uid) != os.Geteuid() || st.Mode().Perm() != 0o700 || st.Mode()&(os.ModeSetuid|os.ModeSetgid|os.ModeSticky) != 0 ||
		now.Sub(st.ModTime()) < sweepMinAge {
		return false
	}
	ents, err := d.Readdirnames(maxSweptEntries + 1)
	if err != nil && !errors.Is(err, io.EOF) {
		return false
	}
	if len(ents) > maxSweptEntries {
		return false
	}
	for _, e := range ents {
		var est unix.Stat_t
		if unix.Fstatat(fd, e, &est, unix.AT_SYMLINK_NOFOLLOW) != nil || uint32(est.Mode)&unix.S_IFMT != unix.S_IFSOCK {
			return false
		}
		if served(filepath.Join(base, name, e)) {
			return false
		}
	}
	for _, e := range ents {
		if unix.Unlinkat(fd, e, 0) != nil {
			return false
		}
	}
	return unix.Unlinkat(baseFD, name, unix.AT_REMOVEDIR) == nil
}

// served reports whether a process accepts connections on the Unix socket at path (a
// plugin that outlived its ast, of this user: the directory is 0700). A connection that
// cannot be made for another reason than a refusal counts as served: when in doubt, keep.
func served(path string) bool {
	c, err := net.DialTimeout("unix", path, 200*time.Millisecond)
	if err == nil {
		c.Close()
		return true
	}
	return !errors.Is(err, syscall.ECONNREFUSED)
}
