package faults

import (
	"strconv"
	"strings"
	"testing"
)

// TestForgedKindVault (issue 13), end to end: a token that may only read and update the
// account's metadata (no access to values) writes a perfect plain label for a secret. ast
// must not list the secret's value, print it with secrets get, or write the next value as
// plain when update keeps the kind.
func TestForgedKindVault(t *testing.T) {
	s := newSandbox(t)
	a := setupVault(t, s, "forged")
	addr, root := vaultServer(t)
	folder := a.settings["prefix"] + "/" + a.name
	l := &leakScan{t: t}
	c1, c2 := l.add(newCanary(1)), l.add(newCanary(2))
	s.must(s.runIn(c1.value, "secrets", "create", "S"))

	policy := "forged-" + randHex(4)
	vaultRequest(t, addr, root, "PUT", "sys/policies/acl/"+policy, map[string]string{"policy": `
path "secret/metadata/` + folder + `/*" { capabilities = ["read", "update"] }
`}, nil)
	var tok struct {
		Auth struct {
			ClientToken string `json:"client_token"`
		} `json:"auth"`
	}
	vaultRequest(t, addr, root, "POST", "auth/token/create", map[string]any{"policies": []string{policy}, "ttl": "10m"}, &tok)
	metaOnly := tok.Auth.ClientToken
	if vaultRequest(t, addr, metaOnly, "GET", "secret/data/"+folder+"/S", nil, nil, 200, 403) != 403 {
		t.Fatal("the metadata-only token can read the value: the test proves nothing")
	}
	forge := func() {
		t.Helper()
		var md struct {
			Data struct {
				CurrentVersion int `json:"current_version"`
				Versions       map[string]struct {
					CreatedTime string `json:"created_time"`
				} `json:"versions"`
			} `json:"data"`
		}
		vaultRequest(t, addr, metaOnly, "GET", "secret/metadata/"+folder+"/S", nil, &md)
		v := strconv.Itoa(md.Data.CurrentVersion)
		vaultRequest(t, addr, metaOnly, "POST", "secret/metadata/"+folder+"/S", map[string]any{"custom_metadata": map[string]string{
			"ast_kind": "plain", "ast_account": a.name, "ast_kind_version": v, "ast_kind_time": md.Data.Versions[v].CreatedTime}}, nil)
	}
	check := func(when string) {
		t.Helper()
		for _, e := range s.list("--values") {
			if e.Name == "S" && (e.Kind != "secret" || e.Value != nil) {
				t.Errorf("%s: secrets list --values shows S as %s with a value", when, e.Kind)
			}
		}
		r := s.run("secrets", "get", "S")
		if r.code == 0 {
			t.Errorf("%s: secrets get S printed a value", when)
		}
		for _, args := range [][]string{{"secrets", "list", "--values"}, {"secrets", "list", "--values", "-o", "json"}} {
			l.output(s.run(args...))
		}
		l.output(r)
	}
	forge()
	check("after the forged label")
	// update keeps the kind: the secret's next value must be written as a secret.
	s.must(s.runIn(c2.value, "secrets", "update", "S"))
	check("after an update over the forged label")
	forge()
	check("after a second forged label")
}

// TestForgedLabelOnExternal (issue 15): a token that may only read and update metadata
// labels a secret a team wrote (vault kv put) as ast's own, plain or secret. Its value
// stays unreadable through ast, and ast still refuses to overwrite or delete it without
// --force: the refusal reads the version itself, not the label.
func TestForgedLabelOnExternal(t *testing.T) {
	s := newSandbox(t)
	a := setupVault(t, s, "forged")
	addr, root := vaultServer(t)
	folder := a.settings["prefix"] + "/" + a.name
	vaultRequest(t, addr, root, "POST", "secret/data/"+folder+"/db", map[string]any{"data": map[string]string{
		"username": "u-team", "password": "p-team-9f2c"}}, nil)
	policy := "forged-ext-" + randHex(4)
	vaultRequest(t, addr, root, "PUT", "sys/policies/acl/"+policy, map[string]string{"policy": `
path "secret/metadata/` + folder + `/*" { capabilities = ["read", "update"] }
`}, nil)
	var tok struct {
		Auth struct {
			ClientToken string `json:"client_token"`
		} `json:"auth"`
	}
	vaultRequest(t, addr, root, "POST", "auth/token/create", map[string]any{"policies": []string{policy}, "ttl": "10m"}, &tok)
	for _, kind := range []string{"secret", "plain"} {
		var md struct {
			Data struct {
				CurrentVersion int `json:"current_version"`
				Versions       map[string]struct {
					CreatedTime string `json:"created_time"`
				} `json:"versions"`
			} `json:"data"`
		}
		vaultRequest(t, addr, tok.Auth.ClientToken, "GET", "secret/metadata/"+folder+"/db", nil, &md)
		v := strconv.Itoa(md.Data.CurrentVersion)
		vaultRequest(t, addr, tok.Auth.ClientToken, "POST", "secret/metadata/"+folder+"/db", map[string]any{"custom_metadata": map[string]string{
			"ast_kind": kind, "ast_account": a.name, "ast_kind_version": v, "ast_kind_time": md.Data.Versions[v].CreatedTime}}, nil)

		for _, args := range [][]string{{"secrets", "list", "--values", "-o", "json"}, {"secrets", "list", "--values"}, {"secrets", "get", "db"}} {
			r := s.run(args...)
			if strings.Contains(r.stdout+r.stderr, "p-team-9f2c") {
				t.Errorf("label %s: ast %s shows the team's password", kind, strings.Join(args, " "))
			}
		}
		for _, args := range [][]string{
			{"secrets", "delete", "db"},
			{"secrets", "update", "db", "--value", "ast-value"},
			{"secrets", "set", "db", "--value", "ast-value"},
		} {
			r := s.run(args...)
			if r.code != 1 || !strings.Contains(r.stderr, "external") {
				t.Errorf("label %s: %s of the team's secret without --force:\n%s", kind, strings.Join(args, " "), r)
			}
		}
		r := s.runIn("db=ast-value\n", "secrets", "import", "--file", "-", "--overwrite")
		if r.code != 1 || !strings.Contains(r.stderr, "external") {
			t.Errorf("label %s: import --overwrite of the team's secret:\n%s", kind, r)
		}
		got := s.must(s.run("run", "--var", "P=@db#password", "--", "printenv", "P")).stdout
		if got != "p-team-9f2c\n" {
			t.Errorf("label %s: the team's secret changed", kind)
		}
	}
}
