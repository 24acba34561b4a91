package cli

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/ast-cli/ast/config"
	"github.com/ast-cli/ast/pluginsdk/sdktest"
)

// The tests of `ast plugin test` and `ast plugin pin` run the real plugin binaries, built
// once per test binary into pluginBin (the built-in ones, the example from its own module
// and internal/brokenplugin).
var pluginBin struct {
	once sync.Once
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pluginBin.dir != "" {
		os.RemoveAll(filepath.Dir(pluginBin.dir))
	}
	os.Exit(code)
}

// builtPlugins builds the plugins once and returns their directory (the test's "next to
// ast").
func builtPlugins(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs plugin binaries")
	}
	pluginBin.once.Do(func() {
		root, err := filepath.Abs("../..")
		if err != nil {
			pluginBin.err = err
			return
		}
		tmp, err := os.MkdirTemp("", "ast-cli-plugins-")
		if err != nil {
			pluginBin.err = err
			return
		}
		dir := filepath.Join(tmp, "bin")
		pluginBin.dir = dir
		goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
		builds := []struct{ dir, out, pkg string }{
			{root, "ast-plugin-local", "./plugins/local/cmd/ast-plugin-local"},
			{root, "ast-plugin-hashicorp", "./plugins/hashicorp/cmd/ast-plugin-hashicorp"},
			{root, "ast-plugin-awssm", "./plugins/awssm/cmd/ast-plugin-awssm"},
			{root, "ast-plugin-broken", "./internal/cli/internal/brokenplugin"},
			{filepath.Join(root, "examples", "ast-plugin-example"), "ast-plugin-example", "."},
		}
		for _, b := range builds {
			cmd := exec.Command(goTool, "build", "-ldflags=-s -w", "-o", filepath.Join(dir, b.out), b.pkg)
			cmd.Dir = b.dir
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				pluginBin.err = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
				return
			}
			if err := os.Chmod(filepath.Join(dir, b.out), 0o755); err != nil {
				pluginBin.err = err
				return
			}
		}
	})
	if pluginBin.err != nil {
		t.Fatal(pluginBin.err)
	}
	return pluginBin.dir
}

// astEnv is a Factory over a private HOME whose plugins sit in bin, and the config file.
func astEnv(t *testing.T, bin string, extra map[string]string) (*Factory, string, func() (string, string)) {
	t.Helper()
	home := t.TempDir()
	env := map[string]string{
		"HOME":            home,
		"XDG_CONFIG_HOME": filepath.Join(home, "config"),
		"XDG_DATA_HOME":   filepath.Join(home, "data"),
		"XDG_STATE_HOME":  filepath.Join(home, "state"),
	}
	for k, v := range extra {
		env[k] = v
	}
	ios, out, errOut := Test("")
	f := &Factory{IO: ios, Getenv: func(k string) string { return env[k] }, Environ: os.Environ,
		Executable: filepath.Join(bin, "ast")}
	return f, filepath.Join(home, "config", "ast", "config.yaml"), func() (string, string) {
		return out.String(), errOut.String()
	}
}

// ast runs ast with args in a fresh Factory sharing f's environment; it returns the exit
// code, stdout and stderr.
func ast(t *testing.T, f *Factory, args ...string) (int, string, string) {
	t.Helper()
	ios, out, errOut := Test("")
	g := &Factory{IO: ios, Getenv: f.Getenv, Environ: f.Environ, Executable: f.Executable}
	code := Run(context.Background(), g, args)
	return code, out.String(), errOut.String()
}

var summaryLine = regexp.MustCompile(`(?m)^(\d+) passed, (\d+) failed$`)

// TestPluginTestPasses runs ast plugin test on every plugin that must pass it: the three
// built-in ones (Vault and AWS against the servers of scripts/with-servers) and the
// example.
func TestPluginTestPasses(t *testing.T) {
	bin := builtPlugins(t)
	vaultAddr, vaultToken := os.Getenv("AST_TEST_VAULT_ADDR"), os.Getenv("AST_TEST_VAULT_TOKEN")
	awsEndpoint := os.Getenv("AST_TEST_AWS_ENDPOINT")
	for _, tc := range []struct {
		plugin string
		args   []string
		env    map[string]string // for the plugin processes (they inherit the test's environment)
		skip   string
	}{
		{plugin: "local"},
		{plugin: "example"},
		{plugin: filepath.Join(bin, "ast-plugin-example")},
		{plugin: "hashicorp", args: []string{"--set", "address=" + vaultAddr},
			env:  map[string]string{"VAULT_TOKEN": vaultToken},
			skip: map[bool]string{true: "AST_TEST_VAULT_ADDR is unset: run under scripts/with-servers (make test)"}[vaultAddr == ""]},
		{plugin: "awssm", args: []string{"--set", "endpoint=" + awsEndpoint, "--set", "region=us-east-1"},
			env: map[string]string{"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "",
				"AWS_PROFILE": "", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
				"AWS_EC2_METADATA_DISABLED": "true"},
			skip: map[bool]string{true: "AST_TEST_AWS_ENDPOINT is unset: run under scripts/with-servers (make test)"}[awsEndpoint == ""]},
	} {
		t.Run(filepath.Base(tc.plugin), func(t *testing.T) {
			if tc.skip != "" {
				t.Skip(tc.skip)
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			f, _, _ := astEnv(t, bin, nil)
			code, out, errOut := ast(t, f, append([]string{"plugin", "test", tc.plugin}, tc.args...)...)
			m := summaryLine.FindStringSubmatch(out)
			if code != 0 || m == nil || m[2] != "0" {
				t.Fatalf("ast plugin test %s: exit %d, want 0 and 0 failed\nstdout:\n%s\nstderr:\n%s", tc.plugin, code, out, errOut)
			}
			if m[1] != fmt.Sprint(len(sdktest.Checks())) {
				t.Errorf("%s checks passed, want all %d:\n%s", m[1], len(sdktest.Checks()), out)
			}
			for _, c := range sdktest.Checks() {
				if !strings.Contains(out, "\nPASS "+c.Name+"\n") {
					t.Errorf("no line PASS %s:\n%s", c.Name, out)
				}
			}
			if strings.Contains(out, "could not remove") {
				t.Errorf("the run left entries behind:\n%s", out)
			}
		})
	}
}

// TestPluginTestFails runs ast plugin test on plugins that break a rule: it must fail in
// the checks that name the rule, with the fix, exit 1, and never print a value.
func TestPluginTestFails(t *testing.T) {
	bin := builtPlugins(t)
	// The suite's values are tokens: a label, '-', 12 hex digits.
	valuePattern := regexp.MustCompile(`[a-z0-9]-[0-9a-f]{12}([^0-9a-f]|$)`)
	for _, tc := range []struct {
		fault string
		fail  []string // checks that must fail
		say   string   // what a failure line must say
	}{
		{"racy_create", []string{"create_contention", "first_configure"},
			"want exactly one winner: Create must check and write in one step"},
		{"leaks_value", []string{"create", "batch_results"}, "the error contains a value the check wrote"},
		{"plain_errors", []string{"create"}, "return pluginsdk.Errorf(pluginsdk.ErrAlreadyExists, …) so the code crosses the wire"},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			t.Setenv("AST_BROKEN", tc.fault)
			f, _, _ := astEnv(t, bin, nil)
			code, out, errOut := ast(t, f, "plugin", "test", "broken")
			if code != ExitFailure {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitFailure, out, errOut)
			}
			m := summaryLine.FindStringSubmatch(out)
			if m == nil || m[2] == "0" {
				t.Errorf("no summary with failures:\n%s", out)
			}
			for _, c := range tc.fail {
				if !regexp.MustCompile(`(?m)^FAIL ` + c + `: `).MatchString(out) {
					t.Errorf("no line FAIL %s:\n%s", c, out)
				}
			}
			if !strings.Contains(out, tc.say) {
				t.Errorf("the output does not say %q:\n%s", tc.say, out)
			}
			if v := valuePattern.FindString(out + errOut); v != "" {
				t.Errorf("the output prints a value (%q):\n%s\n%s", v, out, errOut)
			}
		})
	}
}

// TestPluginTestRefuses checks the settings and names the suite will not run with.
func TestPluginTestRefuses(t *testing.T) {
	for _, key := range []string{"path", "aliases", "dir", "key_file"} {
		t.Run(key, func(t *testing.T) {
			f, _, _ := astEnv(t, t.TempDir(), nil)
			code, _, errOut := ast(t, f, "plugin", "test", "local", "--set", key+"=/somewhere")
			if code != ExitUsage || !strings.Contains(errOut, "refuses --set "+key) {
				t.Errorf("exit %d, stderr %q: want %d and a refusal of %s", code, errOut, ExitUsage, key)
			}
		})
	}
	cfg := &config.Config{Accounts: map[string]config.Account{"sdk0123": {Name: "sdk0123", Backend: "local"}}}
	for name, refused := range map[string]bool{"sdk0123": true, "default": true, "sdk0124": false} {
		if err := refuseConfigured(cfg)(name); (err != nil) != refused {
			t.Errorf("account %q: refused = %v, want %v", name, err != nil, refused)
		}
	}
}

// TestPluginLogsReachDebug checks that what a plugin writes to stderr during a call, and
// what a logger made after Serve logs, reach the user with AST_LOG=debug (and not
// without), and that a plugin's plain error names the plugin.
func TestPluginLogsReachDebug(t *testing.T) {
	bin := builtPlugins(t)
	store := t.TempDir()
	for _, debug := range []bool{true, false} {
		t.Run(fmt.Sprint("debug=", debug), func(t *testing.T) {
			t.Setenv("AST_BROKEN", "noisy")
			env := map[string]string{}
			if debug {
				env["AST_LOG"] = "debug"
			}
			f, _, _ := astEnv(t, bin, env)
			if code, _, errOut := ast(t, f, "account", "add", "noisy", "--backend", "broken", "--set", "dir="+store); code != 0 {
				t.Fatalf("account add: exit %d: %s", code, errOut)
			}
			code, _, errOut := ast(t, f, "--account", "noisy", "secrets", "list")
			if code != 0 {
				t.Fatalf("secrets list: exit %d: %s", code, errOut)
			}
			for _, want := range []string{"broken (stderr): brokenplugin: a line on stderr during List", "a warning from a logger made after Serve"} {
				if got := strings.Contains(errOut, want); got != debug {
					t.Errorf("stderr has %q: %v, want %v; stderr:\n%s", want, got, debug, errOut)
				}
			}
		})
	}
	t.Run("plain error", func(t *testing.T) {
		t.Setenv("AST_BROKEN", "list_fails")
		f, _, _ := astEnv(t, bin, nil)
		if code, _, errOut := ast(t, f, "account", "add", "boom", "--backend", "broken", "--set", "dir="+store); code != 0 {
			t.Fatalf("account add: exit %d: %s", code, errOut)
		}
		code, _, errOut := ast(t, f, "--account", "boom", "secrets", "list")
		if code == 0 || !strings.Contains(errOut, `plugin "broken"`) || !strings.Contains(errOut, "boom from List") {
			t.Errorf("exit %d, stderr %q: want a failure naming the broken plugin and its error", code, errOut)
		}
	})
}

// TestPluginPinRoundTrip: pin a plugin, rebuild it (its checksum changes), ast refuses it
// showing both checksums and the pin command, pin again, ast accepts it.
func TestPluginPinRoundTrip(t *testing.T) {
	bin := builtPlugins(t)
	plugins := t.TempDir()
	exe := filepath.Join(plugins, "ast-plugin-pinme")
	copyFile(t, filepath.Join(bin, "ast-plugin-local"), exe, nil)
	f, cfgPath, _ := astEnv(t, t.TempDir(), map[string]string{"AST_PLUGIN_PATH": plugins})

	code, out, errOut := ast(t, f, "plugin", "pin", "pinme")
	if code != 0 {
		t.Fatalf("pin: exit %d: %s", code, errOut)
	}
	sum1 := fileSum(t, exe)
	raw, _ := os.ReadFile(cfgPath)
	if !strings.Contains(string(raw), "path: "+exe) || !strings.Contains(string(raw), `sha256: "`+sum1+`"`) {
		t.Errorf("the config does not pin %s to the quoted %s:\n%s", exe, sum1, raw)
	}
	if !strings.Contains(out, "pinned the pinme plugin "+exe+" (sha256 "+sum1+")") {
		t.Errorf("pin output: %q", out)
	}
	if code, _, errOut := ast(t, f, "account", "add", "pinned", "--backend", "pinme", "--set", "dir="+t.TempDir()); code != 0 {
		t.Fatalf("account add with the pinned plugin: exit %d: %s", code, errOut)
	}

	// A rebuild: another binary at the same path.
	copyFile(t, filepath.Join(bin, "ast-plugin-local"), exe, []byte("rebuilt"))
	sum2 := fileSum(t, exe)
	code, _, errOut = ast(t, f, "--account", "pinned", "secrets", "list")
	for _, want := range []string{"its SHA-256 is " + sum2, "the config pins " + sum1, "ast plugin pin pinme"} {
		if code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("after the rebuild: exit %d, stderr %q: want a refusal that says %q", code, errOut, want)
		}
	}

	if code, _, errOut := ast(t, f, "plugin", "pin", "pinme"); code != 0 {
		t.Fatalf("pin again: exit %d: %s", code, errOut)
	}
	if code, _, errOut := ast(t, f, "--account", "pinned", "secrets", "list"); code != 0 {
		t.Errorf("after pinning again: exit %d: %s", code, errOut)
	}

	// A built-in plugin: the pin must be redone after each rebuild, and it says so.
	f2, _, _ := astEnv(t, bin, nil)
	code, out, errOut = ast(t, f2, "plugin", "pin", "local")
	if code != 0 || !strings.Contains(out, "built-in plugin: run 'ast plugin pin local' again after each rebuild") {
		t.Errorf("pin local: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func copyFile(t *testing.T, from, to string, extra []byte) {
	t.Helper()
	raw, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(to)
	if err := os.WriteFile(to, append(raw, extra...), 0o755); err != nil {
		t.Fatal(err)
	}
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("sha256sum", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(out))[0]
}
