package faults

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// TestFieldReferenceReads (issue 15): 100 references taking 5 fields from each of 20
// external entries make at most one read per entry on Vault and one BatchGetSecretValue on
// AWS. The reads are counted by the servers' side, not by ast: on Vault by a file audit
// device of a Vault dev server of the test's own (every request Vault served, by path and
// operation), on AWS by a counting reverse proxy in front of moto (every X-Amz-Target that
// reached it; moto still answers every request).
func TestFieldReferenceReads(t *testing.T) {
	const entries, fields = 20, 5
	// ref returns the --var arguments and what the child must see: K_EE_F=@eEE#fF.
	refs := func() (args []string, keys []string, want map[string]string) {
		want = map[string]string{}
		for e := 1; e <= entries; e++ {
			for f := 1; f <= fields; f++ {
				key := fmt.Sprintf("K_%02d_%d", e, f)
				args = append(args, "--var", fmt.Sprintf("%s=@e%02d#f%d", key, e, f))
				keys = append(keys, key)
				want[key] = fieldValue(e, f)
			}
		}
		return args, keys, want
	}
	data := func(e int) map[string]any {
		d := map[string]any{}
		for f := 1; f <= fields; f++ {
			d[fmt.Sprintf("f%d", f)] = fieldValue(e, f)
		}
		return d
	}
	check := func(t *testing.T, s *sandbox, acct string) {
		t.Helper()
		args, keys, want := refs()
		if len(keys) != 100 {
			t.Fatalf("%d references, want 100", len(keys))
		}
		cmd := append([]string{"--account", acct, "run"}, args...)
		cmd = append(cmd, "--", "printenv")
		r := s.must(s.run(append(cmd, keys...)...))
		got := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
		bad := 0
		for i, k := range keys {
			if i >= len(got) || got[i] != want[k] {
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("the child saw %d of 100 variables with a wrong value", bad)
		}
	}

	t.Run("hashicorp", func(t *testing.T) {
		addr, token := ownVault(t)
		auditLog := filepath.Join(t.TempDir(), "audit.log")
		vaultRequest(t, addr, token, "PUT", "sys/audit/count", map[string]any{
			"type": "file", "options": map[string]string{"file_path": auditLog}}, nil)
		folder := "prod-" + randHex(4) + "/payments"
		for e := 1; e <= entries; e++ {
			vaultRequest(t, addr, token, "POST", fmt.Sprintf("secret/data/%s/e%02d", folder, e),
				map[string]any{"data": data(e)}, nil)
		}
		s := newSandbox(t)
		s.env["VAULT_TOKEN"] = token
		s.addAccounts(account{name: "pay", backend: "hashicorp", settings: map[string]string{"address": addr, "path": folder}})
		before := auditCount(t, auditLog, folder)
		check(t, s, "pay")
		after := auditCount(t, auditLog, folder)
		reads := after.sub(before)
		t.Logf("Vault audit log, one ast run with 100 references to 20 entries: %s", reads)
		if n := reads["read secret/data"]; n == 0 || n > entries {
			t.Errorf("%d reads of data paths, want 1 to %d", n, entries)
		}
		total := 0
		for op, n := range reads {
			if strings.HasPrefix(op, "read ") {
				total += n
			}
		}
		if total > entries {
			t.Errorf("%d reads of the account's folder in all (%s), want at most %d", total, reads, entries)
		}
	})

	t.Run("awssm", func(t *testing.T) {
		ep := awsEndpoint(t)
		folder := "prod-" + randHex(4) + "/payments"
		for e := 1; e <= entries; e++ {
			b, _ := json.Marshal(data(e))
			awsCall(t, ep, "CreateSecret", map[string]any{"Name": fmt.Sprintf("%s/e%02d", folder, e), "SecretString": string(b)}, nil)
		}
		proxy := newCountingProxy(t, ep)
		s := newSandbox(t)
		s.setAWSCredentials()
		s.addAccounts(account{name: "pay", backend: "awssm", settings: map[string]string{
			"endpoint": proxy.url, "region": "us-east-1", "path": folder}})
		check(t, s, "pay")
		got := proxy.take()
		t.Logf("requests that reached moto, one ast run with 100 references to 20 entries: %v", got)
		if got["BatchGetSecretValue"] != 1 {
			t.Errorf("%d BatchGetSecretValue calls, want 1 (all requests: %v)", got["BatchGetSecretValue"], got)
		}
		for target, n := range got {
			if target != "BatchGetSecretValue" && n > 0 {
				t.Errorf("%d %s calls besides the one BatchGetSecretValue, want none", n, target)
			}
		}
	})
}

// fieldValue is the value of field f of entry e in TestFieldReferenceReads.
func fieldValue(e, f int) string { return fmt.Sprintf("v-%02d-%d-%s", e, f, "x") }

// counts maps "OPERATION MOUNT/KIND" (read secret/data, list secret/metadata) to requests.
type counts map[string]int

func (c counts) sub(o counts) counts {
	out := counts{}
	for k, n := range c {
		if d := n - o[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

func (c counts) String() string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", c[k], k)
	}
	return strings.Join(parts, ", ")
}

// auditCount counts the requests a Vault file audit device logged under folder (of any
// mount), by operation and the path's first two segments. Only request entries count (a
// response entry repeats its request).
func auditCount(t *testing.T, path, folder string) counts {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := counts{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var line struct {
			Type    string `json:"type"`
			Request struct {
				Operation string `json:"operation"`
				Path      string `json:"path"`
			} `json:"request"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Type != "request" {
			continue
		}
		segs := strings.SplitN(line.Request.Path, "/", 3)
		if len(segs) < 3 || !strings.HasPrefix(segs[2], folder+"/") && segs[2] != folder+"/" && segs[2] != folder {
			continue
		}
		c[line.Request.Operation+" "+segs[0]+"/"+segs[1]]++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return c
}

// countingProxy is a reverse proxy in front of an AWS endpoint that counts the actions
// (X-Amz-Target without its service prefix) of the requests it forwards.
type countingProxy struct {
	url string
	mu  sync.Mutex
	n   map[string]int
}

func newCountingProxy(t *testing.T, target string) *countingProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{n: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		action := r.Header.Get("X-Amz-Target")
		if i := strings.LastIndexByte(action, '.'); i >= 0 {
			action = action[i+1:]
		}
		if action == "" {
			action = r.Method + " " + r.URL.Path
		}
		p.mu.Lock()
		p.n[action]++
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	p.url = "http://" + l.Addr().String()
	return p
}

// take returns the counts so far and starts again from zero.
func (p *countingProxy) take() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.n
	p.n = map[string]int{}
	return out
}
