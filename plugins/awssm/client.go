package awssm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go/middleware"
	"github.com/hashicorp/go-hclog"
	"golang.org/x/time/rate"

	"github.com/ast-cli/ast/internal/httplimit"
	"github.com/ast-cli/ast/pluginsdk"
)

// Limits of the calls to AWS.
const (
	// maxAttempts bounds the attempts of a call that AWS throttles (ThrottlingException,
	// HTTP 429) or fails (HTTP 5xx), with jittered exponential back-off between them: for
	// throttling 1s, 2s, 4s... (at most maxBackoff), else 50ms, 100ms, 200ms...
	maxAttempts = 6
	// maxConnectAttempts bounds the attempts after a connection error (refused, reset,
	// timed out): an unreachable endpoint fails within seconds.
	maxConnectAttempts = 3
	maxBackoff         = 20 * time.Second

	// dialTimeout and the other timeouts bound one attempt; requestTimeout bounds one whole
	// request and response (a ListSecrets page, 20 values of up to 64 KiB).
	dialTimeout           = 4 * time.Second
	tlsHandshakeTimeout   = 5 * time.Second
	responseHeaderTimeout = 10 * time.Second
	requestTimeout        = 30 * time.Second

	// writesPerSecond stays under AWS's quota of 50 writes a second (CreateSecret,
	// PutSecretValue, DeleteSecret, TagResource each) for one client.
	writesPerSecond = 40
	// writeWorkers bounds the writes of a batch in flight at once.
	writeWorkers = 8
	// readWorkers bounds the BatchGetSecretValue calls in flight at once.
	readWorkers = 4
	// batchGetMax is AWS's limit of names in one BatchGetSecretValue SecretIdList.
	batchGetMax = 20
	// listPageSize is AWS's largest ListSecrets page.
	listPageSize = 100
)

// The AWS operations the backend calls, by API name (which is also the IAM action).
const (
	opBatchGet = "BatchGetSecretValue"
	opList     = "ListSecrets"
	opDescribe = "DescribeSecret"
	opCreate   = "CreateSecret"
	opPut      = "PutSecretValue"
	opDelete   = "DeleteSecret"
	opTag      = "TagResource"
)

// writeOps are the operations the write rate limit applies to.
var writeOps = map[string]bool{opCreate: true, opPut: true, opDelete: true, opTag: true,
	"UntagResource": true, "RestoreSecret": true, "UpdateSecret": true}

// options are the unexported knobs of a Backend; tests set them.
type options struct {
	log hclog.Logger
	// wrapTransport wraps the HTTP transport (tests count or fake requests).
	wrapTransport func(http.RoundTripper) http.RoundTripper
	maxBackoff    time.Duration
	writeRate     rate.Limit
}

type option func(*options)

func withLogger(l hclog.Logger) option { return func(o *options) { o.log = l } }

func withTransport(wrap func(http.RoundTripper) http.RoundTripper) option {
	return func(o *options) { o.wrapTransport = wrap }
}

func withMaxBackoff(d time.Duration) option { return func(o *options) { o.maxBackoff = d } }

// loadConfig loads the AWS configuration the way the AWS CLI does (environment, shared
// config and credentials files, the profile), with the account's region and profile on
// top. It makes no network call: credentials are resolved lazily at the first request, and
// the region never comes from the instance metadata service.
func loadConfig(ctx context.Context, s settings, o options) (aws.Config, error) {
	// A BuildableClient, not an http.Client: the SDK adds AWS_CA_BUNDLE to its transport.
	httpClient := awshttp.NewBuildableClient().
		WithTimeout(requestTimeout).
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = dialTimeout }).
		WithTransportOptions(func(t *http.Transport) {
			t.TLSHandshakeTimeout = tlsHandshakeTimeout
			t.ResponseHeaderTimeout = responseHeaderTimeout
			t.MaxIdleConnsPerHost = writeWorkers + readWorkers
		})
	loads := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient),
		config.WithRetryer(func() aws.Retryer { return newRetryer(o) }),
	}
	if s.region != "" {
		loads = append(loads, config.WithRegion(s.region))
	}
	if s.profile != "" {
		loads = append(loads, config.WithSharedConfigProfile(s.profile))
	}
	return config.LoadDefaultConfig(ctx, loads...)
}

// newAPI returns the Secrets Manager client: the account's endpoint (else the SDK's, which
// honours AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL) and the write rate limit.
func newAPI(cfg aws.Config, s settings, o options) *secretsmanager.Client {
	limit := rate.NewLimiter(o.writeRate, 1)
	return secretsmanager.NewFromConfig(cfg, func(so *secretsmanager.Options) {
		if s.endpoint != "" {
			so.BaseEndpoint = aws.String(s.endpoint)
		}
		if so.Credentials != nil {
			so.Credentials = credentialsProvider{so.Credentials}
		}
		var rt http.RoundTripper = roundTripper(so.HTTPClient.Do)
		if o.wrapTransport != nil {
			rt = o.wrapTransport(rt)
		}
		// Every response body is bounded (httplimit.MaxResponseBytes, 32 MiB): a server
		// that streams a huge body fails the call instead of growing the plugin without end.
		so.HTTPClient = doer(httplimit.Transport(rt, 0).RoundTrip)
		so.APIOptions = append(so.APIOptions, func(stack *middleware.Stack) error {
			return stack.Finalize.Insert(writeRateLimit(limit), "Retry", middleware.After)
		})
	})
}

// credentialsProvider marks the errors of the SDK's credential chain as credentialsError,
// which the SDK does not do itself.
type credentialsProvider struct{ aws.CredentialsProvider }

func (p credentialsProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := p.CredentialsProvider.Retrieve(ctx)
	if err != nil {
		return c, &credentialsError{err}
	}
	return c, nil
}

// ProviderSources passes on where the credentials come from (the SDK reports it in the
// User-Agent).
func (p credentialsProvider) ProviderSources() []aws.CredentialSource {
	if s, ok := p.CredentialsProvider.(aws.CredentialProviderSource); ok {
		return s.ProviderSources()
	}
	return nil
}

// credentialsError is a failure to find or refresh credentials.
type credentialsError struct{ err error }

func (e *credentialsError) Error() string { return e.err.Error() }
func (e *credentialsError) Unwrap() error { return e.err }

// roundTripper and doer adapt an aws.HTTPClient and an http.RoundTripper to each other,
// for options.wrapTransport.
type (
	roundTripper func(*http.Request) (*http.Response, error)
	doer         func(*http.Request) (*http.Response, error)
)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
func (f doer) Do(r *http.Request) (*http.Response, error)                { return f(r) }

// writeRateLimit delays every attempt of a write operation to the limiter's rate, and
// sends the host a heartbeat (a retry, when AWS throttled) after a failed attempt. It sits
// inside the retry loop, so retries count too.
func writeRateLimit(l *rate.Limiter) middleware.FinalizeMiddleware {
	return middleware.FinalizeMiddlewareFunc("ast:WriteRateLimit", func(
		ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler,
	) (middleware.FinalizeOutput, middleware.Metadata, error) {
		if writeOps[awsmiddleware.GetOperationName(ctx)] {
			if err := l.Wait(ctx); err != nil {
				return middleware.FinalizeOutput{}, middleware.Metadata{}, err
			}
		}
		out, md, err := next.HandleFinalize(ctx, in)
		// The retry loop waits after this attempt: tell a streaming Put or Delete that the
		// call is alive, and count throttling as a retry in the user's progress display.
		switch {
		case err == nil || ctx.Err() != nil:
		case isThrottle(err):
			pluginsdk.Retrying(ctx)
		default:
			pluginsdk.Heartbeat(ctx)
		}
		return out, md, err
	})
}

// retryer is the SDK's standard retryer with two changes: connection errors are retried
// fewer times (maxConnectAttempts), so an unreachable endpoint fails fast, and every retry
// after throttling, which waits seconds, is logged at warn level as a line starting
// "retrying", which the host shows the user (other retries at debug level). The SDK's
// retry quota is off: writes are rate-limited before they are sent.
type retryer struct {
	aws.RetryerV2
	log hclog.Logger
}

func newRetryer(o options) aws.Retryer {
	return &retryer{
		RetryerV2: retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = maxAttempts
			so.MaxBackoff = o.maxBackoff
			so.RateLimiter = ratelimit.None
		}),
		log: o.log,
	}
}

// RetryDelay returns how long to wait before attempt+1, or err to stop retrying.
func (r *retryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	if httpStatus(err) == 0 && attempt >= maxConnectAttempts {
		return 0, err
	}
	// An endpoint that accepts but does not answer would not answer a retry either;
	// retrying would only outlast the host's per-call timeout and hide this error.
	if isTimeout(err) {
		return 0, err
	}
	d, derr := r.RetryerV2.RetryDelay(attempt, err)
	if derr != nil {
		return 0, derr
	}
	if isThrottle(err) {
		r.log.Warn(fmt.Sprintf("retrying in %s (attempt %d of %d): AWS Secrets Manager is throttling requests (%s)",
			d.Round(time.Millisecond), attempt+1, maxAttempts, apiCode(err)))
	} else {
		// These retries take milliseconds; the final error, if any, says what is wrong.
		// AWS's message is not logged: the request may have carried a value that a server
		// echoes (the final error is scrubbed, see toWriteError).
		r.log.Debug(fmt.Sprintf("retrying in %s (attempt %d): %s", d.Round(time.Millisecond), attempt+1, retryReason(err)))
	}
	return d, nil
}

// retryReason says why a call is retried without quoting the server: the HTTP status and a
// documented error code, or the transport's own error (no server text) when there was no
// answer.
func retryReason(err error) string {
	status := httpStatus(err)
	if status == 0 {
		return innermost(err)
	}
	reason := fmt.Sprintf("HTTP %d", status)
	if code := apiCode(err); knownCode(code) {
		reason += " " + code
	}
	return reason
}

// isTimeout reports whether err is a network timeout (no answer within
// responseHeaderTimeout or requestTimeout).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
