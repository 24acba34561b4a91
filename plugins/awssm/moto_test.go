package awssm

// Integration tests against a real moto_server (AST_TEST_AWS_ENDPOINT). moto keeps its
// state for as long as it runs, so every test uses accounts of its own.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/hashicorp/go-hclog"

	"github.com/ast-cli/ast/pluginsdk"
)

const (
	secret = pluginsdk.KindSecret
	plain  = pluginsdk.KindPlain
)

func TestSemantics(t *testing.T) {
	ep := motoEndpoint(t)
	b := configured(t, ep, uniqueAccount(t), nil)
	ctx := context.Background()

	if got := mustPut(t, b, entry("API_KEY", secret, "k1"), pluginsdk.Create); got.Version != 1 || got.Kind != secret {
		t.Errorf("create API_KEY = version %d kind %s, want 1 secret", got.Version, got.Kind)
	}
	mustPut(t, b, entry("REGION", plain, "eu-west-1"), pluginsdk.Create)
	mustPut(t, b, entry("MULTI", secret, "line 1\nline 2\n"), pluginsdk.Create)

	_, err := putOne(t, b, entry("API_KEY", secret, "k2"), pluginsdk.Create)
	wantCode(t, "create of an existing name", err, pluginsdk.ErrAlreadyExists)
	_, err = putOne(t, b, entry("MISSING", secret, "v"), pluginsdk.Update)
	wantCode(t, "update of a missing name", err, pluginsdk.ErrNotFound)

	// Update keeps the kind it is given: API_KEY becomes plain, REGION a secret.
	if got := mustPut(t, b, entry("API_KEY", plain, "k2"), pluginsdk.Update); got.Version != 2 || got.Kind != plain {
		t.Errorf("update API_KEY = version %d kind %s, want 2 plain", got.Version, got.Kind)
	}
	mustPut(t, b, entry("REGION", secret, "us-west-2"), pluginsdk.Update)
	if got := mustPut(t, b, entry("UPSERTED", plain, "u1"), pluginsdk.Upsert); got.Version != 1 {
		t.Errorf("upsert of a new name = version %d, want 1", got.Version)
	}
	if got := mustPut(t, b, entry("UPSERTED", plain, "u2"), pluginsdk.Upsert); got.Version != 2 {
		t.Errorf("upsert of an existing name = version %d, want 2", got.Version)
	}

	list, err := b.List(ctx, pluginsdk.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"API_KEY", "MULTI", "REGION", "UPSERTED"}
	if !slices.Equal(names(list), want) {
		t.Fatalf("List = %v, want %v", names(list), want)
	}
	wantKinds := map[string]pluginsdk.Kind{"API_KEY": plain, "MULTI": secret, "REGION": secret, "UPSERTED": plain}
	wantVersions := map[string]int64{"API_KEY": 2, "MULTI": 1, "REGION": 2, "UPSERTED": 2}
	for _, e := range list {
		if e.Kind != wantKinds[e.Name] || e.Version != wantVersions[e.Name] {
			t.Errorf("List: %s is version %d %s, want version %d %s", e.Name, e.Version, e.Kind, wantVersions[e.Name], wantKinds[e.Name])
		}
		if !e.Value.IsZero() {
			t.Errorf("List without values returned a value for %s", e.Name)
		}
		if e.CreatedAt.IsZero() || e.UpdatedAt.Before(e.CreatedAt) {
			t.Errorf("List: %s has times %v, %v", e.Name, e.CreatedAt, e.UpdatedAt)
		}
	}

	list, err = b.List(ctx, pluginsdk.ListOptions{Values: true})
	if err != nil {
		t.Fatal(err)
	}
	plainValues := map[string]string{"API_KEY": "k2", "UPSERTED": "u2"}
	for _, e := range list {
		if want, ok := plainValues[e.Name]; ok {
			checkValue(t, "List --values of plain "+e.Name, e.Value, want)
		} else if !e.Value.IsZero() {
			t.Errorf("List --values returned the value of secret %s", e.Name)
		}
	}

	res, err := b.Get(ctx, []string{"MULTI", "REGION", "API_KEY", "NOPE", "bad-name", "MULTI"})
	if err != nil {
		t.Fatal(err)
	}
	checkValue(t, "Get MULTI", res[0].Entry.Value, "line 1\nline 2\n")
	checkValue(t, "Get REGION", res[1].Entry.Value, "us-west-2")
	checkValue(t, "Get API_KEY", res[2].Entry.Value, "k2")
	checkValue(t, "Get MULTI again", res[5].Entry.Value, "line 1\nline 2\n")
	if res[1].Entry.Kind != secret || res[1].Entry.Version != 2 || res[2].Entry.Kind != plain {
		t.Errorf("Get: REGION is %s v%d, API_KEY %s; want secret v2, plain", res[1].Entry.Kind, res[1].Entry.Version, res[2].Entry.Kind)
	}
	wantCode(t, "Get of a missing name", res[3].Err, pluginsdk.ErrNotFound)
	wantCode(t, "Get of an invalid name", res[4].Err, pluginsdk.ErrInvalidArgument)

	bad := []pluginsdk.Entry{entry("bad-name", secret, "v"), entry("EMPTY", secret, ""),
		entry("NUL", secret, "a\x00b"), {Name: "KIND", Kind: "other", Value: pluginsdk.NewValue("v")},
		entry("BIG", secret, strings.Repeat("x", pluginsdk.MaxValueBytes+1))}
	res, err = b.Put(ctx, bad, pluginsdk.Upsert)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		wantCode(t, "Put of invalid "+bad[i].Name, r.Err, pluginsdk.ErrInvalidArgument)
	}
	if got := mustPut(t, b, entry("BIGGEST", secret, strings.Repeat("x", pluginsdk.MaxValueBytes)), pluginsdk.Create); got.Version != 1 {
		t.Errorf("a 64 KiB value: version %d", got.Version)
	}

	res, err = b.Delete(ctx, []string{"API_KEY", "NOPE", "API_KEY"})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil {
		t.Errorf("Delete API_KEY: %v", res[0].Err)
	}
	wantCode(t, "Delete of a missing name", res[1].Err, pluginsdk.ErrNotFound)
	wantCode(t, "Delete of a deleted name", res[2].Err, pluginsdk.ErrNotFound)
	if _, err := getOne(t, b, "API_KEY"); !errors.Is(err, pluginsdk.ErrNotFound) {
		t.Errorf("Get after Delete: %v, want not found", err)
	}
	_, err = putOne(t, b, entry("API_KEY", secret, "v"), pluginsdk.Update)
	wantCode(t, "update after Delete", err, pluginsdk.ErrNotFound)
	list, _ = b.List(ctx, pluginsdk.ListOptions{})
	if slices.Contains(names(list), "API_KEY") {
		t.Errorf("List after Delete still has API_KEY: %v", names(list))
	}
}

func TestDeleteThenCreate(t *testing.T) {
	ep := motoEndpoint(t)
	for _, window := range []string{"", "7", "0"} {
		t.Run("recovery_window_days="+window, func(t *testing.T) {
			b := configured(t, ep, uniqueAccount(t), map[string]string{settingRecoveryWindow: window})
			mustPut(t, b, entry("TOKEN", secret, "old"), pluginsdk.Create)
			mustPut(t, b, entry("TOKEN", secret, "older"), pluginsdk.Update)
			for round := range 2 {
				var reported []pluginsdk.Result
				ctx := pluginsdk.WithReporter(context.Background(), func(_ int, r pluginsdk.Result) { reported = append(reported, r) })
				res, err := b.Delete(ctx, []string{"TOKEN"})
				if err != nil || res[0].Err != nil {
					t.Fatalf("round %d: Delete: %v %v", round, err, res[0].Err)
				}
				if len(reported) != 1 || reported[0].Entry.Name != "TOKEN" || reported[0].Note != res[0].Note {
					t.Errorf("round %d: Delete reported %+v, returned %+v", round, reported, res[0])
				}
				wantNote := regexp.MustCompile(`^scheduled for deletion, restorable until \d{4}-\d\d-\d\d \(recovery window ` +
					map[string]string{"": "30 days", "7": "7 days", "0": ""}[window] + `\)$`)
				if window == "0" && res[0].Note != "" || window != "0" && !wantNote.MatchString(res[0].Note) {
					t.Errorf("round %d: the deletion's note is %q", round, res[0].Note)
				}
				got := mustPut(t, b, entry("TOKEN", plain, fmt.Sprint("new", round)), pluginsdk.Create)
				if got.Version != 1 {
					t.Errorf("round %d: re-created entry has version %d, want 1", round, got.Version)
				}
				e, err := getOne(t, b, "TOKEN")
				if err != nil {
					t.Fatalf("round %d: Get after re-create: %v", round, err)
				}
				checkValue(t, "Get after re-create", e.Value, fmt.Sprint("new", round))
				if e.Kind != plain || e.Version != 1 {
					t.Errorf("round %d: re-created entry is %s v%d, want plain v1", round, e.Kind, e.Version)
				}
			}
		})
	}

	t.Run("upsert over a deleted entry", func(t *testing.T) {
		b := configured(t, ep, uniqueAccount(t), nil)
		mustPut(t, b, entry("X", secret, "1"), pluginsdk.Create)
		if _, err := b.Delete(context.Background(), []string{"X"}); err != nil {
			t.Fatal(err)
		}
		if got := mustPut(t, b, entry("X", secret, "2"), pluginsdk.Upsert); got.Version != 1 {
			t.Errorf("upsert over a deleted entry: version %d, want 1", got.Version)
		}
	})
}

func TestAccountsAreIsolated(t *testing.T) {
	ep := motoEndpoint(t)
	// acct2's names start with acct's: a name-prefix filter must not mix them up.
	acct := uniqueAccount(t)
	a := configured(t, ep, acct, nil)
	a2 := configured(t, ep, acct+"2", nil)
	other := configured(t, ep, acct, map[string]string{settingPrefix: "other"})

	mustPut(t, a, entry("SHARED", secret, "a"), pluginsdk.Create)
	mustPut(t, a2, entry("SHARED", plain, "a2"), pluginsdk.Create)
	mustPut(t, a2, entry("ONLY2", plain, "x"), pluginsdk.Create)
	mustPut(t, other, entry("SHARED", secret, "o"), pluginsdk.Create)
	// A secret under the account's prefix that is not an entry (a deeper path).
	if _, err := a.c.api.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String("ast/" + acct + "/deeper/NAME"), SecretString: aws.String("x")}); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name string
		b    *Backend
		want []string
		val  string
	}{{acct, a, []string{"SHARED"}, "a"}, {acct + "2", a2, []string{"ONLY2", "SHARED"}, "a2"},
		{"other/" + acct, other, []string{"SHARED"}, "o"}} {
		list, err := tt.b.List(context.Background(), pluginsdk.ListOptions{Values: true})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(names(list), tt.want) {
			t.Errorf("%s: List = %v, want %v", tt.name, names(list), tt.want)
		}
		e, err := getOne(t, tt.b, "SHARED")
		if err != nil {
			t.Fatalf("%s: Get SHARED: %v", tt.name, err)
		}
		checkValue(t, tt.name+": Get SHARED", e.Value, tt.val)
	}
	if _, err := getOne(t, a, "ONLY2"); !errors.Is(err, pluginsdk.ErrNotFound) {
		t.Errorf("%s sees %s2's entry: %v", acct, acct, err)
	}
	if res, err := a.Delete(context.Background(), []string{"SHARED"}); err != nil || res[0].Err != nil {
		t.Fatalf("Delete: %v %v", err, res[0].Err)
	}
	if _, err := getOne(t, a2, "SHARED"); err != nil {
		t.Errorf("deleting %s's SHARED touched %s2's: %v", acct, acct, err)
	}
}

// TestGetIsBatched resolves 100 references the way a deploy does: one Get, which must be
// exactly 5 BatchGetSecretValue calls of 20 names and no ListSecrets.
func TestGetIsBatched(t *testing.T) {
	ep := motoEndpoint(t)
	acct := uniqueAccount(t)
	b := configured(t, ep, acct, nil)
	entries := make([]pluginsdk.Entry, 100)
	refs := make([]string, 100)
	for i := range entries {
		refs[i] = fmt.Sprintf("REF_%03d", i)
		entries[i] = entry(refs[i], []pluginsdk.Kind{secret, plain}[i%2], fmt.Sprint("value-", i))
	}
	res, err := b.Put(context.Background(), entries, pluginsdk.Create)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("create %s: %v", r.Entry.Name, r.Err)
		}
	}

	var calls callCounter
	resolver := configured(t, ep, acct, nil, countCalls(&calls))
	res, err = resolver.Get(context.Background(), refs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("Get %s: %v", refs[i], r.Err)
		}
		checkValue(t, "Get "+refs[i], r.Entry.Value, fmt.Sprint("value-", i))
		if r.Entry.Kind != entries[i].Kind {
			t.Errorf("Get %s: kind %s, want %s", refs[i], r.Entry.Kind, entries[i].Kind)
		}
	}
	got := calls.snapshot()
	if got[opBatchGet] != 5 || len(got) != 1 {
		t.Errorf("resolving 100 references made the calls %v, want exactly 5 %s", got, opBatchGet)
	}

	// List --values reads the plain values only, in batches as well.
	before := calls.snapshot()
	list, err := resolver.List(context.Background(), pluginsdk.ListOptions{Values: true})
	if err != nil {
		t.Fatal(err)
	}
	after := calls.snapshot()
	if len(list) != 100 || after[opList]-before[opList] != 1 || after[opBatchGet]-before[opBatchGet] != 3 {
		t.Errorf("List --values of 100 entries (50 plain): %d entries, %d ListSecrets, %d BatchGetSecretValue calls; want 100, 1, 3",
			len(list), after[opList]-before[opList], after[opBatchGet]-before[opBatchGet])
	}
}

// TestListPages lists more entries than fit in one ListSecrets page.
func TestListPages(t *testing.T) {
	ep := motoEndpoint(t)
	acct := uniqueAccount(t)
	b := configured(t, ep, acct, nil)
	entries := make([]pluginsdk.Entry, 130)
	for i := range entries {
		entries[i] = entry(fmt.Sprintf("E%03d", 129-i), plain, fmt.Sprint(i))
	}
	if _, err := b.Put(context.Background(), entries, pluginsdk.Create); err != nil {
		t.Fatal(err)
	}
	var calls callCounter
	lister := configured(t, ep, acct, nil, countCalls(&calls))
	list, err := lister.List(context.Background(), pluginsdk.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 130 || !slices.IsSortedFunc(list, func(a, b pluginsdk.Entry) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("List: %d entries (want 130), sorted: %v", len(list), names(list))
	}
	if got := calls.snapshot(); got[opList] != 2 || len(got) != 1 {
		t.Errorf("List of 130 entries made the calls %v, want 2 ListSecrets", got)
	}
}

// TestReadableByAWSCLI checks the layout: what ast writes is a plain AWS secret.
func TestReadableByAWSCLI(t *testing.T) {
	ep := motoEndpoint(t)
	awsCLI, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the AWS CLI (aws) is not on PATH")
	}
	acct := uniqueAccount(t)
	b := configured(t, ep, acct, nil)
	mustPut(t, b, entry("DB_URL", plain, "postgres://db:5432/app"), pluginsdk.Create)
	mustPut(t, b, entry("DB_URL", plain, "postgres://db:5432/app2"), pluginsdk.Update)

	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(awsCLI, append(args, "--endpoint-url", ep, "--region", "us-east-1", "--output", "text")...)
		for _, kv := range os.Environ() {
			if !strings.HasSuffix(kv, "=") { // the CLI takes AWS_PROFILE= for a profile named ""
				cmd.Env = append(cmd.Env, kv)
			}
		}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("aws %s: %v", strings.Join(args[:2], " "), err)
		}
		return strings.TrimSpace(string(out))
	}
	id := "ast/" + acct + "/DB_URL"
	if got := run("secretsmanager", "get-secret-value", "--secret-id", id, "--query", "SecretString"); got != "postgres://db:5432/app2" {
		t.Errorf("aws secretsmanager get-secret-value --secret-id %s does not return the value written (%d bytes)", id, len(got))
	}
	d, err := b.c.api.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if k, a := tagValue(d.Tags, tagKind), tagValue(d.Tags, tagAccount); k != "plain" || a != acct {
		t.Errorf("%s is tagged ast:kind=%q ast:account=%q, want plain and %q", id, k, a, acct)
	}
}

// TestConcurrentCreates: 16 clients create distinct names at once; nothing is lost.
func TestConcurrentCreates(t *testing.T) {
	ep := motoEndpoint(t)
	acct := uniqueAccount(t)
	const writers = 16
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		b := configured(t, ep, acct, nil)
		wg.Go(func() {
			res, err := b.Put(context.Background(), []pluginsdk.Entry{entry(fmt.Sprintf("W%02d", i), secret, fmt.Sprint(i))}, pluginsdk.Create)
			errs[i] = errors.Join(err, func() error {
				if err == nil {
					return res[0].Err
				}
				return nil
			}())
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	list, err := configured(t, ep, acct, nil).List(context.Background(), pluginsdk.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != writers {
		t.Errorf("after %d concurrent creates List has %d entries: %v", writers, len(list), names(list))
	}
}

// TestSameNameContention: of 16 concurrent creates of one name exactly one wins; of 16
// concurrent updates every success is a version of its own (no update is lost unseen).
func TestSameNameContention(t *testing.T) {
	ep := motoEndpoint(t)
	acct := uniqueAccount(t)
	const writers = 16
	clients := make([]*Backend, writers)
	for i := range clients {
		clients[i] = configured(t, ep, acct, nil)
	}
	race := func(mode pluginsdk.PutMode) []error {
		errs := make([]error, writers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, b := range clients {
			wg.Go(func() {
				<-start
				res, err := b.Put(context.Background(), []pluginsdk.Entry{entry("CONTENDED", secret, fmt.Sprint(mode, i))}, mode)
				if err != nil {
					errs[i] = err
				} else {
					errs[i] = res[0].Err
				}
			})
		}
		close(start)
		wg.Wait()
		return errs
	}

	winners := 0
	winner := -1
	for i, err := range race(pluginsdk.Create) {
		switch {
		case err == nil:
			winners++
			winner = i
		case !errors.Is(err, pluginsdk.ErrAlreadyExists):
			t.Errorf("create %d: %v, want success or already exists", i, err)
		}
	}
	if winners != 1 {
		t.Fatalf("%d concurrent creates of one name: %d succeeded, want exactly 1", writers, winners)
	}
	e, err := getOne(t, clients[0], "CONTENDED")
	if err != nil {
		t.Fatal(err)
	}
	checkValue(t, "the winner's value", e.Value, fmt.Sprint(pluginsdk.Create, winner))

	updated := 0
	for i, err := range race(pluginsdk.Update) {
		switch {
		case err == nil:
			updated++
		case !errors.Is(err, pluginsdk.ErrFailedPrecondition):
			t.Errorf("update %d: %v, want success or failed precondition", i, err)
		}
	}
	e, err = getOne(t, clients[0], "CONTENDED")
	if err != nil {
		t.Fatal(err)
	}
	if updated == 0 || e.Version != int64(1+updated) {
		t.Errorf("%d concurrent updates: %d succeeded and the version is %d, want 1 + successes", writers, updated, e.Version)
	}
}

// TestSDKConfiguration: the endpoint from AWS_ENDPOINT_URL_SECRETS_MANAGER, the region and
// credentials from a profile of the AWS config files, and kms_key_id on created secrets.
func TestSDKConfiguration(t *testing.T) {
	ep := motoEndpoint(t)
	dir := t.TempDir()
	config, credentials := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	if err := os.WriteFile(config, []byte("[profile moto]\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(credentials, []byte("[moto]\naws_access_key_id = testing\naws_secret_access_key = testing\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", config)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", credentials)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", ep)

	acct := uniqueAccount(t)
	b := newBackend(withLogger(hclog.NewNullLogger()))
	if err := b.Configure(context.Background(), acct, map[string]string{settingProfile: "moto", settingKMSKeyID: "alias/ast-test"}); err != nil {
		t.Fatal(err)
	}
	mustPut(t, b, entry("K", secret, "v"), pluginsdk.Create)
	if _, err := getOne(t, b, "K"); err != nil {
		t.Fatalf("Get through the profile and the endpoint variable: %v", err)
	}
	d, err := b.c.api.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String("ast/" + acct + "/K")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(d.KmsKeyId); got != "alias/ast-test" {
		t.Errorf("the secret's KmsKeyId is %q, want the kms_key_id setting", got)
	}
}
