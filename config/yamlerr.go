package config

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxRelocateLines bounds the line search of syntaxProblem (a config file is a few dozen
// lines; the search parses one prefix per line).
const maxRelocateLines = 5000

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxProblem rewrites a YAML syntax error of the file raw so that it names the line of
// the problem. yaml.v3 names the line where the enclosing block starts, not the line of
// the problem ("line 2: did not find expected key" for a bad indentation on line 5); so
// the file is parsed again one line at a time, and the first prefix that fails with the
// same problem ends on the line to report. Errors of another form are returned as they
// are. Only the line number is reported, never the line's text.
func syntaxProblem(raw []byte, err error) error {
	m := yamlLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return quotingProblem(raw, err)
	}
	problem := m[2]
	line := failingLine(raw, func(prefix []byte) bool {
		var n yaml.Node
		perr := yaml.Unmarshal(prefix, &n)
		if perr == nil {
			return false
		}
		pm := yamlLineRE.FindStringSubmatch(perr.Error())
		return pm != nil && pm[2] == problem
	})
	if line == 0 {
		return fmt.Errorf("line %s: %s", m[1], problem)
	}
	return fmt.Errorf("line %d: %s", line, problem)
}

// failingLine returns the number of the first line of raw such that fails(the prefix of
// raw up to the end of that line) is true, or 0 when none of the first maxRelocateLines is.
func failingLine(raw []byte, fails func(prefix []byte) bool) int {
	end := 0
	for line := 1; line <= maxRelocateLines && end < len(raw); line++ {
		if i := bytes.IndexByte(raw[end:], '\n'); i >= 0 {
			end += i + 1
		} else {
			end = len(raw)
		}
		if fails(raw[:end]) {
			return line
		}
	}
	return 0
}

// structureProblem decodes raw strictly (every key known, every value of its type) and
// returns what is wrong, one problem per line number ("line 5: unknown key "bogus" in an
// account (its keys are backend, settings)"), or nil when the strict decoding finds
// nothing. It never quotes a value from the file.
func structureProblem(raw []byte) error {
	d := yaml.NewDecoder(bytes.NewReader(raw))
	d.KnownFields(true)
	var c Config
	err := d.Decode(&c)
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return nil
	}
	problems := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		problems = append(problems, describeTypeError(e))
	}
	return errors.New(strings.Join(problems, "; "))
}

var (
	unknownFieldRE = regexp.MustCompile(`^line (\d+): field (\S+) not found in type (\S+)$`)
	wrongTypeRE    = regexp.MustCompile("^line (\\d+): cannot unmarshal !!(\\w+)(?: `.*`)? into (.+)$")
)

// structureWords name the config's Go types as a user knows them.
var structureWords = map[string]string{
	"config.Config":             "the top level (its keys are active_account, accounts, plugins)",
	"config.Account":            "an account (its keys are backend, settings)",
	"config.Plugin":             "a plugin pin (its keys are path, sha256)",
	"string":                    "text",
	"map[string]config.Account": "a mapping of account names to accounts",
	"map[string]config.Plugin":  "a mapping of backend names to plugin pins",
	"map[string]string":         "a mapping of setting names to text",
}

var tagWords = map[string]string{
	"seq": "a list", "map": "a mapping", "int": "a number", "float": "a number",
	"bool": "true or false", "str": "text", "null": "nothing", "binary": "binary data", "timestamp": "a time",
}

var (
	unknownAnchorRE = regexp.MustCompile(`^yaml: unknown anchor '.*' referenced$`)
	badTagRE        = regexp.MustCompile("^yaml: cannot decode !!\\w+ `.*` as a !!(\\w+)$")
	backquotedRE    = regexp.MustCompile("`[^`]*`")
)

// quotingProblem rewrites the yaml.v3 errors without a line number that quote a value of
// the file (a setting may be a credential): "unknown anchor 'VALUE' referenced" (a value
// starting with '*', a YAML alias) and "cannot decode !!str `VALUE` as a !!int" (a value
// with a tag), naming the line instead (the first prefix of raw that fails the same way);
// any other `quoted` text of an error without a line is dropped.
func quotingProblem(raw []byte, err error) error {
	msg := err.Error()
	var problem string
	switch m := badTagRE.FindStringSubmatch(msg); {
	case unknownAnchorRE.MatchString(msg):
		problem = "a value starts with '*', which makes it a YAML alias of an anchor that is not there (put the value in quotes)"
	case m != nil:
		problem = fmt.Sprintf("a value tagged !!%s is not one (remove the tag, or put the value in quotes)", m[1])
	default:
		return errors.New(backquotedRE.ReplaceAllString(msg, "(a value, not shown)"))
	}
	line := failingLine(raw, func(prefix []byte) bool {
		var v any
		perr := yaml.Unmarshal(prefix, &v)
		return perr != nil && perr.Error() == msg
	})
	if line == 0 {
		return errors.New(problem)
	}
	return fmt.Errorf("line %d: %s", line, problem)
}

// describeTypeError rewrites one of yaml.v3's unmarshal errors in the config's words and
// drops the value it may quote.
func describeTypeError(e string) string {
	if m := unknownFieldRE.FindStringSubmatch(e); m != nil {
		where := structureWords[m[3]]
		if where == "" {
			where = m[3]
		}
		return fmt.Sprintf("line %s: unknown key %s in %s", m[1], strconv.Quote(m[2]), where)
	}
	if m := wrongTypeRE.FindStringSubmatch(e); m != nil {
		found, want := tagWords[m[2]], structureWords[m[3]]
		if found == "" {
			found = "!!" + m[2]
		}
		if want == "" {
			want = m[3]
		}
		return fmt.Sprintf("line %s: found %s where %s belongs", m[1], found, want)
	}
	return e
}
