package faults

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/ast-cli/ast/internal/dotenv"
)

// echoStyles are the ways TestCanaryEchoingServer's fake servers put the request body into
// their error message.
var echoStyles = []struct {
	name string
	echo func(body string) string // the message text, before the server JSON-encodes it
}{
	{"raw", func(b string) string { return b }},
	// Python's json.dumps: every non-ASCII rune as \uXXXX; the message is escaped twice.
	{"ascii-escaped", func(b string) string { return strconv.QuoteToASCII(b) }},
	{"cut", func(b string) string {
		if len(b) > 120 {
			return "request: " + b[:120]
		}
		return "request: " + b
	}},
}

// echoServer is a fake Vault or AWS endpoint. It answers reads as the real server would
// for an account holding one secret, S1 (so that update and import get as far as sending a
// value), and every write with status and an error whose message is the request body in
// the given style, in the backend's error format (Vault's {"errors": [...]}, AWS's
// {"__type", "message"}); Go's JSON encoder escapes it once more (\u003c, \").
func echoServer(t *testing.T, backend string, status int, echo func(string) string) string {
	const created = "2026-01-02T03:04:05.123456789Z"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		reply := func(status int, v any) {
			out, _ := json.Marshal(v)
			w.WriteHeader(status)
			_, _ = w.Write(out)
		}
		if backend == "awssm" {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			arn := "arn:aws:secretsmanager:us-east-1:123456789012:secret:ast/echo/S1-AbCdEf"
			version := "ast-v1-s-0123456789abcdef0123456789abcdef"
			switch strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.") {
			case "ListSecrets":
				reply(200, map[string]any{"SecretList": []any{map[string]any{"ARN": arn, "Name": "ast/echo/S1",
					"SecretVersionsToStages": map[string][]string{version: {"AWSCURRENT"}}}}})
				return
			case "DescribeSecret":
				reply(200, map[string]any{"ARN": arn, "Name": "ast/echo/S1",
					"VersionIdsToStages": map[string][]string{version: {"AWSCURRENT"}}})
				return
			case "BatchGetSecretValue":
				reply(200, map[string]any{"SecretValues": []any{map[string]any{
					"ARN": arn, "Name": "ast/echo/S1", "SecretString": "old", "VersionId": version}}, "Errors": []any{}})
				return
			}
			reply(status, map[string]string{"__type": "ValidationException",
				"message": echo(r.Method + " " + r.URL.RequestURI() + " " + string(body))})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/v1/sys/internal/ui/mounts/secret":
			reply(200, map[string]any{"data": map[string]any{"type": "kv", "path": "secret/", "options": map[string]string{"version": "2"}}})
		case r.Method == http.MethodGet && r.URL.Path == "/v1/auth/token/lookup-self":
			reply(200, map[string]any{"data": map[string]any{}})
		case r.Method == http.MethodGet && r.URL.Path == "/v1/secret/metadata/ast/echo" && r.URL.Query().Get("list") == "true":
			reply(200, map[string]any{"data": map[string]any{"keys": []string{"S1"}}})
		case r.Method == http.MethodGet && r.URL.Path == "/v1/secret/metadata/ast/echo/S1":
			reply(200, map[string]any{"data": map[string]any{"created_time": created, "current_version": 1,
				"versions": map[string]any{"1": map[string]any{"created_time": created, "deletion_time": "", "destroyed": false}}}})
		case r.Method == http.MethodGet && r.URL.Path == "/v1/secret/data/ast/echo/S1":
			reply(200, map[string]any{"data": map[string]any{"data": map[string]string{"value": "old", "ast_kind": "secret"},
				"metadata": map[string]any{"version": 1, "created_time": created}}})
		case r.Method == http.MethodGet:
			reply(404, map[string]any{"errors": []string{}})
		default:
			reply(status, map[string][]string{"errors": {echo(r.Method + " " + r.URL.RequestURI() + " " + string(body))}})
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestCanaryEchoingServer (issue 13): a Vault or AWS endpoint (or a proxy in front of it)
// that echoes the request body in its error text, JSON-escaped, must not get a value into
// ast's output, even with AST_LOG=debug: every command that sends a value fails with the
// status and a fixed explanation, and no canary is found in its stdout or stderr.
func TestCanaryEchoingServer(t *testing.T) {
	for _, backend := range []string{"hashicorp", "awssm"} {
		for _, status := range []int{400, 403, 500} {
			for _, style := range echoStyles {
				t.Run(fmt.Sprintf("%s/%d/%s", backend, status, style.name), func(t *testing.T) {
					t.Parallel()
					s := newSandbox(t)
					s.env["AST_LOG"] = "debug"
					url := echoServer(t, backend, status, style.echo)
					a := account{name: "echo", backend: backend}
					if backend == "awssm" {
						a.settings = map[string]string{"endpoint": url, "region": "us-east-1"}
						s.setAWSCredentials()
					} else {
						a.settings = map[string]string{"address": url}
						s.env["VAULT_TOKEN"] = "echo-token-" + randHex(8)
					}
					s.addAccounts(a)
					l := &leakScan{t: t}
					c1, c2, c3 := l.add(newCanary(1)), l.add(newCanary(2)), l.add(newCanary(3))
					runs := []result{
						s.runWith(runOpts{stdin: []byte(c1.value)}, "secrets", "create", "S1"),
						s.runWith(runOpts{}, "secrets", "create", "S2", "--plain", "--value", c2.value),
						s.runWith(runOpts{stdin: []byte(c3.value)}, "secrets", "update", "S1"),
						s.runWith(runOpts{stdin: []byte("I1=" + dotenv.Quote(c3.value) + "\n")}, "secrets", "import", "--file", "-", "--overwrite"),
					}
					for _, r := range runs {
						if r.code == 0 {
							t.Errorf("ast %s succeeded against a server that fails every request", strings.Join(shortArgs(r.args), " "))
						}
						l.output(r)
					}
					if len(l.hits) > 0 {
						t.Logf("stderr of the first command:\n%s", redact(runs[0], l.canaries).stderr)
					}
				})
			}
		}
	}
}
