package deploy

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// killGroup is a test cleanup: whatever a test started dies with it.
func killGroup(t *testing.T, p Process) {
	t.Cleanup(func() {
		if p.PGID > 0 {
			_ = syscall.Kill(-p.PGID, syscall.SIGKILL)
		}
		_ = syscall.Kill(p.PID, syscall.SIGKILL)
	})
}

func waitFile(t *testing.T, p string) []byte {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(p); err == nil && len(b) > 0 && bytes.HasSuffix(b, []byte("\n")) {
			return b
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not appear", filepath.Base(p))
	return nil
}

func TestRunningDetection(t *testing.T) {
	self := Process{PID: os.Getpid()}
	if runtime.GOOS == "linux" {
		start, err := processStart(os.Getpid())
		if err != nil || start == 0 {
			t.Fatalf("processStart(self) = %d, %v", start, err)
		}
		self.Start = start
	}
	tests := []struct {
		name string
		p    func(t *testing.T) Process
		want bool
	}{
		{"this process", func(*testing.T) Process { return self }, true},
		{"no pid", func(*testing.T) Process { return Process{} }, false},
		{"a pid that exists no more", func(t *testing.T) Process {
			cmd := exec.Command("true")
			if err := cmd.Run(); err != nil {
				t.Fatal(err)
			}
			return Process{PID: cmd.Process.Pid}
		}, false},
		{"a zombie", func(t *testing.T) Process {
			cmd := exec.Command("true")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Wait() })
			time.Sleep(200 * time.Millisecond) // it exits, and is not reaped before Cleanup
			return Process{PID: cmd.Process.Pid}
		}, runtime.GOOS != "linux"},
	}
	if runtime.GOOS == "linux" {
		tests = append(tests, struct {
			name string
			p    func(t *testing.T) Process
			want bool
		}{"a reused pid: same pid, another start time", func(*testing.T) Process {
			return Process{PID: self.PID, Start: self.Start - 1}
		}, false})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Running(tt.p(t)); got != tt.want {
				t.Errorf("Running = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStartDetached(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "agent.log")
	log, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	spec := Spec{
		Command: []string{"sh", "-c", `echo "$GREETING from $(pwd)"; echo oops >&2; read x || echo "stdin empty"; exec sleep 30`},
		Dir:     dir,
		Env:     []string{"GREETING=hello", "PATH=" + os.Getenv("PATH")},
	}
	p, err := StartDetached(spec, log)
	if err != nil {
		t.Fatal(err)
	}
	killGroup(t, p)
	if p.PID <= 0 || p.PGID != p.PID || (runtime.GOOS == "linux" && p.Start == 0) {
		t.Errorf("Process = %+v", p)
	}
	if got, want := string(waitFile(t, logPath)), "hello from "+dir+"\noops\nstdin empty\n"; got != want {
		t.Errorf("log = %q, want %q", got, want)
	}
	if !Running(p) {
		t.Errorf("the agent is not running")
	}
	if runtime.GOOS == "linux" {
		// Field 6 of /proc/PID/stat is the session: the agent leads its own.
		b, err := os.ReadFile("/proc/" + strconv.Itoa(p.PID) + "/stat")
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if f[3] != strconv.Itoa(p.PID) {
			t.Errorf("the agent's session is %s, want its own (%d)", f[3], p.PID)
		}
	}
	stopped, err := Stop(context.Background(), p, time.Second)
	if err != nil || !stopped {
		t.Errorf("Stop = %v, %v", stopped, err)
	}
	if Running(p) {
		t.Errorf("the agent survived Stop")
	}
}

func TestStartDetachedErrors(t *testing.T) {
	dir := t.TempDir()
	log, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	for _, tt := range []struct {
		name string
		spec Spec
		want string
	}{
		{"no such program", Spec{Command: []string{"no-such-program-x", "--token=SECRETARG"}, Dir: dir}, "cannot start no-such-program-x"},
		{"no such directory", Spec{Command: []string{"true"}, Dir: filepath.Join(dir, "nope")}, "working directory"},
		{"no command", Spec{Dir: dir}, "no command"},
	} {
		_, err := StartDetached(tt.spec, log)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "SECRETARG") {
			t.Errorf("%s: the error shows an argument", tt.name)
		}
	}
}

func TestStopEscalatesAndTakesTheGroup(t *testing.T) {
	dir := t.TempDir()
	log, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	// The agent ignores SIGTERM, and so does the child it leaves behind.
	spec := Spec{
		Command: []string{"sh", "-c", `trap "" TERM; sleep 60 & echo $! > child; echo ready > ready; while :; do sleep 1; done`},
		Dir:     dir,
		Env:     []string{"PATH=" + os.Getenv("PATH")},
	}
	p, err := StartDetached(spec, log)
	if err != nil {
		t.Fatal(err)
	}
	killGroup(t, p)
	waitFile(t, filepath.Join(dir, "ready"))
	child, err := strconv.Atoi(strings.TrimSpace(string(waitFile(t, filepath.Join(dir, "child")))))
	if err != nil {
		t.Fatal(err)
	}
	childStart, _ := processStart(child)
	begin := time.Now()
	stopped, err := Stop(context.Background(), p, 300*time.Millisecond)
	if err != nil || !stopped {
		t.Fatalf("Stop = %v, %v", stopped, err)
	}
	if took := time.Since(begin); took < 300*time.Millisecond || took > 3*time.Second {
		t.Errorf("Stop took %v; want the grace period, then SIGKILL", took)
	}
	if Running(p) || Running(Process{PID: child, Start: childStart}) {
		t.Errorf("agent or its child survived Stop")
	}
	// A second Stop finds nothing to do and signals nothing.
	if stopped, err := Stop(context.Background(), p, time.Second); stopped || err != nil {
		t.Errorf("second Stop = %v, %v; want false, nil", stopped, err)
	}
}

func TestStopLeavesAReusedPidAlone(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("start times come from /proc")
	}
	cmd := exec.Command("sleep", "30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	start, err := processStart(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	// The record says an older process had this pid.
	stale := Process{PID: cmd.Process.Pid, PGID: cmd.Process.Pid, Start: start - 1}
	if stopped, err := Stop(context.Background(), stale, time.Second); stopped || err != nil {
		t.Errorf("Stop(stale) = %v, %v; want false, nil", stopped, err)
	}
	if !Running(Process{PID: cmd.Process.Pid, Start: start}) {
		t.Errorf("Stop signalled a process that only reused the pid")
	}
}

func TestRunAttached(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	var seen Process
	code, err := RunAttached(Spec{
		Command: []string{"sh", "-c", `read line; echo "got $line in $(pwd) with $V"; echo warn >&2; exit 7`},
		Dir:     dir,
		Env:     []string{"V=value", "PATH=" + os.Getenv("PATH")},
	}, strings.NewReader("input\n"), &out, &errOut, func(p Process) error { seen = p; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if code != 7 || out.String() != "got input in "+dir+" with value\n" || errOut.String() != "warn\n" {
		t.Errorf("code %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
	if seen.PID <= 0 || seen.PGID != seen.PID {
		t.Errorf("started saw %+v; want a pid leading a group of its own", seen)
	}

	code, err = RunAttached(Spec{Command: []string{"sh", "-c", "kill -TERM $$"}, Dir: dir, Env: []string{"PATH=" + os.Getenv("PATH")}},
		nil, &out, &errOut, nil)
	if err != nil || code != 128+int(syscall.SIGTERM) {
		t.Errorf("killed by SIGTERM: code %d, %v; want %d", code, err, 128+int(syscall.SIGTERM))
	}
}
