package awssm

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/hashicorp/go-hclog"

	"github.com/ast-cli/ast/pluginsdk"
)

// Name is the backend's name, as accounts refer to it (--backend awssm).
const Name = "awssm"

// Version is the plugin's release version; the build may set it with
// -ldflags '-X github.com/ast-cli/ast/plugins/awssm.Version=...'.
var Version = "dev"

// The tags ast puts on every secret it creates, for humans in the console and for
// entries whose current version was written outside ast (see versionIDPrefix).
const (
	tagKind    = "ast:kind"    // secret or plain
	tagAccount = "ast:account" // the ast account
)

// Backend stores an ast account's entries in AWS Secrets Manager: one secret per entry,
// named PREFIX/ACCOUNT/NAME, SecretString holding the value, tagged ast:kind and
// ast:account. New returns it unconfigured; Configure must come first. Its methods are
// safe for concurrent use.
type Backend struct {
	opts options

	mu sync.RWMutex
	c  *client // nil until Configure
}

var _ pluginsdk.Backend = (*Backend)(nil)

// New returns an unconfigured backend that logs through pluginsdk.NewLogger.
func New() *Backend { return newBackend() }

func newBackend(opts ...option) *Backend {
	o := options{maxBackoff: maxBackoff, writeRate: writesPerSecond}
	for _, fn := range opts {
		fn(&o)
	}
	if o.log == nil {
		o.log = pluginsdk.NewLogger(Name)
	}
	return &Backend{opts: o}
}

// client is a configured backend: the account and its AWS client.
type client struct {
	api     *secretsmanager.Client
	log     hclog.Logger
	account string
	set     settings
	region  string            // the region in use, from the settings or the SDK's configuration
	prefix  string            // PREFIX/ACCOUNT/ (or PATH/), the start of every secret name of the account
	aliases map[string]string // entry name → the rest of a secret's name (the aliases setting)
	aliasOf map[string]string // the reverse
}

// Configure checks the account name and settings (see parseSettings) and loads the AWS
// configuration. It makes no network call, so a bad credential, an unreachable endpoint
// or an unknown region shows at the first call. Errors: ErrInvalidArgument for a bad
// account, setting or profile, or no region at all.
func (b *Backend) Configure(ctx context.Context, account string, m map[string]string) error {
	if !pluginsdk.ValidAccount(account) {
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument,
			"invalid account name %q: an account name is [a-z0-9][a-z0-9_-]*, at most 64 bytes", account)
	}
	s, err := parseSettings(m)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(ctx, s, b.opts)
	if err != nil {
		return configError(s, err)
	}
	if cfg.Region == "" {
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "no AWS region: %s", regionHint)
	}
	c := &client{
		api:     newAPI(cfg, s, b.opts),
		log:     b.opts.log,
		account: account,
		set:     s,
		region:  cfg.Region,
		prefix:  s.prefix + "/" + account + "/",
	}
	if s.path != "" {
		c.prefix = s.path + "/"
	}
	c.aliases, c.aliasOf = s.aliases, map[string]string{}
	for alias, n := range s.aliases {
		c.aliasOf[n] = alias
	}
	b.mu.Lock()
	b.c = c
	b.mu.Unlock()
	return nil
}

// Info describes the plugin. Batches of any size are taken (MaxBatch 0): Get splits them
// into BatchGetSecretValue calls of 20 names, writes run 8 at a time under a rate limit.
func (b *Backend) Info(context.Context) (pluginsdk.Info, error) {
	return pluginsdk.Info{
		Name:         Name,
		Version:      Version,
		Protocol:     pluginsdk.ProtocolVersion,
		Capabilities: []string{pluginsdk.CapVersions, pluginsdk.CapTimestamps},
	}, nil
}

// configured returns the client, or ErrFailedPrecondition before Configure.
func (b *Backend) configured() (*client, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.c == nil {
		return nil, pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, "the awssm backend is not configured")
	}
	return b.c, nil
}

// List returns the account's entries sorted by name: one ListSecrets call per 100 secrets
// whose names start with PREFIX/ACCOUNT/, and, with opts.Values, BatchGetSecretValue calls
// for the plain variables only. Secrets scheduled for deletion and secrets under the prefix
// whose rest is not an entry name are left out.
func (b *Backend) List(ctx context.Context, opts pluginsdk.ListOptions) ([]pluginsdk.Entry, error) {
	c, err := b.configured()
	if err != nil {
		return nil, err
	}
	return c.list(ctx, opts)
}

// Get returns the values of the named entries with BatchGetSecretValue, 20 names a call
// and never ListSecrets. Result.Entry has the value, the kind and version recorded in the
// current version's ID, and UpdatedAt (when the current version was written). Per-name
// errors: ErrInvalidArgument (bad name), ErrNotFound (no entry, or scheduled for
// deletion), ErrPermissionDenied (AWS or KMS refused that secret). A failure of a whole
// call (unreachable, credentials, throttled) is the returned error.
func (b *Backend) Get(ctx context.Context, names []string) ([]pluginsdk.Result, error) {
	c, err := b.configured()
	if err != nil {
		return nil, err
	}
	return c.get(ctx, names)
}

// Put writes the entries, at most 8 at once and 40 writes a second. Create uses
// CreateSecret (a secret still in its recovery window after a delete is purged first, so
// the name is free again); Update uses DescribeSecret and PutSecretValue, retagging when
// the kind changes. Per-name errors: ErrInvalidArgument, ErrAlreadyExists (Create),
// ErrNotFound (Update), ErrFailedPrecondition (another writer replaced the same version
// first). When AWS cannot be reached or refuses the credentials the batch stops; if
// nothing was written, that is the returned error.
func (b *Backend) Put(ctx context.Context, entries []pluginsdk.Entry, mode pluginsdk.PutMode) ([]pluginsdk.Result, error) {
	c, err := b.configured()
	if err != nil {
		return nil, err
	}
	if mode != pluginsdk.Create && mode != pluginsdk.Update && mode != pluginsdk.Upsert {
		return nil, pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "unknown put mode %v", mode)
	}
	return c.putAll(ctx, entries, mode)
}

// Delete deletes the named entries' secrets, at most 8 at once and 40 writes a second:
// with the recovery window of the recovery_window_days setting (AWS keeps the secret
// restorable meanwhile; ast no longer sees it and a later Create of the name works), or at
// once when it is 0. Per-name errors: ErrInvalidArgument, ErrNotFound. Whole-call errors
// as for Put.
func (b *Backend) Delete(ctx context.Context, names []string) ([]pluginsdk.Result, error) {
	c, err := b.configured()
	if err != nil {
		return nil, err
	}
	return c.deleteAll(ctx, names)
}
