package hashicorp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/vault/api"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"

	"github.com/ast-cli/ast/internal/httplimit"
	"github.com/ast-cli/ast/pluginsdk"
)

// Version is the plugin's release version, reported by Info. Release builds set it with
// -ldflags "-X github.com/ast-cli/ast/plugins/hashicorp.Version=..." (the Makefile does,
// as for every plugin).
var Version = "dev"

// Name is the backend's name, as accounts refer to it: ast account add NAME --backend hashicorp.
const Name = "hashicorp"

// Settings an account can give (ast account add NAME --backend hashicorp --set KEY=VALUE).
const (
	SettingAddress       = "address"         // Vault's URL; else $VAULT_ADDR; else https://127.0.0.1:8200
	SettingMount         = "mount"           // the KV v2 mount; default "secret"
	SettingPrefix        = "prefix"          // the folder inside the mount; default "ast"; may be empty
	SettingPath          = "path"            // an existing folder inside the mount that replaces PREFIX/ACCOUNT
	SettingAliases       = "aliases"         // ALIAS:backend-name,... for names that are not valid entry names
	SettingNamespace     = "namespace"       // Vault Enterprise namespace; else $VAULT_NAMESPACE
	SettingCACert        = "ca_cert"         // PEM file of the CA that signed Vault's certificate
	SettingTLSServerName = "tls_server_name" // the TLS server name (SNI) to expect
	SettingRoleID        = "role_id"         // AppRole login instead of a token
	SettingSecretIDEnv   = "secret_id_env"   // variable holding the AppRole secret id; default VAULT_SECRET_ID
	SettingAppRoleMount  = "approle_mount"   // where the AppRole auth method is mounted; default "approle"
	SettingConcurrency   = "concurrency"     // requests in flight per call, 1 to 64; default 8
)

var knownSettings = []string{
	SettingAddress, SettingAliases, SettingAppRoleMount, SettingCACert, SettingConcurrency, SettingMount,
	SettingNamespace, SettingPath, SettingPrefix, SettingRoleID, SettingSecretIDEnv, SettingTLSServerName,
}

const (
	defaultAddress     = "https://127.0.0.1:8200" // the vault CLI's default
	defaultMount       = "secret"
	defaultPrefix      = "ast"
	defaultSecretIDEnv = "VAULT_SECRET_ID"
	defaultAppRole     = "approle"
	defaultConcurrency = 8
	maxConcurrency     = 64

	// requestTimeout bounds one request to Vault including its retries, so that an address
	// that swallows packets fails a command in seconds, not minutes.
	requestTimeout = 10 * time.Second
	maxRetries     = 2
)

// segmentPattern is what a mount or prefix path segment may contain.
var segmentPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// Backend is the Vault KV v2 backend of one account. New returns it unconfigured;
// Configure makes it usable. Its methods are safe for concurrent use.
type Backend struct {
	env func(string) string // the process environment; tests replace it
	log hclog.Logger

	mu  sync.Mutex // guards cfg while Configure runs
	cfg *config    // nil until Configure
}

// config is what Configure settles: the client, the paths, and the lazily found token.
type config struct {
	account     string
	client      *api.Client
	address     string            // for messages
	addressFrom string            // where the address came from, for messages
	mount       string            // without slashes
	folder      string            // "PREFIX/ACCOUNT/" (or "ACCOUNT/" with an empty prefix, or "PATH/")
	aliases     map[string]string // entry name → name in Vault (the aliases setting)
	aliasOf     map[string]string // name in Vault → entry name
	concurrency int
	roleID      string
	secretIDEnv string
	appRole     string
	env         func(string) string
	log         hclog.Logger

	authMu  sync.Mutex
	authed  bool // a token is set on client
	tokenOK bool // Vault accepted the token once (lookup-self), so a 403 is a policy matter

	mountMu      sync.Mutex
	mountChecked bool
	mountErr     error
}

// New returns an unconfigured backend that reads the process environment (VAULT_ADDR,
// VAULT_TOKEN, VAULT_NAMESPACE, HOME, the AppRole secret id variable).
func New() *Backend {
	return &Backend{env: os.Getenv, log: pluginsdk.NewLogger(Name)}
}

// newWithEnv returns an unconfigured backend that reads env instead of the process
// environment (tests).
func newWithEnv(env map[string]string) *Backend {
	return &Backend{
		env: func(k string) string { return env[k] },
		log: hclog.NewNullLogger(),
	}
}

// Info reports the plugin's name, version, protocol and capabilities: Vault keeps versions
// and times; a batch is not atomic. It makes no request.
func (b *Backend) Info(context.Context) (pluginsdk.Info, error) {
	return pluginsdk.Info{
		Name:         Name,
		Version:      Version,
		Protocol:     pluginsdk.ProtocolVersion,
		Capabilities: []string{pluginsdk.CapVersions, pluginsdk.CapTimestamps},
	}, nil
}

// Configure checks the account name and settings and prepares a Vault client. It makes no
// request: a token is found (and an AppRole login done) at the first call that needs Vault,
// so commands that never reach Vault cost nothing.
//
// Errors: ErrInvalidArgument for a bad account name, an unknown setting (the message lists
// the known ones), a malformed value, an unreadable ca_cert, or a bad address.
func (b *Backend) Configure(_ context.Context, account string, settings map[string]string) error {
	if !pluginsdk.ValidAccount(account) {
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
			"invalid account name %q: an account name is [a-z0-9][a-z0-9_-]*, at most 64 bytes", account)
	}
	var unknown []string
	for k := range settings {
		if !contains(knownSettings, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
			"unknown hashicorp setting %s: the known settings are %s",
			quoteAll(unknown), strings.Join(knownSettings, ", "))
	}
	get := func(k, def string) string {
		if v, ok := settings[k]; ok {
			return strings.TrimSpace(v)
		}
		return def
	}

	c := &config{account: account, env: b.env, log: b.log}

	c.address, c.addressFrom = get(SettingAddress, ""), "the account's address setting"
	if c.address == "" {
		c.address, c.addressFrom = strings.TrimSpace(b.env(api.EnvVaultAddress)), "VAULT_ADDR"
	}
	if c.address == "" {
		c.address, c.addressFrom = defaultAddress, "the default address: neither the address setting nor VAULT_ADDR is set"
	}

	var err error
	if c.mount, err = cleanPath(SettingMount, get(SettingMount, defaultMount), false); err != nil {
		return err
	}
	prefix, err := cleanPath(SettingPrefix, get(SettingPrefix, defaultPrefix), true)
	if err != nil {
		return err
	}
	c.folder = account + "/"
	if prefix != "" {
		c.folder = prefix + "/" + account + "/"
	}
	if p, set := settings[SettingPath]; set {
		if _, both := settings[SettingPrefix]; both {
			return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
				"settings path and prefix are both set: path replaces PREFIX/ACCOUNT, so give one of them")
		}
		if c.folder, err = checkFolder(p); err != nil {
			return err
		}
	}
	if c.aliases, err = pluginsdk.ParseAliases(settings[SettingAliases], func(n string) bool {
		return segmentPattern.MatchString(n)
	}); err != nil {
		return err
	}
	c.aliasOf = map[string]string{}
	for alias, n := range c.aliases {
		c.aliasOf[n] = alias
	}
	if c.appRole, err = cleanPath(SettingAppRoleMount, get(SettingAppRoleMount, defaultAppRole), false); err != nil {
		return err
	}

	c.concurrency = defaultConcurrency
	if v := get(SettingConcurrency, ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxConcurrency {
			return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
				"setting concurrency=%q: it is a whole number from 1 to %d", v, maxConcurrency)
		}
		c.concurrency = n
	}

	c.roleID = get(SettingRoleID, "")
	c.secretIDEnv = get(SettingSecretIDEnv, defaultSecretIDEnv)
	if c.secretIDEnv == "" {
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
			"setting secret_id_env is empty: it names the environment variable that holds the AppRole secret id (default %s)", defaultSecretIDEnv)
	}

	if c.client, err = newClient(c.address, get(SettingCACert, ""), get(SettingTLSServerName, "")); err != nil {
		return err
	}
	c.address = c.client.Address()
	namespace := get(SettingNamespace, "")
	if _, set := settings[SettingNamespace]; !set {
		namespace = strings.TrimSpace(b.env(api.EnvVaultNamespace))
	}
	if namespace != "" {
		c.client.SetNamespace(namespace)
	} else {
		c.client.ClearNamespace()
	}

	b.mu.Lock()
	b.cfg = c
	b.mu.Unlock()
	return nil
}

// newClient builds a Vault client for address with a bounded request time and few retries.
// The client's token is cleared: the api package reads VAULT_TOKEN itself, but the token is
// chosen by authenticate.
func newClient(address, caCert, tlsServerName string) (*api.Client, error) {
	cfg := api.DefaultConfig()
	if cfg.Error != nil {
		return nil, pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
			"the Vault client settings from the environment (VAULT_CACERT, VAULT_SKIP_VERIFY, ...) are invalid: %v", cfg.Error)
	}
	cfg.Address = address
	cfg.AgentAddress = ""
	cfg.Timeout = requestTimeout
	cfg.MaxRetries = maxRetries
	cfg.MinRetryWait = 250 * time.Millisecond
	cfg.MaxRetryWait = time.Second
	cfg.CheckRetry = checkRetry
	if caCert != "" || tlsServerName != "" {
		if err := cfg.ConfigureTLS(&api.TLSConfig{CACert: caCert, TLSServerName: tlsServerName}); err != nil {
			return nil, pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
				"settings ca_cert=%q / tls_server_name=%q: %v", caCert, tlsServerName, err)
		}
	}
	client, err := api.NewClient(cfg)
	if err != nil {
		return nil, pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
			"Vault address %q: %v (the address setting or VAULT_ADDR is a URL such as https://vault.example.com:8200)", address, err)
	}
	client.ClearToken()
	// Every response body is bounded (httplimit.MaxResponseBytes, 32 MiB): a server that
	// streams a huge body fails the call instead of growing the plugin without end. The
	// client keeps cfg, so this is the transport it uses; it is wrapped only now because
	// NewClient needs the *http.Transport itself.
	cfg.HttpClient.Transport = httplimit.Transport(cfg.HttpClient.Transport, 0)
	return client, nil
}

// checkRetry is the Vault client's retry policy without the retries that cannot help
// within one command: a refused connection (nothing listens there), a host name that does
// not exist, a sealed Vault, and
// a refused AppRole login (which Vault 1.13 answers with a 500).
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	var dnsErr *net.DNSError
	if err != nil && (errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &dnsErr) && dnsErr.IsNotFound) {
		return false, nil
	}
	if err == nil && resp != nil && resp.StatusCode >= 500 && resp.Body != nil {
		// Peek at the error body (small JSON), and put it back for the caller.
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if isFinal(string(body)) {
			return false, nil
		}
	}
	retry, rerr := api.DefaultRetryPolicy(ctx, resp, err)
	if retry && rerr == nil {
		pluginsdk.Retrying(ctx) // keeps a streaming Put or Delete alive through the back-off
	}
	return retry, rerr
}

// isFinal reports whether a 5xx error text from Vault says something a retry cannot change.
func isFinal(reason string) bool {
	reason = strings.ToLower(reason)
	for _, s := range []string{"sealed", "invalid secret id", "invalid role id", "invalid role or secret id"} {
		if strings.Contains(reason, s) {
			return true
		}
	}
	return false
}

// configured returns the configuration or ErrFailedPrecondition before Configure.
func (b *Backend) configured() (*config, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cfg == nil {
		return nil, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, "the hashicorp backend is not configured: Configure was not called")
	}
	return b.cfg, nil
}

// cleanPath checks a mount or prefix setting: slash-separated segments of
// [A-Za-z0-9_.-], no "." or ".." segment; surrounding slashes are dropped. Only the
// prefix may be empty.
func cleanPath(setting, v string, mayBeEmpty bool) (string, error) {
	p := strings.Trim(v, "/")
	if p == "" {
		if mayBeEmpty {
			return "", nil
		}
		return "", pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "setting %s is empty", setting)
	}
	for _, seg := range strings.Split(p, "/") {
		if !segmentPattern.MatchString(seg) || seg == "." || seg == ".." {
			return "", pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
				"setting %s=%q: a path of segments of letters, digits, '_', '.', '-' separated by '/', without '.' or '..' segments", setting, v)
		}
	}
	return p, nil
}

// checkFolder checks the path setting: an existing folder inside the mount, such as
// prod/payments: segments of [A-Za-z0-9_.-] separated by single slashes, no leading slash,
// no empty, "." or ".." segment. It returns the folder with a trailing slash.
func checkFolder(v string) (string, error) {
	p := strings.TrimSuffix(strings.TrimSpace(v), "/")
	ok := p != "" && !strings.HasPrefix(p, "/")
	for _, seg := range strings.Split(p, "/") {
		ok = ok && segmentPattern.MatchString(seg) && seg != "." && seg != ".."
	}
	if !ok {
		return "", pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
			"setting path=%q: a folder inside the mount such as prod/payments: segments of letters, digits, '_', '.', '-' separated by single '/', "+
				"without a leading '/' or '.' and '..' segments", v)
	}
	return p + "/", nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func quoteAll(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// List returns the account's entries sorted by name: one LIST of the account's metadata
// folder, then the metadata of each entry (and, with opts.Values, the value of each plain
// variable) with at most concurrency requests in flight. Names in the folder that are not
// entry names, and secrets whose current version is deleted, are left out.
//
// Errors: ErrPermissionDenied (the message names the path and the capability the policy
// needs), ErrUnavailable, ErrFailedPrecondition (sealed, not a KV v2 mount).
func (b *Backend) List(ctx context.Context, opts pluginsdk.ListOptions) ([]pluginsdk.Entry, error) {
	c, err := b.configured()
	if err != nil {
		return nil, err
	}
	var out envelope[struct {
		Keys []string `json:"keys"`
	}]
	err = c.send(ctx, request{method: "LIST", path: c.listPath(), need: "list", policyPath: c.metadataPolicy()}, &out)
	if errors.Is(err, errNoEntry) {
		// An empty folder, or a mount that is not KV v2: tell which.
		if err := c.checkMount(ctx); err != nil {
			return nil, unwrapCall(err)
		}
		return []pluginsdk.Entry{}, nil
	}
	if err != nil {
		return nil, publicError(err)
	}
	var names []string
	unnamed := map[string]bool{} // keys that are not entry names, listed with opts.Unnamed
	for _, k := range out.Data.Keys {
		switch alias, aliased := c.aliasOf[k]; {
		case aliased:
			names = append(names, alias)
		case c.aliases[k] != "":
			c.log.Debug("skipping a key an alias stands in front of", "key", k)
		case pluginsdk.ValidateName(k) == nil:
			names = append(names, k)
		case opts.Unnamed && segmentPattern.MatchString(k) && k != "." && k != "..":
			// One segment (a folder's key ends in "/"): an alias can reach it.
			names = append(names, k)
			unnamed[k] = true
		default:
			c.log.Debug("skipping a key that is not an entry name", "key", k, "folder", c.listPath())
		}
	}
	found := make([]pluginsdk.Entry, len(names))
	ok := make([]bool, len(names))
	err = c.forEach(ctx, len(names), func(ctx context.Context, i int) error {
		var err error
		found[i], ok[i], err = c.listed(ctx, names[i], opts)
		if unnamed[names[i]] {
			// ast never writes such a name: whatever its labels say, it is an external
			// secret, without a value.
			e := &found[i]
			e.NeedsAlias, e.External, e.Kind, e.Value = true, true, pluginsdk.KindSecret, pluginsdk.Value{}
		}
		return err // List has no per-name outcomes: any error ends it
	})
	if err != nil {
		return nil, publicError(err)
	}
	entries := make([]pluginsdk.Entry, 0, len(names))
	for i := range names {
		if ok[i] {
			entries = append(entries, found[i])
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	return entries, nil
}

// Get reads each name's latest version from its data path, at most concurrency at once; it
// never lists. A missing name is a per-name ErrNotFound; an invalid one ErrInvalidArgument;
// a secret not written by ast (no "value" field) ErrFailedPrecondition. Get's entries carry
// UpdatedAt but no CreatedAt (the data endpoint does not know it).
func (b *Backend) Get(ctx context.Context, names []string) ([]pluginsdk.Result, error) {
	c, err := b.configured()
	if err != nil {
		return nil, err
	}
	return c.batch(ctx, names, func(ctx context.Context, i int) (pluginsdk.Entry, error) {
		return c.get(ctx, names[i])
	})
}

// Put writes entries with mode, at most concurrency at once. Every write is a
// check-and-set: Create fails with ErrAlreadyExists for a name that has a current version,
// Update with ErrNotFound for a missing one and with ErrFailedPrecondition when another
// writer changed the entry between its read and its write; Upsert retries a few times
// before giving up the same way. The value is written first, then the kind label.
// Before the first write of the process the mount is checked to be KV v2.
func (b *Backend) Put(ctx context.Context, entries []pluginsdk.Entry, mode pluginsdk.PutMode) ([]pluginsdk.Result, error) {
	c, err := b.configured()
	if err != nil {
		return nil, err
	}
	if mode != pluginsdk.Create && mode != pluginsdk.Update && mode != pluginsdk.Upsert {
		return nil, pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "unknown put mode %v: it is create, update or upsert", mode)
	}
	if err := c.checkMount(ctx); err != nil {
		return nil, unwrapCall(err)
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name
	}
	return c.batch(ctx, names, func(ctx context.Context, i int) (pluginsdk.Entry, error) {
		return c.put(ctx, entries[i], mode)
	})
}

// Delete removes each named entry with all its versions and its metadata, at most
// concurrency at once. A missing name is a per-name ErrNotFound. The name is free
// afterwards: a Create of it starts again at version 1.
func (b *Backend) Delete(ctx context.Context, names []string) ([]pluginsdk.Result, error) {
	c, err := b.configured()
	if err != nil {
		return nil, err
	}
	return c.batch(ctx, names, func(ctx context.Context, i int) (pluginsdk.Entry, error) {
		return c.remove(ctx, names[i])
	})
}

// batch runs one operation per name with at most concurrency in flight and collects the
// per-name results. A call-level error stops the batch and is returned alone. When a name
// was not found, the mount is checked before answering, since every read of a KV v1 or
// missing mount looks like a missing entry.
//
// Each result whose outcome is certain is reported to the host as soon as it is known
// (pluginsdk.Report), so that a batch stopped midway (a revoked token, a lost connection)
// still tells which names were written: a success, and a refusal of that name alone. A
// not-found is reported after the mount check; an error that leaves the outcome open (the
// connection failed during the write) only with the final results. When a call-level
// error stops the batch, the names it never started are reported as ErrNotAttempted.
func (c *config) batch(ctx context.Context, names []string, op func(context.Context, int) (pluginsdk.Entry, error)) ([]pluginsdk.Result, error) {
	n := len(names)
	results := make([]pluginsdk.Result, n)
	started := make([]bool, n) // each index is set by one goroutine and read after forEach
	err := c.forEach(ctx, n, func(ctx context.Context, i int) error {
		if err := ctx.Err(); err != nil {
			return err // the batch stopped before this name
		}
		started[i] = true
		e, err := op(ctx, i)
		if w := (*writtenThenStopped)(nil); errors.As(err, &w) {
			pluginsdk.Report(ctx, i, pluginsdk.Result{Entry: e})
		}
		if isCallLevel(err) {
			return err
		}
		results[i] = pluginsdk.Result{Entry: e, Err: publicError(err)}
		if certain(results[i].Err) && !errors.Is(results[i].Err, pluginsdk.ErrNotFound) {
			pluginsdk.Report(ctx, i, results[i])
		}
		return nil
	})
	if err != nil {
		for i, name := range names {
			if !started[i] {
				pluginsdk.Report(ctx, i, pluginsdk.Result{Entry: pluginsdk.Entry{Name: name},
					Err: pluginsdk.Errorf(pluginsdk.ErrNotAttempted, "not attempted: the batch stopped at an earlier error")})
			}
		}
		return nil, publicError(err)
	}
	for _, r := range results {
		if errors.Is(r.Err, pluginsdk.ErrNotFound) {
			if err := c.checkMount(ctx); err != nil {
				return nil, unwrapCall(err)
			}
			break
		}
	}
	for i, r := range results {
		if errors.Is(r.Err, pluginsdk.ErrNotFound) {
			pluginsdk.Report(ctx, i, r)
		}
	}
	return results, nil
}

// certain reports whether a per-name outcome is final: done (nil), or refused by Vault
// for that name with nothing written. Unavailable and Internal may hide a write that
// happened.
func certain(err error) bool {
	switch pluginsdk.CodeOf(err) {
	case codes.OK, codes.InvalidArgument, codes.AlreadyExists, codes.NotFound, codes.FailedPrecondition, codes.PermissionDenied:
		return true
	}
	return false
}

// forEach calls fn for 0..n-1 with at most c.concurrency calls at once. The first error
// cancels the calls not yet started and is returned; so is the caller's cancellation.
func (c *config) forEach(ctx context.Context, n int, fn func(context.Context, int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.concurrency)
	for i := 0; i < n && gctx.Err() == nil; i++ {
		g.Go(func() error { return fn(gctx, i) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// publicError turns what the operations return into what a Backend method returns: the
// *pluginsdk.Error of a call-level error, a context error as is, and the internal
// sentinels (which should not escape) as ErrInternal.
func publicError(err error) error {
	err = unwrapCall(err)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case pluginsdk.CodeOf(err) != codes.Unknown:
		return err
	}
	return pluginsdk.Errorf(pluginsdk.ErrInternal, "unexpected answer from Vault: %v", err)
}
