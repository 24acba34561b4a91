package hashicorp

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ast-cli/ast/internal/httplimit"
	"github.com/ast-cli/ast/pluginsdk"
)

// TestResponseBodyLimited has a fake Vault answer every request with an endless body and
// checks that the calls fail naming the limit, having sent no more than the limit (plus
// what the connection buffers) per response.
func TestResponseBodyLimited(t *testing.T) {
	var sent, responses atomic.Int64
	chunk := []byte(strings.Repeat("x", 64<<10))
	f := newFakeVault(t, func(w http.ResponseWriter, r *http.Request, _ string) {
		responses.Add(1)
		w.WriteHeader(200)
		w.Write([]byte(`{"data":{"keys":["`))
		var n int64
		for r.Context().Err() == nil && n < 4*httplimit.MaxResponseBytes {
			m, err := w.Write(chunk)
			n += int64(m)
			if err != nil {
				break
			}
		}
		sent.Add(n)
	})
	b := fakeBackend(t, f.URL)
	ctx := context.Background()
	_, listErr := b.List(ctx, pluginsdk.ListOptions{})
	_, getErr := b.Get(ctx, []string{"A"})
	for name, err := range map[string]error{"List": listErr, "Get": getErr} {
		if err == nil || !strings.Contains(err.Error(), "larger than ast reads (32 MiB)") {
			t.Errorf("%s of an endless response: %v, want the limit named", name, err)
		}
	}
	f.Close() // waits for the handlers
	if n := responses.Load(); n == 0 || sent.Load() >= n*4*httplimit.MaxResponseBytes {
		t.Errorf("%d responses, %d bytes sent: a body was read to its end", n, sent.Load())
	}
	t.Logf("limit summary: %d endless responses, %d MiB sent in all", responses.Load(), sent.Load()>>20)
}
