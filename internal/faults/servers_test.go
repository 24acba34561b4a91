package faults

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// backend sets up an account of one backend in a sandbox.
type backend struct {
	name string
	// setup adds account to s's config (as the active account) and puts what the backend
	// needs (credentials) into s's environment. It skips the test when the backend's test
	// server is not available.
	setup func(t *testing.T, s *sandbox, account string) account
}

// account is an account set up by a backend: where its entries live, for tests that look
// behind ast's back.
type account struct {
	name     string
	backend  string
	settings map[string]string
}

var backends = []backend{
	{"local", setupLocal},
	{"hashicorp", setupVault},
	{"awssm", setupAWS},
}

func setupLocal(t *testing.T, s *sandbox, name string) account {
	a := account{name: name, backend: "local"}
	s.addAccounts(a)
	return a
}

// vaultServer returns the test Vault server of scripts/with-servers, or skips.
func vaultServer(t *testing.T) (addr, token string) {
	t.Helper()
	addr, token = os.Getenv("AST_TEST_VAULT_ADDR"), os.Getenv("AST_TEST_VAULT_TOKEN")
	if addr == "" || token == "" {
		t.Skip("AST_TEST_VAULT_ADDR/AST_TEST_VAULT_TOKEN are not set: run under scripts/with-servers (make test does)")
	}
	return addr, token
}

// awsEndpoint returns moto_server's URL from scripts/with-servers, or skips.
func awsEndpoint(t *testing.T) string {
	t.Helper()
	ep := os.Getenv("AST_TEST_AWS_ENDPOINT")
	if ep == "" {
		t.Skip("AST_TEST_AWS_ENDPOINT is not set: run under scripts/with-servers (make test does)")
	}
	return ep
}

// setupVault makes a hashicorp account on the test server under a prefix of its own.
func setupVault(t *testing.T, s *sandbox, name string) account {
	addr, token := vaultServer(t)
	a := account{name: name, backend: "hashicorp", settings: map[string]string{
		"address": addr, "prefix": "faults-" + randHex(6)}}
	s.env["VAULT_TOKEN"] = token
	s.addAccounts(a)
	return a
}

// setupAWS makes an awssm account on moto_server under a prefix of its own; deletes skip
// the recovery window.
func setupAWS(t *testing.T, s *sandbox, name string) account {
	ep := awsEndpoint(t)
	a := account{name: name, backend: "awssm", settings: map[string]string{
		"endpoint": ep, "region": "us-east-1", "prefix": "faults-" + randHex(6), "recovery_window_days": "0"}}
	s.setAWSCredentials()
	s.addAccounts(a)
	return a
}

func (s *sandbox) setAWSCredentials() {
	s.env["AWS_ACCESS_KEY_ID"] = "testing"
	s.env["AWS_SECRET_ACCESS_KEY"] = "testing"
	s.env["AWS_REGION"] = "us-east-1"
}

// addAccounts writes a config file with accts; the first one is active.
func (s *sandbox) addAccounts(accts ...account) {
	s.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "active_account: %s\naccounts:\n", accts[0].name)
	for _, a := range accts {
		fmt.Fprintf(&b, "  %s:\n    backend: %s\n", a.name, a.backend)
		if len(a.settings) > 0 {
			b.WriteString("    settings:\n")
			keys := make([]string, 0, len(a.settings))
			for k := range a.settings {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				v, _ := json.Marshal(a.settings[k])
				fmt.Fprintf(&b, "      %s: %s\n", k, v)
			}
		}
	}
	s.writeConfig(b.String())
}

// closedPort returns a loopback address where nothing listens.
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

// freePort returns a free loopback port number.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// blackhole returns a loopback address that accepts connections and never answers: a
// backend that hangs.
func blackhole(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go io.Copy(io.Discard, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// delayProxy returns a loopback address that forwards to target and holds every chunk a
// client sends for delay, so that each request to the backend takes at least that long:
// commands stay in flight long enough to look at their processes.
func delayProxy(t *testing.T, target string, delay time.Duration) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(c, up); c.Close() }()
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						time.Sleep(delay)
						if _, werr := up.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { l.Close() })
	return l.Addr().String()
}

// hostOf is the host:port of an http URL.
func hostOf(url string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(url, "http://"), "https://"), "/")
}

// vaultRequest sends one request to a Vault server and decodes the JSON answer into out
// (when not nil). It fails the test on a transport error or an unexpected status.
func vaultRequest(t *testing.T, addr, token, method, path string, body any, out any, okStatus ...int) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, strings.TrimSuffix(addr, "/")+"/v1/"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Vault-Token", token)
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("vault %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if len(okStatus) == 0 {
		okStatus = []int{200, 204}
	}
	ok := false
	for _, s := range okStatus {
		ok = ok || resp.StatusCode == s
	}
	if !ok {
		t.Fatalf("vault %s %s: status %d: %s", method, path, resp.StatusCode, b)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("vault %s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

// newVaultMount enables a KV v2 mount of the test's own on the test server and returns its
// path, so that listing the whole mount shows only what the test wrote.
func newVaultMount(t *testing.T) string {
	addr, token := vaultServer(t)
	mount := "faults-" + randHex(6)
	vaultRequest(t, addr, token, "POST", "sys/mounts/"+mount,
		map[string]any{"type": "kv", "options": map[string]string{"version": "2"}}, nil)
	t.Cleanup(func() { vaultRequest(t, addr, token, "DELETE", "sys/mounts/"+mount, nil, nil) })
	return mount
}

// vaultKeys lists every secret path of a KV v2 mount, recursively.
func vaultKeys(t *testing.T, addr, token, mount string) []string {
	t.Helper()
	var keys []string
	var walk func(dir string)
	walk = func(dir string) {
		var resp struct {
			Data struct {
				Keys []string `json:"keys"`
			} `json:"data"`
		}
		if vaultRequest(t, addr, token, "LIST", mount+"/metadata/"+dir, nil, &resp, 200, 404) == 404 {
			return
		}
		for _, k := range resp.Data.Keys {
			if strings.HasSuffix(k, "/") {
				walk(dir + k)
			} else {
				keys = append(keys, dir+k)
			}
		}
	}
	walk("")
	sort.Strings(keys)
	return keys
}

// awsSecretNames lists the names of every secret on moto_server (all pages).
func awsSecretNames(t *testing.T, endpoint string) []string {
	t.Helper()
	var names []string
	token := ""
	for {
		body := map[string]any{"MaxResults": 100, "IncludePlannedDeletion": true}
		if token != "" {
			body["NextToken"] = token
		}
		var resp struct {
			SecretList []struct{ Name string } `json:"SecretList"`
			NextToken  string                  `json:"NextToken"`
		}
		awsCall(t, endpoint, "ListSecrets", body, &resp)
		for _, s := range resp.SecretList {
			names = append(names, s.Name)
		}
		if resp.NextToken == "" {
			break
		}
		token = resp.NextToken
	}
	sort.Strings(names)
	return names
}

// awsCall calls a Secrets Manager action on moto_server, which does not check
// signatures, so the request carries a well-formed but unsigned Authorization header.
func awsCall(t *testing.T, endpoint, action string, body, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequest("POST", strings.TrimSuffix(endpoint, "/")+"/", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "secretsmanager."+action)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("aws %s: %v", action, err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("aws %s: status %d: %s", action, resp.StatusCode, rb)
	}
	if out != nil {
		if err := json.Unmarshal(rb, out); err != nil {
			t.Fatalf("aws %s: %v", action, err)
		}
	}
}

// ownVault starts a Vault dev server of the test's own from $VAULT_BIN (for faults that
// must not disturb the shared one, like sealing it) and returns its address and root
// token. It is stopped when the test ends.
func ownVault(t *testing.T) (addr, token string) {
	t.Helper()
	vaultServer(t) // skip outside with-servers, like every Vault part
	bin := os.Getenv("VAULT_BIN")
	if bin == "" {
		t.Skip("VAULT_BIN is not set: run under scripts/with-servers")
	}
	port := freePort(t)
	addr, token = fmt.Sprintf("http://127.0.0.1:%d", port), "root-"+randHex(8)
	dir := t.TempDir()
	cmd := exec.Command(bin, "server", "-dev", "-dev-no-store-token", "-dev-root-token-id="+token,
		fmt.Sprintf("-dev-listen-address=127.0.0.1:%d", port))
	cmd.Env = []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH")}
	logf, err := os.Create(filepath.Join(dir, "vault.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
	})
	ok := waitFor(30*time.Second, func() bool {
		resp, err := http.Get(addr + "/v1/sys/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	if !ok {
		log, _ := os.ReadFile(filepath.Join(dir, "vault.log"))
		t.Fatalf("own Vault dev server did not start:\n%s", log)
	}
	return addr, token
}

// vaultCLI runs the vault CLI of $VAULT_BIN against addr.
func vaultCLI(t *testing.T, addr, token string, args ...string) {
	t.Helper()
	cmd := exec.Command(os.Getenv("VAULT_BIN"), args...)
	cmd.Env = []string{"VAULT_ADDR=" + addr, "VAULT_TOKEN=" + token, "HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("vault %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
