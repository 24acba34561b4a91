package deploy

import (
	"fmt"
	"regexp"
	"strings"
)

// MinimalEnv names the variables of the user's environment that every agent inherits: what
// a program needs to find programs, files, its user, language, time zone, temp directory
// and terminal. Variables whose name starts with LC_ pass too. Everything else of ast's
// environment (VAULT_TOKEN, VAULT_SECRET_ID, AWS_* keys, AST_*, ...) stays behind unless
// the blueprint's pass_env names it: an agent gets the variables it was given, not the
// user's credentials to the whole account.
var MinimalEnv = []string{"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "TZ", "TMPDIR", "TERM"}

// PassEnvRule is the rule a pass_env item follows, in the words error messages use.
const PassEnvRule = "a pass_env item is a variable name (NAME) or a name prefix followed by * (PREFIX_*)"

var passEnvRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*\*?$`)

// CheckPassEnv checks one pass_env item against PassEnvRule. A bare "*" is refused: it
// would hand the agent every credential in the user's environment.
func CheckPassEnv(item string) error {
	if item == "*" {
		return fmt.Errorf(`"*" would pass the whole environment, credentials included; name the variables (NAME, PREFIX_*)`)
	}
	if !passEnvRE.MatchString(item) || len(item) > 128 {
		return fmt.Errorf("%q: %s", item, PassEnvRule)
	}
	return nil
}

// AgentEnviron returns the environment an agent starts from, before its own variables are
// added: the entries of environ (NAME=VALUE strings, as os.Environ gives them) whose name
// is in MinimalEnv or starts with LC_, or matches an item of pass (a NAME exactly, or a
// PREFIX* by prefix; items are assumed checked by CheckPassEnv). The order of environ is
// kept; entries without "=" are dropped.
func AgentEnviron(environ, pass []string) []string {
	out := make([]string, 0, len(MinimalEnv)+len(pass))
	for _, kv := range environ {
		name, _, ok := strings.Cut(kv, "=")
		if ok && inherited(name, pass) {
			out = append(out, kv)
		}
	}
	return out
}

func inherited(name string, pass []string) bool {
	if strings.HasPrefix(name, "LC_") {
		return true
	}
	for _, n := range MinimalEnv {
		if name == n {
			return true
		}
	}
	for _, p := range pass {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(name, prefix) {
				return true
			}
		} else if name == p {
			return true
		}
	}
	return false
}
