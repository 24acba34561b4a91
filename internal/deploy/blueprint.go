// Package deploy holds blueprints (what an agent runs and which variables it needs), the
// deployment records that say what was started where, and the local deploy target, which
// runs an agent as a detached process of the user.
//
// DESIGN.md "Deploy": a blueprint is a YAML file blueprints/AGENT.yaml, looked up in the
// working directory, then in the config directory's blueprints/. The deployment record
// keeps where each variable came from (a literal, or which entry and version), never a
// secret's value: resolved values reach only the agent's environment.
package deploy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"

	"go.yaml.in/yaml/v3"

	"github.com/ast-cli/ast/internal/refs"
)

// BlueprintDir is the directory, under the working directory or the config directory,
// that holds blueprints.
const BlueprintDir = "blueprints"

// BlueprintExt is the file name extension of a blueprint.
const BlueprintExt = ".yaml"

// MaxBlueprintBytes bounds a blueprint file; a larger one is refused before parsing.
const MaxBlueprintBytes = 1 << 20

// AgentRule is the rule agent names follow, in the words error messages use. Agent names
// become file names (the blueprint, the record, the log), hence the rule of account
// names: lowercase, so that two names never fold to one file on a case-insensitive disk.
const AgentRule = "an agent name is 1 to 64 lowercase letters, digits, '-' or '_', starting with a letter or digit"

var agentRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidateAgentName checks name against AgentRule. The error quotes the name (agent names
// are not secret) and states the rule.
func ValidateAgentName(name string) error {
	if !agentRE.MatchString(name) {
		return fmt.Errorf("invalid agent name %q: %s", name, AgentRule)
	}
	return nil
}

// Blueprint is a parsed blueprint file:
//
//	description: answers support tickets     # optional
//	command: ["python3", "agent.py"]          # required: the argv, not a shell line
//	workdir: ../agent                         # optional: relative to the blueprint's directory
//	env:                                      # optional: default variables, --var grammar
//	  ANTHROPIC_API_KEY: "@"
//	  REGION: "@PROD_REGION"
//	  LOG_LEVEL: info
//	pass_env: [AWS_REGION, MYAPP_*]          # optional: more of the user's variables to pass
type Blueprint struct {
	// Agent is the agent's name: the file name without BlueprintExt.
	Agent string
	// Path is the file's absolute path.
	Path string
	// Digest is "sha256:" and the hex SHA-256 of the file's bytes, so that a deployment
	// record tells which version of the blueprint it ran.
	Digest string
	// Description is free text for people.
	Description string
	// Command is the agent's argv; at least one item, the first not empty.
	Command []string
	// Env holds the blueprint's default variables, one per key, sorted by key (refs.Merge
	// puts --var overrides over them).
	Env []refs.Var
	// Workdir is the absolute directory the agent runs in: the blueprint's workdir
	// resolved against the blueprint's directory, or the working directory of ast when
	// the blueprint has none. Parse does not check that it exists.
	Workdir string
	// PassEnv lists the variables of the user's environment the agent inherits beyond
	// MinimalEnv: names and PREFIX* patterns, each checked by CheckPassEnv.
	PassEnv []string
	// Target is the deploy target the blueprint names ("" for the default, local).
	Target string
	// Image is the container image, required by the kubernetes target.
	Image string
	// Kubernetes is the JSON of the kubernetes: block (replicas, service_account,
	// resources, labels, image_pull_secrets), nil when there is none.
	Kubernetes []byte
	// Lines maps each top-level field present in the file to its line, so that a target
	// can refuse a field it does not support with the line.
	Lines map[string]int
}

// CheckLocal reports what the local target cannot run: a blueprint without a command
// (allowed when it names an image, for container targets).
func (bp *Blueprint) CheckLocal() error {
	if len(bp.Command) == 0 {
		return &BlueprintError{Path: bp.Path, Problems: []Problem{{Field: "command",
			Msg: "missing field: the local target runs the agent's argv (e.g. command: [\"python3\", \"agent.py\"]); image: alone is for container targets"}}}
	}
	return nil
}

// KubernetesFields are the fields of a blueprint's kubernetes: block.
var KubernetesFields = []string{"replicas", "service_account", "resources", "labels", "image_pull_secrets"}

// Dirs returns the directories blueprints are looked up in, in order: cwd's blueprints/,
// then configDir's blueprints/ (once when they are the same).
func Dirs(cwd, configDir string) []string {
	dirs := []string{filepath.Join(cwd, BlueprintDir)}
	if d := filepath.Join(configDir, BlueprintDir); configDir != "" && d != dirs[0] {
		dirs = append(dirs, d)
	}
	return dirs
}

// NotFoundError says that no directory has a blueprint for Agent. Looked lists every path
// tried, in order.
type NotFoundError struct {
	Agent  string
	Looked []string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no blueprint for agent %s: looked for %s", e.Agent, strings.Join(e.Looked, " and "))
}

// Find returns the path of agent's blueprint: the first dirs[i]/AGENT.yaml that exists.
// Errors: an invalid agent name; a *NotFoundError naming every path tried; a path that
// exists but is not a regular file, or cannot be examined.
func Find(agent string, dirs []string) (string, error) {
	if err := ValidateAgentName(agent); err != nil {
		return "", err
	}
	var looked []string
	for _, d := range dirs {
		p := filepath.Join(d, agent+BlueprintExt)
		fi, err := os.Stat(p)
		switch {
		case errors.Is(err, os.ErrNotExist):
			looked = append(looked, p)
			continue
		case err != nil:
			return "", fmt.Errorf("blueprint %s: %w", p, err)
		case !fi.Mode().IsRegular():
			return "", fmt.Errorf("blueprint %s is not a regular file", p)
		}
		return p, nil
	}
	return "", &NotFoundError{Agent: agent, Looked: looked}
}

// Load finds agent's blueprint in dirs (see Find) and parses it (see Parse); cwd is the
// default working directory of the agent.
func Load(agent string, dirs []string, cwd string) (*Blueprint, error) {
	p, err := Find(agent, dirs)
	if err != nil {
		return nil, err
	}
	return ReadFile(agent, p, cwd)
}

// ReadFile reads and parses the blueprint of agent at path (see Parse). Files larger than
// MaxBlueprintBytes are refused, and so is anything but a regular file, checked on the
// opened descriptor: the file is opened without blocking, so a FIFO planted in a
// repository's blueprints/ (or swapped in after Find's stat) cannot hang `blueprint
// list` or `deploy` in open(2), where no signal reaches it.
func ReadFile(agent, path, cwd string) (*Blueprint, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("reading blueprint: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, fmt.Errorf("reading blueprint %s: %w", path, err)
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("blueprint %s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxBlueprintBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading blueprint %s: %w", path, err)
	}
	if len(data) > MaxBlueprintBytes {
		return nil, fmt.Errorf("blueprint %s is larger than %d bytes", path, MaxBlueprintBytes)
	}
	return Parse(agent, path, data, cwd)
}

// Problem is one thing wrong in a blueprint file.
type Problem struct {
	// Line is the 1-based line of the problem, 0 when it is about the whole file.
	Line int
	// Field is the top-level field concerned ("command", "env", ...), "" for the file.
	Field string
	Msg   string
}

// BlueprintError lists every problem of one blueprint file, sorted by line. Its text names
// the file, and each problem its line and field; it never quotes an env value (a value
// meant as a reference may be a pasted secret).
type BlueprintError struct {
	Path     string
	Problems []Problem
}

func (e *BlueprintError) Error() string {
	if len(e.Problems) == 1 {
		p := e.Problems[0]
		where := e.Path
		if p.Line > 0 {
			where += fmt.Sprintf(":%d", p.Line)
		}
		return "blueprint " + where + ": " + p.what()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "blueprint %s has %d problems:", e.Path, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		if p.Line > 0 {
			fmt.Fprintf(&b, "line %d: ", p.Line)
		}
		b.WriteString(p.what())
	}
	return b.String()
}

func (p Problem) what() string {
	if p.Field == "" {
		return p.Msg
	}
	return p.Field + ": " + p.Msg
}

// blueprintFields are the top-level fields of a blueprint, in the order messages list them.
var blueprintFields = []string{"command", "env", "workdir", "description", "pass_env", "target", "image", "kubernetes"}

// Parse parses data, the content of agent's blueprint at path (used in messages and to
// resolve a relative workdir against filepath.Dir(path)); cwd is the agent's working
// directory when the blueprint names none. path and cwd should be absolute.
//
// The file is one YAML mapping with the fields command (required: a non-empty list of
// strings), env (a mapping of variable names to scalar values, each parsed by
// refs.ParseValue: "@", "@NAME", "\@literal", or a literal; YAML needs "@..." quoted),
// workdir (a string), description (a string) and pass_env (a list, see CheckPassEnv). Every problem is reported at once, as a
// *BlueprintError: an unknown or repeated field, a missing command, a value of the wrong
// shape, a bad variable name or reference, a YAML syntax error.
func Parse(agent, path string, data []byte, cwd string) (*Blueprint, error) {
	bp := &Blueprint{Agent: agent, Path: path, Workdir: cwd, Lines: map[string]int{}}
	sum := sha256.Sum256(data)
	bp.Digest = "sha256:" + hex.EncodeToString(sum[:])

	fail := func(probs ...Problem) (*Blueprint, error) {
		sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
		return nil, &BlueprintError{Path: path, Problems: probs}
	}
	root, err := decodeOne(data)
	if err != nil {
		return fail(Problem{Msg: err.Error()})
	}
	if root == nil {
		return fail(Problem{Field: "command", Msg: "missing field (the agent's argv, e.g. command: [\"python3\", \"agent.py\"]); the file is empty"})
	}
	if root.Kind != yaml.MappingNode {
		return fail(Problem{Line: root.Line, Msg: "a blueprint is a mapping with the fields " + strings.Join(blueprintFields, ", ")})
	}

	var probs []Problem
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], deref(root.Content[i+1])
		name := k.Value
		if k.Kind != yaml.ScalarNode {
			probs = append(probs, Problem{Line: k.Line, Msg: "a field name must be a plain word"})
			continue
		}
		if line, dup := seen[name]; dup {
			probs = append(probs, Problem{Line: k.Line, Field: name, Msg: fmt.Sprintf("repeated field (first on line %d)", line)})
			continue
		}
		seen[name] = k.Line
		bp.Lines[name] = k.Line
		switch name {
		case "target", "image":
			str, ok := scalarString(v)
			switch {
			case !ok || str == "":
				probs = append(probs, Problem{Line: v.Line, Field: name, Msg: "must be a non-empty string"})
			case strings.ContainsAny(str, "\x00\n"):
				probs = append(probs, Problem{Line: v.Line, Field: name, Msg: "contains a NUL byte or a line break"})
			case name == "target":
				bp.Target = str
			default:
				bp.Image = str
			}
		case "kubernetes":
			var p []Problem
			bp.Kubernetes, p = parseKubernetes(v)
			probs = append(probs, p...)
		case "command":
			var p []Problem
			bp.Command, p = parseCommand(v)
			probs = append(probs, p...)
		case "env":
			var p []Problem
			bp.Env, p = parseEnv(v)
			probs = append(probs, p...)
		case "workdir":
			s, ok := scalarString(v)
			switch {
			case !ok:
				probs = append(probs, Problem{Line: v.Line, Field: name, Msg: "must be a string: a directory, relative to the blueprint's directory"})
			case s == "":
				probs = append(probs, Problem{Line: v.Line, Field: name, Msg: "is empty (leave it out to run the agent where ast runs)"})
			case strings.IndexByte(s, 0) >= 0:
				probs = append(probs, Problem{Line: v.Line, Field: name, Msg: "contains a NUL byte"})
			case filepath.IsAbs(s):
				bp.Workdir = filepath.Clean(s)
			default:
				bp.Workdir = filepath.Join(filepath.Dir(path), s)
			}
		case "pass_env":
			var p []Problem
			bp.PassEnv, p = parsePassEnv(v)
			probs = append(probs, p...)
		case "description":
			s, ok := scalarString(v)
			if !ok {
				probs = append(probs, Problem{Line: v.Line, Field: name, Msg: "must be a string"})
			}
			bp.Description = s
		default:
			probs = append(probs, Problem{Line: k.Line, Field: unknownFieldName(name),
				Msg: "unknown field (a blueprint has " + strings.Join(blueprintFields, ", ") + ")"})
		}
	}
	// A blueprint with an image may leave the command to the image's entrypoint (container
	// targets); the local target refuses it at deploy time (CheckLocal).
	if _, ok := seen["command"]; !ok && bp.Image == "" {
		msg := "missing field (the agent's argv, e.g. command: [\"python3\", \"agent.py\"])"
		if bp.Target != "" && bp.Target != "local" {
			// A blueprint naming a target may be for a container target, where image: is what
			// is missing and command: is optional; say both rather than send the user to add
			// a command and then learn of the image.
			msg = "missing field: the agent's argv (e.g. command: [\"python3\", \"agent.py\"]); on a container target such as kubernetes, image: (e.g. image: python:3.12-slim), which makes command: optional"
		}
		probs = append(probs, Problem{Field: "command", Msg: msg})
	}
	if len(probs) > 0 {
		return fail(probs...)
	}
	return bp, nil
}

// parseKubernetes checks the kubernetes: block's field names and shapes and returns it as
// JSON (the target plugin reads it).
func parseKubernetes(n *yaml.Node) ([]byte, []Problem) {
	const field = "kubernetes"
	if n.Kind != yaml.MappingNode {
		return nil, []Problem{{Line: n.Line, Field: field, Msg: "must be a mapping with the fields " + strings.Join(KubernetesFields, ", ")}}
	}
	var probs []Problem
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		want := map[string]yaml.Kind{"replicas": yaml.ScalarNode, "service_account": yaml.ScalarNode,
			"resources": yaml.MappingNode, "labels": yaml.MappingNode, "image_pull_secrets": yaml.SequenceNode}
		kind, ok := want[k.Value]
		switch {
		case !ok:
			probs = append(probs, Problem{Line: k.Line, Field: field, Msg: fmt.Sprintf("unknown field %s (the block has %s)", keyForMessage(k.Value), strings.Join(KubernetesFields, ", "))})
		case v.Kind != kind:
			probs = append(probs, Problem{Line: v.Line, Field: field, Msg: k.Value + " has the wrong shape (replicas: a number; service_account: a string; resources, labels: mappings; image_pull_secrets: a list of names)"})
		case k.Value == "replicas" && v.Tag != "!!int":
			probs = append(probs, Problem{Line: v.Line, Field: field, Msg: "replicas must be a whole number"})
		}
	}
	if len(probs) > 0 {
		return nil, probs
	}
	var m map[string]any
	if err := n.Decode(&m); err != nil {
		return nil, []Problem{{Line: n.Line, Field: field, Msg: err.Error()}}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return nil, []Problem{{Line: n.Line, Field: field, Msg: "cannot be written as JSON: " + err.Error()}}
	}
	return out, nil
}

// decodeOne returns the root node of the single YAML document in data, or nil for an
// empty file. A second document is an error: a blueprint is one file, one agent.
func decodeOne(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlError(err)
		}
		return nil, fmt.Errorf("line %d: a second YAML document; a blueprint is one document", extra.Line)
	}
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, nil
		}
		return deref(doc.Content[0]), nil
	}
	return deref(&doc), nil
}

// yamlError rewords a YAML syntax error. The YAML parser quotes no scalar in its
// messages, so it can be shown; the usual stumble, an unquoted "@", gets a hint.
func yamlError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if strings.Contains(msg, "cannot start any token") {
		msg += ` (a value that starts with "@" must be quoted in YAML: KEY: "@NAME")`
	}
	return errors.New(msg)
}

// deref follows a YAML alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// scalarString returns the text of a string-like scalar. Numbers and booleans count (an
// env value 8080 is the text "8080", as written); null does not.
func scalarString(n *yaml.Node) (string, bool) {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", false
	}
	return n.Value, true
}

func parseCommand(n *yaml.Node) ([]string, []Problem) {
	const field = "command"
	if n.Kind != yaml.SequenceNode {
		return nil, []Problem{{Line: n.Line, Field: field,
			Msg: `must be a list of strings, the argv (e.g. ["python3", "agent.py"], or ["sh", "-c", "a shell line"])`}}
	}
	if len(n.Content) == 0 {
		return nil, []Problem{{Line: n.Line, Field: field, Msg: "is empty: it needs at least the program to run"}}
	}
	var probs []Problem
	argv := make([]string, len(n.Content))
	for i, item := range n.Content {
		s, ok := scalarString(deref(item))
		switch {
		case !ok:
			probs = append(probs, Problem{Line: item.Line, Field: field, Msg: fmt.Sprintf("item %d must be a string", i+1)})
		case i == 0 && s == "":
			probs = append(probs, Problem{Line: item.Line, Field: field, Msg: "the program (item 1) is empty"})
		case strings.IndexByte(s, 0) >= 0:
			probs = append(probs, Problem{Line: item.Line, Field: field, Msg: fmt.Sprintf("item %d contains a NUL byte", i+1)})
		}
		argv[i] = s
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return argv, nil
}

// parsePassEnv parses the pass_env list (see CheckPassEnv).
func parsePassEnv(n *yaml.Node) ([]string, []Problem) {
	const field = "pass_env"
	if n.Kind != yaml.SequenceNode {
		return nil, []Problem{{Line: n.Line, Field: field, Msg: "must be a list of variable names or PREFIX_* patterns (e.g. [AWS_REGION, MYAPP_*])"}}
	}
	var probs []Problem
	var out []string
	for i, item := range n.Content {
		s, ok := scalarString(deref(item))
		if !ok {
			probs = append(probs, Problem{Line: item.Line, Field: field, Msg: fmt.Sprintf("item %d must be a string", i+1)})
			continue
		}
		if err := CheckPassEnv(s); err != nil {
			probs = append(probs, Problem{Line: item.Line, Field: field, Msg: err.Error()})
			continue
		}
		out = append(out, s)
	}
	return out, probs
}

// parseEnv parses the env mapping. A key given twice is an error (YAML says mapping keys
// are unique), not a silent override.
func parseEnv(n *yaml.Node) ([]refs.Var, []Problem) {
	const field = "env"
	if n.Kind != yaml.MappingNode {
		return nil, []Problem{{Line: n.Line, Field: field, Msg: `must be a mapping of variable names to values (e.g. REGION: "@")`}}
	}
	var probs []Problem
	var vars []refs.Var
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			probs = append(probs, Problem{Line: k.Line, Field: field, Msg: "a variable name must be a plain word"})
			continue
		}
		if line, dup := seen[k.Value]; dup {
			probs = append(probs, Problem{Line: k.Line, Field: field, Msg: fmt.Sprintf("variable %s is repeated (first on line %d)", k.Value, line)})
			continue
		}
		seen[k.Value] = k.Line
		value, ok := scalarString(v)
		if !ok {
			what := "has no value"
			if v.Kind != yaml.ScalarNode {
				what = "must have a string value"
			}
			probs = append(probs, Problem{Line: v.Line, Field: field, Msg: fmt.Sprintf(
				`variable %s %s (write "" for an empty value, "@" for the entry of the same name, "@NAME" for entry NAME)`,
				keyForMessage(k.Value), what)})
			continue
		}
		parsed, err := refs.ParseValue(k.Value, value)
		if err != nil {
			// refs errors name the key and never the value.
			probs = append(probs, Problem{Line: k.Line, Field: field, Msg: strings.ReplaceAll(err.Error(), "\n", "; ")})
			continue
		}
		vars = append(vars, parsed)
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return refs.Merge(vars, nil), nil
}

// keyForMessage quotes a variable name for a message. Keys are names, not values, but a
// long or odd key is cut so that a value pasted in its place does not fill the screen.
// unknownFieldName is how a top-level key that is no blueprint field is named in a message:
// itself when it looks like a field name (a misspelling to correct), else a placeholder.
// A repository's blueprints/AGENT.yaml may be a symbolic link to a file of the user's
// whose lines parse as keys (/etc/shadow's "root:$6$...:" lines do): their text must not
// reach the terminal or a CI log.
func unknownFieldName(k string) string {
	if fieldNameRE.MatchString(k) {
		return k
	}
	return "(a key that is not a field name)"
}

var fieldNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,31}$`)

func keyForMessage(k string) string {
	if len(k) > 40 {
		return fmt.Sprintf("%.40q...", k)
	}
	return fmt.Sprintf("%q", k)
}

// Listing is one blueprint found by List.
type Listing struct {
	Agent string
	Path  string
	// Shadowed lists blueprints of the same agent in later directories, which Find does
	// not pick.
	Shadowed []string
}

// List returns the blueprints in dirs, one per agent (the first directory wins, as in
// Find), sorted by agent. Files whose name is not a valid agent name are returned apart,
// as paths, so that the caller can warn about them. A missing directory is skipped.
func List(dirs []string) (found []Listing, ignored []string, err error) {
	byAgent := map[string]int{}
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("listing blueprints: %w", err)
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, BlueprintExt) {
				continue
			}
			p := filepath.Join(d, name)
			agent := strings.TrimSuffix(name, BlueprintExt)
			if ValidateAgentName(agent) != nil {
				ignored = append(ignored, p)
				continue
			}
			if i, ok := byAgent[agent]; ok {
				found[i].Shadowed = append(found[i].Shadowed, p)
				continue
			}
			byAgent[agent] = len(found)
			found = append(found, Listing{Agent: agent, Path: p})
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Agent < found[j].Agent })
	return found, ignored, nil
}

// Shadowed returns the other blueprints of agent in dirs that Find passes over because
// used, found in an earlier directory, wins: a working directory's blueprint shadowing
// the user's own in the config directory. Paths that are not regular files are skipped.
func Shadowed(agent string, dirs []string, used string) []string {
	var out []string
	after := false
	for _, d := range dirs {
		p := filepath.Join(d, agent+BlueprintExt)
		if p == used {
			after = true
			continue
		}
		if fi, err := os.Stat(p); after && err == nil && fi.Mode().IsRegular() {
			out = append(out, p)
		}
	}
	return out
}
