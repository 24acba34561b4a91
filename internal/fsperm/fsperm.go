// Package fsperm is ast's one rule for the files and directories it trusts, after
// OpenSSH's StrictModes (DESIGN.md "Trust model"): a file or directory that someone else
// can change is someone else's.
//
// The rule, for every directory and file ast uses (the config directory and file, the
// data directory, vaults/, keys/, the key file, the state directory, deployments/,
// agents/ and the files in them):
//   - it is owned by the user running ast or by root;
//   - group and others cannot write it (a directory owned by root with the sticky bit,
//     such as /tmp, is allowed: others cannot replace what is in it);
//   - a private file (a store, the key, a record, a log) is not readable by group or
//     others either, and is a regular file.
//
// A violation is an *Error that names the path, the problem and the exact chmod or chown
// that fixes it. Files ast creates or appends to are opened with O_NOFOLLOW (a planted
// symbolic link is refused, never followed), new files with O_EXCL where the name is
// fresh, and their mode is set on the descriptor (fchmod), never by path.
//
// The package is small on purpose: config, internal/deploy and plugins/local use it, and
// it imports nothing of ast.
package fsperm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// Modes of everything ast creates: private files and directories.
const (
	FileMode = 0o600
	DirMode  = 0o700
)

// Kind is what a path must be.
type Kind int

const (
	// Dir is a directory: owned by the user or root, not writable by group or others
	// unless it is root's and sticky.
	Dir Kind = iota
	// File is a regular file others may read but not write (the config file).
	File
	// Private is a regular file only the user may read or write (a store, the key file,
	// a deployment record, a log, a lock).
	Private
)

// Error is a path that breaks the rule. Its message names the path, the problem and the
// command that fixes it; it never holds a file's content.
type Error struct {
	Path    string
	Problem string // "is writable by group or others (mode 0777)"
	Fix     string // "chmod go-w /path"; empty when there is no one command
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s %s and ast refuses to use it", e.Path, e.Problem)
	if e.Fix != "" {
		msg += "; fix it with: " + e.Fix
	}
	return msg
}

// Is makes errors.Is(err, fs.ErrPermission) true for an *Error: a refused path is a
// permission problem the user can fix.
func (e *Error) Is(target error) bool { return target == fs.ErrPermission }

// owner is who may own a trusted path: the user running ast (self) or root.
type owner struct{ self int }

func currentOwner() owner { return owner{self: os.Geteuid()} }

// check applies the rule to one path's mode and owner uid. It is pure, for the table
// tests.
func (o owner) check(path string, mode fs.FileMode, uid int, kind Kind) error {
	switch kind {
	case Dir:
		if !mode.IsDir() {
			return &Error{Path: path, Problem: "is not a directory"}
		}
	default:
		if !mode.IsRegular() {
			return &Error{Path: path, Problem: "is not a regular file"}
		}
	}
	if uid != o.self && uid != 0 {
		who := fmt.Sprintf("you (%s) or root", userName(o.self))
		if o.self == 0 {
			who = "you (root)"
		}
		return &Error{Path: path,
			Problem: fmt.Sprintf("is owned by %s, not by %s", userName(uid), who),
			Fix:     fmt.Sprintf("chown %s %s (as root), or remove it if you did not make it", userName(o.self), path)}
	}
	perm := mode.Perm()
	switch {
	case kind == Dir && mode&fs.ModeSticky != 0 && uid == 0:
		return nil
	case kind == Private && perm&0o077 != 0:
		return &Error{Path: path,
			Problem: fmt.Sprintf("is open to group or others (mode %04o)", perm),
			Fix:     "chmod 600 " + path}
	case perm&0o022 != 0:
		return &Error{Path: path,
			Problem: fmt.Sprintf("is writable by group or others (mode %04o)", perm),
			Fix:     "chmod go-w " + path}
	}
	return nil
}

func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		return u.Username
	}
	return "uid " + strconv.Itoa(uid)
}

func statOwner(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}

// CheckInfo applies the rule to fi, the result of a stat of path.
func CheckInfo(path string, fi fs.FileInfo, kind Kind) error {
	return currentOwner().check(path, fi.Mode(), statOwner(fi), kind)
}

// CheckPath stats path (following symbolic links: a linked directory is judged by what
// it points to) and applies the rule. A missing path is an error that wraps
// fs.ErrNotExist.
func CheckPath(path string, kind Kind) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	return CheckInfo(path, fi, kind)
}

// CheckFile applies the rule to an open file (fstat: the file checked is the file used).
func CheckFile(f *os.File, kind Kind) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	return CheckInfo(f.Name(), fi, kind)
}

// CheckDirs checks each existing directory of dirs and every existing ancestor of it; a
// missing one is skipped (it will be created 0700 when needed).
func CheckDirs(dirs ...string) error {
	for _, d := range dirs {
		if err := CheckPath(d, Dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := checkAncestors(d); err != nil {
			return err
		}
	}
	return nil
}

// checkAncestors applies the directory rule to every existing ancestor of dir, up to /
// (as ssh's StrictModes does): whoever can rename an entry of an ancestor can move ast's
// store away or put a tree of their own in its place. Root-owned sticky directories
// (/tmp) pass.
func checkAncestors(dir string) error {
	for d := filepath.Dir(filepath.Clean(dir)); ; d = filepath.Dir(d) {
		if err := CheckPath(d, Dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// EnsureDir makes sure dir exists and passes the rule, and so does every existing
// ancestor: an existing dir is checked; a missing one is created, with its missing
// parents, mode 0700 (set by chmod, whatever the umask). A file in a directory's place
// is an *Error. synced, when not nil, is called with the parent of each directory
// created (to fsync it).
func EnsureDir(dir string, synced func(parent string) error) error {
	if err := checkAncestors(dir); err != nil {
		return err
	}
	fi, err := os.Stat(dir)
	switch {
	case err == nil:
		return CheckInfo(dir, fi, Dir)
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	if err := mkdirAll(dir, synced); err != nil {
		return err
	}
	return CheckPath(dir, Dir)
}

func mkdirAll(dir string, synced func(parent string) error) error {
	fi, err := os.Stat(dir)
	switch {
	case err == nil && fi.IsDir():
		return nil
	case err == nil:
		return &Error{Path: dir, Problem: "is not a directory"}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirAll(parent, synced); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, DirMode); errors.Is(err, fs.ErrExist) {
		return nil // made by a concurrent command; the caller checks it
	} else if err != nil {
		return err
	}
	// Mkdir's mode passes through the umask. A directory just made is still empty and
	// ours; the caller checks the result, so a swap between these calls is caught.
	if err := os.Chmod(dir, DirMode); err != nil {
		return err
	}
	if synced != nil {
		return synced(parent)
	}
	return nil
}

// Open opens path with flag plus O_NOFOLLOW and O_CLOEXEC: a symbolic link at path is
// an *Error, never followed. When flag has O_CREATE the file is created with mode 0600,
// and an empty Private file of the user's (a lock file, say) with another mode is set to
// 0600 on the descriptor (fchmod). Then the open file must pass the rule for kind.
func Open(path string, flag int, kind Kind) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, FileMode)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, &Error{Path: path,
				Problem: "is a symbolic link, which ast does not follow here",
				Fix:     "rm " + path + " (check where it points first)"}
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	// A file this call created may have lost bits to the umask, never gained any: fix
	// the mode on the descriptor before judging it.
	if flag&os.O_CREATE != 0 && kind == Private && statOwner(fi) == os.Geteuid() && fi.Mode().IsRegular() &&
		fi.Mode().Perm() != FileMode && fi.Size() == 0 {
		if err := f.Chmod(FileMode); err != nil {
			f.Close()
			return nil, err
		}
		if fi, err = f.Stat(); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err := CheckInfo(path, fi, kind); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// CreateExclusive creates path, which must not exist (O_CREATE|O_EXCL, which never
// follows a link), with mode 0600 set on the descriptor.
func CreateExclusive(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, FileMode)
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(FileMode); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return f, nil
}
