package awssm

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/ast-cli/ast/pluginsdk"
)

// isolateAWS gives the test the moto credentials and region and hides the machine's own
// AWS configuration (files, profile, endpoint variables, instance metadata).
func isolateAWS(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":                "testing",
		"AWS_SECRET_ACCESS_KEY":            "testing",
		"AWS_SESSION_TOKEN":                "",
		"AWS_REGION":                       "",
		"AWS_DEFAULT_REGION":               "",
		"AWS_PROFILE":                      "",
		"AWS_DEFAULT_PROFILE":              "",
		"AWS_CONFIG_FILE":                  filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE":      filepath.Join(dir, "credentials"),
		"AWS_ENDPOINT_URL":                 "",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": "",
		"AWS_EC2_METADATA_DISABLED":        "true",
		"AWS_MAX_ATTEMPTS":                 "",
		"AWS_RETRY_MODE":                   "",
	} {
		t.Setenv(k, v)
	}
}

// motoEndpoint returns the moto_server endpoint of the integration tests, or skips.
func motoEndpoint(t *testing.T) string {
	t.Helper()
	ep := os.Getenv("AST_TEST_AWS_ENDPOINT")
	if ep == "" {
		t.Skip("AST_TEST_AWS_ENDPOINT is not set: run `make test` (scripts/with-servers starts moto_server), " +
			"or start `moto_server -H 127.0.0.1 -p PORT` and set AST_TEST_AWS_ENDPOINT=http://127.0.0.1:PORT")
	}
	isolateAWS(t)
	return ep
}

var nonAccount = regexp.MustCompile(`[^a-z0-9]+`)

// uniqueAccount returns an account name no other test (nor an earlier run against the
// same moto_server) uses.
func uniqueAccount(t *testing.T) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	base := strings.Trim(nonAccount.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(base) > 40 {
		base = base[:40]
	}
	return base + "-" + hex.EncodeToString(b[:])
}

// configured returns a backend configured for account on moto.
func configured(t *testing.T, endpoint, account string, extra map[string]string, opts ...option) *Backend {
	t.Helper()
	settings := map[string]string{settingEndpoint: endpoint, settingRegion: "us-east-1"}
	for k, v := range extra {
		settings[k] = v
	}
	b := newBackend(append([]option{withLogger(hclog.NewNullLogger())}, opts...)...)
	if err := b.Configure(context.Background(), account, settings); err != nil {
		t.Fatalf("Configure(%q): %v", account, err)
	}
	return b
}

func entry(name string, k pluginsdk.Kind, value string) pluginsdk.Entry {
	return pluginsdk.Entry{Name: name, Kind: k, Value: pluginsdk.NewValue(value)}
}

// putOne writes one entry and returns its per-name outcome; a whole-call error fails the test.
func putOne(t *testing.T, b pluginsdk.Backend, e pluginsdk.Entry, mode pluginsdk.PutMode) (pluginsdk.Entry, error) {
	t.Helper()
	res, err := b.Put(context.Background(), []pluginsdk.Entry{e}, mode)
	if err != nil {
		t.Fatalf("Put(%s, %v): whole call failed: %v", e.Name, mode, err)
	}
	return res[0].Entry, res[0].Err
}

func mustPut(t *testing.T, b pluginsdk.Backend, e pluginsdk.Entry, mode pluginsdk.PutMode) pluginsdk.Entry {
	t.Helper()
	got, err := putOne(t, b, e, mode)
	if err != nil {
		t.Fatalf("Put(%s, %v): %v", e.Name, mode, err)
	}
	return got
}

// getOne returns the value of one entry and its per-name error.
func getOne(t *testing.T, b pluginsdk.Backend, name string) (pluginsdk.Entry, error) {
	t.Helper()
	res, err := b.Get(context.Background(), []string{name})
	if err != nil {
		t.Fatalf("Get(%s): whole call failed: %v", name, err)
	}
	return res[0].Entry, res[0].Err
}

// checkValue compares a value without ever printing it.
func checkValue(t *testing.T, what string, got pluginsdk.Value, want string) {
	t.Helper()
	if got.Reveal() != want {
		t.Errorf("%s: the value differs from the one written (%d bytes, want %d)", what, got.Len(), len(want))
	}
}

func wantCode(t *testing.T, what string, err error, sentinel *pluginsdk.Error) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Errorf("%s: error %v, want %s", what, err, sentinel.Message)
	}
}

func names(entries []pluginsdk.Entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Name
	}
	return out
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// callCounter is an http.RoundTripper that counts the requests of each AWS operation.
type callCounter struct {
	next  http.RoundTripper
	mu    sync.Mutex
	calls map[string]int
}

func countCalls(c *callCounter) option {
	return withTransport(func(rt http.RoundTripper) http.RoundTripper {
		c.next, c.calls = rt, map[string]int{}
		return c
	})
}

func (c *callCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.")
	c.mu.Lock()
	c.calls[op]++
	c.mu.Unlock()
	return c.next.RoundTrip(r)
}

func (c *callCounter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range c.calls {
		out[k] = v
	}
	return out
}

// fakeAWS answers every request itself: respond gets the operation name, the request
// number (from 1) and the request's JSON body and returns an HTTP status and a JSON body.
type fakeAWS struct {
	mu      sync.Mutex
	n       int
	respond func(op string, n int, request string) (int, string)
}

func (f *fakeAWS) RoundTrip(r *http.Request) (*http.Response, error) {
	var request []byte
	if r.Body != nil {
		request, _ = io.ReadAll(r.Body)
		r.Body.Close()
	}
	f.mu.Lock()
	f.n++
	n := f.n
	f.mu.Unlock()
	status, body := f.respond(strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager."), n, string(request))
	return &http.Response{
		StatusCode: status,
		Status:     fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Header:     http.Header{"Content-Type": {"application/x-amz-json-1.1"}},
		Body:       io.NopCloser(strings.NewReader(body)),
		Request:    r,
	}, nil
}

func (f *fakeAWS) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

func awsError(code, msg string) string {
	return fmt.Sprintf(`{"__type":%q,"message":%q}`, code, msg)
}

// logBuffer collects log lines, safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
