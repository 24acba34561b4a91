package cli

import (
	"bytes"
	"context"
	"io"
)

// readAllContext reads r to its end, at most limit+1 bytes (so that a caller can tell
// "too large"), and gives up when ctx ends: a read blocked on an idle pipe, a FIFO or a
// terminal does not hold ast past Ctrl-C or SIGTERM (the blocked read is abandoned; ast
// exits right after). Errors: ctx's error (the cause names the signal), or the read's.
func readAllContext(ctx context.Context, r io.Reader, limit int64) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	got := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(io.LimitReader(r, limit+1))
		got <- result{b, err}
	}()
	select {
	case res := <-got:
		return res.b, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// openContext is open(path) that gives up when ctx ends: opening a FIFO blocks until a
// writer opens it, which may be never.
func openContext(ctx context.Context, open func(string) (io.ReadCloser, error), path string) (io.ReadCloser, error) {
	type result struct {
		f   io.ReadCloser
		err error
	}
	got := make(chan result, 1)
	go func() {
		f, err := open(path)
		got <- result{f, err}
	}()
	select {
	case res := <-got:
		return res.f, res.err
	case <-ctx.Done():
		go func() { // close what the abandoned open returns, if it ever does
			if res := <-got; res.err == nil {
				res.f.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// trimSingleLine applies the stdin rule of `secrets create/update/set`: input of one line
// loses its line ending ("value\n" and "value\r\n" are "value", as `echo value |` gives);
// input of several lines (a PEM key, a JSON document) is kept byte for byte, trailing
// newline included. --value-file is always byte-exact.
func trimSingleLine(b []byte) []byte {
	line, ok := bytes.CutSuffix(b, []byte("\n"))
	if !ok {
		return b
	}
	line, _ = bytes.CutSuffix(line, []byte("\r"))
	if bytes.ContainsAny(line, "\r\n") {
		return b
	}
	return line
}
