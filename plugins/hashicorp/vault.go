package hashicorp

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/ast-cli/ast/internal/httplimit"
	"github.com/ast-cli/ast/pluginsdk"
)

// request is one call to Vault's HTTP API.
type request struct {
	method string // GET, POST, DELETE, or LIST
	path   string // below /v1/, e.g. secret/data/ast/dev/API_KEY
	query  url.Values
	body   any
	// need and policyPath name the ACL capability the request needs and the policy path
	// that grants it, for permission messages ("create" on "secret/data/ast/dev/*").
	need       string
	policyPath string
	// secrets are strings (a value, a credential) that must not appear in an error, even
	// if Vault were to echo them in some encoding: see quotable.
	secrets []string
	login   bool // an unauthenticated login: no token yet, and a 403 is not a token problem
}

// Sentinels of outcomes the operations turn into per-name errors that name the entry.
var (
	errNoEntry     = errors.New("no such path in Vault")                                     // 404
	errCASMismatch = errors.New("check-and-set parameter did not match the current version") // 400
)

// callError marks an error that ends the whole call (Vault unreachable, sealed, the token
// refused, the mount unusable), as opposed to a per-name outcome.
type callError struct{ err error }

func (e *callError) Error() string { return e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

func callLevel(err error) error {
	if err == nil || isCallLevel(err) {
		return err
	}
	return &callError{err: err}
}

func isCallLevel(err error) bool {
	var c *callError
	return errors.As(err, &c)
}

// unwrapCall returns the error a call-level error carries, for returning from a Backend
// method: the *pluginsdk.Error (or context error) itself.
func unwrapCall(err error) error {
	var c *callError
	if errors.As(err, &c) {
		return c.err
	}
	return err
}

// envelope is the shape of Vault's answers: the payload under "data".
type envelope[T any] struct {
	Data T `json:"data"`
}

// send makes request r (authenticating first, unless r.login) and decodes the JSON answer
// into out (nil: ignore the body). Errors: errNoEntry, errCASMismatch, a per-name
// *pluginsdk.Error, or a call-level error (see callError); none contains r.secrets.
func (c *config) send(ctx context.Context, r request, out any) error {
	if !r.login {
		if err := c.authenticate(ctx); err != nil {
			return err
		}
	}
	req := c.client.NewRequest(r.method, "/v1/"+r.path)
	if r.method == "LIST" {
		// GET with list=true: the same as LIST, and it passes every proxy.
		req.Method = http.MethodGet
		req.Params.Set("list", "true")
	}
	for k, v := range r.query {
		req.Params[k] = v
	}
	if r.body != nil {
		if err := req.SetJSONBody(r.body); err != nil {
			return pluginsdk.Errorf(pluginsdk.ErrInternal, "encoding the request for %s: %s", r.path, quotable(err.Error(), r.secrets))
		}
	}
	resp, err := c.client.RawRequestWithContext(ctx, req)
	if resp != nil {
		defer resp.Body.Close()
	}
	if err != nil {
		return c.vaultError(ctx, r, err)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		if errors.Is(err, httplimit.ErrTooLarge) {
			return callLevel(pluginsdk.Errorf(pluginsdk.ErrUnavailable, "%s %s: %v", r.method, r.path, err))
		}
		// The decoder's message may quote the body, which may hold a value: leave it out.
		return callLevel(pluginsdk.Errorf(pluginsdk.ErrUnavailable,
			"%s answered %s %s with a body that is not Vault's JSON: is it a Vault server? (address from %s)",
			c.address, r.method, r.path, c.addressFrom))
	}
	return nil
}

// vaultError turns a failed request into the error the operations report.
func (c *config) vaultError(ctx context.Context, r request, err error) error {
	if ctx.Err() != nil {
		return callLevel(ctx.Err()) // the caller's own deadline or cancellation
	}
	var re *api.ResponseError
	if !errors.As(err, &re) {
		return callLevel(c.transportError(err, r))
	}
	if re.RawError {
		// Not Vault's JSON: a proxy's error page, or not a Vault server at all.
		return callLevel(pluginsdk.Errorf(pluginsdk.ErrUnavailable,
			"%s answered %s %s with HTTP %d and a body that is not Vault's: is it a Vault server? (address from %s)",
			c.address, r.method, r.path, re.StatusCode, c.addressFrom))
	}
	raw := strings.ToLower(strings.Join(re.Errors, "; "))
	has := func(s string) bool { return strings.Contains(raw, s) }
	reason := quotable(strings.Join(re.Errors, "; "), r.secrets)
	status := re.StatusCode
	switch {
	case status == http.StatusBadRequest && has("check-and-set parameter did not match"):
		return errCASMismatch
	case status == http.StatusNotFound && has("no handler for route"):
		if strings.HasPrefix(r.path, c.mount+"/") {
			return callLevel(c.noMountError())
		}
		return pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, "Vault at %s has nothing at %s", c.address, r.path)
	case status == http.StatusNotFound:
		return errNoEntry
	case r.login && (status >= 400 && status < 500 || isFinal(raw) && !has("sealed")):
		return pluginsdk.Errorf(pluginsdk.ErrPermissionDenied, "%s", orStatus(reason, status))
	case status == http.StatusForbidden:
		return c.permissionError(ctx, r, raw, reason)
	case status == http.StatusServiceUnavailable && has("sealed"):
		return callLevel(pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
			"Vault at %s is sealed: unseal it (vault operator unseal) and try again", c.address))
	case status == http.StatusTooManyRequests:
		return callLevel(pluginsdk.Errorf(pluginsdk.ErrUnavailable,
			"Vault at %s kept refusing requests over its rate limit (429): %s; try again later", c.address, orStatus(reason, status)))
	case status >= 500:
		return callLevel(pluginsdk.Errorf(pluginsdk.ErrUnavailable,
			"Vault at %s could not serve %s %s (HTTP %d): %s", c.address, r.method, r.path, status, orStatus(reason, status)))
	}
	return pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
		"Vault at %s refused %s %s (HTTP %d): %s", c.address, r.method, r.path, status, orStatus(reason, status))
}

// transportError explains a request that got no HTTP answer.
func (c *config) transportError(err error, r request) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return pluginsdk.Errorf(pluginsdk.ErrUnavailable,
			"Vault at %s did not answer within %s (address from %s)", c.address, requestTimeout, c.addressFrom)
	}
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	if errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) {
		return pluginsdk.Errorf(pluginsdk.ErrUnavailable,
			"cannot reach Vault at %s: its TLS certificate is not trusted (%s): set the account's ca_cert (or VAULT_CACERT) and, if the name differs, tls_server_name",
			c.address, quotable(innermost(err).Error(), r.secrets))
	}
	return pluginsdk.Errorf(pluginsdk.ErrUnavailable, "cannot reach Vault at %s: %s (address from %s)",
		c.address, quotable(innermost(err).Error(), r.secrets), c.addressFrom)
}

// innermost drops the *url.Error wrapper, whose text repeats the URL.
func innermost(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// permissionError explains a 403. Vault answers 403 both for a token it does not know and
// for a policy that lacks a capability; a token refused is a call-level error.
// raw is Vault's reason in lower case, reason the same fit for a message.
func (c *config) permissionError(ctx context.Context, r request, raw, reason string) error {
	if c.tokenRefused(ctx, raw) {
		source := "set VAULT_TOKEN or run vault login"
		if c.roleID != "" {
			source = "the AppRole login gave a token that does not work; check the role's token settings"
		}
		return callLevel(pluginsdk.Errorf(pluginsdk.ErrPermissionDenied,
			"the Vault token was refused by %s (invalid or expired): %s", c.address, source))
	}
	if r.need == "" {
		return pluginsdk.Errorf(pluginsdk.ErrPermissionDenied, "Vault at %s denied %s %s: %s", c.address, r.method, r.path, reason)
	}
	caps := strconv.Quote(r.need)
	if r.need == "create" {
		caps = `"create" (and "update" where the name already has versions)`
	}
	return pluginsdk.Errorf(pluginsdk.ErrPermissionDenied,
		"Vault at %s denied %q on %s: the token's policy needs capability %s on path %q",
		c.address, r.need, r.path, caps, r.policyPath)
}

// tokenRefused reports whether Vault refuses the token itself: its answer says so, or the
// token cannot even look itself up (which the default policy allows). A token that
// worked once in this process is taken as valid.
func (c *config) tokenRefused(ctx context.Context, raw string) bool {
	if strings.Contains(raw, "invalid token") {
		return true
	}
	c.authMu.Lock()
	defer c.authMu.Unlock()
	if c.tokenOK {
		return false
	}
	resp, err := c.client.RawRequestWithContext(ctx, c.client.NewRequest(http.MethodGet, "/v1/auth/token/lookup-self"))
	if resp != nil {
		resp.Body.Close()
	}
	var re *api.ResponseError
	switch {
	case err == nil:
		c.tokenOK = true
		return false
	case errors.As(err, &re) && re.StatusCode == http.StatusForbidden:
		return true
	}
	return false // cannot tell: report the denial as a policy matter
}

// checkMount makes sure the mount is a KV version 2 secrets engine, once per process.
// It asks sys/internal/ui/mounts/MOUNT, which any token with a capability under the mount
// may read. An answer that tells nothing (no access, no such mount) passes: the real
// request then reports what is wrong. Errors are call-level.
func (c *config) checkMount(ctx context.Context) error {
	c.mountMu.Lock()
	defer c.mountMu.Unlock()
	if c.mountChecked {
		return c.mountErr
	}
	var out envelope[struct {
		Type    string            `json:"type"`
		Path    string            `json:"path"`
		Options map[string]string `json:"options"`
	}]
	err := c.send(ctx, request{method: "GET", path: "sys/internal/ui/mounts/" + c.mount}, &out)
	if isCallLevel(err) {
		return err
	}
	c.mountChecked = true
	if err != nil {
		c.log.Debug("mount check inconclusive", "mount", c.mount, "error", err)
		return nil
	}
	m := out.Data
	switch found := strings.Trim(m.Path, "/"); {
	case found != "" && found != c.mount:
		c.mountErr = pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
			"mount setting %q is not a mount of Vault at %s: the secrets engine there is mounted at %s/; set mount to that and put the rest of the path into prefix",
			c.mount, c.address, found)
	case m.Type != "kv":
		c.mountErr = pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
			"mount %s/ of Vault at %s is a %q secrets engine; ast needs KV version 2: vault secrets enable -path=%s kv-v2, or set mount to a KV v2 mount",
			c.mount, c.address, m.Type, c.mount)
	case m.Options["version"] != "2":
		c.mountErr = pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
			"mount %s/ of Vault at %s is KV version 1; ast needs KV v2: vault kv enable-versioning %s/",
			c.mount, c.address, c.mount)
	}
	c.mountErr = callLevel(c.mountErr)
	return c.mountErr
}

func (c *config) noMountError() error {
	return pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition,
		"Vault at %s has no secrets engine mounted at %s/ (setting mount): vault secrets enable -path=%s kv-v2, or set mount to an existing KV v2 mount",
		c.address, c.mount, c.mount)
}

// quotable returns text from Vault (or from the transport) fit to quote in a message:
// the text itself when pluginsdk.Scrub proves it free of the request's secrets in every
// encoding, else pluginsdk.Withheld. A server or proxy that echoes the request body (the
// value, JSON-escaped) thus never gets it into an error. The text is folded to one line (its
// runs of white space made one space): a server's text cannot start a line of ast's output.
func quotable(text string, secrets []string) string {
	if t, ok := pluginsdk.Scrub(text, secrets...); ok {
		return strings.Join(strings.Fields(t), " ")
	}
	return pluginsdk.Withheld
}

func orStatus(reason string, status int) string {
	if reason != "" {
		return reason
	}
	return http.StatusText(status)
}
