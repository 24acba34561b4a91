// Package httplimit bounds how much of a server's response a backend plugin reads, so
// that a server (or anything between) that streams an endless or huge body makes the
// call fail with a clear error instead of making the plugin allocate without end.
//
// MaxResponseBytes is 32 MiB, picked from the largest answer a backend legitimately gets:
// a Vault KV read holds one value of at most 64 KiB (JSON-escaped, at most 6 x 64 KiB =
// 384 KiB) plus metadata; a Vault LIST of an account of 10,000 names of at most 128 bytes
// is about 1.4 MB; an AWS BatchGetSecretValue returns at most 20 values, 20 x 384 KiB =
// 7.5 MiB escaped; a ListSecrets page holds 100 secrets' metadata and tags (well under
// 1 MiB). 32 MiB is four times the largest of these.
//
// The package is a leaf: the net/http standard library only, so the plugins that use it
// gain no dependency on ast's core.
package httplimit

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

// MaxResponseBytes is the largest response body a plugin reads: 32 MiB (see the package
// doc for why).
const MaxResponseBytes = 32 << 20

// ErrTooLarge is the error of a read past the limit (wrapped, with the server's address
// and the limit).
var ErrTooLarge = errors.New("the server's response is larger than ast reads")

// Transport returns rt with every response body limited to max bytes: a response whose
// Content-Length says more fails at once (its body closed unread), and a body that turns
// out longer fails the read that passes the limit with ErrTooLarge. max <= 0 means
// MaxResponseBytes.
func Transport(rt http.RoundTripper, max int64) http.RoundTripper {
	if max <= 0 {
		max = MaxResponseBytes
	}
	return limited{rt: rt, max: max}
}

type limited struct {
	rt  http.RoundTripper
	max int64
}

func (l limited) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.rt.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	if resp.ContentLength > l.max {
		resp.Body.Close()
		return nil, l.tooLarge(req)
	}
	resp.Body = &body{ReadCloser: resp.Body, left: l.max, err: l.tooLarge(req)}
	return resp, nil
}

func (l limited) tooLarge(req *http.Request) error {
	return fmt.Errorf("%w (%d MiB) from %s://%s", ErrTooLarge, l.max>>20, req.URL.Scheme, req.URL.Host)
}

// Unwrap gives the wrapped transport to code that looks for it (http2 configuration,
// CloseIdleConnections).
func (l limited) Unwrap() http.RoundTripper { return l.rt }

// CloseIdleConnections passes on to the wrapped transport, as http.Client expects.
func (l limited) CloseIdleConnections() {
	if c, ok := l.rt.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

type body struct {
	io.ReadCloser
	left int64 // bytes that may still be read
	err  error
}

func (b *body) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, b.err
	}
	// Read one byte more than allowed, to tell "exactly the limit" from "more".
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n - int(-b.left), b.err
	}
	return n, err
}
