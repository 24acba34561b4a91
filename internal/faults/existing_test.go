package faults

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestExistingSecrets (issue 15): secrets a team wrote with the vault and aws CLIs, in a
// folder of their own, are listed by an account whose path setting points there, and
// `ast run` takes single fields of them.
func TestExistingSecrets(t *testing.T) {
	addr, token := vaultServer(t)
	ep := awsEndpoint(t)
	vaultBin, awsBin := os.Getenv("VAULT_BIN"), "aws"
	if _, err := exec.LookPath(awsBin); err != nil || vaultBin == "" {
		t.Skip("needs the vault CLI (VAULT_BIN) and the aws CLI")
	}
	folder := "prod-" + randHex(4) + "/payments"
	cli := func(env []string, name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args[:2], " "), err, out)
		}
	}
	cli([]string{"VAULT_ADDR=" + addr, "VAULT_TOKEN=" + token}, vaultBin,
		"kv", "put", "-mount=secret", folder+"/db", "username=u", "password=p")
	cli([]string{"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_DEFAULT_REGION=us-east-1"}, awsBin,
		"secretsmanager", "create-secret", "--endpoint-url", ep, "--name", folder+"/rds",
		"--secret-string", `{"username":"u","password":"p","port":5432}`)

	cli([]string{"VAULT_ADDR=" + addr, "VAULT_TOKEN=" + token}, vaultBin,
		"kv", "put", "-mount=secret", folder+"/db-creds", "password=q")
	cli([]string{"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_DEFAULT_REGION=us-east-1"}, awsBin,
		"secretsmanager", "create-secret", "--endpoint-url", ep, "--name", folder+"/api.key", "--secret-string", "k")
	s := newSandbox(t)
	s.env["VAULT_TOKEN"] = token
	s.setAWSCredentials()
	s.addAccounts(
		account{name: "pay", backend: "hashicorp", settings: map[string]string{"address": addr, "path": folder}},
		account{name: "payaws", backend: "awssm", settings: map[string]string{"endpoint": ep, "region": "us-east-1", "path": folder}},
	)
	for acct, name := range map[string]string{"pay": "db", "payaws": "rds"} {
		var listed []listedEntry
		r := s.must(s.run("--account", acct, "secrets", "list", "--values", "-o", "json"))
		if err := json.Unmarshal([]byte(r.stdout), &listed); err != nil {
			t.Fatalf("%s: %v", acct, err)
		}
		// Each folder holds one more item, whose name needs an alias (below).
		if len(listed) != 2 {
			t.Errorf("account %s lists %+v, want %s and the item that needs an alias", acct, listed, name)
		}
		for _, e := range listed {
			if e.Name == name && (e.Kind != "secret" || e.Value != nil) {
				t.Errorf("account %s lists %+v, want %s as a secret without value", acct, e, name)
			}
		}
		if strings.Contains(r.stdout, `"p"`) || strings.Contains(r.stdout, "5432") {
			t.Errorf("account %s: the listing holds a field's value", acct)
		}
	}
	got := s.must(s.run("--account", "pay", "run", "--var", "DB_PASSWORD=@db#password", "--var", "DB_USER=@db#username",
		"--", "printenv", "DB_PASSWORD", "DB_USER")).stdout
	if got != "p\nu\n" {
		t.Errorf("Vault fields: the child printed %d bytes, want p and u", len(got))
	}
	got = s.must(s.run("--account", "payaws", "run", "--var", "PORT=@rds#port", "--var", "DB_PASSWORD=@rds#password",
		"--", "printenv", "DB_PASSWORD", "PORT")).stdout
	if got != "p\n5432\n" {
		t.Errorf("AWS fields: the child printed %d bytes, want p and 5432", len(got))
	}
	// External entries: marked, with field names on request; never overwritten or
	// deleted without --force.
	for acct, want := range map[string]string{"pay": "password,username", "payaws": "password,port,username"} {
		var listed []struct {
			Name     string   `json:"name"`
			External bool     `json:"external"`
			Fields   []string `json:"fields"`
		}
		r := s.must(s.run("--account", acct, "secrets", "list", "--fields", "-o", "json"))
		if err := json.Unmarshal([]byte(r.stdout), &listed); err != nil || len(listed) != 2 {
			t.Fatalf("%s: %v %s", acct, err, r.stdout)
		}
		for _, e := range listed {
			if e.Name == map[string]string{"pay": "db", "payaws": "rds"}[acct] && (!e.External || strings.Join(e.Fields, ",") != want) {
				t.Errorf("account %s lists %+v, want external with fields %s", acct, e, want)
			}
		}
	}
	for _, args := range [][]string{
		{"--account", "pay", "secrets", "update", "db", "--value", "x"},
		{"--account", "pay", "secrets", "set", "db", "--plain", "--value", "x"},
		{"--account", "pay", "secrets", "delete", "db"},
		{"--account", "payaws", "secrets", "delete", "rds"},
	} {
		r := s.run(args...)
		if r.code != 1 || !strings.Contains(r.stderr, "external") || !strings.Contains(r.stderr, "--force") {
			t.Errorf("a write of an external entry without --force:\n%s", r)
		}
	}
	r := s.runIn("db=x\n", "--account", "pay", "secrets", "import", "--file", "-", "--overwrite")
	if r.code != 1 || !strings.Contains(r.stderr, "external") {
		t.Errorf("import --overwrite of an external entry:\n%s", r)
	}
	got = s.must(s.run("--account", "pay", "run", "--var", "P=@db#password", "--", "printenv", "P")).stdout
	if got != "p\n" {
		t.Error("the external entry changed after the refused writes")
	}
	s.must(s.run("--account", "pay", "secrets", "update", "db", "--value", "now-ast", "--force"))
	var after []listedEntry
	_ = json.Unmarshal([]byte(s.must(s.run("--account", "pay", "secrets", "list", "-o", "json")).stdout), &after)
	if len(after) != 2 || after[0].Name != "db" || after[0].Kind != "secret" {
		t.Errorf("after update --force: %+v", after)
	}
	s.must(s.run("--account", "pay", "secrets", "delete", "db"))

	// Names that are no entry names are listed under their own names with the nearest
	// valid name and the alias that reaches them (JSON, and a hint on stderr) ...
	for acct, w := range map[string][2]string{"pay": {"db-creds", "DB_CREDS"}, "payaws": {"api.key", "API_KEY"}} {
		var listed []struct {
			Name          string `json:"name"`
			External      bool   `json:"external"`
			NeedsAlias    bool   `json:"needs_alias"`
			SuggestedName string `json:"suggested_name"`
			Alias         string `json:"alias"`
		}
		r := s.must(s.run("--account", acct, "secrets", "list", "-o", "json"))
		if err := json.Unmarshal([]byte(r.stdout), &listed); err != nil {
			t.Fatalf("%s: %v", acct, err)
		}
		found := false
		for _, e := range listed {
			if e.Name == w[0] {
				found = true
				if !e.NeedsAlias || !e.External || e.SuggestedName != w[1] || e.Alias != w[1]+":"+w[0] {
					t.Errorf("account %s lists %+v, want %s needing alias %s:%s", acct, e, w[0], w[1], w[0])
				}
			}
		}
		if !found {
			t.Errorf("account %s does not list %s: %s", acct, w[0], r.stdout)
		}
		r = s.must(s.run("--account", acct, "secrets", "list"))
		if !strings.Contains(r.stdout, w[0]) || !strings.Contains(r.stderr, "ast account set "+acct+" --set aliases="+w[1]+":"+w[0]) {
			t.Errorf("account %s: the text listing does not show %s with its alias:\n%s", acct, w[0], r)
		}
		r = s.run("--account", acct, "run", "--var", "X=@"+w[1], "--", "true")
		if r.code != 1 || !strings.Contains(r.stderr, "no entry named "+w[1]) {
			t.Errorf("account %s: a reference to the suggested name before the alias:\n%s", acct, r)
		}
	}
	// ... and reached through aliases.
	for acct, args := range map[string][]string{
		"pay":    {"set", "aliases=DB_CREDS:db-creds"},
		"payaws": {"set", "aliases=API_KEY:api.key"},
	} {
		s.must(s.run("account", args[0], acct, "--set", args[1]))
	}
	got = s.must(s.run("--account", "pay", "run", "--var", "X=@DB_CREDS#password", "--", "printenv", "X")).stdout
	if got != "q\n" {
		t.Errorf("an aliased Vault secret: %d bytes, want q", len(got))
	}
	got = s.must(s.run("--account", "payaws", "run", "--var", "Y=@API_KEY", "--", "printenv", "Y")).stdout
	if got != "k\n" {
		t.Errorf("an aliased AWS secret: %d bytes, want k", len(got))
	}
	for _, acct := range []string{"pay", "payaws"} {
		r := s.must(s.run("--account", acct, "secrets", "list", "-o", "json"))
		if strings.Contains(r.stdout, "needs_alias") {
			t.Errorf("account %s: an aliased item still needs an alias: %s", acct, r.stdout)
		}
		// No alias leaves the account's folder: a parent, an absolute path, another
		// account's folder, a deeper path.
		for _, bad := range []string{"X:..", "X:../other", "X:/abs", "X:/" + folder + "/db", "X:ast/other/NAME", "X:" + folder + "/db", "X:sub/db"} {
			r := s.run("account", "set", acct, "--set", "aliases="+bad)
			if r.code == 0 || !strings.Contains(r.stderr, "inside the account's folder") {
				t.Errorf("account %s: alias %s that leaves the folder:\n%s", acct, bad, r)
			}
		}
	}
	// A missing field names the fields present, never a value; a missing entry of the same
	// command does not hide it.
	r = s.run("--account", "payaws", "run", "--var", "H=@rds#host", "--var", "G=@GONE", "--", "true")
	if r.code != 1 || !strings.Contains(r.stderr, `"password", "port", "username"`) || !strings.Contains(r.stderr, "no entry named GONE") ||
		strings.Contains(r.stderr, "5432") {
		t.Errorf("a missing field and a missing entry:\n%s", r)
	}
	// A Vault secret with a "value" key and others: @NAME is the value key, @NAME#FIELD
	// any data key.
	cli([]string{"VAULT_ADDR=" + addr, "VAULT_TOKEN=" + token}, vaultBin,
		"kv", "put", "-mount=secret", folder+"/svc", "value=v-whole", "other=o-field")
	got = s.must(s.run("--account", "pay", "run", "--var", "W=@svc", "--var", "O=@svc#other", "--var", "V=@svc#value",
		"--", "printenv", "W", "O", "V")).stdout
	if got != "v-whole\no-field\nv-whole\n" {
		t.Errorf("a Vault secret with value and other keys: the child printed %q", got)
	}
}

// TestLocalFieldReferences (issue 15): the local backend's entries take @NAME#FIELD when
// their value is a JSON object; errors name the entry, the field and the fields present,
// never a value.
func TestLocalFieldReferences(t *testing.T) {
	s := newSandbox(t)
	s.addAccounts(account{name: "dev", backend: "local"})
	s.must(s.run("secrets", "set", "CFG", "--value", `{"user":"u-8f3a","port":5432,"tls":true,"none":null,"o":{"k":"in-obj-9c"},"a":["in-arr-7d"]}`))
	s.must(s.run("secrets", "set", "TEXT", "--value", "not-json-4e1b"))
	got := s.must(s.run("run", "--var", "U=@CFG#user", "--var", "P=@CFG#port", "--var", "T=@CFG#tls", "--var", "N=@CFG#none",
		"--", "printenv", "U", "P", "T", "N")).stdout
	if got != "u-8f3a\n5432\ntrue\nnull\n" {
		t.Errorf("the child printed %q, want u-8f3a, 5432, true, null", got)
	}
	for _, tc := range []struct {
		ref  string
		want []string
	}{
		{"@CFG#o", []string{"CFG", `"o"`, "JSON object"}},
		{"@CFG#a", []string{"CFG", `"a"`, "JSON array"}},
		{"@CFG#host", []string{"CFG", `"host"`, `"a", "none", "o", "port", "tls", "user"`}},
		{"@TEXT#x", []string{"TEXT", `"x"`, "not a JSON object"}},
	} {
		r := s.run("run", "--var", "X="+tc.ref, "--", "true")
		if r.code != 1 {
			t.Errorf("%s: want exit 1:\n%s", tc.ref, r)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%s: the error does not say %s:\n%s", tc.ref, w, r.stderr)
			}
		}
		for _, v := range []string{"u-8f3a", "5432", "in-obj-9c", "in-arr-7d", "not-json-4e1b"} {
			if strings.Contains(r.stderr+r.stdout, v) {
				t.Errorf("%s: the output holds a value", tc.ref)
			}
		}
	}
}
