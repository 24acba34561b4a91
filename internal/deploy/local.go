package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// DefaultGrace is how long Stop waits after SIGTERM before it sends SIGKILL.
const DefaultGrace = 5 * time.Second

// killWait bounds the wait for a process group to go after SIGKILL.
const killWait = 3 * time.Second

// pollEvery is how often Stop looks whether the agent is gone.
const pollEvery = 50 * time.Millisecond

// Process identifies a started agent: its pid, its process group (0 when it has none of
// its own) and its start time in clock ticks since boot (0 where unknown), which tells
// the agent from a later process that got the same pid.
type Process struct {
	PID   int
	PGID  int
	Start uint64
}

// Spec is what the local target runs: Command (argv; a program without a slash is looked
// up in ast's PATH, a relative path is taken relative to Dir) in Dir with exactly the
// environment Env.
type Spec struct {
	Command []string
	Dir     string
	Env     []string
}

// StartDetached starts spec as a detached agent: a new session (so it has its own
// process group and no controlling terminal, and outlives ast and its terminal), stdin
// from /dev/null, stdout and stderr appended to log. It returns once the program has
// been executed; the agent's exit is not waited for. Nothing but stdin, stdout and
// stderr is inherited: Go opens every other descriptor close-on-exec.
//
// Errors: the program cannot be found or executed; the error names the program, never
// an argument or the environment.
func StartDetached(spec Spec, log *os.File) (Process, error) {
	p, _, err := StartDetachedWatch(spec, log, 0)
	return p, err
}

// Exit is how an agent ended: its status (128+N when killed by signal N, as a shell
// says) and when.
type Exit struct {
	Status int
	At     time.Time
}

// StartDetachedWatch is StartDetached that also watches the agent for watch: an agent
// that ends within it (a crash at start: a missing variable, a typo in the command) is
// returned with its Exit; one still running is left to run (nil Exit). The watch costs
// the deploy up to watch of waiting.
func StartDetachedWatch(spec Spec, log *os.File, watch time.Duration) (Process, *Exit, error) {
	cmd, err := command(spec)
	if err != nil {
		return Process{}, nil, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, log, log // nil stdin is /dev/null
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return Process{}, nil, startError(spec, err)
	}
	// The process exists (running or, at worst, a zombie until it is waited for), so its
	// /proc entry is there to read.
	start, _ := processStart(cmd.Process.Pid)
	p := Process{PID: cmd.Process.Pid, PGID: cmd.Process.Pid, Start: start}
	if watch <= 0 {
		_ = cmd.Process.Release()
		return p, nil, nil
	}
	ended := make(chan *os.ProcessState, 1)
	go func() {
		// Left waiting when the agent outlives the watch: ast exits soon after, and the
		// agent is then reparented like any detached process.
		st, _ := cmd.Process.Wait()
		ended <- st
	}()
	select {
	case st := <-ended:
		e := &Exit{Status: -1, At: time.Now().UTC()}
		if st != nil {
			e.Status = exitStatus(st)
		}
		return p, e, nil
	case <-time.After(watch):
		return p, nil, nil
	}
}

// exitStatus is a shell's $? for st: the exit code, or 128+N when killed by signal N.
func exitStatus(st *os.ProcessState) int {
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return st.ExitCode()
}

// RunAttached runs spec attached to the given streams as a shell runs a job, and
// returns the agent's exit status (128+N when killed by signal N, as a shell does):
//   - the agent gets a process group of its own (Process.PGID is its pid);
//   - when stdin is ast's controlling terminal and ast is in its foreground, the agent's
//     group becomes the terminal's foreground group while it runs (tcsetpgrp), so Ctrl-C,
//     Ctrl-\ and a window resize reach the agent, once, and not ast; ast takes the
//     terminal back afterwards;
//   - every other catchable signal ast receives is forwarded to the agent's group
//     (forwardedSignals: not SIGCHLD, SIGURG, SIGTTIN, SIGTTOU, SIGPIPE, SIGPROF).
//
// started, when not nil, is called once the process exists; if it fails the agent is
// killed and its error returned.
func RunAttached(spec Spec, stdin io.Reader, stdout, stderr io.Writer, started func(Process) error) (int, error) {
	cmd, err := command(spec)
	if err != nil {
		return 0, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	tty, foreground := foregroundTerminal(stdin)
	if foreground {
		// The child puts its group in the foreground before it executes the program: no
		// window in which a Ctrl-C would reach ast instead. Ctty is the parent's
		// descriptor (stdin is 0 in both).
		cmd.SysProcAttr.Foreground, cmd.SysProcAttr.Ctty = true, tty
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwardedSignals...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 0, startError(spec, err)
	}
	pid := cmd.Process.Pid
	if foreground {
		defer takeTerminal(tty)
	}
	if started != nil {
		start, _ := processStart(pid)
		if err := started(Process{PID: pid, PGID: pid, Start: start}); err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return 0, err
		}
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				// To the group, as the terminal would: a wrapper (sh -c) and what it
				// runs both see it.
				_ = syscall.Kill(-pid, s.(syscall.Signal))
			case <-done:
				return
			}
		}
	}()
	err = cmd.Wait()
	close(done)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return exit.ExitCode(), nil
	}
	if err != nil {
		return 0, err
	}
	return 0, nil
}

func command(spec Spec) (*exec.Cmd, error) {
	if len(spec.Command) == 0 || spec.Command[0] == "" {
		return nil, errors.New("the agent has no command")
	}
	if spec.Dir != "" {
		fi, err := os.Stat(spec.Dir)
		if err != nil {
			return nil, fmt.Errorf("the agent's working directory: %w", err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("the agent's working directory %s is not a directory", spec.Dir)
		}
	}
	cmd := exec.Command(spec.Command[0], spec.Command[1:]...)
	cmd.Args[0] = spec.Command[0]
	cmd.Dir, cmd.Env = spec.Dir, spec.Env
	if cmd.Env == nil {
		cmd.Env = []string{} // never ast's own environment by accident
	}
	return cmd, nil
}

// startError words a failed start. exec's errors name the program and the cause; the
// arguments and environment, which may hold values, are left out.
func startError(spec Spec, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cannot start %s: %w", spec.Command[0], pe.Err)
	}
	var ee *exec.Error
	if errors.As(err, &ee) {
		return fmt.Errorf("cannot start %s: %w", spec.Command[0], ee.Err)
	}
	return fmt.Errorf("cannot start %s: %v", spec.Command[0], err)
}

// Running reports whether p is alive: its pid exists, is not a zombie, and (where start
// times are known) started when p did, so that a reused pid does not count.
func Running(p Process) bool {
	if p.PID <= 0 {
		return false
	}
	return running(p)
}

// ErrForgedGroup is returned by Stop for a record whose process group is not the
// agent's: nothing was signalled.
var ErrForgedGroup = errors.New("the recorded process group is not the agent's")

// Stop ends p: SIGTERM to its process group (or to the process alone when PGID is 0),
// then, if anything of it is still alive after grace, SIGKILL. It returns whether p was
// running. A p that is not running (exited, or its pid reused) is not signalled at all.
//
// A record is data on disk, so Stop believes it only as far as /proc confirms it
// (DESIGN.md "Trust model"): the process must be alive with the recorded start time
// (pid and start time identify it; a record without a start time confirms nothing on
// Linux), a process group is signalled only when it is the agent's own (PGID equals PID,
// as StartDetached makes it) and /proc shows the process in it, and nothing is ever
// sent to a pid or group of 1 or less (kill(-1) would reach every process of the user).
// An agent that moved itself to another group is signalled alone.
//
// Errors: ErrForgedGroup (wrapped) when PGID is not PID or not above 1, before any
// signal; ctx ends while waiting; the process survives SIGKILL (for killWait); a signal
// that cannot be sent (another user's process).
func Stop(ctx context.Context, p Process, grace time.Duration) (bool, error) {
	if p.PGID != 0 && (p.PGID != p.PID || p.PGID <= 1) {
		return false, fmt.Errorf("pid %d, group %d: %w (an agent leads its own group); nothing was signalled", p.PID, p.PGID, ErrForgedGroup)
	}
	if p.PID <= 1 {
		return false, nil
	}
	pgrp, ok := confirm(p)
	if !ok {
		return false, nil
	}
	target := p.PID
	alive := func() bool { return Running(p) }
	if p.PGID > 1 && pgrp == p.PGID {
		target = -p.PGID
		alive = func() bool { return Running(p) || groupRunning(p.PGID) }
	}
	if target == 0 || target == 1 || target == -1 {
		return false, nil // unreachable after the checks above; kept as the last guard
	}
	if err := syscall.Kill(target, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return true, fmt.Errorf("stopping pid %d: %w", p.PID, err)
	}
	if waitGone(ctx, alive, grace) {
		return true, nil
	}
	if err := ctx.Err(); err != nil {
		return true, err
	}
	if err := syscall.Kill(target, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return true, fmt.Errorf("killing pid %d: %w", p.PID, err)
	}
	if waitGone(ctx, alive, killWait) {
		return true, nil
	}
	if err := ctx.Err(); err != nil {
		return true, err
	}
	return true, fmt.Errorf("pid %d is still alive after SIGKILL", p.PID)
}

// waitGone polls alive until it is false (true is returned), d passes or ctx ends.
func waitGone(ctx context.Context, alive func() bool, d time.Duration) bool {
	deadline := time.Now().Add(d)
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		if !alive() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}
