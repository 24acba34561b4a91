package awssm

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ast-cli/ast/internal/httplimit"
	"github.com/ast-cli/ast/pluginsdk"
)

// endless is a response body that never ends: '{"SecretList":[{"Name":"' and then x
// forever. It counts what was read from it.
type endless struct {
	head string
	read int64
}

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if int(e.read) < len(e.head) {
			p[n] = e.head[e.read]
		} else {
			p[n] = 'x'
		}
		n++
		e.read++
	}
	return n, nil
}

func (e *endless) Close() error { return nil }

// TestResponseBodyLimited has the "server" answer every call with an endless body and
// checks that each call fails naming the limit, and that no response was read past it.
func TestResponseBodyLimited(t *testing.T) {
	var mu sync.Mutex
	var bodies []*endless
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		b := &endless{head: `{"SecretList":[{"Name":"`}
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		return &http.Response{StatusCode: 200, Status: "200 OK", ContentLength: -1,
			Header: http.Header{"Content-Type": {"application/x-amz-json-1.1"}}, Body: b, Request: r}, nil
	})
	isolateAWS(t)
	b := newBackend(withTransport(func(http.RoundTripper) http.RoundTripper { return rt }))
	if err := b.Configure(context.Background(), "dev", map[string]string{"region": "us-east-1"}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, listErr := b.List(ctx, pluginsdk.ListOptions{})
	_, getErr := b.Get(ctx, []string{"A"})
	for name, err := range map[string]error{"List": listErr, "Get": getErr} {
		if err == nil || !strings.Contains(err.Error(), "larger than ast reads (32 MiB)") {
			t.Errorf("%s of an endless response: %v, want the limit named", name, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i, body := range bodies {
		if body.read > httplimit.MaxResponseBytes+1<<20 {
			t.Errorf("response %d: %d bytes read, past the limit", i, body.read)
		}
	}
	t.Logf("limit summary: %d endless responses, each read to at most the limit", len(bodies))
}
