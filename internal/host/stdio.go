package host

import (
	"bytes"
	"io"
	"sync"
)

// pluginOutput returns where go-plugin copies what a plugin writes to os.Stderr (or
// os.Stdout) after Serve began: pluginsdk.Serve redirects both into a stream to the host,
// so a logger made after Serve, a fmt.Fprintln(os.Stderr, …) during a call or a library's
// own stderr chatter arrives here, not on the plugin's original stderr. With Debug
// (AST_LOG=debug) each line goes to opts.Stderr prefixed with the backend's name and the
// stream; without it, nowhere, as every plugin line below a warning.
func pluginOutput(backend, stream string, opts Options) io.Writer {
	if !opts.Debug || opts.Stderr == nil {
		return io.Discard
	}
	return &linePrefixer{w: opts.Stderr, prefix: []byte(backend + " (" + stream + "): ")}
}

// linePrefixer writes whole lines to w, each after prefix; a last line without a newline
// waits for the next write.
type linePrefixer struct {
	mu      sync.Mutex
	w       io.Writer
	prefix  []byte
	pending []byte
}

func (l *linePrefixer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = append(l.pending, p...)
	for {
		i := bytes.IndexByte(l.pending, '\n')
		if i < 0 {
			break
		}
		line := append(append([]byte{}, l.prefix...), l.pending[:i+1]...)
		l.pending = l.pending[i+1:]
		if _, err := l.w.Write(line); err != nil {
			return len(p), nil // the plugin's output is best effort; never fail its stream
		}
	}
	return len(p), nil
}
