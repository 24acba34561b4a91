package hashicorp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/ast-cli/ast/pluginsdk"
)

// These tests run against a real Vault dev server (KV v2 at secret/), which
// scripts/with-servers starts: AST_TEST_VAULT_ADDR, AST_TEST_VAULT_TOKEN (a root token).
// Every test uses fresh account names, so the tests run in parallel and again on the same
// server. Failure messages name entries, never their values.

type testVault struct {
	addr, token string
	admin       *api.Client // root client for setting the server up
}

func requireVault(t *testing.T) testVault {
	t.Helper()
	addr, token := os.Getenv("AST_TEST_VAULT_ADDR"), os.Getenv("AST_TEST_VAULT_TOKEN")
	if addr == "" || token == "" {
		t.Skip("AST_TEST_VAULT_ADDR / AST_TEST_VAULT_TOKEN are unset: run under scripts/with-servers (make test) to test against a real Vault dev server")
	}
	cfg := api.DefaultConfig()
	cfg.Address = addr
	admin, err := api.NewClient(cfg)
	if err != nil {
		t.Fatalf("admin client: %v", err)
	}
	admin.SetToken(token)
	return testVault{addr: addr, token: token, admin: admin}
}

// backend returns a configured backend for account that authenticates with token.
func (v testVault) backend(t *testing.T, account, token string, settings map[string]string) *Backend {
	t.Helper()
	s := map[string]string{SettingAddress: v.addr}
	for k, x := range settings {
		s[k] = x
	}
	b := newWithEnv(map[string]string{"VAULT_TOKEN": token, "HOME": t.TempDir()})
	if err := b.Configure(context.Background(), account, s); err != nil {
		t.Fatalf("Configure(%s): %v", account, err)
	}
	return b
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func newAccount() string { return "t-" + randomHex(6) }

func secret(name, value string) pluginsdk.Entry {
	return pluginsdk.Entry{Name: name, Kind: pluginsdk.KindSecret, Value: pluginsdk.NewValue(value)}
}

func plain(name, value string) pluginsdk.Entry {
	return pluginsdk.Entry{Name: name, Kind: pluginsdk.KindPlain, Value: pluginsdk.NewValue(value)}
}

func mustPut(t *testing.T, b *Backend, mode pluginsdk.PutMode, entries ...pluginsdk.Entry) []pluginsdk.Result {
	t.Helper()
	res, err := b.Put(context.Background(), entries, mode)
	if err != nil {
		t.Fatalf("Put(%v): call error %v", mode, err)
	}
	if len(res) != len(entries) {
		t.Fatalf("Put(%v): %d results for %d entries", mode, len(res), len(entries))
	}
	return res
}

func mustGet(t *testing.T, b *Backend, names ...string) []pluginsdk.Result {
	t.Helper()
	res, err := b.Get(context.Background(), names)
	if err != nil {
		t.Fatalf("Get%v: call error %v", names, err)
	}
	if len(res) != len(names) {
		t.Fatalf("Get%v: %d results", names, len(res))
	}
	return res
}

func mustList(t *testing.T, b *Backend, values bool) []pluginsdk.Entry {
	t.Helper()
	entries, err := b.List(context.Background(), pluginsdk.ListOptions{Values: values})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return entries
}

func wantCode(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Errorf("%s: got %v, want %v", what, err, codeName(want))
	}
}

func codeName(err error) string {
	if err == nil {
		return "success"
	}
	return pluginsdk.CodeOf(err).String()
}

// wantValue compares without printing values.
func wantValue(t *testing.T, what string, got pluginsdk.Value, want string) {
	t.Helper()
	if got.Reveal() != want {
		t.Errorf("%s: wrong value (%d bytes, want %d bytes)", what, got.Len(), len(want))
	}
}

func names(entries []pluginsdk.Entry) []string {
	var n []string
	for _, e := range entries {
		n = append(n, e.Name)
	}
	return n
}

func TestSemantics(t *testing.T) {
	v := requireVault(t)
	t.Parallel()
	b := v.backend(t, newAccount(), v.token, nil)
	ctx := context.Background()

	if got := mustList(t, b, true); len(got) != 0 {
		t.Fatalf("List of a new account: %v", names(got))
	}

	before := time.Now().Add(-time.Minute)
	res := mustPut(t, b, pluginsdk.Create, secret("API_KEY", "k1"), plain("REGION", "eu-west-1"))
	for i, r := range res {
		wantCode(t, "create "+r.Entry.Name, r.Err, nil)
		if r.Entry.Version != 1 || r.Entry.CreatedAt.Before(before) || r.Entry.UpdatedAt.Before(before) {
			t.Errorf("create result %d: version %d, created %v, updated %v", i, r.Entry.Version, r.Entry.CreatedAt, r.Entry.UpdatedAt)
		}
	}

	// A batch answers per name.
	res = mustPut(t, b, pluginsdk.Create,
		secret("API_KEY", "k-other"), secret("DB_URL", "postgres://u:p@h/db\nline 2"), secret("1BAD", "x"),
		secret("EMPTY", ""), pluginsdk.Entry{Name: "NOKIND", Value: pluginsdk.NewValue("x")}, secret("../../sys", "x"))
	for i, want := range []error{pluginsdk.ErrAlreadyExists, nil, pluginsdk.ErrInvalidArgument, pluginsdk.ErrInvalidArgument, pluginsdk.ErrInvalidArgument, pluginsdk.ErrInvalidArgument} {
		wantCode(t, "batch create "+res[i].Entry.Name, res[i].Err, want)
	}

	res = mustGet(t, b, "API_KEY", "REGION", "DB_URL", "MISSING", "bad-name")
	wantValue(t, "get API_KEY", res[0].Entry.Value, "k1")
	wantValue(t, "get REGION", res[1].Entry.Value, "eu-west-1")
	wantValue(t, "get DB_URL", res[2].Entry.Value, "postgres://u:p@h/db\nline 2")
	if res[0].Entry.Kind != pluginsdk.KindSecret || res[1].Entry.Kind != pluginsdk.KindPlain || res[0].Entry.Version != 1 {
		t.Errorf("get kinds/versions: %s v%d, %s", res[0].Entry.Kind, res[0].Entry.Version, res[1].Entry.Kind)
	}
	wantCode(t, "get MISSING", res[3].Err, pluginsdk.ErrNotFound)
	wantCode(t, "get bad-name", res[4].Err, pluginsdk.ErrInvalidArgument)

	list := mustList(t, b, false)
	if got := strings.Join(names(list), ","); got != "API_KEY,DB_URL,REGION" {
		t.Fatalf("List = %s", got)
	}
	for _, e := range list {
		if !e.Value.IsZero() {
			t.Errorf("List without values carries a value for %s", e.Name)
		}
		if e.Version != 1 || e.CreatedAt.IsZero() || e.UpdatedAt.IsZero() {
			t.Errorf("List %s: version %d, created %v, updated %v", e.Name, e.Version, e.CreatedAt, e.UpdatedAt)
		}
	}
	list = mustList(t, b, true)
	wantValue(t, "List --values API_KEY (a secret)", list[0].Value, "")
	wantValue(t, "List --values REGION (plain)", list[2].Value, "eu-west-1")

	res = mustPut(t, b, pluginsdk.Update, secret("API_KEY", "k2"), secret("MISSING", "x"))
	wantCode(t, "update API_KEY", res[0].Err, nil)
	wantCode(t, "update MISSING", res[1].Err, pluginsdk.ErrNotFound)
	if res[0].Entry.Version != 2 || !res[0].Entry.UpdatedAt.After(res[0].Entry.CreatedAt) {
		t.Errorf("update API_KEY: version %d, created %v, updated %v", res[0].Entry.Version, res[0].Entry.CreatedAt, res[0].Entry.UpdatedAt)
	}
	res = mustGet(t, b, "API_KEY")
	wantValue(t, "get API_KEY after update", res[0].Entry.Value, "k2")

	res = mustPut(t, b, pluginsdk.Upsert, secret("API_KEY", "k3"), plain("NEW", "n1"))
	wantCode(t, "upsert API_KEY", res[0].Err, nil)
	wantCode(t, "upsert NEW", res[1].Err, nil)
	if res[0].Entry.Version != 3 || res[1].Entry.Version != 1 {
		t.Errorf("upsert versions: %d, %d; want 3, 1", res[0].Entry.Version, res[1].Entry.Version)
	}

	del, err := b.Delete(ctx, []string{"API_KEY", "MISSING", "bad-name"})
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantCode(t, "delete API_KEY", del[0].Err, nil)
	wantCode(t, "delete MISSING", del[1].Err, pluginsdk.ErrNotFound)
	wantCode(t, "delete bad-name", del[2].Err, pluginsdk.ErrInvalidArgument)
	wantCode(t, "get API_KEY after delete", mustGet(t, b, "API_KEY")[0].Err, pluginsdk.ErrNotFound)
	wantCode(t, "update API_KEY after delete", mustPut(t, b, pluginsdk.Update, secret("API_KEY", "x"))[0].Err, pluginsdk.ErrNotFound)
	if got := strings.Join(names(mustList(t, b, false)), ","); got != "DB_URL,NEW,REGION" {
		t.Errorf("List after delete = %s", got)
	}
	del, _ = b.Delete(ctx, []string{"API_KEY"})
	wantCode(t, "second delete", del[0].Err, pluginsdk.ErrNotFound)

	// The name is free again and starts over.
	res = mustPut(t, b, pluginsdk.Create, secret("API_KEY", "k4"))
	wantCode(t, "create after delete", res[0].Err, nil)
	if res[0].Entry.Version != 1 {
		t.Errorf("create after delete: version %d, want 1", res[0].Entry.Version)
	}
	wantValue(t, "get API_KEY after re-create", mustGet(t, b, "API_KEY")[0].Entry.Value, "k4")
}

func TestKindsKept(t *testing.T) {
	v := requireVault(t)
	t.Parallel()
	account := newAccount()
	b := v.backend(t, account, v.token, nil)

	mustPut(t, b, pluginsdk.Create, plain("P", "p1"), secret("S", "s1"))
	kinds := func(values bool) map[string]pluginsdk.Entry {
		m := map[string]pluginsdk.Entry{}
		for _, e := range mustList(t, b, values) {
			m[e.Name] = e
		}
		return m
	}
	got := kinds(true)
	if got["P"].Kind != pluginsdk.KindPlain || got["S"].Kind != pluginsdk.KindSecret {
		t.Fatalf("kinds after create: P %s, S %s", got["P"].Kind, got["S"].Kind)
	}
	wantValue(t, "P listed", got["P"].Value, "p1")
	wantValue(t, "S listed", got["S"].Value, "")

	// Update keeps the kind it is given: the two swap.
	for _, r := range mustPut(t, b, pluginsdk.Update, secret("P", "p2"), plain("S", "s2")) {
		wantCode(t, "swap "+r.Entry.Name, r.Err, nil)
	}
	got = kinds(true)
	if got["P"].Kind != pluginsdk.KindSecret || got["S"].Kind != pluginsdk.KindPlain {
		t.Fatalf("kinds after swap: P %s, S %s", got["P"].Kind, got["S"].Kind)
	}
	wantValue(t, "P listed after it became a secret", got["P"].Value, "")
	wantValue(t, "S listed after it became plain", got["S"].Value, "s2")
	res := mustGet(t, b, "P", "S")
	if res[0].Entry.Kind != pluginsdk.KindSecret || res[1].Entry.Kind != pluginsdk.KindPlain {
		t.Errorf("Get kinds: P %s, S %s", res[0].Entry.Kind, res[1].Entry.Kind)
	}

	// The kind is in custom_metadata, for people reading Vault.
	md, err := v.admin.KVv2("secret").GetMetadata(context.Background(), "ast/"+account+"/S")
	if err != nil {
		t.Fatalf("metadata of S: %v", err)
	}
	if md.CustomMetadata[labelKind] != "plain" || md.CustomMetadata[labelAccount] != account {
		t.Errorf("custom_metadata of S: %v", md.CustomMetadata)
	}

	// A crash between the data write and the label write leaves a new version without its
	// label: it reads as a secret, never as plain.
	if _, err := v.admin.KVv2("secret").Put(context.Background(), "ast/"+account+"/S", map[string]any{"value": "s3"}); err != nil {
		t.Fatalf("writing S behind ast's back: %v", err)
	}
	got = kinds(true)
	if got["S"].Kind != pluginsdk.KindSecret {
		t.Errorf("a version without its label reads as %s, want secret", got["S"].Kind)
	}
	wantValue(t, "S listed without its label", got["S"].Value, "")
	if k := mustGet(t, b, "S")[0].Entry.Kind; k != pluginsdk.KindSecret {
		t.Errorf("Get of a version without its label: kind %s, want secret", k)
	}

	// A user's own custom_metadata survives ast's writes.
	if err := v.admin.KVv2("secret").PatchMetadata(context.Background(), "ast/"+account+"/S",
		api.KVMetadataPatchInput{CustomMetadata: map[string]any{"owner": "team-a"}}); err != nil {
		t.Fatalf("patching metadata: %v", err)
	}
	mustPut(t, b, pluginsdk.Update, plain("S", "s4"))
	md, err = v.admin.KVv2("secret").GetMetadata(context.Background(), "ast/"+account+"/S")
	if err != nil || md.CustomMetadata["owner"] != "team-a" || md.CustomMetadata[labelKind] != "plain" {
		t.Errorf("custom_metadata after update: %v, %v", md.CustomMetadata, err)
	}
}

func TestAccountsIsolated(t *testing.T) {
	v := requireVault(t)
	t.Parallel()
	a, b := v.backend(t, newAccount(), v.token, nil), v.backend(t, newAccount(), v.token, nil)
	mustPut(t, a, pluginsdk.Create, secret("SHARED", "from-a"), secret("ONLY_A", "a"))
	mustPut(t, b, pluginsdk.Create, secret("SHARED", "from-b"))

	wantValue(t, "a's SHARED", mustGet(t, a, "SHARED")[0].Entry.Value, "from-a")
	wantValue(t, "b's SHARED", mustGet(t, b, "SHARED")[0].Entry.Value, "from-b")
	wantCode(t, "b reads ONLY_A", mustGet(t, b, "ONLY_A")[0].Err, pluginsdk.ErrNotFound)
	if got := strings.Join(names(mustList(t, b, false)), ","); got != "SHARED" {
		t.Errorf("b lists %s", got)
	}
	if _, err := a.Delete(context.Background(), []string{"SHARED"}); err != nil {
		t.Fatal(err)
	}
	wantValue(t, "b's SHARED after a deleted its own", mustGet(t, b, "SHARED")[0].Entry.Value, "from-b")
}

// Separate clients creating distinct names at once lose nothing.
func TestConcurrentCreates(t *testing.T) {
	v := requireVault(t)
	t.Parallel()
	account := newAccount()
	const writers = 16
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		b := v.backend(t, account, v.token, nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := b.Put(context.Background(), []pluginsdk.Entry{plain(fmt.Sprintf("VAR_%02d", i), fmt.Sprintf("value-%d", i))}, pluginsdk.Create)
			if err == nil {
				err = res[0].Err
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		wantCode(t, fmt.Sprintf("writer %d", i), err, nil)
	}
	list := mustList(t, v.backend(t, account, v.token, nil), true)
	if len(list) != writers {
		t.Fatalf("List has %d entries, want %d: %v", len(list), writers, names(list))
	}
	for i, e := range list {
		if e.Name != fmt.Sprintf("VAR_%02d", i) || e.Kind != pluginsdk.KindPlain {
			t.Errorf("entry %d: %s (%s)", i, e.Name, e.Kind)
		}
		wantValue(t, e.Name, e.Value, fmt.Sprintf("value-%d", i))
	}
}

// Separate clients creating the same name at once: exactly one wins, the rest get
// AlreadyExists, and the winner's value is what is stored.
func TestSameNameContention(t *testing.T) {
	v := requireVault(t)
	t.Parallel()
	account := newAccount()
	const writers = 16
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		b := v.backend(t, account, v.token, nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := b.Put(context.Background(), []pluginsdk.Entry{secret("SAME", fmt.Sprintf("value-%d", i))}, pluginsdk.Create)
			if err == nil {
				err = res[0].Err
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("writers %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, pluginsdk.ErrAlreadyExists):
			t.Errorf("writer %d: got %v, want AlreadyExists", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer won")
	}
	res := mustGet(t, v.backend(t, account, v.token, nil), "SAME")
	wantValue(t, "SAME", res[0].Entry.Value, fmt.Sprintf("value-%d", winner))
	if res[0].Entry.Version != 1 {
		t.Errorf("SAME has version %d, want 1", res[0].Entry.Version)
	}
}

// An update whose check-and-set lost to another writer is FailedPrecondition, never a
// silent overwrite.
func TestUpdateLosesRace(t *testing.T) {
	v := requireVault(t)
	t.Parallel()
	account := newAccount()
	b := v.backend(t, account, v.token, nil)
	mustPut(t, b, pluginsdk.Create, secret("X", "v1"))
	c := b.cfg
	md, err := c.readMetadata(context.Background(), "X")
	if err != nil {
		t.Fatal(err)
	}
	// Another writer gets in between this writer's read and its write.
	mustPut(t, v.backend(t, account, v.token, nil), pluginsdk.Update, secret("X", "other"))
	_, err = c.writeData(context.Background(), secret("X", "mine"), md.CurrentVersion)
	if !errors.Is(err, errCASMismatch) {
		t.Fatalf("stale write: got %v, want a check-and-set mismatch", err)
	}
	wantValue(t, "X", mustGet(t, b, "X")[0].Entry.Value, "other")

	// Concurrent updates: each either wins or reports the conflict.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		w := v.backend(t, account, v.token, nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := w.Put(context.Background(), []pluginsdk.Entry{secret("X", fmt.Sprintf("u%d", i))}, pluginsdk.Update)
			if err == nil {
				err = res[0].Err
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, pluginsdk.ErrFailedPrecondition) && strings.Contains(err.Error(), "changed concurrently"):
		default:
			t.Errorf("updater %d: %v", i, err)
		}
	}
	final := mustGet(t, b, "X")[0].Entry
	if won == 0 || final.Version != int64(2+won) {
		t.Errorf("%d updates won, final version %d; want at least one and version %d", won, final.Version, 2+won)
	}
}

// What ast writes, the vault CLI reads at the documented path.
func TestVaultCLIReadsEntry(t *testing.T) {
	v := requireVault(t)
	bin := os.Getenv("VAULT_BIN")
	if bin == "" {
		t.Skip("VAULT_BIN is unset: run under scripts/with-servers to compare with the vault CLI")
	}
	t.Parallel()
	account := newAccount()
	b := v.backend(t, account, v.token, nil)
	const value = "multi\nline $value with 'quotes'"
	mustPut(t, b, pluginsdk.Create, secret("FROM_AST", value))
	cmd := exec.Command(bin, "kv", "get", "-mount=secret", "-field=value", "ast/"+account+"/FROM_AST")
	cmd.Env = append(os.Environ(), "VAULT_ADDR="+v.addr, "VAULT_TOKEN="+v.token)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("vault kv get: %v", err)
	}
	wantValue(t, "vault kv get -field=value", pluginsdk.NewValue(strings.TrimSuffix(string(out), "\n")), value)
}

func TestBadToken(t *testing.T) {
	v := requireVault(t)
	t.Parallel()
	b := v.backend(t, newAccount(), "hvs.not-a-real-token", nil)
	_, err := b.List(context.Background(), pluginsdk.ListOptions{})
	if !errors.Is(err, pluginsdk.ErrPermissionDenied) || !strings.Contains(err.Error(), "token was refused") || !strings.Contains(err.Error(), v.addr) {
		t.Fatalf("List with a bad token: %v", err)
	}
	_, err = b.Put(context.Background(), []pluginsdk.Entry{secret("A", testValue)}, pluginsdk.Create)
	if !errors.Is(err, pluginsdk.ErrPermissionDenied) || strings.Contains(err.Error(), testValue) {
		t.Fatalf("Put with a bad token: %v", err)
	}
}

// enableMount mounts a secrets engine for one test and removes it afterwards.
func (v testVault) enableMount(t *testing.T, kvVersion string) string {
	t.Helper()
	path := "kv" + kvVersion + "-" + randomHex(4)
	if _, err := v.admin.Logical().Write("sys/mounts/"+path, map[string]any{
		"type": "kv", "options": map[string]any{"version": kvVersion},
	}); err != nil {
		t.Fatalf("enabling a KV v%s mount: %v", kvVersion, err)
	}
	t.Cleanup(func() { _, _ = v.admin.Logical().Delete("sys/mounts/" + path) })
	return path
}

func TestKVv1Mount(t *testing.T) {
	v := requireVault(t)
	t.Parallel()
	mount := v.enableMount(t, "1")
	want := "mount " + mount + "/ of Vault at " + v.addr + " is KV version 1; ast needs KV v2: vault kv enable-versioning " + mount + "/"
	ctx := context.Background()
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, pluginsdk.ErrFailedPrecondition) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s on a KV v1 mount: got %v", what, err)
		}
	}
	// Each on a fresh backend: every kind of first call finds out.
	_, err := v.backend(t, newAccount(), v.token, map[string]string{SettingMount: mount}).
		Put(ctx, []pluginsdk.Entry{secret("A", testValue)}, pluginsdk.Create)
	check("Put", err)
	_, err = v.backend(t, newAccount(), v.token, map[string]string{SettingMount: mount}).Get(ctx, []string{"A"})
	check("Get", err)
	_, err = v.backend(t, newAccount(), v.token, map[string]string{SettingMount: mount}).List(ctx, pluginsdk.ListOptions{})
	check("List", err)
	_, err = v.backend(t, newAccount(), v.token, map[string]string{SettingMount: mount}).Delete(ctx, []string{"A"})
	check("Delete", err)
	// Nothing was written into the KV v1 mount.
	if s, err := v.admin.Logical().List(mount + "/"); err != nil || s != nil {
		t.Errorf("the KV v1 mount is not empty: %v, %v", s, err)
	}
}

func TestMissingMount(t *testing.T) {
	v := requireVault(t)
	t.Parallel()
	mount := "nothing-" + randomHex(4)
	b := v.backend(t, newAccount(), v.token, map[string]string{SettingMount: mount})
	_, err := b.Put(context.Background(), []pluginsdk.Entry{secret("A", testValue)}, pluginsdk.Create)
	if !errors.Is(err, pluginsdk.ErrFailedPrecondition) || !strings.Contains(err.Error(), "no secrets engine mounted at "+mount+"/") {
		t.Fatalf("Put to a missing mount: %v", err)
	}
	b = v.backend(t, newAccount(), v.token, map[string]string{SettingMount: mount})
	if _, err := b.List(context.Background(), pluginsdk.ListOptions{}); !errors.Is(err, pluginsdk.ErrFailedPrecondition) {
		t.Fatalf("List of a missing mount: %v", err)
	}
}

// tokenWithPolicy writes a policy and returns a token that has it (and the default
// policy).
func (v testVault) tokenWithPolicy(t *testing.T, policy string) string {
	t.Helper()
	name := "ast-test-" + randomHex(4)
	if err := v.admin.Sys().PutPolicy(name, policy); err != nil {
		t.Fatalf("writing policy: %v", err)
	}
	t.Cleanup(func() { _ = v.admin.Sys().DeletePolicy(name) })
	s, err := v.admin.Auth().Token().Create(&api.TokenCreateRequest{Policies: []string{name}, TTL: "10m"})
	if err != nil {
		t.Fatalf("creating a token: %v", err)
	}
	return s.Auth.ClientToken
}

// policyFor is the policy the README documents for an account.
func policyFor(mount, prefix, account string) string {
	return fmt.Sprintf(`
path "%[1]s/data/%[2]s/%[3]s/*" {
  capabilities = ["create", "read", "update"]
}
path "%[1]s/metadata/%[2]s/%[3]s/*" {
  capabilities = ["read", "update", "list", "delete"]
}
`, mount, prefix, account)
}

// The policy the README documents is enough for every operation.
func TestDocumentedPolicy(t *testing.T) {
	v := requireVault(t)
	t.Parallel()
	account := newAccount()
	b := v.backend(t, account, v.tokenWithPolicy(t, policyFor("secret", "ast", account)), nil)
	for _, mode := range []pluginsdk.PutMode{pluginsdk.Create, pluginsdk.Update, pluginsdk.Upsert} {
		for _, r := range mustPut(t, b, mode, plain("A", "a-"+mode.String()), secret("B_"+mode.String(), "b")) {
			if mode != pluginsdk.Update || r.Entry.Name == "A" {
				wantCode(t, mode.String()+" "+r.Entry.Name, r.Err, nil)
			}
		}
	}
	if got := len(mustList(t, b, true)); got != 3 {
		t.Errorf("List: %d entries, want 3", got)
	}
	wantCode(t, "get", mustGet(t, b, "A")[0].Err, nil)
	del, err := b.Delete(context.Background(), []string{"A"})
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, "delete", del[0].Err, nil)
	// Another account's folder is out of reach.
	other := v.backend(t, newAccount(), b.cfg.client.Token(), nil)
	_, err = other.List(context.Background(), pluginsdk.ListOptions{})
	if !errors.Is(err, pluginsdk.ErrPermissionDenied) {
		t.Errorf("List of another account: %v", err)
	}
}

// A policy that lacks a capability: the error names the path and the capability.
func TestPermissionDenied(t *testing.T) {
	v := requireVault(t)
	t.Parallel()
	account := newAccount()
	readOnly := fmt.Sprintf(`
path "secret/data/ast/%[1]s/*" { capabilities = ["read"] }
path "secret/metadata/ast/%[1]s/*" { capabilities = ["read", "list"] }
`, account)
	b := v.backend(t, account, v.tokenWithPolicy(t, readOnly), nil)
	res := mustPut(t, b, pluginsdk.Create, secret("API_KEY", testValue))
	err := res[0].Err
	if !errors.Is(err, pluginsdk.ErrPermissionDenied) {
		t.Fatalf("create with a read-only policy: %v", err)
	}
	for _, s := range []string{`"create"`, "secret/data/ast/" + account + "/API_KEY", `"secret/data/ast/` + account + `/*"`, v.addr} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %s", err, s)
		}
	}
	if strings.Contains(err.Error(), testValue) {
		t.Error("the error contains the value")
	}
	if list := mustList(t, b, false); len(list) != 0 {
		t.Errorf("List: %v", names(list))
	}
}

func TestAppRole(t *testing.T) {
	v := requireVault(t)
	t.Parallel()
	account := newAccount()
	mount := "approle-" + randomHex(4)
	if err := v.admin.Sys().EnableAuthWithOptions(mount, &api.EnableAuthOptions{Type: "approle"}); err != nil {
		t.Fatalf("enabling AppRole: %v", err)
	}
	t.Cleanup(func() { _ = v.admin.Sys().DisableAuth(mount) })
	policy := "ast-ci-" + randomHex(4)
	if err := v.admin.Sys().PutPolicy(policy, policyFor("secret", "ast", account)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.admin.Sys().DeletePolicy(policy) })
	if _, err := v.admin.Logical().Write("auth/"+mount+"/role/ci", map[string]any{"token_policies": policy, "token_ttl": "10m"}); err != nil {
		t.Fatal(err)
	}
	rid, err := v.admin.Logical().Read("auth/" + mount + "/role/ci/role-id")
	if err != nil {
		t.Fatal(err)
	}
	sid, err := v.admin.Logical().Write("auth/"+mount+"/role/ci/secret-id", nil)
	if err != nil {
		t.Fatal(err)
	}
	roleID, secretID := rid.Data["role_id"].(string), sid.Data["secret_id"].(string)

	settings := map[string]string{
		SettingAddress: v.addr, SettingRoleID: roleID, SettingAppRoleMount: mount, SettingSecretIDEnv: "CI_SECRET_ID",
	}
	configure := func(env map[string]string) *Backend {
		b := newWithEnv(env)
		if err := b.Configure(context.Background(), account, settings); err != nil {
			t.Fatal(err)
		}
		return b
	}
	// VAULT_TOKEN is ignored when the account names a role.
	b := configure(map[string]string{"CI_SECRET_ID": secretID, "VAULT_TOKEN": "hvs.ignored"})
	wantCode(t, "create with AppRole", mustPut(t, b, pluginsdk.Create, secret("CI", "c"))[0].Err, nil)
	wantValue(t, "get with AppRole", mustGet(t, b, "CI")[0].Entry.Value, "c")

	b = configure(map[string]string{"CI_SECRET_ID": "wrong-" + secretID})
	_, err = b.List(context.Background(), pluginsdk.ListOptions{})
	if !errors.Is(err, pluginsdk.ErrPermissionDenied) || !strings.Contains(err.Error(), "AppRole login") || strings.Contains(err.Error(), secretID) {
		t.Errorf("List with a wrong secret id: %v", err)
	}
	b = configure(map[string]string{})
	_, err = b.List(context.Background(), pluginsdk.ListOptions{})
	if !errors.Is(err, pluginsdk.ErrPermissionDenied) || !strings.Contains(err.Error(), "CI_SECRET_ID") {
		t.Errorf("List without a secret id: %v", err)
	}
}

// A name whose current version was soft-deleted by hand (vault kv delete) is missing to
// ast, and Create writes over it.
func TestSoftDeletedByHand(t *testing.T) {
	v := requireVault(t)
	t.Parallel()
	account := newAccount()
	b := v.backend(t, account, v.token, nil)
	mustPut(t, b, pluginsdk.Create, plain("GONE", "g1"))
	if err := v.admin.KVv2("secret").Delete(context.Background(), "ast/"+account+"/GONE"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "get", mustGet(t, b, "GONE")[0].Err, pluginsdk.ErrNotFound)
	if list := mustList(t, b, true); len(list) != 0 {
		t.Errorf("List shows %v", names(list))
	}
	wantCode(t, "update", mustPut(t, b, pluginsdk.Update, plain("GONE", "x"))[0].Err, pluginsdk.ErrNotFound)
	res := mustPut(t, b, pluginsdk.Create, plain("GONE", "g2"))
	wantCode(t, "create over it", res[0].Err, nil)
	if res[0].Entry.Version != 2 {
		t.Errorf("create over a soft-deleted version: version %d, want 2", res[0].Entry.Version)
	}
	got := mustGet(t, b, "GONE")[0].Entry
	wantValue(t, "get", got.Value, "g2")
	if got.Kind != pluginsdk.KindPlain {
		t.Errorf("kind %s, want plain", got.Kind)
	}
}

// TestForgedKind (issue 13): a token that may only read and update the account's metadata
// (vault kv get is denied to it) rewrites custom_metadata into a perfect plain label of the
// current version. A secret, and a version written outside ast, must not list their values:
// the kind that counts is in the versioned data, which only a writer of the value can set.
func TestForgedKind(t *testing.T) {
	v := requireVault(t)
	t.Parallel()
	ctx := context.Background()
	account := newAccount()
	b := v.backend(t, account, v.token, nil)
	const secretValue, foreignValue = "forged-kind-secret-value", "forged-kind-foreign-value"
	mustPut(t, b, pluginsdk.Create, secret("S", secretValue), plain("P", "plain-value"))
	// FOREIGN: written by the vault CLI's API in ast's old one-key shape, with a label.
	kv := v.admin.KVv2("secret")
	if _, err := kv.Put(ctx, "ast/"+account+"/FOREIGN", map[string]any{"value": foreignValue}); err != nil {
		t.Fatalf("vault kv put: %v", err)
	}
	// ROTATED: ast's own plain entry, then a rotation job writes a new version outside ast.
	mustPut(t, b, pluginsdk.Create, plain("ROTATED", "before-rotation"))
	if _, err := kv.Put(ctx, "ast/"+account+"/ROTATED", map[string]any{"value": foreignValue}); err != nil {
		t.Fatalf("rotating: %v", err)
	}

	metaOnly := v.tokenWithPolicy(t, fmt.Sprintf(`
path "secret/metadata/ast/%[1]s/*" { capabilities = ["read", "update"] }
`, account))
	attacker, err := api.NewClient(&api.Config{Address: v.addr})
	if err != nil {
		t.Fatal(err)
	}
	attacker.SetToken(metaOnly)
	if _, err := attacker.KVv2("secret").Get(ctx, "ast/"+account+"/S"); err == nil {
		t.Fatal("the metadata-only token can read the data: the test proves nothing")
	}
	for _, name := range []string{"S", "FOREIGN", "ROTATED"} {
		md, err := attacker.KVv2("secret").GetMetadata(ctx, "ast/"+account+"/"+name)
		if err != nil {
			t.Fatalf("metadata of %s with the metadata-only token: %v", name, err)
		}
		cur := md.Versions[strconv.Itoa(md.CurrentVersion)]
		// POST to the metadata path: the "update" capability (PATCH would need "patch").
		err = attacker.KVv2("secret").PutMetadata(ctx, "ast/"+account+"/"+name, api.KVMetadataPutInput{
			CustomMetadata: map[string]any{
				labelKind:          "plain",
				labelAccount:       account,
				labelKindVersion:   strconv.Itoa(md.CurrentVersion),
				labelKindCreatedAt: cur.CreatedTime.UTC().Format(time.RFC3339Nano),
			}})
		if err != nil {
			t.Fatalf("forging the label of %s: %v", name, err)
		}
	}

	for _, e := range mustList(t, b, true) {
		switch e.Name {
		case "S", "FOREIGN", "ROTATED":
			if e.Kind != pluginsdk.KindSecret || !e.Value.IsZero() {
				t.Errorf("List --values after a forged label: %s is %s with a %d-byte value, want a secret without value", e.Name, e.Kind, e.Value.Len())
			}
		case "P":
			if e.Kind != pluginsdk.KindPlain {
				t.Errorf("List --values: P is %s", e.Kind)
			}
			wantValue(t, "P listed", e.Value, "plain-value")
		}
	}
	// Without values, List may show the unproven label, but never a value.
	for _, e := range mustList(t, b, false) {
		if !e.Value.IsZero() {
			t.Errorf("List without values: %s has a value", e.Name)
		}
	}
	for _, r := range mustGet(t, b, "S", "FOREIGN", "ROTATED", "P") {
		want := pluginsdk.KindSecret
		if r.Entry.Name == "P" {
			want = pluginsdk.KindPlain
		}
		if r.Err != nil || r.Entry.Kind != want {
			t.Errorf("Get %s: kind %s, %v; want %s", r.Entry.Name, r.Entry.Kind, r.Err, want)
		}
	}
}

// TestLayoutInVault: what ast writes is the value and the kind in the data, nothing else.
func TestLayoutInVault(t *testing.T) {
	v := requireVault(t)
	t.Parallel()
	account := newAccount()
	b := v.backend(t, account, v.token, nil)
	mustPut(t, b, pluginsdk.Create, plain("P", "p1"), secret("S", "s1"))
	for name, kind := range map[string]string{"P": "plain", "S": "secret"} {
		s, err := v.admin.KVv2("secret").Get(context.Background(), "ast/"+account+"/"+name)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Data) != 2 || s.Data[kindKey] != kind || s.Data[valueKey] == nil {
			keys := make([]string, 0, len(s.Data))
			for k := range s.Data {
				keys = append(keys, k)
			}
			t.Errorf("data of %s: keys %v, kind %v; want value and %s=%s", name, keys, s.Data[kindKey], kindKey, kind)
		}
	}
}
