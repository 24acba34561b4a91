package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams is the terminal a command talks to. Commands never touch os.Stdin, os.Stdout
// or os.Stderr: tests build an IOStreams over buffers and flip the TTY flags.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// InTTY and OutTTY say whether stdin and stdout are terminals: prompts need the
	// first, tables the second.
	InTTY  bool
	OutTTY bool
	// ErrTTY says whether stderr is a terminal: progress displays need it.
	ErrTTY bool
	// prompt asks on the terminal and returns the answer (see Prompt).
	prompt func(ctx context.Context, question string, visible bool) ([]byte, error)
}

// System returns the process's streams.
func System() *IOStreams {
	inFd := int(os.Stdin.Fd())
	s := &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		InTTY:  term.IsTerminal(inFd),
		OutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		ErrTTY: term.IsTerminal(int(os.Stderr.Fd())),
	}
	s.prompt = func(ctx context.Context, question string, visible bool) ([]byte, error) {
		// Echo and terminal controls go to the terminal itself, whatever stderr is.
		tty := io.Writer(s.ErrOut)
		if f, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
			defer f.Close()
			tty = f
		}
		st, err := term.MakeRaw(inFd)
		if err != nil {
			return nil, fmt.Errorf("reading from the terminal: %w", err)
		}
		// When stderr is the terminal, paste mode and the question go out in one write, so a
		// reader of the screen never sees one without the other.
		if s.ErrTTY {
			io.WriteString(s.ErrOut, pasteOn+question)
		} else {
			fmt.Fprint(tty, pasteOn)
			fmt.Fprint(s.ErrOut, question)
		}
		echo := &pasteEnder{w: tty}
		defer func() {
			echo.end()
			_ = term.Restore(inFd, st)
		}()
		return readAnswer(ctx, fdInput{inFd}, echo, visible)
	}
	return s
}

// Test returns streams over buffers: stdin reads in, stdout and stderr are returned.
// A test that sets InTTY answers prompts from in, line by line.
func Test(in string) (*IOStreams, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	r := bufio.NewReader(bytes.NewBufferString(in))
	ios := &IOStreams{In: r, Out: out, ErrOut: errOut}
	ios.prompt = func(_ context.Context, question string, _ bool) ([]byte, error) {
		fmt.Fprint(errOut, question)
		line, err := r.ReadString('\n')
		if err != nil && line == "" {
			return nil, errCancelled
		}
		return bytes.TrimRight([]byte(line), "\r\n"), nil
	}
	return ios, out, errOut
}

// errCancelled is returned when the user ends a prompt with Ctrl-D or Ctrl-C.
var errCancelled = errors.New("cancelled")

// Prompt prints question on the terminal and reads one answer, hidden (no echo) unless
// visible. The terminal is in raw mode meanwhile: a bracketed paste is taken whole
// (several lines included); an unbracketed paste of several lines is drained and refused
// (errMultiLinePaste); Ctrl-C and Ctrl-D on an empty line return errCancelled, and so
// does ctx ending (its error). It is only for terminals (InTTY).
func (s *IOStreams) Prompt(ctx context.Context, question string, visible bool) ([]byte, error) {
	return s.prompt(ctx, question, visible)
}

// pasteEnder is the prompt's echo: it turns bracketed paste off before the newline that
// ends the answer, so the prompt's line ends with that newline and nothing trails it
// (a program reading the screen sees a finished line, not a dangling escape).
type pasteEnder struct {
	w   io.Writer
	off bool
}

func (e *pasteEnder) Write(p []byte) (int, error) {
	if !e.off && string(p) == "\r\n" {
		// One write: a reader of the terminal must never see the escape without its newline.
		e.off = true
		if _, err := io.WriteString(e.w, pasteOff+"\r\n"); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return e.w.Write(p)
}

func (e *pasteEnder) end() {
	if !e.off {
		e.off = true
		fmt.Fprint(e.w, pasteOff)
	}
}
