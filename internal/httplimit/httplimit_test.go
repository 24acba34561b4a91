package httplimit

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

func TestTransport(t *testing.T) {
	const max = 1000
	tests := []struct {
		name      string
		size      int
		length    bool // send Content-Length
		wantError bool
	}{
		{"empty", 0, true, false},
		{"at the limit", max, true, false},
		{"at the limit, chunked", max, false, false},
		{"one over, with length", max + 1, true, true},
		{"one over, chunked", max + 1, false, true},
		{"far over, chunked", 50 * max, false, true},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if tt.length {
				w.Header().Set("Content-Length", strconv.Itoa(tt.size))
			}
			w.Write([]byte(strings.Repeat("x", tt.size)))
			if f, ok := w.(http.Flusher); ok && !tt.length {
				f.Flush()
			}
		}))
		c := &http.Client{Transport: Transport(http.DefaultTransport, max)}
		resp, err := c.Get(srv.URL)
		var n int
		if err == nil {
			var b []byte
			b, err = io.ReadAll(resp.Body)
			n = len(b)
			resp.Body.Close()
		}
		if tt.wantError {
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), srv.Listener.Addr().String()) || n > max {
				t.Errorf("%s: read %d bytes, %v; want ErrTooLarge naming the server, at most %d bytes", tt.name, n, err, max)
			}
		} else if err != nil || n != tt.size {
			t.Errorf("%s: read %d bytes, %v", tt.name, n, err)
		}
		srv.Close()
	}
}
