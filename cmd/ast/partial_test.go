package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// vaultTokenWithUses creates a child of the root token that Vault revokes after uses
// requests (vault token create -use-limit=N), through Vault's HTTP API.
func vaultTokenWithUses(t *testing.T, addr, root string, uses int) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"num_uses": uses, "ttl": "10m"})
	req, err := http.NewRequest("POST", addr+"/v1/auth/token/create", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Vault-Token", root)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Auth struct {
			ClientToken string `json:"client_token"`
		} `json:"auth"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Auth.ClientToken == "" {
		t.Fatalf("creating a token with %d uses: status %d, %v", uses, resp.StatusCode, err)
	}
	return out.Auth.ClientToken
}

// TestVaultImportCutByUseLimit: an import into Vault whose token runs out of uses midway
// (its requests refused from then on, as a revoked token's are) reports exactly what is in
// Vault afterwards: every entry it names as created is there, every entry there is named
// as created (or, for a write cut off in flight, as not known), and nothing it names as
// failed or not attempted is there. The import exits 1 and never says nothing was
// imported.
func TestVaultImportCutByUseLimit(t *testing.T) {
	addr, root := os.Getenv("AST_TEST_VAULT_ADDR"), os.Getenv("AST_TEST_VAULT_TOKEN")
	if addr == "" || root == "" {
		t.Skip("AST_TEST_VAULT_ADDR / AST_TEST_VAULT_TOKEN are unset: run under scripts/with-servers (make test)")
	}
	const entries = 60
	dir := t.TempDir()
	envFile := filepath.Join(dir, "big.env")
	var src strings.Builder
	for i := range entries {
		fmt.Fprintf(&src, "CUT_%03d=value-%d\n", i, i)
	}
	if err := os.WriteFile(envFile, []byte(src.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, uses := range []int{9, 40, 77} {
		t.Run(fmt.Sprintf("%d uses", uses), func(t *testing.T) {
			home := t.TempDir()
			account := fmt.Sprintf("cut-%d-%d", uses, time.Now().UnixNano())
			admin := realEnv(home, "VAULT_ADDR="+addr, "VAULT_TOKEN="+root)
			runAST(t, admin, "account", "add", account, "--backend", "hashicorp")

			limited := realEnv(home, "VAULT_ADDR="+addr, "VAULT_TOKEN="+vaultTokenWithUses(t, addr, root, uses))
			var stdout, stderr bytes.Buffer
			cmd := astCmd(limited, "--account", account, "secrets", "import", "--file", envFile, "--output", "json")
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if err == nil {
				t.Fatalf("the import succeeded with a token of %d uses for %d entries", uses, entries)
			}
			if strings.Contains(stderr.String()+stdout.String(), "nothing was imported") {
				t.Errorf("the import says nothing was imported:\n%s", stderr.String())
			}
			var report struct {
				Entries []struct{ Name, Action, Error string }
			}
			if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
				t.Fatalf("import --output json: %v\n%s\n%s", err, stdout.String(), stderr.String())
			}
			byAction := map[string][]string{}
			for _, e := range report.Entries {
				byAction[e.Action] = append(byAction[e.Action], e.Name)
			}

			var listed []struct{ Name string }
			if err := json.Unmarshal([]byte(runAST(t, admin, "--account", account, "secrets", "list", "--output", "json")), &listed); err != nil {
				t.Fatal(err)
			}
			present := map[string]bool{}
			for _, e := range listed {
				present[e.Name] = true
			}
			for _, n := range byAction["create"] {
				if !present[n] {
					t.Errorf("%s is reported as created but is not in Vault", n)
				}
			}
			for _, action := range []string{"failed", "skip-exists", "not-attempted"} {
				for _, n := range byAction[action] {
					if present[n] {
						t.Errorf("%s is reported as %s but is in Vault", n, action)
					}
				}
			}
			for n := range present {
				if !slices.Contains(byAction["create"], n) && !slices.Contains(byAction["unknown"], n) {
					t.Errorf("%s is in Vault but reported neither as created nor as not known", n)
				}
			}
			if len(byAction["create"]) == 0 {
				t.Errorf("nothing reported as created though the token allowed %d requests:\n%s", uses, stderr.String())
			}
			unknownThere := 0
			for _, n := range byAction["unknown"] {
				if present[n] {
					unknownThere++
				}
			}
			t.Logf("%d uses: %d created, %d not attempted, %d unknown (%d of them in Vault), %d failed; %d in Vault",
				uses, len(byAction["create"]), len(byAction["not-attempted"]), len(byAction["unknown"]), unknownThere,
				len(byAction["failed"]), len(present))
		})
	}
}
