package fsperm

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	const self = 1000
	o := owner{self: self}
	dir := fs.ModeDir
	tests := []struct {
		name string
		mode fs.FileMode
		uid  int
		kind Kind
		want string // "" = accepted; else a part of the message
		fix  string
	}{
		{"own dir 0700", dir | 0o700, self, Dir, "", ""},
		{"own dir 0755", dir | 0o755, self, Dir, "", ""},
		{"root dir 0755", dir | 0o755, 0, Dir, "", ""},
		{"own dir 0775", dir | 0o775, self, Dir, "writable by group or others (mode 0775)", "chmod go-w /p"},
		{"own dir 0757", dir | 0o757, self, Dir, "writable by group or others (mode 0757)", "chmod go-w /p"},
		{"own sticky dir 1777", dir | fs.ModeSticky | 0o777, self, Dir, "writable by group or others", "chmod go-w /p"},
		{"root sticky dir 1777", dir | fs.ModeSticky | 0o777, 0, Dir, "", ""},
		{"root dir 0777 not sticky", dir | 0o777, 0, Dir, "writable by group or others", "chmod go-w /p"},
		{"foreign dir", dir | 0o700, 65534, Dir, "is owned by", "chown"},
		{"foreign sticky dir", dir | fs.ModeSticky | 0o777, 65534, Dir, "is owned by", "chown"},
		{"file as dir", 0o700, self, Dir, "is not a directory", ""},
		{"config 0644", 0o644, self, File, "", ""},
		{"config 0664", 0o664, self, File, "writable by group or others (mode 0664)", "chmod go-w /p"},
		{"config 0666", 0o666, self, File, "writable by group or others", "chmod go-w /p"},
		{"config foreign", 0o644, 65534, File, "is owned by", "chown"},
		{"config root", 0o644, 0, File, "", ""},
		{"dir as file", dir | 0o600, self, File, "is not a regular file", ""},
		{"private 0600", 0o600, self, Private, "", ""},
		{"private 0400", 0o400, self, Private, "", ""},
		{"private 0640", 0o640, self, Private, "open to group or others (mode 0640)", "chmod 600 /p"},
		{"private 0604", 0o604, self, Private, "open to group or others", "chmod 600 /p"},
		{"private 0666", 0o666, self, Private, "open to group or others", "chmod 600 /p"},
		{"private foreign", 0o600, 65534, Private, "is owned by", "chown"},
		{"private symlink", fs.ModeSymlink | 0o777, self, Private, "is not a regular file", ""},
		{"private fifo", fs.ModeNamedPipe | 0o600, self, Private, "is not a regular file", ""},
	}
	for _, tt := range tests {
		err := o.check("/p", tt.mode, tt.uid, tt.kind)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v, want accepted", tt.name, err)
			}
			continue
		}
		var fe *Error
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(fe.Fix, tt.fix) ||
			!strings.HasPrefix(err.Error(), "/p ") || !errors.Is(err, fs.ErrPermission) {
			t.Errorf("%s: %v, want an *Error naming /p with %q and fix %q", tt.name, err, tt.want, tt.fix)
		}
	}
}

func TestOpenRefusesSymlinks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, flag := range []int{os.O_RDONLY, os.O_RDWR | os.O_CREATE, os.O_WRONLY | os.O_APPEND | os.O_CREATE} {
		link := filepath.Join(dir, "link")
		os.Remove(link)
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		f, err := Open(link, flag, Private)
		if err == nil {
			f.Close()
		}
		if !strings.Contains(errString(err), "symbolic link") || !strings.Contains(errString(err), "rm "+link) {
			t.Errorf("flag %#x: %v, want a refused symbolic link", flag, err)
		}
		if _, err := OpenLock(link); err == nil {
			t.Errorf("OpenLock followed a symbolic link")
		}
	}
	fi, _ := os.Stat(target)
	if fi.Mode().Perm() != 0o644 || fi.Size() != 1 {
		t.Errorf("the link's target changed: mode %v size %d", fi.Mode(), fi.Size())
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestOpenSetsModeOnDescriptor(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := t.TempDir()
	p := filepath.Join(dir, "f.lock")
	f, err := Open(p, os.O_RDWR|os.O_CREATE, Private)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != FileMode {
		t.Errorf("created with mode %v, want 0600", fi.Mode())
	}
	// An empty lock of the user's with a wide mode is narrowed; a non-empty private
	// file is refused with the chmod.
	os.Chmod(p, 0o666)
	if f, err = Open(p, os.O_RDWR|os.O_CREATE, Private); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if fi, _ = os.Stat(p); fi.Mode().Perm() != FileMode {
		t.Errorf("empty lock: mode %v, want 0600", fi.Mode())
	}
	os.WriteFile(p, []byte("x"), 0o600)
	os.Chmod(p, 0o644)
	if _, err = Open(p, os.O_RDWR|os.O_CREATE, Private); !strings.Contains(errString(err), "chmod 600 "+p) {
		t.Errorf("non-empty 0644: %v, want refused with chmod 600", err)
	}
}

func TestEnsureDir(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	root := t.TempDir()
	os.Chmod(root, 0o700) // t.TempDir makes it 0777 under umask 0
	d := filepath.Join(root, "a", "b")
	var synced []string
	if err := EnsureDir(d, func(p string) error { synced = append(synced, p); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(root, "a"), d} {
		if fi, _ := os.Stat(p); fi.Mode().Perm() != DirMode {
			t.Errorf("%s: mode %v, want 0700", p, fi.Mode())
		}
	}
	if len(synced) != 2 {
		t.Errorf("synced %v, want the parents of both", synced)
	}
	os.Chmod(d, 0o777)
	if err := EnsureDir(d, nil); !strings.Contains(errString(err), "chmod go-w "+d) {
		t.Errorf("world-writable: %v", err)
	}
	if err := CheckDirs(filepath.Join(root, "missing"), d); err == nil {
		t.Errorf("CheckDirs passed a world-writable directory")
	}
}

func TestLockExcludes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.lock")
	unlock, err := LockPath(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := LockPath(ctx, p); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second lock: %v, want a deadline", err)
	}
	unlock()
	unlock2, err := LockPath(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	unlock2()
}

// An ancestor others can write (not a root-owned sticky one) lets them move ast's
// directories away: refused, naming the ancestor.
func TestAncestorWritableByOthers(t *testing.T) {
	root := t.TempDir()
	open := filepath.Join(root, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(open, 0o777)
	for name, err := range map[string]error{
		"EnsureDir": EnsureDir(filepath.Join(open, "ast", "vaults"), nil),
		"CheckDirs": CheckDirs(filepath.Join(open, "ast")),
	} {
		if !strings.Contains(errString(err), "chmod go-w "+open) {
			t.Errorf("%s under a 0777 ancestor: %v, want refused with chmod go-w %s", name, err, open)
		}
	}
	os.Chmod(open, os.ModeSticky|0o777) // sticky, but not root's unless the test runs as root
	if os.Geteuid() == 0 {
		if err := EnsureDir(filepath.Join(open, "ast"), nil); err != nil {
			t.Errorf("under a root-owned sticky ancestor: %v, want accepted", err)
		}
	}
}
