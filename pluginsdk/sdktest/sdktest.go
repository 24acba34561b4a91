// Package sdktest is the conformance suite of ast backends. Every backend runs it from its
// own tests, against a real store where it has one (a Vault dev server, moto_server):
//
//	func TestConformance(t *testing.T) {
//		sdktest.Run(t, sdktest.Config{
//			New:      func(sdktest.T) pluginsdk.Backend { return example.New() },
//			Settings: map[string]string{"dir": t.TempDir()},
//		})
//	}
//
// Run checks the contract of pluginsdk.Backend as the host relies on it: the semantics and
// error codes of Create, Update, Upsert and Delete, per-name results of batches, kinds,
// List's order and its rule that a secret's value never leaves through it, the limits of
// names and values, the isolation of accounts, and the behaviour of concurrent clients.
// Each check runs twice: once calling the Backend directly and once over a real go-plugin
// gRPC connection, as ast calls a plugin.
//
// Beyond the obvious, a backend passes only if
//   - Info works before Configure, with Protocol == pluginsdk.ProtocolVersion and a Name;
//   - Configure refuses an unknown setting with ErrInvalidArgument, and an instance that
//     was never configured answers ErrFailedPrecondition;
//   - every result of a successful Put carries the entry's name, the kind given and a
//     version of at least 1; a successful Delete result carries the name; a Get result
//     that sets a name or kind sets the right one;
//   - a batch that mixes names that fail and names that succeed fails only the former,
//     with or without pluginsdk.CapAtomicBatch;
//   - with pluginsdk.CapVersions, a name's first write is version 1 and every write adds
//     1; with pluginsdk.CapTimestamps, List has both times and an update keeps the
//     created time;
//   - no error, per name or for the call, contains a value the suite wrote;
//   - several instances that configure one new store at once and then create one name at
//     once all configure, and exactly one create wins (first_configure, 5 rounds behind
//     barriers; Config.FreshStore gives each round a new store location);
//   - with Config.External (a backend over a store others write too), entries written
//     behind the backend's back are listed as External secrets without a value, with field
//     names only when asked, Get answers their whole value, and a forced write makes them
//     ast's own (checkExternal).
//
// Batches are at most 50 names and are split by Info.MaxBatch. Values that are not valid
// UTF-8 cannot cross the gRPC protocol (protobuf strings), so over gRPC the suite accepts
// that the call fails as a whole for them.
//
// Every check configures fresh instances with an account name of its own ("sdk" and random
// hex), so checks never see each other's entries and can run in parallel, and a run never
// collides with an earlier one on a shared server. Entries a check leaves are deleted at
// its end, as far as the backend lets them.
//
// Failure messages name the check (the subtest), the operation and the entry name, and
// for the usual mistakes the rule and the fix (a plain error where a coded one is due, a
// store that folds case, a create that is not check-and-write in one step); they never
// print a value, only its length and where it differs.
//
// The checks run against T, which *testing.T satisfies; Checks returns them for other
// runners: `ast plugin test` runs the same checks against a plugin binary, one process per
// instance. The plugin author's guide is pluginsdk/README.md.
//
// The package also has an in-memory reference backend (NewMemory, NewMemoryStore) for tests
// of hosts.
package sdktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/ast-cli/ast/pluginsdk"
)

// T is what a check needs of whoever runs it: a failure sink, a stop, and cleanups.
// *testing.T satisfies it; so does `ast plugin test`, which runs the same checks against a
// plugin binary and prints one line per check. FailNow (and so Fatalf) must stop the
// calling goroutine (runtime.Goexit, as testing does); checks call it only from the
// goroutine the runner started them on. Cleanup functions run after the check, last
// registered first.
type T interface {
	Helper()
	Name() string
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	FailNow()
	Failed() bool
	Logf(format string, args ...any)
	Cleanup(func())
}

var _ T = (*testing.T)(nil)

// Config says how to make the backend under test.
type Config struct {
	// New returns a new, unconfigured instance of the backend: one client, as one plugin
	// process is. It is called many times, also several times for one account (the
	// concurrency checks use one instance per writer), always from the check's goroutine.
	New func(t T) pluginsdk.Backend
	// Settings are passed to Configure, with a fresh account name for each check.
	Settings map[string]string
	// FreshStore, when set, returns settings for a new, empty store of the backend (for
	// the local backend: a new "dir"); the first_configure check uses one per round, so
	// that several instances create the store itself at once. When nil, each round uses
	// a new account with Settings (a new store for backends with a store per account).
	FreshStore func(t T) map[string]string
	// Writers is the number of concurrent clients in the concurrency checks; 0 means 16.
	Writers int
	// Remote says that the instances New returns are already clients of a plugin over the
	// protocol (ast plugin test): a value protobuf cannot carry (invalid UTF-8) then fails
	// the call as a whole, which is all a host can see.
	Remote bool
	// Account, when set, is asked about every account name before a check uses it; an
	// error fails the check before anything is written (ast plugin test refuses the names
	// of configured accounts).
	Account func(name string) error
	// External, when set, writes an entry ast did not write, as vault kv put or aws
	// secretsmanager create-secret would, through the store's own API and not through the
	// backend: a secret named name in the folder of account (configured with Settings)
	// holding fields (field name → text). It returns what Get must answer as the entry's
	// whole value (Vault: the "value" field when there is one, else the fields as a JSON
	// object; AWS: the SecretString, the fields as a JSON object). The external check
	// passes without looking when it is nil (ast plugin test, backends without a store of
	// their own).
	External func(t T, account, name string, fields map[string]string) (whole string)
	// ExternalBinary, when set, writes a secret ast did not write whose value is not text
	// (an AWS SecretBinary) in the folder of account: List lists it, Get refuses it for
	// that name alone with ErrFailedPrecondition.
	ExternalBinary func(t T, account, name string)
	// Leftover, when set, is told about entries a check could not remove at its end
	// (names is nil when the account could not even be listed); the check itself has
	// passed or failed already.
	Leftover func(account string, names []string, err error)
}

// checkTimeout bounds one check, so that a hung backend fails the check instead of the
// whole test binary.
const checkTimeout = 3 * time.Minute

// Check is one conformance check of the suite.
type Check struct {
	// Name is the check's name: the subtest's under Run, the line's under ast plugin test.
	Name string
	run  func(h *harness)
}

// Checks returns the suite's checks, in the order Run runs them.
func Checks() []Check { return slices.Clone(checks) }

// Run runs the check against the instances cfg.New returns, as they are (no transport of
// its own), reporting to t. It is how ast plugin test runs the suite; Run below is how a
// plugin's Go tests do.
func (c Check) Run(t T, cfg Config) {
	t.Helper()
	if cfg.New == nil {
		t.Fatalf("sdktest.Config.New is nil: it must return a new, unconfigured backend")
	}
	if cfg.Writers <= 0 {
		cfg.Writers = 16
	}
	transport := "direct"
	if cfg.Remote {
		transport = "grpc"
	}
	c.run(newHarness(t, cfg, transport, func(_ T, b pluginsdk.Backend) pluginsdk.Backend { return b }))
}

// Run runs every check as a subtest of t, twice: under "direct", calling the instances
// cfg.New returns, and under "grpc", calling them through go-plugin's gRPC client and
// server (pluginsdk.PluginSets), as ast does. The checks of one transport run in parallel.
func Run(t *testing.T, cfg Config) {
	t.Helper()
	if cfg.New == nil {
		t.Fatal("sdktest.Config.New is nil: it must return a new, unconfigured backend")
	}
	if cfg.Writers <= 0 {
		cfg.Writers = 16
	}
	transports := []struct {
		name string
		wrap func(T, pluginsdk.Backend) pluginsdk.Backend
	}{
		{"direct", func(_ T, b pluginsdk.Backend) pluginsdk.Backend { return b }},
		{"grpc", overGRPC},
	}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			for _, c := range checks {
				t.Run(c.Name, func(t *testing.T) {
					t.Parallel()
					h := newHarness(t, cfg, tr.name, tr.wrap)
					c.run(h)
				})
			}
		})
	}
}

// overGRPC serves b as pluginsdk.Serve does, but in this process (go-plugin's test mode),
// and returns the host's view of it: the Backend that go-plugin's client dispenses from
// pluginsdk's plugin set of the protocol the server chose, with the message size limits of
// host and plugin (pluginsdk.MaxMessageBytes). Every call crosses a real gRPC connection on
// a Unix socket.
func overGRPC(t T, b pluginsdk.Backend) pluginsdk.Backend {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  pluginsdk.Handshake,
		VersionedPlugins: pluginsdk.PluginSets(b),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return plugin.DefaultGRPCServer(append(opts,
				grpc.MaxRecvMsgSize(pluginsdk.MaxMessageBytes), grpc.MaxSendMsgSize(pluginsdk.MaxMessageBytes)))
		},
		Logger: hclog.NewNullLogger(),
		Test:   &plugin.ServeTestConfig{Context: ctx, ReattachConfigCh: reattach, CloseCh: closed},
	})
	var config *plugin.ReattachConfig
	select {
	case config = <-reattach:
	case <-closed:
		cancel()
		t.Fatalf("go-plugin's Serve (test mode) stopped before it served")
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatalf("go-plugin's Serve (test mode) did not start serving within 30s")
	}
	if config.ProtocolVersion != pluginsdk.ProtocolVersion {
		cancel()
		t.Fatalf("go-plugin's Serve chose protocol %d, want pluginsdk.ProtocolVersion (%d)", config.ProtocolVersion, pluginsdk.ProtocolVersion)
	}
	// A reattaching client takes the plugin set of the version the server chose.
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  pluginsdk.Handshake,
		Plugins:          pluginsdk.PluginSets(nil)[config.ProtocolVersion],
		Reattach:         config,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		GRPCDialOptions:  pluginsdk.GRPCDialOptions(),
		Logger:           hclog.NewNullLogger(),
	})
	protocol, err := client.Client()
	if err != nil {
		cancel()
		t.Fatalf("connecting to the plugin over gRPC: %v", err)
	}
	t.Cleanup(func() {
		// Closing the client shuts the server down, as ast does with a plugin; cancelling
		// the context as well would race inside go-plugin, so it is only the fallback.
		_ = protocol.Close()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			cancel()
			<-closed
		}
		cancel()
	})
	raw, err := protocol.Dispense(pluginsdk.PluginName)
	if err != nil {
		t.Fatalf("dispensing %q over gRPC: %v", pluginsdk.PluginName, err)
	}
	backend, ok := raw.(pluginsdk.Backend)
	if !ok {
		t.Fatalf("the gRPC client dispensed %T, not a pluginsdk.Backend", raw)
	}
	return backend
}

// harness is one check's view of the backend: it opens clients, remembers every value the
// check writes (so that no error may contain one and no failure message prints one) and
// cleans up the accounts it used.
type harness struct {
	t         T
	cfg       Config
	transport string // "direct" or "grpc"
	wrap      func(T, pluginsdk.Backend) pluginsdk.Backend
	ctx       context.Context
	base      string // the check's account name; others derive from it
	mu        sync.Mutex
	values    []string // every value written, for the leak check
	cleaned   map[string]bool
}

func newHarness(t T, cfg Config, transport string, wrap func(T, pluginsdk.Backend) pluginsdk.Backend) *harness {
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	t.Cleanup(cancel)
	return &harness{t: t, cfg: cfg, transport: transport, wrap: wrap, ctx: ctx,
		base: "sdk" + randomHex(8), cleaned: map[string]bool{}}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// account returns the check's account name, or a related one for suffix "b" etc. The
// suffix form ("sdk1234-b") also tests that a backend's prefix filtering stops at the
// account boundary.
func (h *harness) account(suffix string) string {
	if suffix == "" {
		return h.base
	}
	return h.base + "-" + suffix
}

// open returns a new unconfigured instance over the check's transport.
func (h *harness) open() pluginsdk.Backend {
	h.t.Helper()
	b := h.cfg.New(h.t)
	if b == nil {
		h.t.Fatalf("sdktest.Config.New returned nil")
	}
	return h.wrap(h.t, b)
}

// settings returns a copy of the configured settings plus extra.
func (h *harness) settings(extra map[string]string) map[string]string {
	s := maps.Clone(h.cfg.Settings)
	if s == nil {
		s = map[string]string{}
	}
	maps.Copy(s, extra)
	return s
}

// connect returns a configured client of account. The first client of an account also
// registers the cleanup that deletes what the check left there.
func (h *harness) connect(account string) *client {
	h.t.Helper()
	return h.connectWith(h.open(), account)
}

func (h *harness) connectWith(b pluginsdk.Backend, account string) *client {
	h.t.Helper()
	return h.connectTo(b, account, "", h.settings(nil))
}

// connectTo configures b for account with settings; store names the store those
// settings select ("" for the configured one), so that each store gets its cleanup.
func (h *harness) connectTo(b pluginsdk.Backend, account, store string, settings map[string]string) *client {
	h.t.Helper()
	h.allowAccount(account)
	if err := b.Configure(h.ctx, account, settings); err != nil {
		h.t.Fatalf("Configure(account %q): %s", account, h.errText(err))
	}
	info, err := b.Info(h.ctx)
	if err != nil {
		h.t.Fatalf("Info after Configure: %s", h.errText(err))
	}
	c := &client{h: h, b: b, account: account, store: store, info: info}
	h.cleanupOnce(c)
	return c
}

// allowAccount fails the check when the runner refuses the account name (Config.Account).
func (h *harness) allowAccount(account string) {
	h.t.Helper()
	if h.cfg.Account == nil {
		return
	}
	if err := h.cfg.Account(account); err != nil {
		h.t.Fatalf("refusing to use account %q: %v", account, err)
	}
}

// cleanupOnce registers c's cleanup if it is the first client of its account and store.
func (h *harness) cleanupOnce(c *client) {
	key := c.account + "\x00" + c.store
	h.mu.Lock()
	first := !h.cleaned[key]
	h.cleaned[key] = true
	h.mu.Unlock()
	if first {
		h.t.Cleanup(func() { c.cleanup() })
	}
}

// remember records values the check writes (or tries to), for noLeak and errText.
func (h *harness) remember(vs ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, v := range vs {
		if len(v) >= minLeakBytes {
			h.values = append(h.values, v)
		}
	}
}

// minLeakBytes is the shortest value the leak check looks for: shorter ones ("x", " ")
// occur in ordinary text by chance.
const minLeakBytes = 8

// leaked reports whether msg contains a value the check wrote.
func (h *harness) leaked(msg string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, v := range h.values {
		if strings.Contains(msg, v) {
			return true
		}
	}
	return false
}

// errText formats err for a failure message: its code and text, with any value the check
// wrote cut out.
func (h *harness) errText(err error) string {
	if err == nil {
		return "no error"
	}
	msg := err.Error()
	h.mu.Lock()
	for _, v := range h.values {
		msg = strings.ReplaceAll(msg, v, "[VALUE]")
	}
	h.mu.Unlock()
	return fmt.Sprintf("%s (code %s)", msg, pluginsdk.CodeOf(err))
}

// noLeak fails the check when err's text contains a value.
func (h *harness) noLeak(op string, err error) {
	h.t.Helper()
	if err != nil && h.leaked(err.Error()) {
		h.t.Errorf("%s: the error contains a value the check wrote (errors must never carry values): %s", op, h.errText(err))
	}
}

// client is a configured instance of the backend for one account.
type client struct {
	h       *harness
	b       pluginsdk.Backend
	account string
	store   string // "" for the configured store, else which fresh store
	info    pluginsdk.Info
}

func (c *client) hasCap(name string) bool { return slices.Contains(c.info.Capabilities, name) }

// chunks splits n items into the batches the backend takes (Info.MaxBatch).
func (c *client) chunks(n int) [][2]int {
	size := c.info.MaxBatch
	if size <= 0 {
		size = max(n, 1)
	}
	var out [][2]int
	for i := 0; i < n; i += size {
		out = append(out, [2]int{i, min(i+size, n)})
	}
	return out
}

// tryPut calls Put and returns the results and the whole-call error; it checks the number
// of results and that no error carries a value.
func (c *client) tryPut(entries []pluginsdk.Entry, mode pluginsdk.PutMode) ([]pluginsdk.Result, error) {
	c.h.t.Helper()
	for _, e := range entries {
		c.h.remember(e.Value.Reveal())
	}
	var out []pluginsdk.Result
	for _, ch := range c.chunks(len(entries)) {
		res, err := c.b.Put(c.h.ctx, entries[ch[0]:ch[1]], mode)
		c.h.noLeak("Put", err)
		if err != nil {
			return nil, err
		}
		if !c.checkLen("Put", len(res), ch[1]-ch[0]) {
			return nil, errWrongLen
		}
		out = append(out, res...)
	}
	for i, r := range out {
		c.h.noLeak(fmt.Sprintf("Put %s of %q", mode, entries[i].Name), r.Err)
	}
	return out, nil
}

var errWrongLen = errors.New("wrong number of results")

func (c *client) checkLen(op string, got, want int) bool {
	c.h.t.Helper()
	if got != want {
		c.h.t.Errorf("%s: %d results for %d names: results[i] must answer input i", op, got, want)
		return false
	}
	return true
}

// put calls Put and fails the check on a whole-call error.
func (c *client) put(entries []pluginsdk.Entry, mode pluginsdk.PutMode) []pluginsdk.Result {
	c.h.t.Helper()
	res, err := c.tryPut(entries, mode)
	if err != nil {
		c.h.t.Fatalf("Put %s of %s: the call failed as a whole: %s", mode, entryNames(entries), c.h.errText(err))
	}
	return res
}

// mustPut writes entries and fails the check unless every name succeeds with a result
// that names the entry, has its kind and a version of at least 1.
func (c *client) mustPut(entries []pluginsdk.Entry, mode pluginsdk.PutMode) []pluginsdk.Result {
	c.h.t.Helper()
	res := c.put(entries, mode)
	for i, r := range res {
		e := entries[i]
		if r.Err != nil {
			hint := ""
			if errors.Is(r.Err, pluginsdk.ErrAlreadyExists) {
				hint = caseHint(e.Name, namesOf(entries))
			}
			c.h.t.Fatalf("Put %s of %q (%s, value of %d bytes): %s%s", mode, e.Name, e.Kind, e.Value.Len(), c.h.errText(r.Err), hint)
		}
		c.checkPutResult(mode, e, r)
	}
	return res
}

// checkPutResult checks a successful Put result: "for Put, the written entry's name, kind
// and version".
func (c *client) checkPutResult(mode pluginsdk.PutMode, e pluginsdk.Entry, r pluginsdk.Result) {
	c.h.t.Helper()
	if r.Entry.Name != e.Name {
		c.h.t.Errorf("Put %s of %q: the result names %q: results[i] must answer entries[i] and carry its name", mode, e.Name, r.Entry.Name)
	}
	if r.Entry.Kind != e.Kind {
		c.h.t.Errorf("Put %s of %q: the result has kind %q, want %q (the kind given)", mode, e.Name, r.Entry.Kind, e.Kind)
	}
	if r.Entry.Version < 1 {
		c.h.t.Errorf("Put %s of %q: the result has version %d: versions start at 1", mode, e.Name, r.Entry.Version)
	}
	if !r.Entry.Value.IsZero() && r.Entry.Value.Reveal() != e.Value.Reveal() {
		c.h.t.Errorf("Put %s of %q: the result carries a value (%d bytes) other than the one written (%d bytes)", mode, e.Name, r.Entry.Value.Len(), e.Value.Len())
	}
}

func (c *client) get(names []string) []pluginsdk.Result {
	c.h.t.Helper()
	var out []pluginsdk.Result
	for _, ch := range c.chunks(len(names)) {
		res, err := c.b.Get(c.h.ctx, names[ch[0]:ch[1]])
		c.h.noLeak("Get", err)
		if err != nil {
			c.h.t.Fatalf("Get %s: the call failed as a whole: %s", quoteNames(names[ch[0]:ch[1]]), c.h.errText(err))
		}
		if !c.checkLen("Get", len(res), ch[1]-ch[0]) {
			c.h.t.FailNow()
		}
		out = append(out, res...)
	}
	for i, r := range out {
		c.h.noLeak(fmt.Sprintf("Get of %q", names[i]), r.Err)
	}
	return out
}

func (c *client) del(names []string) []pluginsdk.Result {
	c.h.t.Helper()
	var out []pluginsdk.Result
	for _, ch := range c.chunks(len(names)) {
		res, err := c.b.Delete(c.h.ctx, names[ch[0]:ch[1]])
		c.h.noLeak("Delete", err)
		if err != nil {
			c.h.t.Fatalf("Delete %s: the call failed as a whole: %s", quoteNames(names[ch[0]:ch[1]]), c.h.errText(err))
		}
		if !c.checkLen("Delete", len(res), ch[1]-ch[0]) {
			c.h.t.FailNow()
		}
		out = append(out, res...)
	}
	for i, r := range out {
		c.h.noLeak(fmt.Sprintf("Delete of %q", names[i]), r.Err)
		if r.Err == nil && r.Entry.Name != names[i] {
			c.h.t.Errorf("Delete of %q: the result names %q: results[i] must answer names[i] and carry its name", names[i], r.Entry.Name)
		}
	}
	return out
}

// mustDelete deletes names and fails the check unless every one succeeds.
func (c *client) mustDelete(names ...string) {
	c.h.t.Helper()
	for i, r := range c.del(names) {
		if r.Err != nil {
			c.h.t.Fatalf("Delete of %q: %s", names[i], c.h.errText(r.Err))
		}
	}
}

func (c *client) list(values bool) []pluginsdk.Entry {
	c.h.t.Helper()
	entries, err := c.b.List(c.h.ctx, pluginsdk.ListOptions{Values: values})
	c.h.noLeak("List", err)
	if err != nil {
		c.h.t.Fatalf("List(Values: %v): %s", values, c.h.errText(err))
	}
	return entries
}

// cleanup deletes every entry left in the account, as far as the backend lets it; it
// logs, never fails, since the check has had its say. What it cannot delete goes to
// Config.Leftover.
func (c *client) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	entries, err := c.b.List(ctx, pluginsdk.ListOptions{})
	if err != nil {
		c.leftover(nil, err)
		return
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name
	}
	var left []string
	var lastErr error
	for _, ch := range c.chunks(len(names)) {
		res, err := c.b.Delete(ctx, names[ch[0]:ch[1]])
		if err != nil {
			left, lastErr = append(left, names[ch[0]:]...), err
			break
		}
		for i, r := range res {
			if r.Err != nil && !errors.Is(r.Err, pluginsdk.ErrNotFound) {
				left, lastErr = append(left, names[ch[0]+i]), r.Err
			}
		}
	}
	if len(left) > 0 {
		c.leftover(left, lastErr)
	}
}

func (c *client) leftover(names []string, err error) {
	c.h.t.Logf("cleanup of account %q: %d entries left: %s", c.account, len(names), c.h.errText(err))
	if c.h.cfg.Leftover != nil {
		c.h.cfg.Leftover(c.account, names, errors.New(c.h.errText(err)))
	}
}

// want is what a check expects the store to hold for one name.
type want struct {
	kind  pluginsdk.Kind
	value string
}

// state is what a check expects an account to hold: name → entry.
type state map[string]want

// expect checks that the account holds exactly st, through every read the contract has:
//   - List without values: exactly these names, sorted, with their kinds, a version of at
//     least 1, no value at all;
//   - List with values: the same, with the values of plain variables and never a secret's;
//   - Get of every name: its value.
//
// It returns the List entries by name, for checks of versions and times.
func (c *client) expect(st state) map[string]pluginsdk.Entry {
	c.h.t.Helper()
	var listed map[string]pluginsdk.Entry
	for _, values := range []bool{false, true} {
		op := fmt.Sprintf("List(Values: %v)", values)
		entries := c.list(values)
		byName := c.checkListed(op, entries, st)
		for name, e := range byName {
			w, ok := st[name]
			if !ok {
				continue
			}
			switch {
			case e.Kind == pluginsdk.KindSecret && !e.Value.IsZero():
				c.h.t.Errorf("%s: secret %q carries a value (%d bytes): a secret's value never leaves through List", op, name, e.Value.Len())
			case e.Kind == pluginsdk.KindPlain && !values && !e.Value.IsZero():
				c.h.t.Errorf("%s: plain %q carries a value (%d bytes) though values were not asked for", op, name, e.Value.Len())
			case e.Kind == pluginsdk.KindPlain && values:
				c.sameValue(op, name, e.Value.Reveal(), w.value)
			}
		}
		listed = byName
	}
	names := slices.Sorted(maps.Keys(st))
	if len(names) == 0 {
		return listed
	}
	for i, r := range c.get(names) {
		name, w := names[i], st[names[i]]
		if r.Err != nil {
			c.h.t.Errorf("Get of %q (%s): %s", name, w.kind, c.h.errText(r.Err))
			continue
		}
		c.checkGetResult(name, w, r)
	}
	return listed
}

// checkListed checks one List answer against st: the names, their order and kinds, and
// versions and times as the capabilities promise. It returns the entries by name.
func (c *client) checkListed(op string, entries []pluginsdk.Entry, st state) map[string]pluginsdk.Entry {
	c.h.t.Helper()
	names := make([]string, len(entries))
	byName := make(map[string]pluginsdk.Entry, len(entries))
	for i, e := range entries {
		names[i] = e.Name
		if _, dup := byName[e.Name]; dup {
			c.h.t.Errorf("%s: %q is listed twice", op, e.Name)
		}
		byName[e.Name] = e
	}
	if !slices.IsSorted(names) {
		c.h.t.Errorf("%s: not sorted by name (byte order): %s", op, quoteNames(names))
	}
	for _, name := range slices.Sorted(maps.Keys(st)) {
		e, ok := byName[name]
		if !ok {
			c.h.t.Errorf("%s: %q is missing%s", op, name, caseHint(name, names))
			continue
		}
		if e.Kind != st[name].kind {
			c.h.t.Errorf("%s: %q has kind %q, want %q", op, name, e.Kind, st[name].kind)
		}
		if e.Version < 1 {
			c.h.t.Errorf("%s: %q has version %d: versions start at 1", op, name, e.Version)
		}
		if c.hasCap(pluginsdk.CapTimestamps) {
			if e.CreatedAt.IsZero() || e.UpdatedAt.IsZero() {
				c.h.t.Errorf("%s: %q has no created or updated time, though Info reports %q", op, name, pluginsdk.CapTimestamps)
			} else if e.UpdatedAt.Before(e.CreatedAt) {
				c.h.t.Errorf("%s: %q was updated (%s) before it was created (%s)", op, name, e.UpdatedAt, e.CreatedAt)
			}
		}
	}
	for _, name := range names {
		if _, ok := st[name]; !ok {
			c.h.t.Errorf("%s: %q is listed but the check never wrote it (or deleted it)", op, name)
		}
	}
	return byName
}

// checkGetResult checks a successful Get result: its value, and its name and kind when the
// backend sets them.
func (c *client) checkGetResult(name string, w want, r pluginsdk.Result) {
	c.h.t.Helper()
	if r.Entry.Name != "" && r.Entry.Name != name {
		c.h.t.Errorf("Get of %q: the result names %q: results[i] must answer names[i]", name, r.Entry.Name)
	}
	if r.Entry.Kind != "" && r.Entry.Kind != w.kind {
		c.h.t.Errorf("Get of %q: the result has kind %q, want %q", name, r.Entry.Kind, w.kind)
	}
	c.sameValue("Get", name, r.Entry.Value.Reveal(), w.value)
}

// sameValue fails the check when got differs from want, describing the difference by
// lengths and offset only.
func (c *client) sameValue(op, name, got, written string) {
	c.h.t.Helper()
	if got == written {
		return
	}
	at := 0
	for at < len(got) && at < len(written) && got[at] == written[at] {
		at++
	}
	c.h.t.Errorf("%s of %q: the value differs from the one written: got %d bytes, want %d bytes, first difference at byte %d",
		op, name, len(got), len(written), at)
}

// wantCode fails the check unless err is the sentinel's code; the message names the
// rule and, for the usual mistakes, the fix.
func (c *client) wantCode(op string, err error, sentinel *pluginsdk.Error) {
	c.h.t.Helper()
	if !errors.Is(err, sentinel) {
		c.h.t.Errorf("%s: got %s, want %s (code %s)%s", op, c.h.errText(err), sentinel.Message, sentinel.Code, codeHint(err, sentinel))
	}
}

// sentinelNames are the Go names of the error sentinels, for hints.
var sentinelNames = map[pluginsdk.Code]string{
	pluginsdk.ErrNotFound.Code:           "ErrNotFound",
	pluginsdk.ErrAlreadyExists.Code:      "ErrAlreadyExists",
	pluginsdk.ErrInvalidArgument.Code:    "ErrInvalidArgument",
	pluginsdk.ErrPermissionDenied.Code:   "ErrPermissionDenied",
	pluginsdk.ErrUnavailable.Code:        "ErrUnavailable",
	pluginsdk.ErrFailedPrecondition.Code: "ErrFailedPrecondition",
	pluginsdk.ErrInternal.Code:           "ErrInternal",
}

// codeHint says how to fix an error that lacks the sentinel's code: a plain error (from
// errors.New or fmt.Errorf) has no code and crosses the wire as Internal, so the host
// cannot tell "already exists" from a crash.
func codeHint(err error, sentinel *pluginsdk.Error) string {
	if err == nil {
		return ""
	}
	switch pluginsdk.CodeOf(err) {
	case codes.Unknown, codes.Internal:
		name := sentinelNames[sentinel.Code]
		return fmt.Sprintf(": a plain error has no code (it arrives as %s); return pluginsdk.Errorf(pluginsdk.%s, …) "+
			"so the code crosses the wire", pluginsdk.CodeOf(err), name)
	}
	return ""
}

// caseHint explains a failure of name that a case-insensitive store causes: another name
// of the batch or state differs from it only in case.
func caseHint(name string, others []string) string {
	for _, o := range others {
		if o != name && strings.EqualFold(o, name) {
			return fmt.Sprintf(" (%q and %q differ only in case: names are case-sensitive, they are two entries; "+
				"a store that folds case, such as a case-insensitive file system or a COLLATE NOCASE column, "+
				"must keep them apart, e.g. by encoding names)", o, name)
		}
	}
	return ""
}

func entryNames(entries []pluginsdk.Entry) string { return quoteNames(namesOf(entries)) }

func namesOf(entries []pluginsdk.Entry) []string {
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name
	}
	return names
}

// quoteNames formats names for a message, shortening long lists and long names.
func quoteNames(names []string) string {
	const most = 8
	var b strings.Builder
	b.WriteByte('[')
	for i, n := range names {
		if i == most {
			fmt.Fprintf(&b, " ... %d more", len(names)-most)
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		if len(n) > 40 {
			fmt.Fprintf(&b, "%.40q...(%d bytes)", n, len(n))
		} else {
			fmt.Fprintf(&b, "%q", n)
		}
	}
	b.WriteByte(']')
	return b.String()
}

// entry builds an entry to put.
func entry(name string, kind pluginsdk.Kind, value string) pluginsdk.Entry {
	return pluginsdk.Entry{Name: name, Kind: kind, Value: pluginsdk.NewValue(value)}
}

// token returns a value that is unique to this run, so that the leak check finds it.
func token(label string) string { return label + "-" + randomHex(6) }
