//go:build unix

package host

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// maxSymlinks bounds the symbolic links followed while resolving one plugin path, as the
// kernel's own ELOOP limit does.
const maxSymlinks = 40

// unsafePathError is a path on the way to a plugin that someone other than the user or
// root could change. Fix is the command that repairs it.
type unsafePathError struct {
	what, path, why, fix string
}

func (e *unsafePathError) Error() string {
	s := fmt.Sprintf("%s %s %s", e.what, e.path, e.why)
	if e.fix != "" {
		s += " (" + e.fix + ")"
	}
	return s
}

// openChecked opens the plugin executable at path, an absolute path, for reading and
// returns it with its absolute, symlink-free path. It walks the path one component at a
// time from /, each lookup relative to the descriptor of a directory it has already
// checked, and follows symbolic links itself (at most maxSymlinks), so that what it checks
// is what it opens:
//   - every directory it passes through (the ones a symbolic link leads through too) is
//     owned by the user or root and not writable by group or others, unless it is sticky
//     (as /tmp: there others cannot rename or remove what the user owns);
//   - every symbolic link it follows, and the file, is owned by the user or root;
//   - the file is a regular file, executable, and not writable by group or others.
//
// The checks are made on the opened descriptors (fstat), never on a name looked up again,
// so a rename or a swapped symlink after a check cannot change what is opened: a directory
// that passed its check cannot be changed by another user. Errors are *unsafePathError for
// a refused path (naming the offending file or directory and the fix), else the
// underlying *os.PathError.
//
// A #! script's interpreter is checked the same way (see checkInterpreter): the kernel runs
// it, with the script's path, so whoever could change it could run code as the user too.
func openChecked(path string) (f *os.File, resolved string, err error) {
	f, resolved, err = walkChecked(path, false)
	if err != nil {
		return nil, "", err
	}
	if err := checkInterpreter(f, 0); err != nil {
		f.Close()
		return nil, "", err
	}
	return f, resolved, nil
}

// maxInterpreters bounds the chain of #! interpreters checked, as the kernel's own
// (BINPRM_MAX_RECURSION, 4) does.
const maxInterpreters = 4

// checkInterpreter checks the interpreter of f when f is a #! script: its path, parsed as
// Linux's binfmt_script does (the first 256 bytes; the interpreter up to a blank, then at
// most one argument: the rest of the line, blanks trimmed), passes walkChecked, and so does
// its own interpreter in turn. For env, the program it runs is checked too, as env finds
// it in $PATH (the plugin inherits ast's environment): the argument as one name, or with
// -S its first word after VAR=VALUE words. Other env options are refused: what they run
// cannot be told. A file that does not start with "#!" is not a script: nil.
func checkInterpreter(f *os.File, depth int) error {
	buf := make([]byte, 256) // BINPRM_BUF_SIZE
	n, _ := f.ReadAt(buf, 0)
	line := string(buf[:n])
	if !strings.HasPrefix(line, "#!") {
		return nil
	}
	if depth >= maxInterpreters {
		return fmt.Errorf("%s: more than %d #! interpreters in a chain", f.Name(), maxInterpreters)
	}
	line = line[2:]
	if i := strings.IndexAny(line, "\n\x00"); i >= 0 {
		line = line[:i]
	} else if n == len(buf) {
		// The kernel cuts such a line at its own limit (and may run a shorter name).
		return fmt.Errorf("%s: its #! line is longer than %d bytes", f.Name(), len(buf)-1)
	}
	line = strings.Trim(line, " \t")
	interp, arg := line, ""
	if i := strings.IndexAny(line, " \t"); i >= 0 {
		interp, arg = line[:i], strings.Trim(line[i:], " \t")
	}
	if interp == "" {
		return nil // the kernel refuses to run it (ENOEXEC): nothing runs
	}
	paths := []string{interp}
	if filepath.Base(interp) == "env" {
		name, err := envProgram(arg)
		if err != nil {
			return fmt.Errorf("its #! line %q: %w", "#!"+line, err)
		}
		if name != "" {
			p, err := lookPath(name)
			if err != nil {
				return err
			}
			if p != "" { // none: env fails and runs nothing
				paths = append(paths, p)
			}
		}
	}
	for _, p := range paths {
		g, _, err := walkChecked(p, false)
		if err == nil {
			err = checkInterpreter(g, depth+1)
			g.Close()
		}
		if err != nil {
			return fmt.Errorf("its #! interpreter: %w", err)
		}
	}
	return nil
}

// envProgram is the program env runs given arg, the one argument of a #! line ("" when
// it runs none: no argument, or an assignment only). Without -S env takes arg whole, as
// one word; with -S it splits it, and also unquotes, unescapes and expands variables, and
// may set PATH: such a line is refused rather than imitated.
func envProgram(arg string) (string, error) {
	errOptions := errors.New("env options other than -S hide what runs: name the interpreter's absolute path")
	words := []string{arg}
	if rest, ok := strings.CutPrefix(arg, "-S"); ok {
		if strings.ContainsAny(rest, "\"'\\$#") {
			return "", errors.New("env -S with quotes, escapes, variables or comments hides what runs: name the interpreter's absolute path")
		}
		words = strings.Fields(rest)
	} else if strings.HasPrefix(arg, "-") {
		return "", errOptions
	}
	for _, w := range words {
		switch {
		case w == "":
			continue
		case strings.Contains(w, "="):
			if strings.HasPrefix(w, "PATH=") && len(words) > 1 {
				return "", errors.New("env -S setting PATH hides what runs: name the interpreter's absolute path")
			}
			continue // an assignment, as env reads one
		case strings.HasPrefix(w, "-"):
			return "", errOptions
		}
		return w, nil
	}
	return "", nil
}

// lookPath finds name in $PATH as env does (execvp: the first directory holding an
// executable file of that name), and checks, with checkDirPath, every directory it
// passes before that one: whoever could write one of them could put a program of that
// name there after the check. It refuses a name it would find through a relative or empty
// entry (the current directory: a cloned repository), and returns "" when it finds none.
func lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		if !filepath.IsAbs(name) {
			return "", fmt.Errorf("%s is not an absolute path", name)
		}
		return name, nil
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		p := filepath.Join(dir, name)
		if dir == "" || !filepath.IsAbs(dir) {
			if isExecutable(p) {
				return "", fmt.Errorf("its #! interpreter %s would be %s, found through a relative $PATH entry", name, p)
			}
			continue
		}
		if err := checkDirPath(dir); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return "", fmt.Errorf("the $PATH directory %s, where env looks for %s: %w", dir, name, err)
		}
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", nil
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

// checkDirPath checks the directory at path (absolute) as openChecked checks the
// directories on the way to a plugin: it, every directory above it and every link on the
// way belong to the user or root, and none is writable by group or others unless sticky.
func checkDirPath(path string) error {
	_, _, err := walkChecked(path, true)
	return err
}

// walkChecked is openChecked, or with dir checkDirPath (which opens nothing).
func walkChecked(path string, dir bool) (f *os.File, resolved string, err error) {
	if !filepath.IsAbs(path) {
		return nil, "", fmt.Errorf("%s is not an absolute path", path)
	}
	uid := os.Geteuid()
	rootFD, err := unix.Open("/", dirOpenFlags, 0)
	if err != nil {
		return nil, "", &os.PathError{Op: "open", Path: "/", Err: err}
	}
	// stack holds the open directories from / to the current one; dirs their paths.
	stack, dirs := []int{rootFD}, []string{"/"}
	defer func() {
		for _, fd := range stack {
			_ = unix.Close(fd)
		}
	}()
	if err := checkDir(rootFD, "/", uid); err != nil {
		return nil, "", err
	}
	todo := splitPath(path)
	links := 0
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		cur, curPath := stack[len(stack)-1], dirs[len(dirs)-1]
		switch name {
		case ".":
			continue
		case "..":
			if len(stack) > 1 {
				_ = unix.Close(cur)
				stack, dirs = stack[:len(stack)-1], dirs[:len(dirs)-1]
			}
			continue
		}
		p := filepath.Join(curPath, name)
		var st unix.Stat_t
		if err := unix.Fstatat(cur, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return nil, "", &os.PathError{Op: "stat", Path: p, Err: err}
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			if err := checkOwner("the symbolic link", p, st, uid); err != nil {
				return nil, "", err
			}
			if links++; links > maxSymlinks {
				return nil, "", &os.PathError{Op: "resolve", Path: path, Err: unix.ELOOP}
			}
			target, err := readlinkat(cur, name)
			if err != nil {
				return nil, "", &os.PathError{Op: "readlink", Path: p, Err: err}
			}
			if filepath.IsAbs(target) {
				for _, fd := range stack[1:] {
					_ = unix.Close(fd)
				}
				stack, dirs = stack[:1], dirs[:1]
			}
			todo = append(splitPath(target), todo...)
		case unix.S_IFDIR:
			fd, err := unix.Openat(cur, name, dirOpenFlags|unix.O_NOFOLLOW, 0)
			if err != nil {
				return nil, "", &os.PathError{Op: "open", Path: p, Err: err}
			}
			stack, dirs = append(stack, fd), append(dirs, p)
			if err := checkDir(fd, p, uid); err != nil {
				return nil, "", err
			}
		default:
			if dir {
				return nil, "", &os.PathError{Op: "open", Path: p, Err: unix.ENOTDIR}
			}
			if st.Mode&unix.S_IFMT != unix.S_IFREG {
				// Not opened at all: opening a device or a FIFO can have effects of its own.
				return nil, "", &notExecutableError{path: p}
			}
			if len(todo) > 0 { // "file/x", "file/." and "file/.." name no file, as for the kernel
				return nil, "", &os.PathError{Op: "open", Path: p, Err: unix.ENOTDIR}
			}
			fd, err := unix.Openat(cur, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
			if err != nil {
				return nil, "", &os.PathError{Op: "open", Path: p, Err: err}
			}
			f := os.NewFile(uintptr(fd), p)
			if err := checkFile(fd, p, uid, sharedSticky(cur)); err != nil {
				f.Close()
				return nil, "", err
			}
			return f, p, nil
		}
	}
	if dir {
		return nil, dirs[len(dirs)-1], nil
	}
	return nil, "", &notExecutableError{path: dirs[len(dirs)-1]}
}

// notExecutableError is a plugin path that names something other than an executable
// regular file.
type notExecutableError struct{ path string }

func (e *notExecutableError) Error() string {
	return fmt.Sprintf("%s is not an executable file (chmod 755 %s)", e.path, e.path)
}

func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

func readlinkat(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
		if size > 1<<16 {
			return "", unix.ENAMETOOLONG
		}
	}
}

func checkOwner(what, p string, st unix.Stat_t, uid int) error {
	if int(st.Uid) != uid && st.Uid != 0 {
		return &unsafePathError{what: what, path: p,
			why: fmt.Sprintf("belongs to user id %d, neither you nor root", st.Uid),
			fix: fmt.Sprintf("chown %d %s", uid, p)}
	}
	return nil
}

// checkDir checks the directory open as fd, at p.
func checkDir(fd int, p string, uid int) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &os.PathError{Op: "stat", Path: p, Err: err}
	}
	if err := checkOwner("the directory", p, st, uid); err != nil {
		return err
	}
	if st.Mode&0o022 != 0 && st.Mode&unix.S_ISVTX == 0 {
		return &unsafePathError{what: "the directory", path: p, why: "is writable by group or others", fix: "chmod go-w " + p}
	}
	return nil
}

// sharedSticky reports whether the directory open as fd is sticky and writable by others,
// as /tmp.
func sharedSticky(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&0o022 != 0 && st.Mode&unix.S_ISVTX != 0
}

// checkFile checks the plugin executable open as fd, at p. In a shared sticky directory
// (inShared) the file must have no other hard link: there another user may have made a
// link to a file it does not own (root's /bin/sh, say), where fs.protected_hardlinks is off.
func checkFile(fd int, p string, uid int, inShared bool) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return &os.PathError{Op: "stat", Path: p, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Mode&0o111 == 0 {
		return &notExecutableError{path: p}
	}
	if err := checkOwner("the file", p, st, uid); err != nil {
		return err
	}
	if st.Mode&0o022 != 0 {
		return &unsafePathError{what: "the file", path: p, why: "is writable by group or others", fix: "chmod go-w " + p}
	}
	if inShared && st.Nlink > 1 {
		return &unsafePathError{what: "the file", path: p,
			why: "has other hard links and sits in a directory others can write (sticky): another user may have linked it there",
			fix: "move the plugin to a directory of your own"}
	}
	return nil
}

var errNoExecByDescriptor = errors.New("no exec by descriptor")
