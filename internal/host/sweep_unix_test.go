//go:build unix

package host

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestSweepSocketDirs: a socket directory left by a killed ast is removed at the next
// start, and nothing else is: not a live ast's (by PID, or by a socket that still
// answers), not a young one, not a symbolic link, not another user's, not a directory of
// another mode or with anything but sockets in it, not a name of another pattern.
func TestSweepSocketDirs(t *testing.T) {
	dead := deadPID(t)
	deadName := func(n int) string { return "ast-" + strconv.Itoa(dead) + "-" + strconv.Itoa(n) }
	old := time.Now().Add(-2 * sweepMinAge)
	var listeners []*net.UnixListener
	t.Cleanup(func() {
		for _, l := range listeners {
			l.Close()
		}
	})
	// socket makes a Unix socket at path; served keeps a listener on it, else it is left
	// behind as a killed plugin leaves it.
	socket := func(t *testing.T, path string, served bool) {
		l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		if served {
			listeners = append(listeners, l)
			return
		}
		l.SetUnlinkOnClose(false)
		l.Close()
	}
	mkdir := func(t *testing.T, dir string, mode os.FileMode) {
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name    string
		dirName string
		make    func(t *testing.T, dir string)
		age     time.Time
		removed bool
	}{
		{"dead, with its stale socket", deadName(1), func(t *testing.T, d string) {
			mkdir(t, d, 0o700)
			socket(t, filepath.Join(d, "plugin123"), false)
		}, old, true},
		{"dead, empty", deadName(2), func(t *testing.T, d string) { mkdir(t, d, 0o700) }, old, true},
		{"this process", "ast-" + strconv.Itoa(os.Getpid()) + "-3", func(t *testing.T, d string) { mkdir(t, d, 0o700) }, old, false},
		{"alive: pid 1", "ast-1-4", func(t *testing.T, d string) { mkdir(t, d, 0o700) }, old, false},
		{"young", deadName(5), func(t *testing.T, d string) { mkdir(t, d, 0o700) }, time.Now(), false},
		{"socket still served", deadName(6), func(t *testing.T, d string) {
			mkdir(t, d, 0o700)
			socket(t, filepath.Join(d, "plugin1"), true)
		}, old, false},
		{"mode 0755", deadName(7), func(t *testing.T, d string) { mkdir(t, d, 0o755) }, old, false},
		{"mode 0500", deadName(8), func(t *testing.T, d string) { mkdir(t, d, 0o500) }, old, false},
		{"a regular file inside", deadName(9), func(t *testing.T, d string) {
			mkdir(t, d, 0o700)
			if err := os.WriteFile(filepath.Join(d, "notes"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, old, false},
		{"a directory inside", deadName(10), func(t *testing.T, d string) {
			mkdir(t, d, 0o700)
			mkdir(t, filepath.Join(d, "sub"), 0o700)
		}, old, false},
		{"a symbolic link inside", deadName(11), func(t *testing.T, d string) {
			mkdir(t, d, 0o700)
			if err := os.Symlink("/etc/passwd", filepath.Join(d, "plugin1")); err != nil {
				t.Fatal(err)
			}
		}, old, false},
		{"too many sockets", deadName(12), func(t *testing.T, d string) {
			mkdir(t, d, 0o700)
			for i := range maxSweptEntries + 1 {
				socket(t, filepath.Join(d, "plugin"+strconv.Itoa(i)), false)
			}
		}, old, false},
		{"a symbolic link to a dead ast's directory", deadName(13), func(t *testing.T, d string) {
			target := filepath.Join(t.TempDir(), "victim")
			mkdir(t, target, 0o700)
			socket(t, filepath.Join(target, "plugin1"), false)
			if err := os.Chtimes(target, old, old); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, d); err != nil {
				t.Fatal(err)
			}
		}, old, false},
		{"a name without a pid (older ast)", "ast-1234567890", func(t *testing.T, d string) { mkdir(t, d, 0o700) }, old, false},
		{"another program's name", "astro-" + strconv.Itoa(dead) + "-1", func(t *testing.T, d string) { mkdir(t, d, 0o700) }, old, false},
		{"a file of the pattern", deadName(14), func(t *testing.T, d string) {
			if err := os.WriteFile(d, nil, 0o700); err != nil {
				t.Fatal(err)
			}
		}, old, false},
	}
	if os.Geteuid() == 0 {
		cases = append(cases, struct {
			name    string
			dirName string
			make    func(t *testing.T, dir string)
			age     time.Time
			removed bool
		}{"another user's", deadName(15), func(t *testing.T, d string) {
			mkdir(t, d, 0o700)
			if err := os.Chown(d, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}, old, false})
	}
	base := t.TempDir()
	for _, tc := range cases {
		p := filepath.Join(base, tc.dirName)
		tc.make(t, p)
		if err := os.Chtimes(p, tc.age, tc.age); err != nil && !os.IsNotExist(err) {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
	removed := sweepSocketDirs(base, time.Now())
	for _, tc := range cases {
		_, err := os.Lstat(filepath.Join(base, tc.dirName))
		gone := os.IsNotExist(err)
		if gone != tc.removed || slices.Contains(removed, tc.dirName) != tc.removed {
			t.Errorf("%s: removed %t (reported %t), want %t", tc.name, gone, slices.Contains(removed, tc.dirName), tc.removed)
		}
	}
	// Nothing a kept directory pointed to was touched.
	for _, tc := range cases {
		if tc.name == "a symbolic link to a dead ast's directory" {
			target, err := os.Readlink(filepath.Join(base, tc.dirName))
			if err != nil {
				t.Fatal(err)
			}
			if ents, err := os.ReadDir(target); err != nil || len(ents) != 1 {
				t.Errorf("the link's target was changed: %v, %d entries", err, len(ents))
			}
		}
	}
}

// TestStartSweepsAndNamesItsPID: Start removes a killed ast's socket directory, and its
// own is named ast-PID-RANDOM.
func TestStartSweepsAndNamesItsPID(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	left := filepath.Join(tmp, "ast-"+strconv.Itoa(deadPID(t))+"-42")
	if err := os.Mkdir(left, 0o700); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * sweepMinAge)
	if err := os.Chtimes(left, old, old); err != nil {
		t.Fatal(err)
	}
	sweepOnce = sync.Once{} // this test's start is the first to sweep its $TMPDIR
	setFault(t, "ok")
	p, err := Start(t.Context(), faultLocation(faultBin), Options{StartTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := os.Lstat(left); !os.IsNotExist(err) {
		t.Errorf("the dead ast's socket directory is still there (%v)", err)
	}
	if m := socketDirRE.FindStringSubmatch(filepath.Base(p.socketDir)); m == nil || m[1] != strconv.Itoa(os.Getpid()) {
		t.Errorf("socket directory %s: want ast-%d-RANDOM", p.socketDir, os.Getpid())
	}
}

// deadPID returns the process id of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}
