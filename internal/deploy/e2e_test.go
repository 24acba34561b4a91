package deploy_test

// End-to-end tests of `ast blueprint`: they build ast and the local backend plugin once,
// then drive the binaries in a temporary HOME, as a user would. Every agent a test
// starts is killed when the test ends.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ast-cli/ast/internal/deploy"
)

// The binaries are built once, by the first end-to-end test, into binDir; the local
// plugin sits beside ast, where ast looks for built-in plugins.
var (
	buildOnce sync.Once
	binDir    string
	astBin    string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func buildBinaries() error {
	dir, err := os.MkdirTemp("", "ast-deploy-e2e-")
	if err != nil {
		return err
	}
	binDir = dir
	for _, b := range []struct{ out, pkg string }{
		{"ast", "github.com/ast-cli/ast/cmd/ast"},
		{"ast-plugin-local", "github.com/ast-cli/ast/plugins/local/cmd/ast-plugin-local"},
	} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, b.out), b.pkg).CombinedOutput()
		if err != nil {
			return fmt.Errorf("building %s: %v\n%s", b.pkg, err, out)
		}
	}
	astBin = filepath.Join(dir, "ast")
	return nil
}

// sandbox is a fresh HOME and XDG tree with a working directory, work/.
type sandbox struct {
	t       *testing.T
	root    string
	cwd     string
	env     []string
	secrets []string // values that must never appear outside work/
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: builds and runs the binaries")
	}
	buildOnce.Do(func() { buildErr = buildBinaries() })
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	root := t.TempDir()
	s := &sandbox{t: t, root: root, cwd: filepath.Join(root, "work")}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AST_") || strings.HasPrefix(k, "XDG_") || k == "HOME" {
			continue
		}
		s.env = append(s.env, kv)
	}
	for _, d := range []struct{ env, sub string }{
		{"HOME", "home"}, {"XDG_CONFIG_HOME", "config"}, {"XDG_DATA_HOME", "data"}, {"XDG_STATE_HOME", "state"},
	} {
		p := filepath.Join(root, d.sub)
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
		s.env = append(s.env, d.env+"="+p)
	}
	if err := os.MkdirAll(filepath.Join(s.cwd, "blueprints"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.killAgents)
	return s
}

func (s *sandbox) store() deploy.Store {
	return deploy.Store{Dir: filepath.Join(s.root, "state", "ast")}
}

// killAgents kills every agent a record names: the test's leftovers.
func (s *sandbox) killAgents() {
	ds, _, _ := s.store().List()
	for _, d := range ds {
		if deploy.Running(d.Process()) {
			if d.PGID > 0 {
				_ = syscall.Kill(-d.PGID, syscall.SIGKILL)
			}
			_ = syscall.Kill(d.PID, syscall.SIGKILL)
		}
	}
}

type result struct {
	code        int
	out, errOut string
}

// run runs ast with args in the working directory, stdin from stdin.
func (s *sandbox) run(stdin string, args ...string) result {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, astBin, args...)
	cmd.Dir, cmd.Env, cmd.Stdin = s.cwd, s.env, strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{out: out.String(), errOut: errOut.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatalf("ast %s: %v", strings.Join(args, " "), err)
	}
	for _, v := range s.secrets {
		if strings.Contains(r.out, v) || strings.Contains(r.errOut, v) {
			s.t.Errorf("ast %s printed a secret value", strings.Join(args[:min(2, len(args))], " "))
		}
	}
	return r
}

// must runs ast and fails the test unless it exits 0.
func (s *sandbox) must(stdin string, args ...string) result {
	s.t.Helper()
	r := s.run(stdin, args...)
	if r.code != 0 {
		s.t.Fatalf("ast %s: exit %d: %s", strings.Join(args, " "), r.code, r.errOut)
	}
	return r
}

func (s *sandbox) secret(name, value string) {
	s.t.Helper()
	s.secrets = append(s.secrets, value)
	s.must(value, "secrets", "create", name)
}

func (s *sandbox) plain(name, value string) {
	s.t.Helper()
	s.must("", "secrets", "create", name, "--value", value, "--plain")
}

func (s *sandbox) blueprint(agent, yaml string) {
	s.t.Helper()
	if err := os.WriteFile(filepath.Join(s.cwd, "blueprints", agent+".yaml"), []byte(yaml), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// waitFile waits for the file name in the working directory and returns its content.
func (s *sandbox) waitFile(name string) string {
	s.t.Helper()
	p := filepath.Join(s.cwd, name)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(p); err == nil {
			return string(b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("%s did not appear: the agent did not run", name)
	return ""
}

func (s *sandbox) record(agent string) *deploy.Deployment {
	s.t.Helper()
	d, err := s.store().Read(agent)
	if err != nil {
		s.t.Fatal(err)
	}
	return d
}

// list returns `ast blueprint list --output json` by agent.
func (s *sandbox) list() map[string]map[string]any {
	s.t.Helper()
	r := s.must("", "blueprint", "list", "--output", "json")
	var items []map[string]any
	if err := json.Unmarshal([]byte(r.out), &items); err != nil {
		s.t.Fatalf("blueprint list --output json: %v\n%s", err, r.out)
	}
	out := map[string]map[string]any{}
	for _, it := range items {
		out[it["agent"].(string)] = it
	}
	return out
}

// leakSweep checks that no secret value is on disk outside the working directory, where
// the agents write what they saw.
func (s *sandbox) leakSweep() {
	s.t.Helper()
	err := filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == s.cwd && d.IsDir() {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, v := range s.secrets {
			if bytes.Contains(b, []byte(v)) {
				s.t.Errorf("a secret value is in plain text in %s", strings.TrimPrefix(p, s.root))
			}
		}
		return nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
}

// shCommand is a blueprint's command line running script with sh (JSON is YAML).
func shCommand(script string) string {
	b, _ := json.Marshal([]string{"sh", "-c", script})
	return "command: " + string(b) + "\n"
}

// printEnv is an agent command that writes KEY=value lines for keys to out (atomically).
func printEnv(out string, keys ...string) string {
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, `printf '%%s=%%s\n' %s "$%s"; `, k, k)
	}
	return shCommand(fmt.Sprintf("{ %s} > %s.tmp && mv %s.tmp %s", b.String(), out, out, out))
}

func TestDeployResolvesOverridesAndDefaults(t *testing.T) {
	s := newSandbox(t)
	s.secret("API_TOKEN", "tok-canary-0c1d2e3f")
	s.secret("ANTHROPIC_API_KEY", "sk-canary-9a8b7c6d")
	s.plain("REGION", "us-east-1")
	s.blueprint("my-agent", printEnv("seen", "TOKEN", "ANTHROPIC_API_KEY", "REGION", "MODE", "AT", "EMAIL", "KEEP", "EXTRA")+`
env:
  TOKEN: "@API_TOKEN"
  REGION: "@"
  MODE: dev
  AT: \@home
  KEEP: from-blueprint
`)
	s.must("", "blueprint", "deploy", "my-agent",
		"--var", "MODE=prod", "--var", "ANTHROPIC_API_KEY=@", "--var", "EMAIL=user@example.com", "--var", `EXTRA=\@`)
	want := "TOKEN=tok-canary-0c1d2e3f\nANTHROPIC_API_KEY=sk-canary-9a8b7c6d\nREGION=us-east-1\nMODE=prod\n" +
		"AT=@home\nEMAIL=user@example.com\nKEEP=from-blueprint\nEXTRA=@\n"
	if got := s.waitFile("seen"); got != want {
		t.Errorf("the agent saw other values (not shown: they hold secrets)")
	}

	d := s.record("my-agent")
	byKey := map[string]deploy.Variable{}
	for _, v := range d.Variables {
		byKey[v.Key] = v
	}
	for _, c := range []struct {
		key, kind, entry, literal, from string
		version                         int64
	}{
		{"TOKEN", "reference", "API_TOKEN", "", "blueprint", 1},
		{"ANTHROPIC_API_KEY", "reference", "ANTHROPIC_API_KEY", "", "--var", 1},
		{"REGION", "reference", "REGION", "", "blueprint", 1},
		{"MODE", "literal", "", "", "--var", 0}, // a --var literal: length and keyed hash only
		{"AT", "literal", "", "@home", "blueprint", 0},
		{"EXTRA", "literal", "", "", "--var", 0},
	} {
		v := byKey[c.key]
		if v.Kind != c.kind || v.Entry != c.entry || v.Literal != c.literal || v.From != c.from || v.Version != c.version {
			t.Errorf("record of %s = %+v, want %+v", c.key, v, c)
		}
		if hidden := c.kind == "literal" && c.from == "--var"; hidden != v.Hidden() || hidden && !strings.HasPrefix(v.LiteralHMAC, "hmac-sha256:") {
			t.Errorf("record of %s = %+v: a --var literal keeps its length and hash, not its text", c.key, v)
		}
	}
	if d.Account != "default" || d.Backend != "local" || d.Workdir != s.cwd || !strings.HasPrefix(d.BlueprintDigest, "sha256:") {
		t.Errorf("record = %+v", d)
	}
	s.leakSweep()
}

func TestDeployMissingAndInvalidReferences(t *testing.T) {
	s := newSandbox(t)
	s.secret("PRESENT", "present-canary-5e6f")
	s.blueprint("refs", printEnv("ran", "A")+`
env:
  A: "@MISSING_ONE"
  B: "@PRESENT"
`)
	r := s.run("", "blueprint", "deploy", "refs", "--var", "C=@MISSING_TWO")
	if r.code != 1 || !strings.Contains(r.errOut, "MISSING_ONE") || !strings.Contains(r.errOut, "MISSING_TWO") {
		t.Errorf("missing references: exit %d, stderr %q; want 1 naming MISSING_ONE and MISSING_TWO", r.code, r.errOut)
	}
	r = s.run("", "blueprint", "deploy", "refs", "--var", "A=@not-a-name")
	if r.code != 2 || !strings.Contains(r.errOut, "not a valid reference") {
		t.Errorf("invalid --var reference: exit %d, stderr %q; want 2", r.code, r.errOut)
	}
	s.blueprint("bad-ref", "command: [\"true\"]\nenv:\n  A: \"@bad-ref-pw\"\n")
	r = s.run("", "blueprint", "deploy", "bad-ref")
	if r.code == 0 || !strings.Contains(r.errOut, "bad-ref.yaml:3") || strings.Contains(r.errOut, "bad-ref-pw") {
		t.Errorf("invalid env reference: exit %d, stderr %q; want the file and line, not the value", r.code, r.errOut)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(s.cwd, "ran")); err == nil {
		t.Errorf("the agent ran despite a missing reference")
	}
	if _, err := s.store().Read("refs"); err == nil {
		t.Errorf("a failed deploy left a deployment record")
	}
	s.leakSweep()
}

func TestDeployBlueprintErrors(t *testing.T) {
	s := newSandbox(t)
	r := s.run("", "blueprint", "deploy", "no-such-agent")
	if r.code != 1 || !strings.Contains(r.errOut, "no-such-agent") ||
		!strings.Contains(r.errOut, filepath.Join(s.cwd, "blueprints")) || !strings.Contains(r.errOut, filepath.Join(s.root, "config", "ast", "blueprints")) {
		t.Errorf("missing blueprint: exit %d, stderr %q; want the agent and both places", r.code, r.errOut)
	}
	s.blueprint("typo", "comand: [x]\n")
	r = s.run("", "blueprint", "deploy", "typo")
	if r.code != 1 || !strings.Contains(r.errOut, "typo.yaml") || !strings.Contains(r.errOut, "comand") || !strings.Contains(r.errOut, "command: missing field") {
		t.Errorf("bad blueprint: exit %d, stderr %q; want the file, the unknown field and the missing command", r.code, r.errOut)
	}
	r = s.run("", "blueprint", "deploy", "Bad/Name")
	if r.code != 2 {
		t.Errorf("invalid agent name: exit %d, want 2", r.code)
	}
}

func TestDeployFromConfigDirWithWorkdir(t *testing.T) {
	s := newSandbox(t)
	cfgBlueprints := filepath.Join(s.root, "config", "ast", "blueprints")
	if err := os.MkdirAll(filepath.Join(cfgBlueprints, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	bp := "command: [\"sh\", \"-c\", \"pwd > where.tmp && mv where.tmp where\"]\nworkdir: data\n"
	if err := os.WriteFile(filepath.Join(cfgBlueprints, "cfg-agent.yaml"), []byte(bp), 0o600); err != nil {
		t.Fatal(err)
	}
	s.must("", "blueprint", "deploy", "cfg-agent")
	p := filepath.Join(cfgBlueprints, "data", "where")
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(p); err == nil {
			if got := strings.TrimSpace(string(b)); got != filepath.Join(cfgBlueprints, "data") {
				t.Errorf("the agent ran in %s", got)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the agent did not run in its workdir")
}

func TestDryRunStartsNothing(t *testing.T) {
	s := newSandbox(t)
	// The active account's backend does not exist: a dry run must not need it.
	cfg := "active_account: broken\naccounts:\n  broken:\n    backend: nosuch\n"
	if err := os.MkdirAll(filepath.Join(s.root, "config", "ast"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.root, "config", "ast", "config.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s.blueprint("dry", printEnv("ran", "KEY")+"env:\n  KEY: \"@\"\n  MODE: dev\n")
	r := s.must("", "blueprint", "deploy", "dry", "--dry-run", "--var", "MODE=prod")
	for _, want := range []string{"KEY", "entry KEY", `literal (4 bytes, hmac-sha256:`, "--var", "broken"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, r.out)
		}
	}
	r = s.must("", "blueprint", "deploy", "dry", "--dry-run", "--output", "json")
	var plan struct {
		DryRun    bool              `json:"dry_run"`
		Agent     string            `json:"agent"`
		Variables []deploy.Variable `json:"variables"`
	}
	if err := json.Unmarshal([]byte(r.out), &plan); err != nil {
		t.Fatalf("dry run json: %v\n%s", err, r.out)
	}
	if !plan.DryRun || plan.Agent != "dry" || len(plan.Variables) != 2 || plan.Variables[0].Entry != "KEY" || plan.Variables[1].Literal != "dev" {
		t.Errorf("dry run json = %+v", plan)
	}
	if r := s.run("", "blueprint", "deploy", "dry"); r.code == 0 || !strings.Contains(r.errOut, "nosuch") {
		t.Errorf("a real deploy with no backend: exit %d, stderr %q", r.code, r.errOut)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(s.cwd, "ran")); err == nil {
		t.Errorf("the agent ran")
	}
	if _, err := s.store().Read("dry"); err == nil {
		t.Errorf("a dry run left a deployment record")
	}
}

// longRunning is an agent that appends its pid to pids and runs until stopped.
const longRunning = `command: ["sh", "-c", "echo $$ >> pids; echo \"up with $TOKEN_LEN\"; exec sleep 300"]` + "\n"

func pidRunning(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return f[0] != "Z" && f[0] != "X"
}

func TestRedeployReplacesThenStop(t *testing.T) {
	s := newSandbox(t)
	s.blueprint("svc", longRunning)
	s.must("", "blueprint", "deploy", "svc")
	s.waitFile("pids")
	first := s.record("svc")
	if !deploy.Running(first.Process()) {
		t.Fatalf("the agent is not running after deploy")
	}
	if l := s.list()["svc"]; l["status"] != "running" || l["pid"] != float64(first.PID) {
		t.Errorf("list after deploy: %v", l)
	}

	r := s.must("", "blueprint", "deploy", "svc")
	if !strings.Contains(r.errOut, "Stopped the running svc (pid "+strconv.Itoa(first.PID)+")") {
		t.Errorf("redeploy did not say it replaced the agent: %q", r.errOut)
	}
	second := s.record("svc")
	if second.PID == first.PID || deploy.Running(first.Process()) || pidRunning(first.PID) {
		t.Errorf("the first agent (pid %d) still runs after redeploy", first.PID)
	}
	if !deploy.Running(second.Process()) {
		t.Errorf("the second agent does not run")
	}
	if l := s.list()["svc"]; l["status"] != "running" || l["pid"] != float64(second.PID) {
		t.Errorf("list after redeploy: %v", l)
	}
	r = s.must("", "blueprint", "logs", "svc")
	if strings.Count(r.out, "up with") != 2 {
		t.Errorf("logs = %q, want both runs", r.out)
	}

	s.must("", "blueprint", "stop", "svc")
	if deploy.Running(second.Process()) {
		t.Errorf("the agent runs after stop")
	}
	if _, err := s.store().Read("svc"); err == nil {
		t.Errorf("stop left the record")
	}
	if l := s.list()["svc"]; l["status"] != "not deployed" || l["running"] != false {
		t.Errorf("list after stop: %v", l)
	}
	if r := s.run("", "blueprint", "stop", "svc"); r.code != 1 || !strings.Contains(r.errOut, "not deployed") {
		t.Errorf("stop of a stopped agent: exit %d, %q", r.code, r.errOut)
	}
}

func TestStopKillsAnAgentThatIgnoresSIGTERM(t *testing.T) {
	s := newSandbox(t)
	s.blueprint("stubborn", `command: ["sh", "-c", "trap '' TERM; echo ready > ready; while :; do sleep 1; done"]`+"\n")
	s.must("", "blueprint", "deploy", "stubborn")
	s.waitFile("ready")
	d := s.record("stubborn")
	begin := time.Now()
	s.must("", "blueprint", "stop", "stubborn", "--grace", "300ms")
	if time.Since(begin) > 4*time.Second || deploy.Running(d.Process()) {
		t.Errorf("stop --grace 300ms took %v; running: %v", time.Since(begin), deploy.Running(d.Process()))
	}
}

// TestCrashedAgentShowsNotRunning: an agent that exits within the deploy's first second
// is a failed deploy (exit 1, with its status and the logs hint), not "✓ Deployed"; list
// shows how it ended, logs its output.
func TestCrashedAgentShowsNotRunning(t *testing.T) {
	s := newSandbox(t)
	s.blueprint("crash", `command: ["sh", "-c", "echo 'about to fail' >&2; exit 3"]`+"\n")
	r := s.run("", "blueprint", "deploy", "crash")
	if r.code != 1 || !strings.Contains(r.errOut, "crash exited with status 3") ||
		!strings.Contains(r.errOut, "ast blueprint logs crash") || strings.Contains(r.errOut, "Deployed") {
		t.Errorf("deploy of an agent that crashes at once: exit %d, stderr %q", r.code, r.errOut)
	}
	l := s.list()["crash"]
	if l["status"] != "exited" || l["running"] != false || l["pid"] != nil || l["exit_status"] != 3.0 || l["exited_at"] == nil {
		t.Errorf("list of a crashed agent: %v", l)
	}
	if r := s.must("", "blueprint", "logs", "crash"); r.out != "about to fail\n" {
		t.Errorf("logs = %q", r.out)
	}
	r = s.must("", "blueprint", "stop", "crash")
	if !strings.Contains(r.errOut, "was not running") {
		t.Errorf("stop of a crashed agent: %q", r.errOut)
	}
}

func TestForegroundExitsWithTheAgentsStatus(t *testing.T) {
	s := newSandbox(t)
	s.secret("FG_SECRET", "fg-canary-4d5e6f")
	s.blueprint("fg", `command: ["sh", "-c", "echo \"len ${#FG_SECRET}\"; exit 7"]`+"\nenv:\n  FG_SECRET: \"@\"\n")
	r := s.run("", "blueprint", "deploy", "fg", "--foreground")
	if r.code != 7 || r.out != "len 16\n" {
		t.Errorf("foreground: exit %d, stdout %q; want 7 and the agent's output", r.code, r.out)
	}
	if l := s.list()["fg"]; l["status"] != "exited" || l["exit_status"] != 7.0 || l["foreground"] != true {
		t.Errorf("list after a foreground run: %v", l)
	}
	// logs agrees with list: the agent ran, in the foreground, without a log.
	if r := s.run("", "blueprint", "logs", "fg"); r.code != 1 || !strings.Contains(r.errOut, "ran with --foreground") {
		t.Errorf("logs after a foreground run: exit %d, %q", r.code, r.errOut)
	}
	s.leakSweep()
}
