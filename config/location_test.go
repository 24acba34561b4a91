package config

import (
	"strings"
	"testing"
)

func TestCheckLocation(t *testing.T) {
	existing := map[string]Account{
		"team":   {Name: "team", Backend: "hashicorp"},                                                      // secret/ast/team
		"pay":    {Name: "pay", Backend: "hashicorp", Settings: map[string]string{"path": "prod/payments"}}, // secret/prod/payments
		"other":  {Name: "other", Backend: "hashicorp", Settings: map[string]string{"address": "https://vault2:8200", "path": "prod"}},
		"aws":    {Name: "aws", Backend: "awssm", Settings: map[string]string{"path": "prod/payments"}},
		"locals": {Name: "locals", Backend: "local"},
	}
	tests := []struct {
		name    string
		a       Account
		overlap string // the account named in the error; "" for none
	}{
		{"a new default folder", Account{Name: "dev", Backend: "hashicorp"}, ""},
		{"the same path", Account{Name: "x", Backend: "hashicorp", Settings: map[string]string{"path": "prod/payments"}}, "pay"},
		{"the same path with slashes", Account{Name: "x", Backend: "hashicorp", Settings: map[string]string{"path": "prod/payments/"}}, "pay"},
		{"inside", Account{Name: "x", Backend: "hashicorp", Settings: map[string]string{"path": "prod/payments/db"}}, "pay"},
		{"containing", Account{Name: "x", Backend: "hashicorp", Settings: map[string]string{"path": "prod"}}, "pay"},
		{"containing a default folder", Account{Name: "x", Backend: "hashicorp", Settings: map[string]string{"path": "ast"}}, "team"},
		{"inside a default folder", Account{Name: "x", Backend: "hashicorp", Settings: map[string]string{"path": "ast/team/sub"}}, "team"},
		{"a sibling with a common prefix", Account{Name: "x", Backend: "hashicorp", Settings: map[string]string{"path": "prod/payments2"}}, ""},
		{"another mount", Account{Name: "x", Backend: "hashicorp", Settings: map[string]string{"mount": "kv", "path": "prod/payments"}}, ""},
		{"another Vault", Account{Name: "x", Backend: "hashicorp", Settings: map[string]string{"address": "https://vault3:8200", "path": "prod"}}, ""},
		{"another backend", Account{Name: "x", Backend: "awssm", Settings: map[string]string{"path": "prod/payments/x"}}, "aws"},
		{"AWS default folder", Account{Name: "x", Backend: "awssm"}, ""},
		{"itself, changed", Account{Name: "pay", Backend: "hashicorp", Settings: map[string]string{"path": "prod/payments/v2"}}, ""},
		{"local", Account{Name: "x", Backend: "local"}, ""},
	}
	c := &Config{Accounts: existing}
	for _, tt := range tests {
		err := c.CheckLocation(tt.a)
		switch {
		case tt.overlap == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.overlap != "" && (err == nil || !strings.Contains(err.Error(), "account "+tt.overlap+" ")):
			t.Errorf("%s: got %v, want an overlap with %s", tt.name, err, tt.overlap)
		}
	}
}

func TestLocationOf(t *testing.T) {
	tests := []struct {
		a    Account
		want string
	}{
		{Account{Name: "team", Backend: "hashicorp"}, "secret/data/ast/team/NAME"},
		{Account{Name: "team", Backend: "hashicorp", Settings: map[string]string{"prefix": "", "mount": "kv"}}, "kv/data/team/NAME"},
		{Account{Name: "pay", Backend: "hashicorp", Settings: map[string]string{"path": "prod/payments"}}, "secret/data/prod/payments/NAME"},
		{Account{Name: "p", Backend: "awssm"}, "ast/p/NAME"},
		{Account{Name: "p", Backend: "awssm", Settings: map[string]string{"path": "prod/payments"}}, "prod/payments/NAME"},
	}
	for _, tt := range tests {
		if got, _ := LocationOf(tt.a); got.Entry != tt.want {
			t.Errorf("LocationOf(%s %v) = %s, want %s", tt.a.Backend, tt.a.Settings, got.Entry, tt.want)
		}
	}
	if _, ok := LocationOf(Account{Name: "d", Backend: "local"}); ok {
		t.Error("a local account has a location")
	}
}
