package cli

import (
	"maps"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/ast-cli/ast/config"
)

// NewCmdAccount is `ast account`.
func NewCmdAccount(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "account",
		Args:  cobra.ArbitraryArgs,
		RunE:  groupRunE,
		Short: "Add, choose, list, show, change and remove accounts",
		Long: `An account is a named vault on one backend. With no configuration there is one
account, default, on the local encrypted-file backend; default always exists and is always
local. --account NAME (or AST_ACCOUNT) picks the account for one command; 'ast account use'
changes the active one. Removing an account forgets it; its entries stay in the backend.

Backends and their settings (--set KEY=VALUE):
  local       dir, key_file
  hashicorp   address, mount, prefix, path, aliases, namespace, ca_cert, tls_server_name, role_id, secret_id_env
  awssm       region, profile, prefix, path, aliases, kms_key_id, endpoint, recovery_window_days
Credentials are never stored in ast's configuration: see README.md.`,
	}
	cmd.AddCommand(NewCmdAccountAdd(f), NewCmdAccountUse(f), NewCmdAccountList(f), NewCmdAccountShow(f),
		NewCmdAccountSet(f), NewCmdAccountRemove(f))
	return cmd
}

type accountView struct {
	Name     string            `json:"name"`
	Backend  string            `json:"backend"`
	Active   bool              `json:"active"`
	Settings map[string]string `json:"settings"`
}

func accountViews(f *Factory) ([]accountView, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	active := cfg.Active(f.AccountFlag, f.Getenv("AST_ACCOUNT"))
	if _, err := cfg.Account(active); err != nil {
		warnf(f.IO.ErrOut, "the active account %q does not exist; choose one with: ast account use NAME", active)
	}
	var out []accountView
	for _, n := range cfg.AccountNames() {
		a, _ := cfg.Account(n)
		s := a.Settings
		if s == nil {
			s = map[string]string{}
		}
		out = append(out, accountView{Name: n, Backend: a.Backend, Active: n == active, Settings: s})
	}
	return out, nil
}

// effectiveSetting is one setting of an account as its backend will use it, and where
// the value comes from: "setting" (the config file), "from ENV", or "default".
type effectiveSetting struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Source string `json:"source"`
}

// settingRule is how a built-in backend resolves a setting that the account does not
// give: the first environment variable set, else a default ("" for none). It mirrors
// the plugins' own rules (plugins/*/: the constants' doc comments).
type settingRule struct {
	key  string
	env  []string
	def  func(a config.Account, p config.Paths) string
	note string // shown when there is no value at all
}

func constant(v string) func(config.Account, config.Paths) string {
	return func(config.Account, config.Paths) string { return v }
}

var builtinSettings = map[string][]settingRule{
	"local": {
		{key: "dir", def: func(_ config.Account, p config.Paths) string { return p.DataDir }},
		{key: "key_file", def: func(a config.Account, p config.Paths) string {
			dir := p.DataDir
			if d := a.Settings["dir"]; d != "" {
				dir = d
			}
			return filepath.Join(dir, "keys", "local.key")
		}},
	},
	"hashicorp": {
		{key: "address", env: []string{"VAULT_ADDR"}, def: constant("https://127.0.0.1:8200")},
		{key: "mount", def: constant("secret")},
		{key: "prefix", def: constant("ast")},
		{key: "namespace", env: []string{"VAULT_NAMESPACE"}},
		{key: "secret_id_env", def: constant("VAULT_SECRET_ID")},
	},
	"awssm": {
		{key: "region", env: []string{"AWS_REGION", "AWS_DEFAULT_REGION"}, note: "the AWS profile's region, if any"},
		{key: "profile", env: []string{"AWS_PROFILE"}, def: constant("default")},
		{key: "prefix", def: constant("ast")},
		{key: "endpoint", env: []string{"AWS_ENDPOINT_URL"}},
		{key: "recovery_window_days", def: constant("30")},
	},
}

// effectiveSettings returns every setting of a that its backend will use, with its
// source: the account's own settings, then, for a built-in backend, what the environment
// or the default gives for the others. A third-party backend's defaults are its own.
func effectiveSettings(a config.Account, p config.Paths, getenv func(string) string) []effectiveSetting {
	var out []effectiveSetting
	given := map[string]bool{}
	for _, k := range slices.Sorted(maps.Keys(a.Settings)) {
		out = append(out, effectiveSetting{Key: k, Value: a.Settings[k], Source: "setting"})
		given[k] = true
	}
	for _, r := range builtinSettings[a.Backend] {
		if given[r.key] || r.key == "prefix" && given["path"] { // path replaces PREFIX/ACCOUNT
			continue
		}
		s := effectiveSetting{Key: r.key}
		for _, env := range r.env {
			if v := getenv(env); v != "" {
				s.Value, s.Source = v, "from "+env
				break
			}
		}
		if s.Source == "" && r.def != nil {
			s.Value, s.Source = r.def(a, p), "default"
		}
		if s.Source == "" {
			if r.note == "" {
				continue
			}
			s.Value, s.Source = "(not set)", r.note
		}
		out = append(out, s)
	}
	return out
}
