//go:build unix

package cli

import (
	"errors"
	"io"
	"time"

	"golang.org/x/sys/unix"
)

// fdInput reads a terminal's descriptor with poll(2), so that a read gives up after a
// wait (a blocked read could not notice Ctrl-C from another source, or SIGTERM).
type fdInput struct{ fd int }

func (t fdInput) read(wait time.Duration) ([]byte, error) {
	fds := []unix.PollFd{{Fd: int32(t.fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, int(wait/time.Millisecond))
	if errors.Is(err, unix.EINTR) || n == 0 {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 4096)
	m, err := unix.Read(t.fd, buf)
	if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if m == 0 {
		return nil, io.EOF
	}
	return buf[:m], nil
}

// flush discards input the terminal holds that was not read.
func (t fdInput) flush() { flushInput(t.fd) }
