package faults

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildDir holds the binaries TestMain builds: ast and ast-plugin-NAME side by side, as
// `make build` lays them out.
var buildDir string

// plugins are the built-in backends whose plugins TestMain builds.
var plugins = []string{"local", "hashicorp", "awssm"}

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

func runTests(m *testing.M) int {
	flag.Parse()
	dir, err := os.MkdirTemp("", "ast-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	buildDir = filepath.Join(dir, "bin")
	start := time.Now()
	if err := buildBinaries(buildDir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if testing.Verbose() {
		fmt.Printf("faults: built ast and %d plugins in %.1fs\n", len(plugins), time.Since(start).Seconds())
	}
	return m.Run()
}

// buildBinaries builds ./cmd/ast and ./plugins/NAME/cmd/ast-plugin-NAME into dir in one go
// build (it compiles the packages in parallel).
func buildBinaries(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	pkgs := []string{"./cmd/ast"}
	for _, p := range plugins {
		pkgs = append(pkgs, "./plugins/"+p+"/cmd/ast-plugin-"+p)
	}
	cmd := exec.Command(goTool(), append([]string{"build", "-ldflags=-s -w", "-o", dir + string(filepath.Separator)}, pkgs...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("faults: go build %s: %v\n%s", strings.Join(pkgs, " "), err, out)
	}
	// 0755 whatever the umask: ast refuses plugins that group or others can write.
	for _, name := range binaryNames() {
		if err := os.Chmod(filepath.Join(dir, name), 0o755); err != nil {
			return err
		}
	}
	return nil
}

func binaryNames() []string {
	names := []string{"ast"}
	for _, p := range plugins {
		names = append(names, "ast-plugin-"+p)
	}
	return names
}

func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

func moduleRoot() (string, error) {
	out, err := exec.Command(goTool(), "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("faults: go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("faults: not inside the ast module")
	}
	return filepath.Dir(mod), nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// sandbox is one user's world: HOME, the XDG directories, TMPDIR, and a bin directory
// with ast and its plugins (hard links to the built ones, so that a process's
// /proc/PID/exe tells which sandbox it belongs to). ast may write only under root.
type sandbox struct {
	t     *testing.T
	root  string // HOME; everything ast may write is below it
	bin   string // ast and ast-plugin-* (outside root)
	input string // files the test hands to ast (import files); outside root

	cfgFile, dataDir, stateDir, tmp string
	env                             map[string]string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	base := t.TempDir()
	s := &sandbox{t: t, root: filepath.Join(base, "home"), bin: filepath.Join(base, "bin"), input: filepath.Join(base, "input")}
	for _, d := range []string{s.root, s.bin, s.input} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	s.tmp = filepath.Join(s.root, "tmp")
	if err := os.Mkdir(s.tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range binaryNames() {
		src, dst := filepath.Join(buildDir, name), filepath.Join(s.bin, name)
		if err := os.Link(src, dst); err != nil {
			copyFile(t, src, dst, 0o755)
		}
	}
	s.cfgFile = filepath.Join(s.root, ".config", "ast", "config.yaml")
	s.dataDir = filepath.Join(s.root, ".local", "share", "ast")
	s.stateDir = filepath.Join(s.root, ".local", "state", "ast")
	s.env = map[string]string{
		"PATH":            os.Getenv("PATH"),
		"HOME":            s.root,
		"XDG_CONFIG_HOME": filepath.Join(s.root, ".config"),
		"XDG_DATA_HOME":   filepath.Join(s.root, ".local", "share"),
		"XDG_STATE_HOME":  filepath.Join(s.root, ".local", "state"),
		"TMPDIR":          s.tmp,
		"LANG":            "C.UTF-8",
		// The AWS SDK must not wander off to an instance metadata service.
		"AWS_EC2_METADATA_DISABLED": "true",
	}
	t.Cleanup(func() { s.reapStrays() })
	return s
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, mode); err != nil {
		t.Fatal(err)
	}
}

// ast is the sandbox's ast executable.
func (s *sandbox) ast() string { return filepath.Join(s.bin, "ast") }

// environ is the environment ast runs with: the sandbox's variables only, never the
// test's own (which may hold the test servers' credentials).
func (s *sandbox) environ(extra ...string) []string {
	var env []string
	for k, v := range s.env {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return append(env, extra...)
}

// writeConfig writes ast's config file.
func (s *sandbox) writeConfig(yaml string) {
	s.t.Helper()
	if err := os.MkdirAll(filepath.Dir(s.cfgFile), 0o700); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(s.cfgFile, []byte(yaml), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

// writeInput writes a file for ast to read (an import file) outside the sandbox root,
// where the leak scan does not look: the user's own file holds the values by design.
func (s *sandbox) writeInput(name string, content []byte) string {
	s.t.Helper()
	p := filepath.Join(s.input, name)
	if err := os.WriteFile(p, content, 0o600); err != nil {
		s.t.Fatal(err)
	}
	return p
}

// result is how one ast command ended.
type result struct {
	args     []string
	stdout   string
	stderr   string
	code     int // exit code; -1 when killed by a signal
	duration time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("ast %s: exit %d after %s\nstdout:\n%s\nstderr:\n%s", strings.Join(shortArgs(r.args), " "),
		r.code, r.duration.Round(time.Millisecond), r.stdout, r.stderr)
}

// shortArgs shortens long arguments (a 64 KiB value) for messages.
func shortArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if len(a) > 60 {
			a = fmt.Sprintf("%s...(%d bytes)", a[:40], len(a))
		}
		out[i] = strconv.Quote(a)
	}
	return out
}

// runOpts tune one command.
type runOpts struct {
	stdin   []byte
	env     []string      // added to the sandbox's
	timeout time.Duration // default 90 s
	// shell runs ast through sh -c with this prefix (as in "umask 000;").
	shell string
	// uid, when not 0, runs ast as that user (and group); see sandbox.giveTo.
	uid int
}

// run runs ast with args and waits for it.
func (s *sandbox) run(args ...string) result { return s.runWith(runOpts{}, args...) }

// runIn runs ast with args and stdin.
func (s *sandbox) runIn(stdin string, args ...string) result {
	return s.runWith(runOpts{stdin: []byte(stdin)}, args...)
}

func (s *sandbox) runWith(o runOpts, args ...string) result {
	s.t.Helper()
	cmd, stdout, stderr := s.command(o, args...)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting ast: %v", err)
	}
	timeout := o.timeout
	if timeout == 0 {
		timeout = 90 * time.Second
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(timeout):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		s.t.Fatalf("ast %s did not end within %s\nstderr:\n%s", strings.Join(shortArgs(args), " "), timeout, stderr)
	}
	return result{args: args, stdout: stdout.String(), stderr: stderr.String(), code: exitCode(err), duration: time.Since(start)}
}

// command prepares ast with args in the sandbox. It runs in a process group of its own,
// so a test can kill everything it started.
func (s *sandbox) command(o runOpts, args ...string) (*exec.Cmd, *syncBuffer, *syncBuffer) {
	var cmd *exec.Cmd
	if o.shell != "" {
		cmd = exec.Command("/bin/sh", append([]string{"-c", o.shell + ` exec "$0" "$@"`, s.ast()}, args...)...)
	} else {
		cmd = exec.Command(s.ast(), args...)
	}
	cmd.Dir = s.root
	cmd.Env = s.environ(o.env...)
	if o.stdin != nil {
		cmd.Stdin = bytes.NewReader(o.stdin)
	}
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if o.uid != 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(o.uid), Gid: uint32(o.uid)}
	}
	return cmd, stdout, stderr
}

// giveTo makes the sandbox another user's (root only): HOME and everything in it belong to
// uid, and the directories above HOME and bin can be entered by everyone (they stay
// root's and not writable by others, as ast requires of a plugin's directories). Call it
// after writing the config, and run ast with runOpts.uid.
func (s *sandbox) giveTo(uid int) {
	s.t.Helper()
	base := filepath.Dir(s.root)
	for _, d := range []string{filepath.Dir(base), base, s.bin, s.input} {
		if err := os.Chmod(d, 0o755); err != nil {
			s.t.Fatal(err)
		}
	}
	err := filepath.WalkDir(s.root, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, uid)
	})
	if err != nil {
		s.t.Fatal(err)
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	return -2
}

// syncBuffer is a bytes.Buffer safe for a process's output and a test reading it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// must fails the test unless r exited 0.
func (s *sandbox) must(r result) result {
	s.t.Helper()
	if r.code != 0 {
		s.t.Fatalf("expected success:\n%s", r)
	}
	return r
}

// listedEntry is one element of `ast secrets list --output json`.
type listedEntry struct {
	Name    string  `json:"name"`
	Kind    string  `json:"kind"`
	Version int64   `json:"version"`
	Value   *string `json:"value"`
}

// list returns the active account's entries; the command must succeed.
func (s *sandbox) list(args ...string) []listedEntry {
	s.t.Helper()
	r := s.must(s.run(append([]string{"secrets", "list", "--output", "json"}, args...)...))
	var out []listedEntry
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		s.t.Fatalf("secrets list --output json: %v\n%s", err, r)
	}
	return out
}

func names(es []listedEntry) map[string]bool {
	m := make(map[string]bool, len(es))
	for _, e := range es {
		m[e.Name] = true
	}
	return m
}

// strays returns the processes running an executable of the sandbox's bin directory.
func (s *sandbox) strays() []int {
	var pids []int
	for _, pid := range allPids() {
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err == nil && strings.HasPrefix(exe, s.bin+string(filepath.Separator)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// assertNoStrays fails when a process of the sandbox outlives the commands (a plugin left
// behind); it gives the kernel up to 3 s to finish an exit already under way.
func (s *sandbox) assertNoStrays(what string) {
	s.t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		pids := s.strays()
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			s.t.Errorf("%s: processes left behind: %s", what, describePids(pids))
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// reapStrays kills what the sandbox left running (after a failed test), so that one
// failure does not hold up the rest of the run.
func (s *sandbox) reapStrays() {
	for _, pid := range s.strays() {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

func describePids(pids []int) string {
	var parts []string
	for _, pid := range pids {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		parts = append(parts, fmt.Sprintf("%d %q", pid, strings.ReplaceAll(string(cmdline), "\x00", " ")))
	}
	return strings.Join(parts, ", ")
}

// allPids lists the processes of the system.
func allPids() []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// parentOf returns the parent process id of pid, or 0.
func parentOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// pid (comm) state ppid ...: comm may contain spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// descendants returns the processes below pid (children, grandchildren, ...).
func descendants(pid int) []int {
	children := map[int][]int{}
	for _, p := range allPids() {
		if pp := parentOf(p); pp != 0 {
			children[pp] = append(children[pp], p)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// exeName is the base name of pid's executable, or "".
func exeName(pid int) string {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return ""
	}
	return filepath.Base(strings.TrimSuffix(exe, " (deleted)"))
}

// waitFor polls cond every 5 ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// randHex returns n random bytes in hex.
func randHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// snapshot maps every file under dir to its content (directories to ""), so that a test
// can prove nothing changed.
func snapshot(t *testing.T, dir string, skip ...string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		for _, sk := range skip {
			if p == sk {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		if d.IsDir() {
			m[p+"/"] = ""
			return nil
		}
		if !d.Type().IsRegular() {
			m[p] = "(" + d.Type().String() + ")"
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		m[p] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// diffSnapshots describes how b differs from a, by path (never by content).
func diffSnapshots(a, b map[string]string) string {
	var out []string
	for p, v := range a {
		w, ok := b[p]
		switch {
		case !ok:
			out = append(out, "removed "+p)
		case v != w:
			out = append(out, "changed "+p)
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			out = append(out, "added "+p)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}
