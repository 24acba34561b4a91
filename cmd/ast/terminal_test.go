//go:build linux

package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// ptySession is the built ast running on a fresh pseudo-terminal, as from a shell: its
// own session, the pty its controlling terminal and stdin, stdout and stderr.
type ptySession struct {
	t      *testing.T
	cmd    *exec.Cmd
	ctrl   *os.File // the terminal's side (what the user types, what the screen shows)
	tty    *os.File // the process's side, kept open to inspect what is left unread
	mu     sync.Mutex
	screen bytes.Buffer
	done   chan error
}

func startOnPTY(t *testing.T, env []string, args ...string) *ptySession {
	t.Helper()
	ctrl, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	s := &ptySession{t: t, ctrl: ctrl, tty: tty, done: make(chan error, 1)}
	s.cmd = astCmd(env, args...)
	s.cmd.Stdin, s.cmd.Stdout, s.cmd.Stderr = tty, tty, tty
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ctrl.Read(buf)
			s.mu.Lock()
			s.screen.Write(buf[:n])
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		ctrl.Close()
		tty.Close()
	})
	return s
}

// waitScreen waits until the terminal has shown text.
func (s *ptySession) waitScreen(text string) {
	s.t.Helper()
	if !waitFor(30*time.Second, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return strings.Contains(s.screen.String(), text)
	}) {
		s.t.Fatalf("the terminal never showed %q; it shows %q", text, s.screenText())
	}
}

func (s *ptySession) screenText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.screen.String()
}

func (s *ptySession) typeText(text string) {
	s.t.Helper()
	if _, err := s.ctrl.Write([]byte(text)); err != nil {
		s.t.Fatal(err)
	}
}

// exitCode waits for ast to end and returns its status.
func (s *ptySession) exitCode(timeout time.Duration) int {
	s.t.Helper()
	select {
	case err := <-s.done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		if err != nil {
			s.t.Fatal(err)
		}
		return 0
	case <-time.After(timeout):
		s.t.Fatalf("ast still runs after %v; the terminal shows %q", timeout, s.screenText())
	}
	return -1
}

// unread returns how many bytes of input the terminal holds that nobody has read: what
// the shell would read (and run) next.
func (s *ptySession) unread() int {
	n, err := unix.IoctlGetInt(int(s.tty.Fd()), unix.TIOCINQ)
	if err != nil {
		s.t.Fatal(err)
	}
	return n
}

// entryValue returns the value of entry name as a child of ast run sees it.
func entryValue(t *testing.T, env []string, name string) string {
	t.Helper()
	return runAST(t, env, "run", "--var", "V=@"+name, "--", "sh", "-c", `printf %s "$V"`)
}

// TestPromptPaste: at the prompt, a bracketed paste of three lines is stored whole; an
// unbracketed one (a terminal that does not mark pastes) is refused, and none of its
// lines is left in the terminal for the shell, whether it arrives in one piece or two.
func TestPromptPaste(t *testing.T) {
	env := realEnv(t.TempDir())
	const pem = "-----BEGIN KEY-----\nAAAA\n-----END KEY-----"

	t.Run("bracketed", func(t *testing.T) {
		s := startOnPTY(t, env, "secrets", "set", "PASTED")
		s.waitScreen("Value for PASTED (input hidden): ")
		s.waitScreen("\x1b[?2004h")
		s.typeText("\x1b[200~" + strings.ReplaceAll(pem, "\n", "\r") + "\x1b[201~")
		time.Sleep(200 * time.Millisecond)
		s.typeText("\r")
		if code := s.exitCode(30 * time.Second); code != 0 {
			t.Fatalf("exit %d; the terminal shows %q", code, s.screenText())
		}
		if strings.Contains(s.screenText(), "AAAA") {
			t.Error("the hidden value was echoed")
		}
		if got := entryValue(t, env, "PASTED"); got != pem {
			t.Errorf("stored %d bytes, %d lines; want the 3 lines pasted (%d bytes)", len(got), strings.Count(got, "\n")+1, len(pem))
		}
	})

	for _, tc := range []struct {
		name   string
		pieces []string
	}{
		{"unbracketed", []string{"line1\rline2\rline3\r"}},
		{"unbracketed in two pieces", []string{"line1\r", "line2\rline3\r"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startOnPTY(t, env, "secrets", "set", "UNMARKED")
			s.waitScreen("Value for UNMARKED (input hidden): ")
			s.waitScreen("\x1b[?2004h")
			for _, p := range tc.pieces {
				s.typeText(p)
				time.Sleep(20 * time.Millisecond)
			}
			if code := s.exitCode(30 * time.Second); code != 2 {
				t.Fatalf("exit %d, want 2 (refused); the terminal shows %q", code, s.screenText())
			}
			s.waitScreen("--value-file") // the refusal's hint
			if n := s.unread(); n != 0 {
				t.Errorf("%d bytes of the paste are left for the shell", n)
			}
			out := runAST(t, env, "secrets", "list")
			if strings.Contains(out, "UNMARKED") {
				t.Error("a refused paste was stored")
			}
		})
	}

	t.Run("plain is visible", func(t *testing.T) {
		s := startOnPTY(t, env, "secrets", "set", "REGION", "--plain")
		s.waitScreen("Value for REGION: ")
		s.typeText("eu-west-1")
		s.waitScreen("eu-west-1")
		s.typeText("\r")
		if code := s.exitCode(30 * time.Second); code != 0 {
			t.Fatalf("exit %d; the terminal shows %q", code, s.screenText())
		}
		if got := runAST(t, env, "secrets", "get", "REGION"); got != "eu-west-1" {
			t.Errorf("get REGION = %q", got)
		}
	})

	t.Run("Ctrl-C", func(t *testing.T) {
		s := startOnPTY(t, env, "secrets", "set", "NEVER")
		s.waitScreen("Value for NEVER (input hidden): ")
		s.typeText("abc\x03")
		if code := s.exitCode(10 * time.Second); code != 130 {
			t.Fatalf("exit %d, want 130", code)
		}
	})
}

// TestSSHKeyRoundTrip: a private key given on stdin (< id_ed25519) is stored byte for
// byte, and the value a child of ast run gets back is a key ssh-keygen accepts.
// .ci/run installs openssh-client where it is missing.
func TestSSHKeyRoundTrip(t *testing.T) {
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("ssh-keygen is not installed")
	}
	root := t.TempDir()
	env := realEnv(root)
	key := filepath.Join(root, "id_ed25519")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	want, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"secrets", "create", "SSH_KEY"},
		{"secrets", "set", "SSH_KEY_FILE", "--value-file", key},
	} {
		cmd := astCmd(env, args...)
		if args[2] == "SSH_KEY" {
			f, err := os.Open(key)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			cmd.Stdin = f
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ast %v: %v\n%s", args, err, out)
		}
		name := args[2]
		got := runAST(t, env, "run", "--var", "K=@"+name, "--", "printenv", "K")
		if got != string(want)+"\n" { // printenv adds a newline
			t.Fatalf("%s: the child got %d bytes, the key file has %d", name, len(got)-1, len(want))
		}
		back := filepath.Join(root, name+".back")
		if err := os.WriteFile(back, []byte(strings.TrimSuffix(got, "\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(keygen, "-y", "-f", back).CombinedOutput(); err != nil {
			t.Errorf("%s: ssh-keygen -y refuses the key written back: %v\n%s", name, err, out)
		}
	}
}

// TestSignalWhileReadingInput: a command blocked reading stdin (an idle pipe) or a FIFO
// no one writes ends within a second of SIGINT or SIGTERM, exits 128+N, and writes
// nothing.
func TestSignalWhileReadingInput(t *testing.T) {
	root := t.TempDir()
	env := realEnv(root)
	fifo := filepath.Join(root, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"secrets", "create", "BLOCKED"},
		{"secrets", "set", "BLOCKED", "--value-file", "-"},
		{"secrets", "set", "BLOCKED", "--value-file", fifo},
		{"secrets", "import", "--file", "-"},
		{"secrets", "import", "--file", fifo},
	} {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
			t.Run(strings.Join(args[1:], " ")+" "+sig.String(), func(t *testing.T) {
				r, w, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				defer w.Close()
				cmd := astCmd(env, args...)
				cmd.Stdin = r
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				r.Close()
				defer func() { _ = cmd.Process.Kill() }()
				w.Write([]byte("A=partial")) // a start, never finished
				time.Sleep(500 * time.Millisecond)
				sent := time.Now()
				if err := cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				done := make(chan error, 1)
				go func() { done <- cmd.Wait() }()
				select {
				case err := <-done:
					var exit *exec.ExitError
					if !errors.As(err, &exit) || exit.ExitCode() != 128+int(sig) {
						t.Errorf("exit %v, want %d; stderr %q", err, 128+int(sig), stderr.String())
					}
					if d := time.Since(sent); d > time.Second {
						t.Errorf("ast took %v to end after %v", d, sig)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("ast still blocked 5 s after %v", sig)
				}
			})
		}
	}
	if out := runAST(t, env, "secrets", "list"); out != "" {
		t.Errorf("entries were written: %q", out)
	}
}

// trapScript prints "ready", then one line per signal it gets (USR1, HUP, WINCH, INT),
// until it gets TERM or has run 20 s.
const trapScript = `for s in USR1 HUP WINCH INT; do trap "echo got $s" $s; done
trap 'echo got TERM; exit 7' TERM
echo ready
i=0; while [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done`

// TestRunForwardsSignals: signals sent to ast reach the child of ast run (USR1, HUP,
// WINCH; TERM ends it and ast exits with the child's status).
func TestRunForwardsSignals(t *testing.T) {
	env := realEnv(t.TempDir())
	cmd := astCmd(env, "run", "--", "sh", "-c", trapScript)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var lines syncLines
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	go lines.collect(stdout)
	lines.wait(t, "ready")
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGHUP, syscall.SIGWINCH} {
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		lines.wait(t, "got "+strings.TrimPrefix(unix.SignalName(sig), "SIG"))
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 7 {
		t.Errorf("ast exited with %v, want the child's status 7", err)
	}
}

// TestRunCtrlC: on a terminal, Ctrl-C reaches the child of ast run once (its group is
// the terminal's foreground group), and ast exits with the child's status.
func TestRunCtrlC(t *testing.T) {
	env := realEnv(t.TempDir())
	s := startOnPTY(t, env, "run", "--", "sh", "-c",
		`n=0; trap 'n=$((n+1))' INT; echo ready; sleep 1 & wait; sleep 0.5; echo "ints=$n"; exit 3`)
	s.waitScreen("ready")
	s.typeText("\x03")
	if code := s.exitCode(10 * time.Second); code != 3 {
		t.Fatalf("exit %d, want the child's 3; the terminal shows %q", code, s.screenText())
	}
	s.waitScreen("ints=1")
}

// syncLines collects a stream's lines for waiting on one.
type syncLines struct {
	mu   sync.Mutex
	text strings.Builder
}

func (l *syncLines) collect(r io.Reader) {
	buf := make([]byte, 1024)
	for {
		n, err := r.Read(buf)
		l.mu.Lock()
		l.text.Write(buf[:n])
		l.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (l *syncLines) wait(t *testing.T, line string) {
	t.Helper()
	if !waitFor(10*time.Second, func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return strings.Contains(l.text.String(), line+"\n")
	}) {
		l.mu.Lock()
		defer l.mu.Unlock()
		t.Fatalf("never saw %q; output %q", line, l.text.String())
	}
}
