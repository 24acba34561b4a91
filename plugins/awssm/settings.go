package awssm

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ast-cli/ast/pluginsdk"
)

// The settings of an awssm account, set with `ast account add NAME --backend awssm --set KEY=VALUE`.
// Credentials are not settings: they come from the AWS SDK's default chain.
const (
	settingEndpoint       = "endpoint"
	settingKMSKeyID       = "kms_key_id"
	settingPath           = "path"
	settingAliases        = "aliases"
	settingPrefix         = "prefix"
	settingProfile        = "profile"
	settingRecoveryWindow = "recovery_window_days"
	settingRegion         = "region"
)

// knownSettings lists the setting keys, sorted, for error messages.
var knownSettings = []string{settingAliases, settingEndpoint, settingKMSKeyID, settingPath, settingPrefix, settingProfile,
	settingRecoveryWindow, settingRegion}

const (
	defaultPrefix = "ast"
	// defaultRecoveryWindowDays is AWS's own default (the console's and the CLI's), so a
	// deleted entry can be restored with `aws secretsmanager restore-secret` for 30 days.
	defaultRecoveryWindowDays = 30
	// maxPrefixBytes keeps PREFIX/ACCOUNT/NAME within AWS's 512-character secret names:
	// 256 + 1 + 64 + 1 + 128 = 450.
	maxPrefixBytes = 256
)

var (
	// prefixPattern: segments of the characters AWS allows in secret names (and in
	// ListSecrets name filters), separated by single slashes.
	prefixPattern = regexp.MustCompile(`^[A-Za-z0-9_+=.@-]+(/[A-Za-z0-9_+=.@-]+)*$`)
	// regionPattern is a DNS label, as the SDK requires; whether AWS knows the region shows
	// at the first call.
	regionPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$`)
)

// settings are an account's parsed settings. Empty strings mean "not set": the SDK's own
// configuration (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, ~/.aws/config) decides.
type settings struct {
	region   string
	profile  string
	prefix   string            // without leading or trailing slash; never empty
	path     string            // the folder that replaces PREFIX/ACCOUNT; "" when not set
	aliases  map[string]string // alias → the rest of the secret name
	kmsKeyID string
	endpoint string
	// recoveryWindowDays is 7 to 30, or 0 for deletion without recovery.
	recoveryWindowDays int
}

// parseSettings checks an account's settings. It reports every problem at once, in key
// order, as one ErrInvalidArgument that names the rule broken; an unknown key's error lists
// the known ones. An empty value is the same as no value.
func parseSettings(m map[string]string) (settings, error) {
	s := settings{prefix: defaultPrefix, recoveryWindowDays: defaultRecoveryWindowDays}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var problems []string
	for _, k := range keys {
		v := strings.TrimSpace(m[k])
		if v == "" && slices.Contains(knownSettings, k) {
			continue
		}
		if msg := s.set(k, v); msg != "" {
			problems = append(problems, msg)
		}
	}
	if s.path != "" && strings.TrimSpace(m[settingPrefix]) != "" {
		problems = append(problems, "path and prefix are both set: path replaces PREFIX/ACCOUNT, so give one of them")
	}
	if len(problems) > 0 {
		return settings{}, pluginsdk.Errorf(pluginsdk.ErrInvalidArgument, "awssm settings: %s",
			strings.Join(problems, "; "))
	}
	return s, nil
}

// set applies one setting and returns what is wrong with it, or "".
func (s *settings) set(key, v string) string {
	switch key {
	case settingRegion:
		if !regionPattern.MatchString(v) {
			return fmt.Sprintf("region %q is not an AWS region name (like us-east-1)", v)
		}
		s.region = v
	case settingProfile:
		if strings.ContainsFunc(v, func(r rune) bool { return r < ' ' }) {
			return fmt.Sprintf("profile %q contains a control character", v)
		}
		s.profile = v
	case settingPrefix:
		p := strings.Trim(v, "/")
		if len(p) > maxPrefixBytes || !prefixPattern.MatchString(p) {
			return fmt.Sprintf("prefix %q: a prefix is 1 to %d bytes of letters, digits and _+=.@- "+
				"in segments separated by single slashes (like ast or team/ast)", v, maxPrefixBytes)
		}
		s.prefix = p
	case settingPath:
		p := strings.TrimSuffix(v, "/")
		bad := strings.HasPrefix(p, "/") || len(p) > maxPrefixBytes+1+pluginsdk.MaxAccountBytes || !prefixPattern.MatchString(p)
		for _, seg := range strings.Split(p, "/") {
			bad = bad || seg == "." || seg == ".."
		}
		if bad {
			return fmt.Sprintf("path %q: an existing folder of secret names such as prod/payments: letters, digits and _+=.@- "+
				"in segments separated by single slashes, without a leading slash or . and .. segments", v)
		}
		s.path = p
	case settingAliases:
		a, err := pluginsdk.ParseAliases(v, func(n string) bool { return !strings.Contains(n, "/") && prefixPattern.MatchString(n) })
		if err != nil {
			return err.Error()
		}
		s.aliases = a
	case settingKMSKeyID:
		if len(v) > 2048 || strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' }) {
			return fmt.Sprintf("kms_key_id %q is not a KMS key ID, ARN or alias", v)
		}
		s.kmsKeyID = v
	case settingEndpoint:
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Sprintf("endpoint %q is not an http or https URL (like https://secretsmanager.us-east-1.amazonaws.com)", v)
		}
		s.endpoint = v
	case settingRecoveryWindow:
		n, err := strconv.Atoi(v)
		if err != nil || (n != 0 && (n < 7 || n > 30)) {
			return fmt.Sprintf("recovery_window_days %q: use 7 to 30 (days AWS keeps a deleted entry "+
				"restorable), or 0 to delete without recovery", v)
		}
		s.recoveryWindowDays = n
	default:
		return fmt.Sprintf("unknown setting %q (the awssm settings are %s)", key, strings.Join(knownSettings, ", "))
	}
	return ""
}
