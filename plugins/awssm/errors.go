package awssm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go"

	"github.com/ast-cli/ast/pluginsdk"
)

// AWS error codes the backend tells apart.
const (
	codeNotFound       = "ResourceNotFoundException"
	codeExists         = "ResourceExistsException"
	codeInvalidRequest = "InvalidRequestException"
	codeInvalidParam   = "InvalidParameterException"
	codeAccessDenied   = "AccessDeniedException"
	codeDecryption     = "DecryptionFailure"
	codeEncryption     = "EncryptionFailure"
)

// credentialCodes are the codes AWS answers when it does not accept the credentials at all.
var credentialCodes = map[string]bool{
	"UnrecognizedClientException": true,
	"InvalidClientTokenId":        true,
	"InvalidSignatureException":   true,
	"SignatureDoesNotMatch":       true,
	"ExpiredTokenException":       true,
	"ExpiredToken":                true,
	"MissingAuthenticationToken":  true,
	"IncompleteSignature":         true,
}

// credentialsHint is what a user does about missing or refused credentials.
const credentialsHint = "set AWS_PROFILE (or the account's profile setting) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run aws sso login"

// apiCode returns the AWS error code of err ("" when AWS did not answer with an error).
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// httpStatus returns the HTTP status of AWS's answer, or 0 when there was none (the
// request never got an answer).
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// isThrottle reports whether err is AWS asking the client to slow down.
func isThrottle(err error) bool {
	return retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary
}

// stopsBatch reports whether err, met by one name of a batch, will be met by every other
// name as well (AWS unreachable, throttled after retries, credentials refused or access
// denied), so the batch stops instead of failing name after name.
func stopsBatch(err error) bool {
	return errors.Is(err, pluginsdk.ErrUnavailable) || errors.Is(err, pluginsdk.ErrPermissionDenied)
}

// toError turns the error of AWS operation op (its API name, which is also its IAM action)
// about entry name ("" for the whole account) into a pluginsdk error whose message says
// what to fix, quoting AWS's code and message. For a call that carried a value, use
// toWriteError instead: a server (or a proxy) may echo the request.
func (c *client) toError(op, name string, err error) error {
	return oneLine(c.mapError(op, name, err))
}

// oneLine returns err with its message folded to one line (each run of white space made
// one space) when it is a *pluginsdk.Error: AWS's text (or a proxy's, or an endpoint's) is
// quoted in it, and a line break there would start a line of ast's output that ast did
// not write. ast's own messages of this package have none.
func oneLine(err error) error {
	pe, ok := err.(*pluginsdk.Error)
	if !ok {
		return err
	}
	return &pluginsdk.Error{Code: pe.Code, Message: strings.Join(strings.Fields(pe.Message), " ")}
}

// mapError is toError before its message is folded to one line.
func (c *client) mapError(op, name string, err error) error {
	if err == nil {
		return nil
	}
	var pe *pluginsdk.Error
	if errors.As(err, &pe) {
		return err
	}
	what := fmt.Sprintf("%s of entry %q", op, name)
	if name == "" {
		what = fmt.Sprintf("%s of account %q", op, c.account)
	}
	var ae smithy.APIError
	var attempts *retry.MaxAttemptsError
	var creds *credentialsError
	var signing *v4.SigningError
	var dns *net.DNSError
	var urlErr *url.Error
	var netErr *net.OpError
	switch {
	case errors.As(err, &creds):
		return pluginsdk.Errorf(pluginsdk.ErrPermissionDenied, "no AWS credentials found: %s (%s)",
			credentialsHint, creds.err)
	case errors.As(err, &signing):
		return pluginsdk.Errorf(pluginsdk.ErrPermissionDenied, "no AWS credentials found: %s (%s)",
			credentialsHint, signing.Err)
	case errors.As(err, new(*aws.MissingRegionError)):
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "no AWS region: %s", regionHint)
	case errors.As(err, &ae):
		return c.apiError(op, name, what, ae, errors.As(err, &attempts))
	case httpStatus(err) >= 500:
		return pluginsdk.Errorf(pluginsdk.ErrUnavailable, "%s: AWS Secrets Manager at %s failed (HTTP %d); try again later",
			what, c.where(err), httpStatus(err))
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return pluginsdk.Errorf(pluginsdk.ErrUnavailable, "%s: AWS Secrets Manager at %s did not answer in time", what, c.where(err))
	case errors.Is(err, context.Canceled):
		return pluginsdk.Errorf(pluginsdk.ErrUnavailable, "%s: canceled", what)
	case errors.As(err, &dns) && dns.IsNotFound:
		return pluginsdk.Errorf(pluginsdk.ErrUnavailable, "cannot resolve %s: check the region (%s) and the "+
			"endpoint (the account's endpoint setting or AWS_ENDPOINT_URL), and that the network is up",
			dns.Name, c.regionInUse())
	case errors.As(err, &netErr), errors.As(err, &urlErr):
		return pluginsdk.Errorf(pluginsdk.ErrUnavailable, "cannot reach AWS Secrets Manager at %s (%s): check the "+
			"endpoint (the account's endpoint setting or AWS_ENDPOINT_URL), the region (%s) and the network",
			c.where(err), innermost(err), c.regionInUse())
	}
	return pluginsdk.Errorf(pluginsdk.ErrInternal, "%s: %v", what, err)
}

// toWriteError is toError for a call that carried value (CreateSecret, PutSecretValue).
// AWS's text is quoted only when pluginsdk.Scrub proves it free of the value in every
// encoding; otherwise the message gives the HTTP status, the error code when it is one AWS
// documents, and pluginsdk.Withheld. The error's code is toError's either way.
func (c *client) toWriteError(op, name string, err error, value string) error {
	mapped := c.toError(op, name, err)
	var pe *pluginsdk.Error
	if mapped == nil || errors.As(err, &pe) {
		return mapped // nil, or ast's own error
	}
	if httpStatus(err) == 0 && apiCode(err) == "" && errors.Is(mapped, pluginsdk.ErrUnavailable) {
		return mapped // no answer (a timeout, a refused connection): no server text to quote
	}
	if _, ok := pluginsdk.Scrub(err.Error(), value); ok {
		return mapped
	}
	answer := "did not answer"
	if status := httpStatus(err); status != 0 {
		answer = fmt.Sprintf("answered HTTP %d", status)
	}
	if code := apiCode(err); knownCode(code) {
		answer += " (" + code + ")"
	}
	return &pluginsdk.Error{Code: pluginsdk.CodeOf(mapped),
		Message: fmt.Sprintf("%s of entry %q: AWS Secrets Manager %s: %s", op, name, answer, pluginsdk.Withheld)}
}

// knownCode reports whether code is an error code AWS documents for Secrets Manager or
// its authentication: text ast may repeat without quoting the server.
func knownCode(code string) bool {
	switch code {
	case codeNotFound, codeExists, codeInvalidRequest, codeInvalidParam, codeAccessDenied, codeDecryption,
		codeEncryption, "ValidationException", "LimitExceededException", "MalformedPolicyDocumentException",
		"PreconditionNotMetException", "InternalServiceError", "InternalFailure", "ServiceUnavailable",
		"ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded":
		return true
	}
	return credentialCodes[code]
}

const regionHint = "set the account's region (ast account add NAME --backend awssm --set region=us-east-1), AWS_REGION, or a region in the AWS profile"

// apiError maps an error AWS answered. exhausted is true when retries ran out.
func (c *client) apiError(op, name, what string, ae smithy.APIError, exhausted bool) error {
	code, msg := ae.ErrorCode(), ae.ErrorMessage()
	switch {
	case code == codeNotFound:
		if name == "" {
			return pluginsdk.Errorf(pluginsdk.ErrNotFound, "%s: %s", what, msg)
		}
		return pluginsdk.Errorf(pluginsdk.ErrNotFound, "entry %q not found", name)
	case code == codeExists:
		return pluginsdk.Errorf(pluginsdk.ErrAlreadyExists, "entry %q already exists", name)
	case credentialCodes[code]:
		return pluginsdk.Errorf(pluginsdk.ErrPermissionDenied, "AWS rejected the credentials (%s: %s): %s",
			code, msg, credentialsHint)
	case code == codeAccessDenied:
		return pluginsdk.Errorf(pluginsdk.ErrPermissionDenied, "AWS denied %s for %s (%s): allow %s to the "+
			"identity in use (see aws sts get-caller-identity)", op, c.target(name), msg, c.permission(op, name))
	case code == codeDecryption || code == codeEncryption:
		key := "the account's KMS key"
		if c.set.kmsKeyID != "" {
			key = fmt.Sprintf("KMS key %q (kms_key_id)", c.set.kmsKeyID)
		}
		return pluginsdk.Errorf(pluginsdk.ErrPermissionDenied, "%s: AWS could not use %s (%s: %s): allow "+
			"kms:Decrypt and kms:GenerateDataKey on it to the identity in use", what, key, code, msg)
	case isThrottle(ae):
		return pluginsdk.Errorf(pluginsdk.ErrUnavailable, "%s: AWS Secrets Manager kept throttling the requests "+
			"after %d attempts (%s: %s); try again later", what, maxAttempts, code, msg)
	case exhausted:
		return pluginsdk.Errorf(pluginsdk.ErrUnavailable, "%s: AWS Secrets Manager kept failing after %d attempts "+
			"(%s: %s); try again later", what, maxAttempts, code, msg)
	case code == codeInvalidParam:
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "%s: %s: %s", what, code, msg)
	case code == codeInvalidRequest:
		return pluginsdk.Errorf(pluginsdk.ErrFailedPrecondition, "%s: %s: %s", what, code, msg)
	case code == "InternalServiceError" || code == "InternalFailure" || code == "ServiceUnavailable":
		return pluginsdk.Errorf(pluginsdk.ErrUnavailable, "%s: AWS Secrets Manager failed (%s: %s); try again later",
			what, code, msg)
	}
	return pluginsdk.Errorf(pluginsdk.ErrInternal, "%s: %s: %s", what, code, msg)
}

// target names the secret of entry name, or the account's secrets.
func (c *client) target(name string) string {
	if name == "" {
		return c.prefix + "*"
	}
	return c.secretName(name)
}

// permission names the IAM permission operation op needs. ListSecrets and
// BatchGetSecretValue take no resource but "*"; BatchGetSecretValue also needs
// GetSecretValue on each secret.
func (c *client) permission(op, name string) string {
	switch op {
	case opList:
		return `secretsmanager:ListSecrets on resource "*"`
	case opBatchGet:
		return `secretsmanager:BatchGetSecretValue on resource "*" and secretsmanager:GetSecretValue on ` + c.target(name)
	}
	return "secretsmanager:" + op + " on " + c.target(name)
}

// where names the endpoint a failed request went to.
func (c *client) where(err error) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		if u, perr := url.Parse(urlErr.URL); perr == nil && u.Host != "" {
			return u.Scheme + "://" + u.Host
		}
	}
	if c.set.endpoint != "" {
		return c.set.endpoint
	}
	return "the endpoint of region " + c.regionInUse()
}

func (c *client) regionInUse() string {
	if c.region == "" {
		return "not set"
	}
	return fmt.Sprintf("%q", c.region)
}

// innermost returns the text of the innermost error of err's chain: "connection refused"
// rather than the whole "operation error ... dial tcp ...: connection refused".
func innermost(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// configError maps an error of loading the AWS configuration (a missing profile, a bad
// config file) at Configure.
func configError(s settings, err error) error {
	var missing config.SharedConfigProfileNotExistError
	if errors.As(err, &missing) {
		source := "the account's profile setting"
		if s.profile == "" {
			source = "AWS_PROFILE"
		}
		return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "AWS profile %q (from %s) is not in the AWS "+
			"config files (~/.aws/config, ~/.aws/credentials): fix the name or run aws configure --profile %s",
			missing.Profile, source, missing.Profile)
	}
	return pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "cannot load the AWS configuration: %v", err)
}
