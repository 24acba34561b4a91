package host

import (
	"bytes"
	"io"
	"sync"
	"time"

	"github.com/ast-cli/ast/internal/termtext"
)

// pluginOutput returns where go-plugin copies what a plugin writes to os.Stderr (or
// os.Stdout) after Serve began: pluginsdk.Serve redirects both into a stream to the host,
// so a logger made after Serve, a fmt.Fprintln(os.Stderr, …) during a call or a library's
// own stderr chatter arrives here, not on the plugin's original stderr. With Debug
// (AST_LOG=debug) each line goes to opts.Stderr prefixed with the backend's name and the
// stream, control characters escaped; without it, nowhere, as every plugin line below a
// warning.
func pluginOutput(backend, stream string, opts Options) *linePrefixer {
	if !opts.Debug || opts.Stderr == nil {
		return &linePrefixer{w: io.Discard}
	}
	return &linePrefixer{w: opts.Stderr, prefix: []byte(backend + " (" + stream + "): "), debug: true}
}

// drainQuiet and drainMost bound how long Close waits, with AST_LOG=debug, for a plugin's
// last output: go-plugin relays it asynchronously, so a line written just before a call
// returned may still be on its way when the command ends.
const (
	drainQuiet = 50 * time.Millisecond
	drainMost  = 300 * time.Millisecond
)

// drain waits, if the output is shown at all, until nothing arrived for drainQuiet (so at
// least drainQuiet), at most drainMost.
func (l *linePrefixer) drain() {
	if !l.debug {
		return
	}
	start := time.Now()
	deadline := start.Add(drainMost)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		quiet := time.Since(l.last)
		l.mu.Unlock()
		quiet = min(quiet, time.Since(start))
		if quiet >= drainQuiet {
			return
		}
		time.Sleep(drainQuiet - quiet)
	}
}

// linePrefixer writes whole lines to w, each after prefix; a last line without a newline
// waits for the next write.
type linePrefixer struct {
	mu      sync.Mutex
	w       io.Writer
	prefix  []byte
	pending []byte
	debug   bool      // the output is shown
	last    time.Time // when the last write came
}

func (l *linePrefixer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last = time.Now()
	l.pending = append(l.pending, p...)
	for {
		i := bytes.IndexByte(l.pending, '\n')
		if i < 0 {
			break
		}
		// Escaped: a plugin's output is text from outside, and reaches a terminal.
		line := append(append(append([]byte{}, l.prefix...), termtext.Line(string(l.pending[:i]))...), '\n')
		l.pending = l.pending[i+1:]
		if _, err := l.w.Write(line); err != nil {
			return len(p), nil // the plugin's output is best effort; never fail its stream
		}
	}
	return len(p), nil
}
