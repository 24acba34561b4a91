package hashicorp

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl"
	"github.com/hashicorp/vault/api"

	"github.com/ast-cli/ast/pluginsdk"
)

// helperTimeout bounds a run of the vault CLI's token helper.
const helperTimeout = 10 * time.Second

// authenticate sets a token on the client once, the first time a call needs Vault. The
// token is held in memory only; nothing of it is written, logged or put into an error.
//
// Sources, first match wins:
//  1. the role_id setting: an AppRole login at auth/APPROLE_MOUNT/login with the secret id
//     from the environment variable named by secret_id_env (default VAULT_SECRET_ID);
//  2. VAULT_TOKEN;
//  3. as the vault CLI: the token_helper named in $VAULT_CONFIG_PATH or ~/.vault, run with
//     "get"; without one, the file ~/.vault-token that vault login writes.
//
// Errors (call-level): ErrPermissionDenied when no token is found or the login is refused,
// ErrInvalidArgument for an unreadable token helper configuration, ErrUnavailable when
// Vault cannot be reached for the login.
func (c *config) authenticate(ctx context.Context) error {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	if c.authed {
		return nil
	}
	var token string
	var err error
	switch {
	case c.roleID != "":
		token, err = c.appRoleLogin(ctx)
	case c.env(api.EnvVaultToken) != "":
		token = strings.TrimSpace(c.env(api.EnvVaultToken))
	default:
		token, err = c.cliToken(ctx)
	}
	if err != nil {
		return err
	}
	if token == "" {
		return callLevel(pluginsdk.Errorf(pluginsdk.ErrPermissionDenied,
			"no Vault token for %s: set VAULT_TOKEN, run vault login, or give the account an AppRole (--set role_id=...)", c.address))
	}
	c.client.SetToken(token)
	c.authed = true
	return nil
}

// cliToken finds the token the vault CLI would use when VAULT_TOKEN is unset: its token
// helper's answer, or the contents of ~/.vault-token. A missing file is no token ("").
func (c *config) cliToken(ctx context.Context) (string, error) {
	home := c.env("HOME")
	cfgPath := c.env("VAULT_CONFIG_PATH")
	if cfgPath == "" && home != "" {
		cfgPath = filepath.Join(home, ".vault")
	}
	if cfgPath != "" {
		helper, err := tokenHelper(cfgPath, home)
		if err != nil {
			return "", callLevel(err)
		}
		if helper != "" {
			return c.runTokenHelper(ctx, helper)
		}
	}
	if home == "" {
		return "", nil
	}
	data, err := os.ReadFile(filepath.Join(home, ".vault-token"))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", callLevel(pluginsdk.Errorf(pluginsdk.ErrPermissionDenied, "reading the Vault token file: %v", err))
	}
	return strings.TrimSpace(string(data)), nil
}

// tokenHelper reads the vault CLI configuration file (HCL) and returns its token_helper,
// with a leading "~/" meaning HOME. A missing file is no helper.
func tokenHelper(path, home string) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "reading the vault CLI configuration %s: %v", path, err)
	}
	var cfg struct {
		TokenHelper string `hcl:"token_helper"`
	}
	if err := hcl.Decode(&cfg, string(data)); err != nil {
		return "", pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "the vault CLI configuration %s is not valid HCL: %v", path, err)
	}
	h := strings.TrimSpace(cfg.TokenHelper)
	if strings.HasPrefix(h, "~/") && home != "" {
		h = filepath.Join(home, h[2:])
	}
	return h, nil
}

// runTokenHelper runs "HELPER get" and returns its output, the token. The helper's own
// error output is not shown: it might echo a credential.
func (c *config) runTokenHelper(ctx context.Context, helper string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, helperTimeout)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, helper, "get")
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return "", callLevel(pluginsdk.Errorf(pluginsdk.ErrPermissionDenied,
			"the vault token helper %s failed (%v): run vault login, or set VAULT_TOKEN", helper, err))
	}
	return strings.TrimSpace(out.String()), nil
}

// appRoleLogin logs in with the AppRole role_id and the secret id from the environment and
// returns the client token.
func (c *config) appRoleLogin(ctx context.Context) (string, error) {
	secretID := strings.TrimSpace(c.env(c.secretIDEnv))
	if secretID == "" {
		return "", callLevel(pluginsdk.Errorf(pluginsdk.ErrPermissionDenied,
			"AppRole login: the environment variable %s (setting secret_id_env) holding the secret id is empty or unset", c.secretIDEnv))
	}
	path := "auth/" + c.appRole + "/login"
	var out struct {
		Auth *struct {
			ClientToken string `json:"client_token"`
		} `json:"auth"`
	}
	err := c.send(ctx, request{
		method: "POST", path: path,
		body:    map[string]any{"role_id": c.roleID, "secret_id": secretID},
		secrets: []string{c.roleID, secretID},
		login:   true,
	}, &out)
	if err != nil {
		if isCallLevel(err) {
			return "", err // unreachable, sealed: the message says so
		}
		return "", callLevel(pluginsdk.Errorf(pluginsdk.ErrPermissionDenied,
			"AppRole login at %s/v1/%s was refused (%v): check the role_id setting, the secret id in %s, and that AppRole is enabled at auth/%s/ (setting approle_mount)",
			c.address, path, err, c.secretIDEnv, c.appRole))
	}
	if out.Auth == nil || out.Auth.ClientToken == "" {
		return "", callLevel(pluginsdk.Errorf(pluginsdk.ErrPermissionDenied,
			"AppRole login at %s/v1/%s returned no token", c.address, path))
	}
	return out.Auth.ClientToken, nil
}
