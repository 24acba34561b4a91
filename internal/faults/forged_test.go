package faults

import (
	"strconv"
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
