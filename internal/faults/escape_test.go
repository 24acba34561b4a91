package faults

import (
	"slices"
	"strings"
	"testing"
)

// escapeNames try to leave the account's space on a backend: path traversal, separators
// (plain, encoded, look-alike), and names of other accounts' entries. Each carries the
// marker so that it can be looked for on the backend afterwards.
func escapeNames(marker string) []string {
	return []string{
		"../" + marker, "../../" + marker, "../../../../" + marker, "../other/" + marker,
		"a/../../" + marker, "./" + marker, marker + "/..", "..", ".", "/" + marker,
		"%2e%2e%2f" + marker, "%2E%2E/" + marker, "..%2f" + marker, marker + "%2F..",
		"..\\" + marker, "∕" + marker, "．．/" + marker, marker + "?list=true", marker + "#x",
		"data/" + marker, "metadata/" + marker, "sys/" + marker, "*", marker + "*",
	}
}

// TestNoEscapeFromAccount tries every way a name could reach outside its account, on each
// backend, through every command that takes a name (create, update, delete, import keys,
// --plain-keys, --var references), then lists the whole namespace behind ast's back
// (the Vault mount, every AWS secret, the local data directory): only the account's own
// entry is there.
func TestNoEscapeFromAccount(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newSandbox(t)
			marker := "ESCAPED_" + randHex(4)
			acct := b.setup(t, s, "inside")
			var mount string
			if b.name == "hashicorp" {
				mount = newVaultMount(t)
				acct.settings["mount"] = mount
				acct.settings["prefix"] = "ast"
				s.addAccounts(acct, account{name: "other", backend: b.name, settings: acct.settings})
			} else {
				s.addAccounts(acct, account{name: "other", backend: b.name, settings: acct.settings})
			}
			s.must(s.run("secrets", "create", "SENTINEL", "--value", "inside"))
			s.must(s.run("--account", "other", "secrets", "create", marker, "--value", "other"))

			attempts, refused := 0, 0
			try := func(stdin string, args ...string) {
				t.Helper()
				attempts++
				r := s.runIn(stdin, args...)
				if r.code == 0 {
					t.Errorf("accepted:\n%s", r)
					return
				}
				refused++
			}
			for _, n := range escapeNames(marker) {
				try("", "secrets", "create", "--value", "v", "--", n)
				try("v\n", "secrets", "create", "--plain", "--", n)
				try("", "secrets", "update", "--value", "v", "--", n)
				try("", "secrets", "delete", "--", n)
				try("", "run", "--var", "K=@"+n, "--", "true")
				if !strings.ContainsAny(n, "#=") {
					try(n+"=v\n", "secrets", "import", "--file", "-")
					try("OK_"+marker+"=v\n"+n+"=w\n", "secrets", "import", "--file", "-", "--overwrite")
				}
				if !strings.ContainsAny(n, ",\"") {
					try("OK=v\n", "secrets", "import", "--file", "-", "--plain-keys", n)
				}
			}
			// --account is a path segment too (the local store's file name, a Vault
			// folder, an AWS name part).
			for _, a := range []string{"../other", "other/..", "..", "inside/../other", "%2e%2e"} {
				try("", "--account", a, "secrets", "create", "X", "--value", "v")
			}

			var found []string
			switch b.name {
			case "local":
				for p := range snapshot(t, s.dataDir) {
					found = append(found, strings.TrimPrefix(p, s.dataDir+"/"))
				}
				slices.Sort(found)
				want := []string{"", "keys/", "keys/local.key", "keys/local.key.lock", "vaults/",
					"vaults/inside.age", "vaults/inside.lock", "vaults/other.age", "vaults/other.lock"}
				if !slices.Equal(found, want) {
					t.Errorf("the data directory holds %v, want %v", found, want)
				}
				for _, e := range s.list() {
					if e.Name != "SENTINEL" {
						t.Errorf("account inside lists %s", e.Name)
					}
				}
			case "hashicorp":
				addr, token := vaultServer(t)
				found = vaultKeys(t, addr, token, mount)
				want := []string{"ast/inside/SENTINEL", "ast/other/" + marker}
				if !slices.Equal(found, want) {
					t.Errorf("mount %s holds %v, want %v", mount, found, want)
				}
				for _, k := range vaultKeys(t, addr, token, "secret") {
					if strings.Contains(k, marker) {
						t.Errorf("the shared mount secret/ holds %s", k)
					}
				}
			case "awssm":
				prefix := acct.settings["prefix"]
				for _, n := range awsSecretNames(t, awsEndpoint(t)) {
					if strings.Contains(n, marker) || strings.Contains(n, prefix) {
						found = append(found, n)
					}
				}
				want := []string{prefix + "/inside/SENTINEL", prefix + "/other/" + marker}
				if !slices.Equal(found, want) {
					t.Errorf("Secrets Manager holds %v, want %v", found, want)
				}
			}
			t.Logf("escape summary: backend=%s attempts=%d refused=%d namespace=%v", b.name, attempts, refused, found)
		})
	}
}
