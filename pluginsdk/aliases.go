package pluginsdk

import (
	"fmt"
	"strings"
)

// ParseAliases parses an account's aliases setting, "ALIAS:backend-name,...": each ALIAS
// is a valid entry name (ValidateName) standing for an entry whose name in the backend is
// not one (db-creds, api.key). The names sit in the value because setting keys are folded
// to lower case. okBackend tells whether a backend name stays inside the account's folder
// (one path segment, no "." or ".."); the caller supplies its backend's rule. Spaces around
// items are ignored; an empty setting is no alias.
//
// It returns alias → backend name. Errors (ErrInvalidArgument) name every bad item: no
// ":", an invalid alias, a backend name okBackend refuses, an alias or a backend name given
// twice.
func ParseAliases(setting string, okBackend func(string) bool) (map[string]string, error) {
	out := map[string]string{}
	seen := map[string]bool{}
	var problems []string
	for _, item := range strings.Split(setting, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		alias, name, ok := strings.Cut(item, ":")
		alias, name = strings.TrimSpace(alias), strings.TrimSpace(name)
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%q has no \":\" (the form is ALIAS:backend-name)", item))
		case ValidateName(alias) != nil:
			problems = append(problems, fmt.Sprintf("alias %q is not a valid entry name (%s)", alias, NameRule))
		case name == "" || name == "." || name == ".." || !okBackend(name):
			problems = append(problems, fmt.Sprintf("backend name %q of alias %s is not one name inside the account's folder", name, alias))
		case out[alias] != "":
			problems = append(problems, fmt.Sprintf("alias %s is given twice", alias))
		case seen[name]:
			problems = append(problems, fmt.Sprintf("backend name %q has two aliases", name))
		default:
			out[alias], seen[name] = name, true
		}
	}
	if len(problems) > 0 {
		return nil, Errorf(ErrInvalidArgument, "setting aliases: %s", strings.Join(problems, "; "))
	}
	return out, nil
}
