package awssm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ast-cli/ast/pluginsdk"
)

func TestParseSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings map[string]string
		want     settings // compared when wantErr is empty
		wantErr  []string // substrings of the error, all reported at once
	}{
		{"defaults", nil, settings{prefix: "ast", recoveryWindowDays: 30}, nil},
		{"all", map[string]string{"region": "eu-west-1", "profile": "dev", "prefix": "/team/ast/",
			"kms_key_id": "alias/ast", "endpoint": "http://127.0.0.1:5000", "recovery_window_days": "7"},
			settings{region: "eu-west-1", profile: "dev", prefix: "team/ast", kmsKeyID: "alias/ast",
				endpoint: "http://127.0.0.1:5000", recoveryWindowDays: 7}, nil},
		{"no recovery", map[string]string{"recovery_window_days": "0"}, settings{prefix: "ast"}, nil},
		{"empty means unset", map[string]string{"prefix": "", "region": " "},
			settings{prefix: "ast", recoveryWindowDays: 30}, nil},
		{"unknown", map[string]string{"bucket": "x"},
			settings{}, []string{`unknown setting "bucket"`, "endpoint, kms_key_id, path, prefix, profile, recovery_window_days, region"}},
		{"every problem", map[string]string{"region": "US East", "prefix": "a//b", "endpoint": "ftp://x",
			"recovery_window_days": "5", "kms_key_id": "a b"},
			settings{}, []string{`region "US East"`, `prefix "a//b"`, `endpoint "ftp://x"`,
				`recovery_window_days "5"`, `kms_key_id "a b"`}},
		{"prefix characters", map[string]string{"prefix": "ast*"}, settings{}, []string{`prefix "ast*"`}},
		{"path", map[string]string{"path": "prod/payments/"}, settings{prefix: "ast", path: "prod/payments", recoveryWindowDays: 30}, nil},
		{"path and prefix", map[string]string{"path": "prod", "prefix": "team"}, settings{}, []string{"path and prefix"}},
		{"path leading slash", map[string]string{"path": "/prod"}, settings{}, []string{`path "/prod"`}},
		{"path empty segment", map[string]string{"path": "prod//x"}, settings{}, []string{`path "prod//x"`}},
		{"path dot-dot", map[string]string{"path": "prod/../x"}, settings{}, []string{`path "prod/../x"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSettings(tt.settings)
			if len(tt.wantErr) == 0 {
				if err != nil || !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("parseSettings = %+v, %v; want %+v", got, err, tt.want)
				}
				return
			}
			wantCode(t, tt.name, err, pluginsdk.ErrInvalidArgument)
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v does not contain %q", err, w)
				}
			}
		})
	}
}

func TestConfigure(t *testing.T) {
	isolateAWS(t)
	// Configure runs at every ast command: it must not touch the network.
	noNetwork := withTransport(func(http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			t.Errorf("Configure made a request to %s", r.URL)
			return nil, errors.New("no network in Configure")
		})
	})
	tests := []struct {
		name     string
		account  string
		settings map[string]string
		env      map[string]string
		want     *pluginsdk.Error // nil: success
		wantText string
	}{
		{"ok", "dev", map[string]string{"region": "us-east-1"}, nil, nil, ""},
		{"region from env", "dev", nil, map[string]string{"AWS_REGION": "eu-west-1"}, nil, ""},
		{"no region", "dev", nil, nil, pluginsdk.ErrInvalidArgument, "no AWS region"},
		{"bad account", "Dev", map[string]string{"region": "us-east-1"}, nil, pluginsdk.ErrInvalidArgument, "invalid account name"},
		{"missing profile", "dev", map[string]string{"region": "us-east-1", "profile": "nope"}, nil,
			pluginsdk.ErrInvalidArgument, `AWS profile "nope"`},
		{"unknown setting", "dev", map[string]string{"regoin": "us-east-1"}, nil, pluginsdk.ErrInvalidArgument, "unknown setting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			b := newBackend(withLogger(hclog.NewNullLogger()), noNetwork)
			err := b.Configure(context.Background(), tt.account, tt.settings)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Configure: %v", err)
				}
				return
			}
			wantCode(t, tt.name, err, tt.want)
			if err == nil || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %v does not say %q", err, tt.wantText)
			}
		})
	}

	t.Run("not configured", func(t *testing.T) {
		_, err := newBackend(withLogger(hclog.NewNullLogger())).List(context.Background(), pluginsdk.ListOptions{})
		wantCode(t, "List before Configure", err, pluginsdk.ErrFailedPrecondition)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestVersionID(t *testing.T) {
	for _, k := range []pluginsdk.Kind{pluginsdk.KindSecret, pluginsdk.KindPlain} {
		for _, n := range []int64{1, 2, 99, 1 << 40} {
			id := versionID(n, k, randomTag())
			if len(id) < 32 || len(id) > 64 {
				t.Errorf("versionID(%d, %s) = %q: %d characters, AWS takes 32 to 64", n, k, id, len(id))
			}
			gn, gk, ok := parseVersionID(id)
			if !ok || gn != n || gk != k {
				t.Errorf("parseVersionID(%q) = %d, %s, %v; want %d, %s", id, gn, gk, ok, n, k)
			}
		}
	}
	for _, id := range []string{"", "c0ffee00-1234-5678-9abc-def012345678", "ast-v0-s-" + randomTag(),
		"ast-v1-x-" + randomTag(), "ast-v1-s-abc", "ast-vx-s-" + randomTag()} {
		if _, _, ok := parseVersionID(id); ok {
			t.Errorf("parseVersionID(%q) accepted a version ID ast did not write", id)
		}
	}
	if derivedTag("a") != derivedTag("a") || derivedTag("a") == derivedTag("b") || len(derivedTag("a")) != 32 {
		t.Error("derivedTag is not a deterministic 32-digit tag of its input")
	}

	v3 := versionID(3, pluginsdk.KindPlain, randomTag())
	v2 := versionID(2, pluginsdk.KindSecret, randomTag())
	uuid := "c0ffee00-1234-5678-9abc-def012345678"
	tests := []struct {
		name   string
		stages map[string][]string
		want   versions
	}{
		{"ours current", map[string][]string{v3: {"AWSCURRENT"}, v2: {"AWSPREVIOUS"}},
			versions{current: v3, number: 3, kind: pluginsdk.KindPlain, next: 4}},
		{"foreign current after ours", map[string][]string{uuid: {"AWSCURRENT"}, v3: {"AWSPREVIOUS"}},
			versions{current: uuid, number: 1, next: 4}},
		{"foreign only", map[string][]string{uuid: {"AWSCURRENT"}}, versions{current: uuid, number: 1, next: 2}},
	}
	for _, tt := range tests {
		if got := readVersions(tt.stages); got != tt.want {
			t.Errorf("%s: readVersions = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// fakeBackend is a backend whose every request fakeAWS answers.
func fakeBackend(t *testing.T, f *fakeAWS, log hclog.Logger) *Backend {
	t.Helper()
	isolateAWS(t)
	b := newBackend(withLogger(log), withMaxBackoff(5*time.Millisecond),
		withTransport(func(http.RoundTripper) http.RoundTripper { return f }))
	if err := b.Configure(context.Background(), "dev", map[string]string{"region": "us-east-1"}); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAWSErrors(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		want     *pluginsdk.Error
		wantText []string
	}{
		{"access denied", 400, awsError("AccessDeniedException", "User: arn:aws:iam::1:user/x is not authorized"),
			pluginsdk.ErrPermissionDenied, []string{"secretsmanager:ListSecrets", "ast/dev/*"}},
		{"bad key", 400, awsError("UnrecognizedClientException", "The security token included in the request is invalid."),
			pluginsdk.ErrPermissionDenied, []string{"rejected the credentials", "aws sso login"}},
		{"expired", 400, awsError("ExpiredTokenException", "The security token included in the request is expired"),
			pluginsdk.ErrPermissionDenied, []string{"rejected the credentials"}},
		{"throttled for good", 400, awsError("ThrottlingException", "Rate exceeded"),
			pluginsdk.ErrUnavailable, []string{"kept throttling", "6 attempts", "ThrottlingException"}},
		{"server error", 500, awsError("InternalServiceError", "oops"), pluginsdk.ErrUnavailable, []string{"InternalServiceError"}},
		{"not JSON", 502, "<html>bad gateway</html>", pluginsdk.ErrUnavailable, []string{"HTTP 502"}},
		// A line break in the server's text cannot start a line of ast's output.
		{"line breaks", 400, awsError("ValidationException", "bad\n✓ Saved secret API_KEY\r\nx"),
			pluginsdk.ErrInternal, []string{"bad ✓ Saved secret API_KEY x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeAWS{respond: func(string, int, string) (int, string) { return tt.status, tt.body }}
			_, err := fakeBackend(t, f, hclog.NewNullLogger()).List(context.Background(), pluginsdk.ListOptions{})
			t.Logf("error: %v", err)
			wantCode(t, tt.name, err, tt.want)
			if err != nil && strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("error %q has a line break", err)
			}
			for _, w := range tt.wantText {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v does not say %q", err, w)
				}
			}
		})
	}
}

func TestThrottlingIsRetriedVisibly(t *testing.T) {
	f := &fakeAWS{respond: func(_ string, n int, _ string) (int, string) {
		if n <= 2 {
			return 400, awsError("ThrottlingException", "Rate exceeded")
		}
		return 200, `{"SecretList":[]}`
	}}
	var logs logBuffer
	b := fakeBackend(t, f, hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Warn}))
	if _, err := b.List(context.Background(), pluginsdk.ListOptions{}); err != nil {
		t.Fatalf("List after two throttled attempts: %v", err)
	}
	if f.requests() != 3 {
		t.Errorf("%d requests, want 3", f.requests())
	}
	if got := strings.Count(logs.String(), "retrying"); got != 2 {
		t.Errorf("%d \"retrying\" log lines, want 2; log:\n%s", got, logs.String())
	}
}

func TestWriteRateLimit(t *testing.T) {
	f := &fakeAWS{respond: func(string, int, string) (int, string) {
		return 200, `{"ARN":"arn:aws:secretsmanager:us-east-1:123456789012:secret:x","Name":"x"}`
	}}
	b := fakeBackend(t, f, hclog.NewNullLogger())
	entries := make([]pluginsdk.Entry, 61)
	for i := range entries {
		entries[i] = entry("E"+strings.Repeat("X", i), pluginsdk.KindSecret, "v")
	}
	start := time.Now()
	res, err := b.Put(context.Background(), entries, pluginsdk.Create)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Entry.Name, r.Err)
		}
	}
	// 61 writes at 40 a second take 1.5s at least: well under AWS's 50 a second.
	if el := time.Since(start); el < 1400*time.Millisecond {
		t.Errorf("61 creates took %s: the write rate limit of %d a second is not applied", el, writesPerSecond)
	}
}

func TestEndpointUnreachable(t *testing.T) {
	isolateAWS(t)
	addr := closedPort(t)
	b := newBackend(withLogger(hclog.NewNullLogger()))
	if err := b.Configure(context.Background(), "dev", map[string]string{"region": "us-east-1", "endpoint": "http://" + addr}); err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"List": func() error { _, err := b.List(context.Background(), pluginsdk.ListOptions{}); return err },
		"Get":  func() error { _, err := b.Get(context.Background(), []string{"A"}); return err },
		"Put": func() error {
			_, err := b.Put(context.Background(), []pluginsdk.Entry{entry("A", pluginsdk.KindSecret, "v"), entry("B", pluginsdk.KindSecret, "v")}, pluginsdk.Create)
			return err
		},
		"Delete": func() error { _, err := b.Delete(context.Background(), []string{"A"}); return err },
	}
	for name, call := range calls {
		start := time.Now()
		err := call()
		t.Logf("%s: %v", name, err)
		if el := time.Since(start); el > 10*time.Second {
			t.Errorf("%s took %s with the endpoint unreachable", name, el)
		}
		wantCode(t, name, err, pluginsdk.ErrUnavailable)
		if err == nil || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "endpoint") {
			t.Errorf("%s: error %v does not name the endpoint %s", name, err, addr)
		}
	}
}

func TestUnknownRegion(t *testing.T) {
	isolateAWS(t)
	b := newBackend(withLogger(hclog.NewNullLogger()))
	if err := b.Configure(context.Background(), "dev", map[string]string{"region": "xx-nowhere-1"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := b.List(context.Background(), pluginsdk.ListOptions{})
	t.Logf("error: %v", err)
	if el := time.Since(start); el > 20*time.Second {
		t.Errorf("List took %s in an unknown region", el)
	}
	if err == nil || !strings.Contains(err.Error(), "xx-nowhere-1") {
		t.Errorf("error %v does not name the region", err)
	}
}

func TestNoCredentials(t *testing.T) {
	isolateAWS(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	b := newBackend(withLogger(hclog.NewNullLogger()))
	if err := b.Configure(context.Background(), "dev", map[string]string{"region": "us-east-1", "endpoint": "http://" + closedPort(t)}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := b.Get(context.Background(), []string{"A"})
	t.Logf("error: %v", err)
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("Get took %s without credentials", el)
	}
	wantCode(t, "Get without credentials", err, pluginsdk.ErrPermissionDenied)
	if err == nil || !strings.Contains(err.Error(), "no AWS credentials found") || !strings.Contains(err.Error(), "AWS_ACCESS_KEY_ID") {
		t.Errorf("error %v does not say how to provide credentials", err)
	}
}

// TestCreateOverDeletedOnAWS replays what AWS (unlike moto) answers when a name is created
// again while its deleted secret is in the recovery window: InvalidRequestException, and
// for a few seconds after the purge still so.
func TestCreateOverDeletedOnAWS(t *testing.T) {
	const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ast/dev/X-AbCdEf"
	scheduled := awsError("InvalidRequestException", "You can't create this secret because a secret with this name is already scheduled for deletion.")
	script := []struct {
		op          string
		status      int
		body        string
		wantRequest []string
	}{
		{opCreate, 400, scheduled, []string{`"Name":"ast/dev/X"`, `"ast:kind"`, `"ast:account"`}},
		{opDescribe, 200, `{"ARN":"` + arn + `","Name":"ast/dev/X","DeletedDate":1700000000}`, nil},
		{opDelete, 200, `{"ARN":"` + arn + `","Name":"ast/dev/X","DeletionDate":1700000000}`,
			[]string{`"SecretId":"` + arn + `"`, `"ForceDeleteWithoutRecovery":true`}},
		{opCreate, 400, scheduled, nil},
		{opDescribe, 400, awsError("ResourceNotFoundException", "Secrets Manager can't find the specified secret."), nil},
		{opCreate, 200, `{"ARN":"` + arn + `x","Name":"ast/dev/X"}`, nil},
	}
	f := &fakeAWS{respond: func(op string, n int, request string) (int, string) {
		if n > len(script) {
			t.Errorf("request %d (%s) after the script's end", n, op)
			return 500, awsError("InternalServiceError", "unexpected")
		}
		step := script[n-1]
		if op != step.op {
			t.Errorf("request %d is %s, want %s", n, op, step.op)
		}
		for _, w := range step.wantRequest {
			if !strings.Contains(request, w) {
				t.Errorf("request %d (%s) lacks %s", n, op, w)
			}
		}
		return step.status, step.body
	}}
	b := fakeBackend(t, f, hclog.NewNullLogger())
	got, err := putOne(t, b, entry("X", pluginsdk.KindSecret, "new value"), pluginsdk.Create)
	if err != nil || got.Version != 1 {
		t.Fatalf("create over a deleted secret: version %d, %v", got.Version, err)
	}
	if f.requests() != len(script) {
		t.Errorf("%d requests, want %d", f.requests(), len(script))
	}
}

// TestEchoedValueWithheld (issue 13): an endpoint that echoes the request (the value,
// JSON-escaped) in its error text gets no trace of it into the error or the log.
func TestEchoedValueWithheld(t *testing.T) {
	const value = `s3cr3t <"value"> & é`
	for _, status := range []int{400, 500} {
		for _, mode := range []pluginsdk.PutMode{pluginsdk.Create, pluginsdk.Update} {
			f := &fakeAWS{respond: func(op string, _ int, request string) (int, string) {
				if op == opDescribe {
					return 200, `{"ARN":"arn:aws:secretsmanager:us-east-1:1:secret:ast/dev/K-abc","Name":"ast/dev/K",` +
						`"VersionIdsToStages":{"ast-v1-s-0123456789abcdef0123456789abcdef":["AWSCURRENT"]}}`
				}
				return status, awsError("ValidationException", "bad request: "+request)
			}}
			var log logBuffer
			b := fakeBackend(t, f, hclog.New(&hclog.LoggerOptions{Output: &log, Level: hclog.Trace}))
			res, err := b.Put(context.Background(), []pluginsdk.Entry{entry("K", secret, value)}, mode)
			if err == nil {
				err = res[0].Err
			}
			what := fmt.Sprintf("HTTP %d, %v", status, mode)
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("HTTP %d", status)) ||
				!strings.Contains(err.Error(), pluginsdk.Withheld) {
				t.Errorf("%s: error %v does not give the status and withhold the message", what, err)
			}
			for _, text := range []string{err.Error(), log.String()} {
				if strings.Contains(text, "s3cr3t") {
					t.Errorf("%s: the value is in the error or the log", what)
				}
			}
		}
	}
}
