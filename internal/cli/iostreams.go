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
	// readHidden reads one line from the terminal without echo; saveTerminal returns a
	// function that puts the terminal back as it was.
	readHidden   func() ([]byte, error)
	saveTerminal func() (restore func())
}

// System returns the process's streams.
func System() *IOStreams {
	inFd := int(os.Stdin.Fd())
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		InTTY:      term.IsTerminal(inFd),
		OutTTY:     term.IsTerminal(int(os.Stdout.Fd())),
		readHidden: func() ([]byte, error) { return term.ReadPassword(inFd) },
		saveTerminal: func() func() {
			st, err := term.GetState(inFd)
			if err != nil {
				return func() {}
			}
			return func() { _ = term.Restore(inFd, st) }
		},
	}
}

// Test returns streams over buffers: stdin reads in, stdout and stderr are returned.
// A test that sets InTTY answers prompts from in, line by line.
func Test(in string) (*IOStreams, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	r := bufio.NewReader(bytes.NewBufferString(in))
	ios := &IOStreams{In: r, Out: out, ErrOut: errOut, saveTerminal: func() func() { return func() {} }}
	ios.readHidden = func() ([]byte, error) {
		line, err := r.ReadString('\n')
		if err != nil && line == "" {
			return nil, err
		}
		return bytes.TrimRight([]byte(line), "\r\n"), nil
	}
	return ios, out, errOut
}

// errCancelled is returned when the user ends a prompt with Ctrl-D or Ctrl-C.
var errCancelled = errors.New("cancelled")

// PromptHidden prints prompt on stderr and reads one line from the terminal without
// echoing it. It is only for terminals (InTTY). Ctrl-D, and Ctrl-C (which cancels ctx),
// return errCancelled with the terminal's echo restored.
func (s *IOStreams) PromptHidden(ctx context.Context, prompt string) (string, error) {
	fmt.Fprint(s.ErrOut, prompt)
	type line struct {
		b   []byte
		err error
	}
	restore := s.saveTerminal()
	got := make(chan line, 1)
	go func() {
		b, err := s.readHidden()
		got <- line{b, err}
	}()
	var l line
	select {
	case l = <-got:
	case <-ctx.Done():
		// The reading goroutine stays blocked until ast exits; the terminal gets its
		// echo back now.
		restore()
		fmt.Fprintln(s.ErrOut)
		return "", errCancelled
	}
	fmt.Fprintln(s.ErrOut)
	if l.err != nil {
		if errors.Is(l.err, io.EOF) {
			return "", errCancelled
		}
		return "", l.err
	}
	return string(l.b), nil
}
