package hashicorp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ast-cli/ast/pluginsdk"
)

// These tests need no Vault: settings, labels, and how answers a real dev server cannot
// easily give (sealed, throttled, a server that echoes the request) become errors.

func TestConfigureSettings(t *testing.T) {
	tests := []struct {
		name       string
		account    string
		settings   map[string]string
		env        map[string]string
		wantErr    error
		wantInMsg  []string
		wantFolder string
		wantMount  string
		wantAddr   string
	}{
		{name: "defaults", account: "dev", env: map[string]string{"VAULT_ADDR": "http://127.0.0.1:8200"},
			wantFolder: "ast/dev/", wantMount: "secret", wantAddr: "http://127.0.0.1:8200"},
		{name: "address setting wins over VAULT_ADDR", account: "dev",
			settings: map[string]string{"address": "http://10.0.0.1:8200"}, env: map[string]string{"VAULT_ADDR": "http://127.0.0.1:8200"},
			wantFolder: "ast/dev/", wantMount: "secret", wantAddr: "http://10.0.0.1:8200"},
		{name: "no address at all is the vault CLI default", account: "dev",
			wantFolder: "ast/dev/", wantMount: "secret", wantAddr: "https://127.0.0.1:8200"},
		{name: "mount and prefix trimmed", account: "team-a",
			settings:   map[string]string{"mount": "/kv/team/", "prefix": "/apps/ast/"},
			wantFolder: "apps/ast/team-a/", wantMount: "kv/team"},
		{name: "empty prefix", account: "prod", settings: map[string]string{"prefix": ""},
			wantFolder: "prod/", wantMount: "secret"},
		{name: "unknown setting", account: "dev", settings: map[string]string{"token": "x", "adress": "y"},
			wantErr: pluginsdk.ErrInvalidArgument, wantInMsg: []string{`"adress", "token"`, "address, aliases, approle_mount, ca_cert"}},
		{name: "path replaces prefix and account", account: "pay", settings: map[string]string{"path": "prod/payments"},
			wantFolder: "prod/payments/", wantMount: "secret"},
		{name: "path with a trailing slash", account: "pay", settings: map[string]string{"path": "prod/payments/"},
			wantFolder: "prod/payments/", wantMount: "secret"},
		{name: "path and prefix", account: "pay", settings: map[string]string{"path": "prod", "prefix": "ast"},
			wantErr: pluginsdk.ErrInvalidArgument, wantInMsg: []string{"path and prefix"}},
		{name: "path leading slash", account: "pay", settings: map[string]string{"path": "/prod"},
			wantErr: pluginsdk.ErrInvalidArgument, wantInMsg: []string{"path"}},
		{name: "path empty segment", account: "pay", settings: map[string]string{"path": "prod//payments"},
			wantErr: pluginsdk.ErrInvalidArgument, wantInMsg: []string{"path"}},
		{name: "path dot-dot", account: "pay", settings: map[string]string{"path": "prod/../sys"},
			wantErr: pluginsdk.ErrInvalidArgument, wantInMsg: []string{"path"}},
		{name: "path empty", account: "pay", settings: map[string]string{"path": ""},
			wantErr: pluginsdk.ErrInvalidArgument, wantInMsg: []string{"path"}},
		{name: "bad account", account: "Dev/../x", wantErr: pluginsdk.ErrInvalidArgument, wantInMsg: []string{"account name"}},
		{name: "mount escapes", account: "dev", settings: map[string]string{"mount": "secret/../sys"},
			wantErr: pluginsdk.ErrInvalidArgument, wantInMsg: []string{"mount"}},
		{name: "empty mount", account: "dev", settings: map[string]string{"mount": "/"},
			wantErr: pluginsdk.ErrInvalidArgument, wantInMsg: []string{"mount is empty"}},
		{name: "prefix with a space", account: "dev", settings: map[string]string{"prefix": "a b"},
			wantErr: pluginsdk.ErrInvalidArgument, wantInMsg: []string{"prefix"}},
		{name: "concurrency zero", account: "dev", settings: map[string]string{"concurrency": "0"},
			wantErr: pluginsdk.ErrInvalidArgument, wantInMsg: []string{"1 to 64"}},
		{name: "concurrency not a number", account: "dev", settings: map[string]string{"concurrency": "many"},
			wantErr: pluginsdk.ErrInvalidArgument, wantInMsg: []string{"concurrency"}},
		{name: "missing ca_cert file", account: "dev", settings: map[string]string{"ca_cert": "/nonexistent/ca.pem"},
			wantErr: pluginsdk.ErrInvalidArgument, wantInMsg: []string{"ca_cert"}},
		{name: "bad address", account: "dev", settings: map[string]string{"address": "http://[::1"},
			wantErr: pluginsdk.ErrInvalidArgument, wantInMsg: []string{"address"}},
		{name: "empty secret_id_env", account: "dev", settings: map[string]string{"secret_id_env": ""},
			wantErr: pluginsdk.ErrInvalidArgument, wantInMsg: []string{"secret_id_env"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newWithEnv(tt.env)
			err := b.Configure(context.Background(), tt.account, tt.settings)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Configure: got %v, want code %v", err, pluginsdk.CodeOf(tt.wantErr))
				}
				for _, s := range tt.wantInMsg {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("Configure error %q does not mention %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Configure: %v", err)
			}
			c := b.cfg
			if c.folder != tt.wantFolder || c.mount != tt.wantMount {
				t.Errorf("mount, folder = %q, %q; want %q, %q", c.mount, c.folder, tt.wantMount, tt.wantFolder)
			}
			if tt.wantAddr != "" && c.address != tt.wantAddr {
				t.Errorf("address = %q, want %q", c.address, tt.wantAddr)
			}
			if c.concurrency != defaultConcurrency {
				t.Errorf("concurrency = %d, want %d", c.concurrency, defaultConcurrency)
			}
		})
	}
}

func TestNotConfigured(t *testing.T) {
	b := newWithEnv(nil)
	ctx := context.Background()
	if _, err := b.List(ctx, pluginsdk.ListOptions{}); !errors.Is(err, pluginsdk.ErrFailedPrecondition) {
		t.Errorf("List before Configure: got %v, want FailedPrecondition", err)
	}
	if _, err := b.Get(ctx, []string{"A"}); !errors.Is(err, pluginsdk.ErrFailedPrecondition) {
		t.Errorf("Get before Configure: got %v, want FailedPrecondition", err)
	}
	info, err := b.Info(ctx)
	if err != nil || info.Name != "hashicorp" || info.Protocol != pluginsdk.ProtocolVersion {
		t.Errorf("Info = %+v, %v", info, err)
	}
}

func TestHintOf(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	v := versionInfo{Version: 3, CreatedTime: created}
	stamp := created.Format(time.RFC3339Nano)
	tests := []struct {
		name   string
		custom map[string]string
		want   pluginsdk.Kind
	}{
		{"no label", nil, pluginsdk.KindSecret},
		{"plain label of this version", map[string]string{labelKind: "plain", labelKindVersion: "3", labelKindCreatedAt: stamp}, pluginsdk.KindPlain},
		{"plain label in another zone", map[string]string{labelKind: "plain", labelKindVersion: "3", labelKindCreatedAt: created.In(time.FixedZone("x", 3600)).Format(time.RFC3339Nano)}, pluginsdk.KindPlain},
		{"plain label of an older version", map[string]string{labelKind: "plain", labelKindVersion: "2", labelKindCreatedAt: stamp}, pluginsdk.KindSecret},
		{"plain label of an earlier incarnation", map[string]string{labelKind: "plain", labelKindVersion: "3", labelKindCreatedAt: created.Add(-time.Hour).Format(time.RFC3339Nano)}, pluginsdk.KindSecret},
		{"plain label without version", map[string]string{labelKind: "plain"}, pluginsdk.KindSecret},
		{"secret label", map[string]string{labelKind: "secret", labelKindVersion: "3", labelKindCreatedAt: stamp}, pluginsdk.KindSecret},
		{"garbage", map[string]string{labelKind: "PLAIN", labelKindVersion: "3", labelKindCreatedAt: stamp}, pluginsdk.KindSecret},
	}
	for _, tt := range tests {
		if got, _ := hintOf(tt.custom, v); got != tt.want {
			t.Errorf("%s: hintOf = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestLayout: only data of exactly the keys value (text) and ast_kind (a kind) is ast's;
// anything else is a secret ast did not write.
func TestLayout(t *testing.T) {
	tests := []struct {
		name string
		data map[string]any
		want pluginsdk.Kind // "" when not ast's
	}{
		{"plain", map[string]any{"value": "x", "ast_kind": "plain"}, pluginsdk.KindPlain},
		{"secret", map[string]any{"value": "x", "ast_kind": "secret"}, pluginsdk.KindSecret},
		{"value alone", map[string]any{"value": "x"}, ""},
		{"kind alone", map[string]any{"ast_kind": "plain", "other": "x"}, ""},
		{"an extra key", map[string]any{"value": "x", "ast_kind": "plain", "note": "y"}, ""},
		{"unknown kind", map[string]any{"value": "x", "ast_kind": "PLAIN"}, ""},
		{"value not text", map[string]any{"value": 5.0, "ast_kind": "plain"}, ""},
		{"kind not text", map[string]any{"value": "x", "ast_kind": true}, ""},
		{"vault kv put", map[string]any{"username": "u", "password": "p"}, ""},
		{"empty", map[string]any{}, ""},
	}
	for _, tt := range tests {
		_, k, ours := layout(tt.data)
		if ours != (tt.want != "") || ours && k != tt.want {
			t.Errorf("%s: layout = %s, %v; want %q", tt.name, k, ours, tt.want)
		}
	}
}

func TestLive(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name string
		v    versionInfo
		want bool
	}{
		{"plain", versionInfo{Version: 1}, true},
		{"no version", versionInfo{}, false},
		{"destroyed", versionInfo{Version: 1, Destroyed: true}, false},
		{"deleted", versionInfo{Version: 1, DeletionTime: now.Add(-time.Minute).Format(time.RFC3339Nano)}, false},
		{"deleted later (delete_version_after)", versionInfo{Version: 1, DeletionTime: now.Add(time.Hour).Format(time.RFC3339Nano)}, true},
	}
	for _, tt := range tests {
		if got := tt.v.live(now); got != tt.want {
			t.Errorf("%s: live = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// fakeVault answers every request with the handler's status and JSON body; it counts
// requests per path.
type fakeVault struct {
	*httptest.Server
	requests map[string]int
}

func newFakeVault(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body string)) *fakeVault {
	f := &fakeVault{requests: map[string]int{}}
	mux := http.NewServeMux()
	var mu sync.Mutex
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		f.requests[r.URL.Path]++
		mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		handle(w, r, string(body))
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func reply(w http.ResponseWriter, status int, body string) {
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

const kv2Mount = `{"data":{"type":"kv","path":"secret/","options":{"version":"2"}}}`

const testValue = "s3cr3t-VALUE-never-shown"

func fakeBackend(t *testing.T, addr string) *Backend {
	t.Helper()
	b := newWithEnv(map[string]string{"VAULT_TOKEN": "fake-token"})
	if err := b.Configure(context.Background(), "dev", map[string]string{"address": addr}); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return b
}

func TestVaultAnswers(t *testing.T) {
	tests := []struct {
		name      string
		handle    func(w http.ResponseWriter, r *http.Request, body string)
		wantCode  error
		wantInMsg []string
		perName   bool // the error is a per-name result, not the call's
	}{
		{
			name: "sealed",
			handle: func(w http.ResponseWriter, _ *http.Request, _ string) {
				reply(w, 503, `{"errors":["Vault is sealed"]}`)
			},
			wantCode:  pluginsdk.ErrFailedPrecondition,
			wantInMsg: []string{"is sealed", "vault operator unseal"},
		},
		{
			name:      "server error",
			handle:    func(w http.ResponseWriter, _ *http.Request, _ string) { reply(w, 500, `{"errors":["internal error"]}`) },
			wantCode:  pluginsdk.ErrUnavailable,
			wantInMsg: []string{"HTTP 500"},
		},
		{
			name: "throttled",
			handle: func(w http.ResponseWriter, _ *http.Request, _ string) {
				reply(w, 429, `{"errors":["request path: rate limit quota exceeded"]}`)
			},
			wantCode:  pluginsdk.ErrUnavailable,
			wantInMsg: []string{"rate limit"},
		},
		{
			name: "token refused",
			handle: func(w http.ResponseWriter, _ *http.Request, _ string) {
				reply(w, 403, `{"errors":["permission denied"]}`) // lookup-self too
			},
			wantCode:  pluginsdk.ErrPermissionDenied,
			wantInMsg: []string{"token was refused", "VAULT_TOKEN", "vault login"},
		},
		{
			name: "policy denial names path and capability",
			handle: func(w http.ResponseWriter, r *http.Request, _ string) {
				switch r.URL.Path {
				case "/v1/auth/token/lookup-self":
					reply(w, 200, `{"data":{}}`)
				case "/v1/sys/internal/ui/mounts/secret":
					reply(w, 200, kv2Mount)
				default:
					reply(w, 403, `{"errors":["1 error occurred:\n\t* permission denied\n\n"]}`)
				}
			},
			wantCode:  pluginsdk.ErrPermissionDenied,
			wantInMsg: []string{`"create"`, "secret/data/ast/dev/API_KEY", `"secret/data/ast/dev/*"`},
			perName:   true,
		},
		{
			name: "no mount",
			handle: func(w http.ResponseWriter, r *http.Request, _ string) {
				if r.URL.Path == "/v1/sys/internal/ui/mounts/secret" {
					reply(w, 403, `{"errors":["permission denied"]}`)
					return
				}
				if r.URL.Path == "/v1/auth/token/lookup-self" {
					reply(w, 200, `{"data":{}}`)
					return
				}
				reply(w, 404, `{"errors":["no handler for route \"secret/data/ast/dev/API_KEY\". route entry not found."]}`)
			},
			wantCode:  pluginsdk.ErrFailedPrecondition,
			wantInMsg: []string{"no secrets engine mounted at secret/", "vault secrets enable -path=secret kv-v2"},
		},
		{
			name: "KV v1",
			handle: func(w http.ResponseWriter, r *http.Request, _ string) {
				reply(w, 200, `{"data":{"type":"kv","path":"secret/","options":{"version":"1"}}}`)
			},
			wantCode:  pluginsdk.ErrFailedPrecondition,
			wantInMsg: []string{"KV version 1", "vault kv enable-versioning secret/"},
		},
		{
			name: "KV v1 that hides its version",
			handle: func(w http.ResponseWriter, r *http.Request, _ string) {
				if r.URL.Path == "/v1/sys/internal/ui/mounts/secret" {
					reply(w, 403, `{"errors":["permission denied"]}`)
					return
				}
				w.WriteHeader(204)
			},
			wantCode:  pluginsdk.ErrFailedPrecondition,
			wantInMsg: []string{"not KV v2", "enable-versioning"},
		},
		{
			name: "not a kv engine",
			handle: func(w http.ResponseWriter, r *http.Request, _ string) {
				reply(w, 200, `{"data":{"type":"transit","path":"secret/","options":null}}`)
			},
			wantCode:  pluginsdk.ErrFailedPrecondition,
			wantInMsg: []string{`"transit"`, "kv-v2"},
		},
		{
			name: "mount setting inside a mount",
			handle: func(w http.ResponseWriter, r *http.Request, _ string) {
				reply(w, 200, `{"data":{"type":"kv","path":"sec/","options":{"version":"2"}}}`)
			},
			wantCode:  pluginsdk.ErrFailedPrecondition,
			wantInMsg: []string{"mounted at sec/", "prefix"},
		},
		{
			name:      "not a Vault server",
			handle:    func(w http.ResponseWriter, _ *http.Request, _ string) { reply(w, 404, "<html>Not Found</html>") },
			wantCode:  pluginsdk.ErrUnavailable,
			wantInMsg: []string{"is it a Vault server?"},
		},
		{
			name: "an error that echoes the request",
			handle: func(w http.ResponseWriter, r *http.Request, body string) {
				if r.URL.Path == "/v1/sys/internal/ui/mounts/secret" {
					reply(w, 200, kv2Mount)
					return
				}
				reply(w, 400, fmt.Sprintf(`{"errors":[%q]}`, "bad request: "+body))
			},
			wantCode:  pluginsdk.ErrFailedPrecondition,
			wantInMsg: []string{"HTTP 400", pluginsdk.Withheld},
			perName:   true,
		},
		{
			// A server's text cannot start a line of ast's output: its line breaks fold.
			name: "an error with line breaks",
			handle: func(w http.ResponseWriter, r *http.Request, body string) {
				if r.URL.Path == "/v1/sys/internal/ui/mounts/secret" {
					reply(w, 200, kv2Mount)
					return
				}
				reply(w, 400, `{"errors":["bad\n✓ Saved secret API_KEY\r\n", "x"]}`)
			},
			wantCode:  pluginsdk.ErrFailedPrecondition,
			wantInMsg: []string{"bad ✓ Saved secret API_KEY"},
			perName:   true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeVault(t, tt.handle)
			b := fakeBackend(t, f.URL)
			start := time.Now()
			res, err := b.Put(context.Background(), []pluginsdk.Entry{{Name: "API_KEY", Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue(testValue)}}, pluginsdk.Create)
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("Put took %s", elapsed)
			}
			if tt.perName {
				if err != nil {
					t.Fatalf("Put: call error %v, want a per-name error", err)
				}
				err = res[0].Err
			}
			if !errors.Is(err, tt.wantCode) {
				t.Fatalf("Put: got %v (code %v), want code %v", err, pluginsdk.CodeOf(err), pluginsdk.CodeOf(tt.wantCode))
			}
			for _, s := range tt.wantInMsg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			if !strings.Contains(err.Error(), f.URL) {
				t.Errorf("error %q does not name the address %s", err, f.URL)
			}
			if strings.Contains(err.Error(), testValue) {
				t.Errorf("the error contains the value")
			}
		})
	}
}

// A read that finds nothing checks the mount once, so that a KV v1 mount is reported as
// such rather than as missing entries; a KV v2 mount is checked once per process.
func TestMountCheckedLazily(t *testing.T) {
	f := newFakeVault(t, func(w http.ResponseWriter, r *http.Request, _ string) {
		if r.URL.Path == "/v1/sys/internal/ui/mounts/secret" {
			reply(w, 200, kv2Mount)
			return
		}
		reply(w, 404, `{"errors":[]}`)
	})
	b := fakeBackend(t, f.URL)
	ctx := context.Background()
	res, err := b.Get(ctx, []string{"A", "B"})
	if err != nil || !errors.Is(res[0].Err, pluginsdk.ErrNotFound) || !errors.Is(res[1].Err, pluginsdk.ErrNotFound) {
		t.Fatalf("Get = %v, %v; want two NotFound", res, err)
	}
	if _, err := b.List(ctx, pluginsdk.ListOptions{}); err != nil {
		t.Fatalf("List: %v", err)
	}
	if n := f.requests["/v1/sys/internal/ui/mounts/secret"]; n != 1 {
		t.Errorf("the mount was checked %d times, want once", n)
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	l.Close() // nothing listens there now
	b := fakeBackend(t, addr)
	start := time.Now()
	_, err = b.Get(context.Background(), []string{"A"})
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("Get took %s against a closed port", elapsed)
	}
	if !errors.Is(err, pluginsdk.ErrUnavailable) || !strings.Contains(err.Error(), "cannot reach Vault at "+addr) {
		t.Fatalf("Get: got %v, want Unavailable naming %s", err, addr)
	}
}

func TestNoToken(t *testing.T) {
	f := newFakeVault(t, func(w http.ResponseWriter, _ *http.Request, _ string) { reply(w, 500, `{}`) })
	b := newWithEnv(map[string]string{"HOME": t.TempDir()})
	if err := b.Configure(context.Background(), "dev", map[string]string{"address": f.URL}); err != nil {
		t.Fatal(err)
	}
	_, err := b.Get(context.Background(), []string{"A"})
	if !errors.Is(err, pluginsdk.ErrPermissionDenied) || !strings.Contains(err.Error(), "no Vault token") {
		t.Fatalf("Get without a token: got %v", err)
	}
	if len(f.requests) != 0 {
		t.Errorf("requests were made without a token: %v", f.requests)
	}
}

// The token comes from VAULT_TOKEN, else the vault CLI's token helper, else ~/.vault-token.
func TestTokenSources(t *testing.T) {
	seen := make(chan string, 10)
	f := newFakeVault(t, func(w http.ResponseWriter, r *http.Request, _ string) {
		seen <- r.Header.Get("X-Vault-Token")
		reply(w, 404, `{"errors":[]}`)
	})
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, ".vault-token"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	helperHome := t.TempDir()
	helper := filepath.Join(helperHome, "helper.sh")
	if err := os.WriteFile(helper, []byte("#!/bin/sh\n[ \"$1\" = get ] && echo from-helper\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(helperHome, ".vault"), []byte("token_helper = \"~/helper.sh\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"VAULT_TOKEN first", map[string]string{"VAULT_TOKEN": "from-env", "HOME": home}, "from-env"},
		{"token file", map[string]string{"HOME": home}, "from-file"},
		{"token helper", map[string]string{"HOME": helperHome}, "from-helper"},
	}
	for _, tt := range tests {
		b := newWithEnv(tt.env)
		if err := b.Configure(context.Background(), "dev", map[string]string{"address": f.URL}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Get(context.Background(), []string{"A"}); err != nil {
			t.Fatalf("%s: Get: %v", tt.name, err)
		}
		if got := <-seen; got != tt.want {
			t.Errorf("%s: the request carried token %q, want %q", tt.name, got, tt.want)
		}
		for len(seen) > 0 {
			<-seen // the mount check
		}
	}
}
