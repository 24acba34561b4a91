package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ast-cli/ast/pluginsdk"
)

// The markers of internal/faultplugin: the panic value of AST_FAULT=panic, and the
// warning it logs before each faulty call.
const (
	panicMarker   = "fault-panic-marker-4f1d"
	warningMarker = "fault-warning-marker-9c2e"
)

// faultBin is the fault plugin (internal/faultplugin), built by TestMain.
var faultBin string

func TestMain(m *testing.M) { os.Exit(runTests(m)) }

func runTests(m *testing.M) int {
	if os.Getenv(attackerEnv) != "" {
		return attackerMain()
	}
	dir, err := os.MkdirTemp("", "ast-host-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	faultBin = filepath.Join(dir, "ast-plugin-fault")
	if err := goBuild(faultBin, "github.com/ast-cli/ast/internal/host/internal/faultplugin"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// goBuild builds pkg into out, mode 0755 whatever the umask.
func goBuild(out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return os.Chmod(out, 0o755)
}

// lockedBuffer is a bytes.Buffer for the plugin's stderr, which go-plugin writes from
// its own goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// setFault makes the fault plugins this test starts behave as mode, and returns the
// directory where they record their process ids.
func setFault(t *testing.T, mode string) (pidDir string) {
	t.Helper()
	pidDir = t.TempDir()
	t.Setenv("AST_FAULT", mode)
	t.Setenv("AST_FAULT_PIDDIR", pidDir)
	return pidDir
}

// pidsIn returns the process ids recorded in a fault plugin pid directory.
func pidsIn(t *testing.T, dir string) []int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// running reports whether process pid exists and is not a zombie (a zombie has exited;
// only its exit status waits for its parent).
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...: comm may hold spaces and parentheses; the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// assertGone fails unless every plugin recorded in pidDir has stopped within 2 s, and
// checks that want plugins were recorded at all.
func assertGone(t *testing.T, pidDir string, want int) {
	t.Helper()
	if runtime.GOOS != "linux" {
		return
	}
	pids := pidsIn(t, pidDir)
	if len(pids) != want {
		t.Errorf("%d plugin processes were started, want %d", len(pids), want)
	}
	deadline := time.Now().Add(2 * time.Second)
	for _, pid := range pids {
		for running(pid) {
			if time.Now().After(deadline) {
				t.Errorf("plugin process %d still runs 2 s after the host is done with it", pid)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func faultLocation(path string) Location {
	return Location{Backend: "fault", Path: path, Source: "test"}
}

// copyFault copies the fault plugin to dir/ast-plugin-fault with mode perm.
func copyFault(t *testing.T, dir string, perm os.FileMode) string {
	t.Helper()
	src, err := os.ReadFile(faultBin)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "ast-plugin-fault")
	if err := os.WriteFile(p, src, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, perm); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustContain(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, got)
		}
	}
}

// TestStartFailures: each way a plugin can fail to start gives an error that names the
// backend and the executable, and leaves no process behind.
func TestStartFailures(t *testing.T) {
	sum, err := FileSHA256(faultBin)
	if err != nil {
		t.Fatal(err)
	}
	wrongSum := strings.Repeat("0", 64)
	cases := []struct {
		name    string
		mode    string
		pin     string
		path    func(t *testing.T) string // the executable; faultBin when nil
		want    []string
		started int // plugin processes that get as far as main
	}{
		{name: "garbage on stdout before the handshake", mode: "garbage", started: 1,
			want: []string{"printed something other than the go-plugin handshake on stdout"}},
		{name: "exits before the handshake", mode: "exit", started: 1,
			want: []string{"exited before it could be used", "AST_LOG=debug"}},
		{name: "speaks protocol 2 only", mode: "proto2", started: 1,
			want: []string{"plugin fault speaks protocol 2, this ast speaks 1: upgrade ast"}},
		{name: "speaks protocol 0 only", mode: "proto0", started: 1,
			want: []string{"plugin fault speaks protocol 0, this ast speaks 1: upgrade the plugin"}},
		{name: "checksum differs from the pin", pin: wrongSum,
			want: []string{"refusing", "its SHA-256 is " + sum + ", the config pins " + wrongSum, "ast plugin pin fault"}},
		{name: "pin is not a SHA-256", pin: sum[:10],
			want: []string{"not a hex SHA-256"}},
		{name: "missing", path: func(t *testing.T) string { return filepath.Join(t.TempDir(), "ast-plugin-fault") },
			want: []string{"no such file or directory"}},
		{name: "not executable", path: func(t *testing.T) string { return copyFault(t, t.TempDir(), 0o644) },
			want: []string{"is not an executable file", "chmod 755"}},
		{name: "a directory", path: func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "ast-plugin-fault")
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			return p
		}, want: []string{"is not an executable file"}},
		{name: "group-writable", path: func(t *testing.T) string { return copyFault(t, t.TempDir(), 0o775) },
			want: []string{"refusing", "writable by group or others", "chmod go-w"}},
		{name: "world-writable", path: func(t *testing.T) string { return copyFault(t, t.TempDir(), 0o757) },
			want: []string{"refusing", "writable by group or others"}},
		{name: "in a world-writable directory", path: func(t *testing.T) string {
			dir := t.TempDir()
			if err := os.Chmod(dir, 0o777); err != nil {
				t.Fatal(err)
			}
			return copyFault(t, dir, 0o755)
		}, want: []string{"refusing", "is writable by group or others", "chmod go-w"}},
		{name: "in a group-writable directory", path: func(t *testing.T) string {
			dir := t.TempDir()
			if err := os.Chmod(dir, 0o770); err != nil {
				t.Fatal(err)
			}
			return copyFault(t, dir, 0o755)
		}, want: []string{"refusing", "is writable by group or others", "chmod go-w"}},
		{name: "owned by another user", path: func(t *testing.T) string {
			if os.Getuid() != 0 {
				t.Skip("needs root to give a file to another user")
			}
			p := copyFault(t, t.TempDir(), 0o755)
			if err := os.Chown(p, 4242, 4242); err != nil {
				t.Fatal(err)
			}
			return p
		}, want: []string{"refusing", "belongs to user id 4242"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pidDir := setFault(t, c.mode)
			path := faultBin
			if c.path != nil {
				path = c.path(t)
			}
			loc := faultLocation(path)
			loc.SHA256 = c.pin
			var stderr lockedBuffer
			p, err := Start(context.Background(), loc, Options{Stderr: &stderr, StartTimeout: 5 * time.Second})
			if err == nil {
				p.Close()
				t.Fatal("Start succeeded")
			}
			mustContain(t, "the error", err.Error(), append([]string{"fault", path}, c.want...)...)
			if strings.Contains(err.Error(), "hello from a plugin") {
				t.Errorf("the error repeats what the plugin printed: %v", err)
			}
			assertGone(t, pidDir, c.started)
		})
	}
}

// TestStartAccepts: a plugin passes its checks when pinned to its own checksum (in
// either case) and when it sits in a sticky world-writable directory such as /tmp.
func TestStartAccepts(t *testing.T) {
	sum, err := FileSHA256(faultBin)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		pin  string
		path func(t *testing.T) string
	}{
		{name: "not pinned"},
		{name: "pinned", pin: sum},
		{name: "pinned in upper case", pin: strings.ToUpper(sum)},
		{name: "in a sticky world-writable directory", path: func(t *testing.T) string {
			dir := t.TempDir()
			if err := os.Chmod(dir, 0o777|os.ModeSticky); err != nil {
				t.Fatal(err)
			}
			return copyFault(t, dir, 0o755)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pidDir := setFault(t, "ok")
			loc := faultLocation(faultBin)
			if c.path != nil {
				loc.Path = c.path(t)
			}
			loc.SHA256 = c.pin
			p, err := Start(context.Background(), loc, Options{})
			if err != nil {
				t.Fatal(err)
			}
			info := p.Describe()
			if info.Name != "fault" || info.Protocol != pluginsdk.ProtocolVersion {
				t.Errorf("Info = %+v, want name fault, protocol %d", info, pluginsdk.ProtocolVersion)
			}
			p.Close()
			p.Close() // a second Close is harmless
			assertGone(t, pidDir, 1)
		})
	}
}

// TestCallFailures: a plugin that panics, exits or hangs during a call gives an error
// naming it, is stopped, and its panic output is not shown without debug logging
// (a panic's text could hold anything the plugin had in memory) while its own warnings
// are.
func TestCallFailures(t *testing.T) {
	const timeout = 500 * time.Millisecond
	cases := []struct {
		mode  string
		debug bool
		code  *pluginsdk.Error
		want  string
	}{
		{mode: "panic", code: pluginsdk.ErrInternal, want: "stopped unexpectedly during List"},
		{mode: "panic", debug: true, code: pluginsdk.ErrInternal, want: "stopped unexpectedly during List"},
		{mode: "exit-in-call", code: pluginsdk.ErrInternal, want: "stopped unexpectedly during List"},
		{mode: "hang", code: pluginsdk.ErrUnavailable, want: "did not answer List within 500ms; it was stopped"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s debug=%t", c.mode, c.debug), func(t *testing.T) {
			pidDir := setFault(t, c.mode)
			var stderr lockedBuffer
			p, err := Start(context.Background(), faultLocation(faultBin),
				Options{Stderr: &stderr, Debug: c.debug, CallTimeout: timeout})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if err := p.Configure(context.Background(), "test", nil); err != nil {
				t.Fatal(err)
			}
			began := time.Now()
			_, err = p.List(context.Background(), pluginsdk.ListOptions{})
			took := time.Since(began)
			if err == nil {
				t.Fatal("List succeeded")
			}
			mustContain(t, "the error", err.Error(), "the fault plugin", faultBin, c.want)
			if !errors.Is(err, c.code) {
				t.Errorf("error code %v, want %v", pluginsdk.CodeOf(err), c.code.Code)
			}
			if c.mode == "hang" && took > timeout+closeGrace+time.Second {
				t.Errorf("the hung call returned after %s; the timeout is %s", took, timeout)
			}
			if c.mode != "hang" && took > 3*time.Second {
				t.Errorf("the failed call returned after %s", took)
			}
			assertGone(t, pidDir, 1)

			// After the process is gone every line it wrote has been relayed.
			out := stderr.String()
			if c.debug {
				if c.mode == "panic" && !strings.Contains(out, panicMarker) {
					t.Errorf("with debug logging the panic is not shown:\n%s", out)
				}
			} else {
				if strings.Contains(out, panicMarker) || strings.Contains(out, "goroutine ") {
					t.Errorf("without debug logging the plugin's panic output reached stderr:\n%s", out)
				}
				if strings.Contains(out, "plugin process exited") {
					t.Errorf("without debug logging go-plugin's own log lines reached stderr:\n%s", out)
				}
			}
			if !strings.Contains(out, warningMarker) {
				t.Errorf("the plugin's own warning did not reach stderr:\n%s", out)
			}

			// The plugin is gone: later calls fail at once, still naming it.
			if _, err := p.Get(context.Background(), []string{"A"}); err == nil || !strings.Contains(err.Error(), "fault plugin") {
				t.Errorf("a call after the failure: %v", err)
			}
		})
	}
}

// TestPluginErrorsPassThrough: errors a live plugin returns (a backend that cannot be
// reached, a bug, a refusal) come back with their code and message, and do not stop the
// plugin: only a plugin that died is reported as stopped.
func TestPluginErrorsPassThrough(t *testing.T) {
	pidDir := setFault(t, "fail")
	ctx := context.Background()
	p, err := Start(ctx, faultLocation(faultBin), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	calls := []struct {
		op   string
		call func() error
		code *pluginsdk.Error
		want string
	}{
		{"List", func() error { _, err := p.List(ctx, pluginsdk.ListOptions{}); return err },
			pluginsdk.ErrUnavailable, "the fault backend cannot reach its server at 192.0.2.1:8200"},
		{"Get", func() error { _, err := p.Get(ctx, []string{"A"}); return err },
			pluginsdk.ErrInternal, "the fault backend has a bug"},
		{"Put", func() error {
			_, err := p.Put(ctx, []pluginsdk.Entry{{Name: "A", Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue("v")}}, pluginsdk.Create)
			return err
		}, pluginsdk.ErrInternal, `plugin "fault" failed: an error without a code`},
		{"Delete", func() error { _, err := p.Delete(ctx, []string{"A"}); return err },
			pluginsdk.ErrPermissionDenied, "the fault backend refuses the token"},
	}
	for _, c := range calls {
		err := c.call()
		if !errors.Is(err, c.code) || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v (code %v), want code %v and %q", c.op, err, pluginsdk.CodeOf(err), c.code.Code, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "stopped") {
			t.Errorf("%s: a live plugin's error was taken for a crash: %v", c.op, err)
		}
	}
	pids := pidsIn(t, pidDir)
	if len(pids) != 1 || !running(pids[0]) {
		t.Fatalf("the plugin stopped after errors of its own (pids %v)", pids)
	}
	p.Close()
	assertGone(t, pidDir, 1)
}

// TestCancelledCall: when the caller gives up (Ctrl-C) the call returns context.Canceled
// at once, and Close stops the plugin even though its handler still hangs.
func TestCancelledCall(t *testing.T) {
	pidDir := setFault(t, "hang")
	p, err := Start(context.Background(), faultLocation(faultBin), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Wait until the plugin is inside the call.
		for len(globCalls(pidDir)) == 0 {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	_, err = p.Get(ctx, []string{"A"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Get = %v, want context.Canceled", err)
	}
	began := time.Now()
	p.Close()
	if took := time.Since(began); took > closeGrace+time.Second {
		t.Errorf("Close took %s", took)
	}
	assertGone(t, pidDir, 1)
}

func globCalls(pidDir string) []string {
	m, _ := filepath.Glob(filepath.Join(pidDir, "*.call"))
	return m
}

// TestRunByHand: a plugin run without ast (no magic cookie) says what it is on stderr,
// prints nothing on stdout and exits with status 1.
func TestRunByHand(t *testing.T) {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, pluginsdk.Handshake.MagicCookieKey+"=") && !strings.HasPrefix(kv, "AST_FAULT") {
			env = append(env, kv)
		}
	}
	cmd := exec.Command(faultBin)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("exit: %v, want status 1", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout: %q, want nothing", stdout.String())
	}
	mustContain(t, "stderr", stderr.String(), `the "fault" backend plugin of ast`, "not meant to be run by hand",
		"ast account add NAME --backend fault")
}

// TestBatchesAreSplit: batches larger than the plugin's MaxBatch reach it in pieces, and
// the results come back in the order of the input.
func TestBatchesAreSplit(t *testing.T) {
	pidDir := setFault(t, "ok")
	calls := filepath.Join(t.TempDir(), "calls")
	t.Setenv("AST_FAULT_CALLS", calls)
	t.Setenv("AST_FAULT_MAXBATCH", "2")
	ctx := context.Background()
	p, err := Start(ctx, faultLocation(faultBin), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Describe().MaxBatch != 2 {
		t.Fatalf("MaxBatch %d", p.Describe().MaxBatch)
	}
	names := []string{"A", "B", "C", "D", "E"}
	var entries []pluginsdk.Entry
	for _, n := range names {
		entries = append(entries, pluginsdk.Entry{Name: n, Kind: pluginsdk.KindPlain, Value: pluginsdk.NewValue("value of " + n)})
	}
	res, err := p.Put(ctx, entries, pluginsdk.Create)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || r.Entry.Name != names[i] {
			t.Errorf("Put result %d: %s %v, want %s", i, r.Entry.Name, r.Err, names[i])
		}
	}
	got := []string{"A", "B", "MISSING", "D", "E"}
	res, err = p.Get(ctx, got)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		switch {
		case got[i] == "MISSING":
			if !errors.Is(r.Err, pluginsdk.ErrNotFound) {
				t.Errorf("Get result %d: %v, want not found", i, r.Err)
			}
		case r.Err != nil || r.Entry.Value.Reveal() != "value of "+got[i]:
			t.Errorf("Get result %d (%s): wrong entry %s, %v", i, got[i], r.Entry.Name, r.Err)
		}
	}
	res, err = p.Delete(ctx, names)
	if err != nil || len(res) != len(names) {
		t.Fatalf("Delete: %d results, %v", len(res), err)
	}
	if _, err := p.List(ctx, pluginsdk.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	p.Close()
	log, err := os.ReadFile(calls)
	if err != nil {
		t.Fatal(err)
	}
	want := "Put 2\nPut 2\nPut 1\nGet 2\nGet 2\nGet 1\nDelete 2\nDelete 2\nDelete 1\nList 0\n"
	if string(log) != want {
		t.Errorf("calls the plugin saw:\n%s\nwant:\n%s", log, want)
	}
	assertGone(t, pidDir, 1)
}

func TestBatched(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name     string
		maxBatch int
		n        int
		failAt   int // the call (1-based) that fails; 0 for none
		want     []int
	}{
		{name: "no limit", maxBatch: 0, n: 7, want: []int{7}},
		{name: "under the limit", maxBatch: 10, n: 7, want: []int{7}},
		{name: "at the limit", maxBatch: 7, n: 7, want: []int{7}},
		{name: "uneven", maxBatch: 3, n: 7, want: []int{3, 3, 1}},
		{name: "even", maxBatch: 2, n: 6, want: []int{2, 2, 2}},
		{name: "limit of one", maxBatch: 1, n: 3, want: []int{1, 1, 1}},
		{name: "empty", maxBatch: 2, n: 0, want: []int{0}},
		{name: "second call fails", maxBatch: 2, n: 5, failAt: 2, want: []int{2, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := &Plugin{info: pluginsdk.Info{MaxBatch: c.maxBatch}}
			items := make([]int, c.n)
			for i := range items {
				items[i] = i
			}
			var sizes []int
			res, err := batched(p, items, func(part []int) ([]pluginsdk.Result, error) {
				sizes = append(sizes, len(part))
				if len(sizes) == c.failAt {
					return nil, boom
				}
				out := make([]pluginsdk.Result, len(part))
				for i, it := range part {
					out[i].Entry.Version = int64(it)
				}
				return out, nil
			})
			if fmt.Sprint(sizes) != fmt.Sprint(c.want) {
				t.Errorf("batch sizes %v, want %v", sizes, c.want)
			}
			if c.failAt > 0 {
				if !errors.Is(err, boom) || res != nil {
					t.Errorf("got %d results, %v; want the error alone", len(res), err)
				}
				return
			}
			if err != nil || len(res) != c.n {
				t.Fatalf("got %d results, %v", len(res), err)
			}
			for i, r := range res {
				if r.Entry.Version != int64(i) {
					t.Errorf("result %d answers item %d", i, r.Entry.Version)
				}
			}
		})
	}
}

// TestLoggerFilter: without debug only the plugin's own structured warnings and errors
// pass (go-plugin adds a timestamp to those); go-plugin's chatter and raw stderr lines do
// not. With debug everything passes.
func TestLoggerFilter(t *testing.T) {
	var quiet, debug bytes.Buffer
	for _, c := range []struct {
		w     io.Writer
		debug bool
	}{{&quiet, false}, {&debug, true}} {
		l := newLogger("fault", Options{Stderr: c.w, Debug: c.debug})
		l.Warn("retrying", "attempt", 2, "timestamp", "2025-01-01T00:00:00.000Z")
		l.Error("panic: raw stderr line")
		l.Error("plugin process exited", "error", "exit status 2")
		l.Debug("a debug line from the plugin", "timestamp", "2025-01-01T00:00:00.000Z")
	}
	mustContain(t, "quiet log", quiet.String(), "retrying")
	for _, no := range []string{"panic", "plugin process exited", "debug line"} {
		if strings.Contains(quiet.String(), no) {
			t.Errorf("without debug the log shows %q:\n%s", no, quiet.String())
		}
	}
	mustContain(t, "debug log", debug.String(), "retrying", "panic: raw stderr line", "plugin process exited", "debug line")
}

// TestStreamingWrites: Put and Delete keep every result the plugin reported when the
// call fails midway (the plugin dies, goes silent, the caller gives up), mark the names of
// the failed part not reported as ErrOutcomeUnknown and those of later parts as not
// attempted; and the deadline of a streaming call is a liveness deadline, so a call longer
// than the timeout that keeps reporting (or sending heartbeats) completes.
func TestStreamingWrites(t *testing.T) {
	const timeout = 700 * time.Millisecond
	cases := []struct {
		name     string
		mode     string
		env      map[string]string
		op       string // Put or Delete
		n        int
		cancelAt int // the caller cancels after this many results; 0 for never
		// want[i]: "ok", "unknown", "not attempted" or a code's name
		want        string
		wantErr     string
		wantCode    *pluginsdk.Error
		wantRetries int
	}{
		{name: "dies after reporting 3 of 6", mode: "report-exit", env: map[string]string{"AST_FAULT_AFTER": "3"},
			op: "Put", n: 6, want: "ok ok ok unknown unknown unknown",
			wantErr: "stopped unexpectedly during Put", wantCode: pluginsdk.ErrInternal},
		{name: "dies after reporting 2 of 5 deletions", mode: "report-exit", env: map[string]string{"AST_FAULT_AFTER": "2"},
			op: "Delete", n: 5, want: "NotFound NotFound unknown unknown unknown",
			wantErr: "stopped unexpectedly during Delete", wantCode: pluginsdk.ErrInternal},
		{name: "dies in the second part", mode: "report-exit",
			env: map[string]string{"AST_FAULT_AFTER": "4", "AST_FAULT_MAXBATCH": "3"},
			op:  "Put", n: 7, want: "ok ok ok ok unknown unknown not-attempted",
			wantErr: "stopped unexpectedly during Put", wantCode: pluginsdk.ErrInternal},
		{name: "dies in the first part", mode: "report-exit",
			env: map[string]string{"AST_FAULT_AFTER": "1", "AST_FAULT_MAXBATCH": "3"},
			op:  "Put", n: 7, want: "ok unknown unknown not-attempted not-attempted not-attempted not-attempted",
			wantErr: "stopped unexpectedly during Put", wantCode: pluginsdk.ErrInternal},
		{name: "goes silent after reporting 2 of 5", mode: "report-hang", env: map[string]string{"AST_FAULT_AFTER": "2"},
			op: "Put", n: 5, want: "ok ok unknown unknown unknown",
			wantErr: "sent no result or heartbeat during Put for 700ms; it was stopped", wantCode: pluginsdk.ErrUnavailable},
		{name: "longer than the timeout, reporting steadily", mode: "slow", env: map[string]string{"AST_FAULT_DELAY": "200ms"},
			op: "Put", n: 8, want: "ok ok ok ok ok ok ok ok"},
		{name: "longer than the timeout, with heartbeats", mode: "slow-heartbeat", env: map[string]string{"AST_FAULT_DELAY": "300ms"},
			op: "Put", n: 5, want: "ok ok ok ok ok", wantRetries: 5},
		{name: "the caller gives up after 2", mode: "slow", env: map[string]string{"AST_FAULT_DELAY": "200ms"},
			op: "Put", n: 6, cancelAt: 2, want: "ok ok unknown unknown unknown unknown",
			wantErr: "context canceled"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pidDir := setFault(t, c.mode)
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var stderr lockedBuffer
			p, err := Start(context.Background(), faultLocation(faultBin), Options{Stderr: &stderr, CallTimeout: timeout})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var mu sync.Mutex
			reported := map[int]pluginsdk.Result{}
			retries := 0
			ctx = pluginsdk.WithReporter(ctx, func(i int, r pluginsdk.Result) {
				mu.Lock()
				defer mu.Unlock()
				if _, dup := reported[i]; dup {
					t.Errorf("item %d reported twice", i)
				}
				reported[i] = r
				if len(reported) == c.cancelAt {
					cancel()
				}
			})
			ctx = pluginsdk.WithHeartbeat(ctx, func(retry bool) {
				if retry {
					mu.Lock()
					retries++
					mu.Unlock()
				}
			})
			names := make([]string, c.n)
			entries := make([]pluginsdk.Entry, c.n)
			for i := range names {
				names[i] = fmt.Sprintf("N%d", i)
				entries[i] = pluginsdk.Entry{Name: names[i], Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue("v")}
			}
			began := time.Now()
			var res []pluginsdk.Result
			if c.op == "Put" {
				res, err = p.Put(ctx, entries, pluginsdk.Create)
			} else {
				res, err = p.Delete(ctx, names)
			}
			took := time.Since(began)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("%s failed after %s: %v", c.op, took, err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("%s: error %v, want %q", c.op, err, c.wantErr)
			case c.wantCode != nil && !errors.Is(err, c.wantCode):
				t.Errorf("error code %v, want %v", pluginsdk.CodeOf(err), c.wantCode.Code)
			}
			if c.wantErr == "" && took < timeout {
				t.Errorf("the call took %s, not longer than the timeout %s: the case proves nothing", took, timeout)
			}
			if len(res) != c.n {
				t.Fatalf("%d results for %d names", len(res), c.n)
			}
			var got []string
			mu.Lock()
			defer mu.Unlock()
			for i, r := range res {
				g := "ok"
				switch {
				case errors.Is(r.Err, pluginsdk.ErrOutcomeUnknown):
					g = "unknown"
				case errors.Is(r.Err, pluginsdk.ErrNotAttempted):
					g = "not-attempted"
				case r.Err != nil:
					g = pluginsdk.CodeOf(r.Err).String()
				}
				got = append(got, g)
				if r.Entry.Name != names[i] {
					t.Errorf("result %d names %q, want %q", i, r.Entry.Name, names[i])
				}
				rep, seen := reported[i]
				if seen != (g != "unknown" && g != "not-attempted") {
					t.Errorf("result %d (%s): reported to the caller: %t", i, g, seen)
				}
				if seen && (rep.Entry.Name != r.Entry.Name || pluginsdk.CodeOf(rep.Err) != pluginsdk.CodeOf(r.Err)) {
					t.Errorf("item %d was reported as %s %v, returned as %s %v", i, rep.Entry.Name, rep.Err, r.Entry.Name, r.Err)
				}
				if c.op == "Delete" && g == "ok" && r.Note == "" {
					t.Errorf("result %d: the plugin's note is lost", i)
				}
			}
			if strings.Join(got, " ") != c.want {
				t.Errorf("results: %s\nwant:    %s", strings.Join(got, " "), c.want)
			}
			if retries != c.wantRetries {
				t.Errorf("the caller saw %d retries, want %d", retries, c.wantRetries)
			}
			if c.wantErr == "" {
				// The plugin still serves: what it reported is what it holds.
				if l, err := p.List(context.Background(), pluginsdk.ListOptions{}); err != nil || len(l) != c.n {
					t.Errorf("List after the call: %d entries, %v", len(l), err)
				}
			}
			p.Close()
			assertGone(t, pidDir, 1)
		})
	}
}
