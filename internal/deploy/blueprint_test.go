package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ast-cli/ast/internal/refs"
)

func TestParse(t *testing.T) {
	const (
		path = "/proj/blueprints/my-agent.yaml"
		cwd  = "/home/u/run-here"
	)
	// A value that looks like a secret pasted as an unquoted reference: no error may
	// quote it.
	const pasted = "@sk-ant-Zq9xPASTED"
	tests := []struct {
		name string
		yaml string
		want *Blueprint // nil when an error is expected
		// errHas lists texts the error must contain (the file path is always checked).
		errHas []string
	}{
		{
			name: "full",
			yaml: `description: answers tickets
command: ["python3", "agent.py", "--port", 8080]
workdir: ../agent
env:
  ANTHROPIC_API_KEY: "@"
  DB: "@PROD_DB"
  AT: \@home
  EMAIL: user@example.com
  PORT: 8080
  DEBUG: true
  EMPTY: ""
`,
			want: &Blueprint{
				Description: "answers tickets",
				Command:     []string{"python3", "agent.py", "--port", "8080"},
				Workdir:     "/proj/agent",
				Env: []refs.Var{
					{Key: "ANTHROPIC_API_KEY", Ref: "ANTHROPIC_API_KEY"},
					{Key: "AT", Literal: "@home"},
					{Key: "DB", Ref: "PROD_DB"},
					{Key: "DEBUG", Literal: "true"},
					{Key: "EMAIL", Literal: "user@example.com"},
					{Key: "EMPTY", Literal: ""},
					{Key: "PORT", Literal: "8080"},
				},
			},
		},
		{
			name: "command only: workdir defaults to where ast runs",
			yaml: "command: [./agent]\n",
			want: &Blueprint{Command: []string{"./agent"}, Workdir: cwd},
		},
		{
			name: "absolute workdir",
			yaml: "command: [x]\nworkdir: /srv/agent/\n",
			want: &Blueprint{Command: []string{"x"}, Workdir: "/srv/agent"},
		},
		{
			name: "workdir relative to the blueprint's directory",
			yaml: "command: [x]\nworkdir: data\n",
			want: &Blueprint{Command: []string{"x"}, Workdir: "/proj/blueprints/data"},
		},
		{
			name: "yaml anchors and flow style",
			yaml: "command: &c [sh, -c, 'echo hi']\nenv: {A: &v \"@B\", C: *v}\n",
			want: &Blueprint{Command: []string{"sh", "-c", "echo hi"},
				Workdir: cwd, Env: []refs.Var{{Key: "A", Ref: "B"}, {Key: "C", Ref: "B"}}},
		},
		{name: "unknown field", yaml: "command: [x]\ncomand: [y]\n", errHas: []string{":2:", `comand: unknown field`}},
		{name: "unknown key that is no field name is not quoted", yaml: "command: [x]\nroot:$6$salt$PASTED:20228:0:99999:7:::\n",
			errHas: []string{":2:", "(a key that is not a field name): unknown field"}},
		{name: "missing command", yaml: "env: {A: b}\n", errHas: []string{"command: missing field"}},
		{name: "missing command and image with a target", yaml: "target: kt\nenv: {A: b}\n", errHas: []string{"command: missing field", "on a container target such as kubernetes, image:"}},
		{name: "empty file", yaml: "", errHas: []string{"command: missing field"}},
		{name: "only a comment", yaml: "# nothing\n", errHas: []string{"command: missing field"}},
		{name: "not a mapping", yaml: "- command\n", errHas: []string{"a blueprint is a mapping"}},
		{name: "command is a string", yaml: "command: python3 agent.py\n", errHas: []string{"command: must be a list of strings"}},
		{name: "command is empty", yaml: "command: []\n", errHas: []string{"command: is empty"}},
		{name: "command program is empty", yaml: "command: ['', x]\n", errHas: []string{"program (item 1) is empty"}},
		{name: "command item is a list", yaml: "command: [x, [y]]\n", errHas: []string{"item 2 must be a string"}},
		{name: "repeated field", yaml: "command: [x]\ncommand: [y]\n", errHas: []string{":2: command: repeated field (first on line 1)"}},
		{name: "env not a mapping", yaml: "command: [x]\nenv: [A]\n", errHas: []string{"env: must be a mapping"}},
		{name: "env null value", yaml: "command: [x]\nenv:\n  A:\n", errHas: []string{`variable "A" has no value`}},
		{name: "env list value", yaml: "command: [x]\nenv:\n  A: [1]\n", errHas: []string{`variable "A" must have a string value`}},
		{name: "env bad key", yaml: "command: [x]\nenv:\n  my-key: x\n", errHas: []string{":3: env:", "MY_KEY"}},
		{name: "env invalid reference", yaml: "command: [x]\nenv:\n  K: \"" + pasted + "\"\n", errHas: []string{":3: env: variable K: not a valid reference"}},
		{name: "env @@ is no reference", yaml: "command: [x]\nenv:\n  K: \"@@X\"\n", errHas: []string{"variable K", `\@`}},
		{name: "env repeated key", yaml: "command: [x]\nenv:\n  A: x\n  A: y\n", errHas: []string{"variable A is repeated (first on line 3)"}},
		{name: "unquoted @ gets a hint", yaml: "command: [x]\nenv:\n  K: " + pasted + "\n", errHas: []string{"must be quoted"}},
		{name: "empty workdir", yaml: "command: [x]\nworkdir: ''\n", errHas: []string{"workdir: is empty"}},
		{name: "workdir not a string", yaml: "command: [x]\nworkdir: {a: b}\n", errHas: []string{"workdir: must be a string"}},
		{name: "description not a string", yaml: "command: [x]\ndescription: [a]\n", errHas: []string{"description: must be a string"}},
		{name: "two documents", yaml: "command: [x]\n---\ncommand: [y]\n", errHas: []string{"second YAML document"}},
		{
			name:   "every problem at once, by line",
			yaml:   "comand: [x]\nenv:\n  a-b: x\nworkdir: [1]\n",
			errHas: []string{"4 problems", "command: missing field", "line 1: comand", "line 3: env", "line 4: workdir"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("my-agent", path, []byte(tt.yaml), cwd)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("no error; want one containing %q", tt.errHas)
				}
				var be *BlueprintError
				if !errors.As(err, &be) {
					t.Errorf("error is %T, want *BlueprintError", err)
				}
				msg := err.Error()
				for _, s := range append([]string{path}, tt.errHas...) {
					if !strings.Contains(msg, s) {
						t.Errorf("error %q does not contain %q", msg, s)
					}
				}
				if strings.Contains(msg, "PASTED") {
					t.Errorf("error quotes an env value")
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			tt.want.Agent, tt.want.Path = "my-agent", path
			if !strings.HasPrefix(got.Digest, "sha256:") || len(got.Digest) != len("sha256:")+64 {
				t.Errorf("Digest = %q, want sha256:HEX", got.Digest)
			}
			got.Digest, got.Lines = "", nil // Lines: TestParseTargetFields
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDigestIsTheFileSHA256(t *testing.T) {
	for _, content := range []string{"command: [x]\n", "command: [y]\n"} {
		bp, err := Parse("a", "/b/a.yaml", []byte(content), "/")
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(content))
		if want := "sha256:" + hex.EncodeToString(sum[:]); bp.Digest != want {
			t.Errorf("Digest of %q = %s, want %s", content, bp.Digest, want)
		}
	}
}

func TestValidateAgentName(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"my-agent", true}, {"no-such-agent", true}, {"a", true}, {"agent_2", true}, {"0day", true},
		{strings.Repeat("a", 64), true},
		{"", false}, {"-x", false}, {"_x", false}, {"My-Agent", false}, {"a.b", false}, {"a/b", false},
		{"..", false}, {"a b", false}, {strings.Repeat("a", 65), false},
	} {
		if err := ValidateAgentName(tt.name); (err == nil) != tt.ok {
			t.Errorf("ValidateAgentName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestFindAndList(t *testing.T) {
	root := t.TempDir()
	cwd, cfg := filepath.Join(root, "work"), filepath.Join(root, "config")
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(cwd, "blueprints", "both.yaml"), "command: [from-cwd]\n")
	write(filepath.Join(cfg, "blueprints", "both.yaml"), "command: [from-config]\n")
	write(filepath.Join(cfg, "blueprints", "config-only.yaml"), "command: [x]\nworkdir: .\n")
	write(filepath.Join(cfg, "blueprints", "Bad.Name.yaml"), "command: [x]\n")
	write(filepath.Join(cfg, "blueprints", "notes.txt"), "")
	dirs := Dirs(cwd, cfg)

	bp, err := Load("both", dirs, cwd)
	if err != nil {
		t.Fatal(err)
	}
	if bp.Command[0] != "from-cwd" || bp.Workdir != cwd {
		t.Errorf("both: command %v workdir %s; want the working directory's blueprint, run in it", bp.Command, bp.Workdir)
	}
	bp, err = Load("config-only", dirs, cwd)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(cfg, "blueprints"); bp.Workdir != want {
		t.Errorf("config-only: workdir %s, want %s", bp.Workdir, want)
	}

	_, err = Load("no-such-agent", dirs, cwd)
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("missing blueprint: %v, want *NotFoundError", err)
	}
	for _, s := range []string{"no-such-agent", filepath.Join(cwd, "blueprints", "no-such-agent.yaml"),
		filepath.Join(cfg, "blueprints", "no-such-agent.yaml")} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("missing blueprint error %q does not name %s", err, s)
		}
	}
	if _, err := Load("../x", dirs, cwd); err == nil || !strings.Contains(err.Error(), "invalid agent name") {
		t.Errorf("Load(../x) = %v, want an invalid agent name", err)
	}

	found, ignored, err := List(dirs)
	if err != nil {
		t.Fatal(err)
	}
	want := []Listing{
		{Agent: "both", Path: filepath.Join(cwd, "blueprints", "both.yaml"), Shadowed: []string{filepath.Join(cfg, "blueprints", "both.yaml")}},
		{Agent: "config-only", Path: filepath.Join(cfg, "blueprints", "config-only.yaml")},
	}
	if !reflect.DeepEqual(found, want) {
		t.Errorf("List = %+v\nwant %+v", found, want)
	}
	if len(ignored) != 1 || filepath.Base(ignored[0]) != "Bad.Name.yaml" {
		t.Errorf("ignored = %v, want Bad.Name.yaml", ignored)
	}
	if d := Dirs(cwd, cwd); len(d) != 1 {
		t.Errorf("Dirs(same, same) = %v, want one directory", d)
	}
}

func TestParseTargetFields(t *testing.T) {
	tests := []struct {
		name, yaml string
		wantErr    string // substring; "" for success
		wantImage  string
		wantK8s    string
	}{
		{name: "image, target and kubernetes block",
			yaml:      "command: [x]\ntarget: prod\nimage: busybox:1.36\nkubernetes:\n  replicas: 2\n  labels: {team: a}\n",
			wantImage: "busybox:1.36", wantK8s: `{"labels":{"team":"a"},"replicas":2}`},
		{name: "unknown kubernetes field", yaml: "command: [x]\nkubernetes:\n  replica: 2\n", wantErr: `:3: kubernetes: unknown field "replica"`},
		{name: "replicas not a number", yaml: "command: [x]\nkubernetes:\n  replicas: two\n", wantErr: "replicas must be a whole number"},
		{name: "empty image", yaml: "command: [x]\nimage: \"\"\n", wantErr: "image: must be a non-empty string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bp, err := Parse("a", "/p/a.yaml", []byte(tt.yaml), "/p")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if bp.Image != tt.wantImage || string(bp.Kubernetes) != tt.wantK8s || bp.Target != "prod" || bp.Lines["image"] != 3 {
				t.Errorf("got image %q, kubernetes %s, target %q, lines %v", bp.Image, bp.Kubernetes, bp.Target, bp.Lines)
			}
		})
	}
}
