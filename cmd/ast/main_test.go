package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// binDir holds the binaries TestMain builds: ast, ast-plugin-local and ast-plugin-fault
// (internal/host/internal/faultplugin, a plugin that fails on demand).
var binDir string

// TestMain builds the binaries once, then runs the tests. In the test scripts "ast" is
// this test binary running main, so coverage counts; plugins come from binDir through
// $AST_PLUGIN_PATH. Kill tests run the built ast itself, with its plugins next to it.
func TestMain(m *testing.M) {
	testscript.Main(buildFirst{m}, map[string]func(){
		"ast": main,
		// showenv NAME... prints NAME=[value] for each NAME, or NAME unset: what ast run
		// passed to its child, with the value's ends visible.
		"showenv": func() {
			for _, k := range os.Args[1:] {
				if v, ok := os.LookupEnv(k); ok {
					fmt.Printf("%s=[%s]\n", k, v)
				} else {
					fmt.Printf("%s unset\n", k)
				}
			}
		},
		// exitwith N exits with status N.
		"exitwith": func() {
			n, _ := strconv.Atoi(os.Args[1])
			os.Exit(n)
		},
	})
}

type buildFirst struct{ m *testing.M }

func (b buildFirst) Run() int {
	dir, err := os.MkdirTemp("", "ast-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := buildBinaries(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	binDir = dir
	return b.m.Run()
}

// buildBinaries builds ast and the plugins the tests use into dir, mode 0755 whatever
// the umask (the host refuses group-writable plugins).
func buildBinaries(dir string) error {
	builds := []struct{ out, pkg string }{
		{"", "github.com/ast-cli/ast/cmd/ast"},
		{"", "github.com/ast-cli/ast/plugins/local/cmd/ast-plugin-local"},
		{"", "github.com/ast-cli/ast/plugins/hashicorp/cmd/ast-plugin-hashicorp"},
		{"ast-plugin-fault", "github.com/ast-cli/ast/internal/host/internal/faultplugin"},
	}
	for _, b := range builds {
		out := dir + string(filepath.Separator)
		if b.out != "" {
			out = filepath.Join(dir, b.out)
		}
		cmd := exec.Command("go", "build", "-o", out, b.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", b.pkg, err, msg)
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.Chmod(filepath.Join(dir, e.Name()), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// testEnv is the environment of every ast the tests run: a HOME and XDG directories of
// its own under root, the test plugins on $AST_PLUGIN_PATH, nothing else of ast's.
func testEnv(root string) []string {
	home := filepath.Join(root, "home")
	return []string{
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"XDG_STATE_HOME=" + filepath.Join(home, ".local", "state"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"AST_PLUGIN_PATH=" + binDir,
		"BIN=" + binDir,
	}
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(e *testscript.Env) error {
			for _, kv := range testEnv(e.WorkDir) {
				k, v, _ := strings.Cut(kv, "=")
				e.Setenv(k, v)
			}
			return os.MkdirAll(filepath.Join(e.WorkDir, "home"), 0o700)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":    cmdExits,
			"genfile":  cmdGenfile,
			"sha256":   cmdSHA256,
			"jsonkeys": cmdJSONKeys,
			"decode":   cmdDecode,
			"expand":   cmdExpand,
			"genname":  cmdGenname,
		},
		RequireUniqueNames: true,
	})
}

// exits CODE COMMAND [ARG]... runs COMMAND and fails unless it exits with status CODE.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE COMMAND [ARG]...")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: %v", err)
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		got = exit.ExitCode()
	} else if err != nil {
		ts.Fatalf("exits: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// genfile PATH SIZE [nl] writes SIZE bytes of 'a' to PATH; with nl the last of them is
// a newline.
func cmdGenfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 || (len(args) == 3 && args[2] != "nl") {
		ts.Fatalf("usage: genfile PATH SIZE [nl]")
	}
	n, err := strconv.Atoi(args[1])
	if err != nil || n < 1 {
		ts.Fatalf("genfile: bad size %q", args[1])
	}
	b := []byte(strings.Repeat("a", n))
	if len(args) == 3 {
		b[n-1] = '\n'
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o600))
}

// decode SRC DST writes to DST the bytes of the Go string literal in SRC: a way to put
// a NUL, a CR or a BOM into a file, which txtar cannot hold.
func cmdDecode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: decode SRC DST")
	}
	s, err := strconv.Unquote(strings.TrimSpace(ts.ReadFile(args[0])))
	if err != nil {
		ts.Fatalf("decode %s: %v", args[0], err)
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(s), 0o600))
}

// sha256 NAME PATH sets $NAME to the hex SHA-256 of the file at PATH.
func cmdSHA256(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: sha256 NAME PATH")
	}
	sum := sha256.Sum256([]byte(ts.ReadFile(args[1])))
	ts.Setenv(args[0], hex.EncodeToString(sum[:]))
}

// jsonkeys FILE reads stdout as a JSON array of objects and writes, for each, a line
// "NAME: KEY,KEY..." (its name field and its sorted keys) to FILE, for cmp.
func cmdJSONKeys(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: jsonkeys FILE")
	}
	var arr []map[string]any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile("stdout")), &arr))
	var b strings.Builder
	for _, el := range arr {
		keys := make([]string, 0, len(el))
		for k := range el {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(&b, "%v: %s\n", el["name"], strings.Join(keys, ","))
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(b.String()), 0o600))
}

// expand SRC DST writes SRC to DST with $VAR and ${VAR} replaced by the script's
// variables (for config files that name $WORK or $BIN).
func cmdExpand(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: expand SRC DST")
	}
	out := os.Expand(ts.ReadFile(args[0]), ts.Getenv)
	dst := ts.MkAbs(args[1])
	ts.Check(os.MkdirAll(filepath.Dir(dst), 0o700))
	ts.Check(os.WriteFile(dst, []byte(out), 0o600))
}

// genname NAME N sets $NAME to a valid entry name of N bytes.
func cmdGenname(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: genname NAME N")
	}
	n, err := strconv.Atoi(args[1])
	if err != nil || n < 1 {
		ts.Fatalf("genname: bad length %q", args[1])
	}
	ts.Setenv(args[0], "N"+strings.Repeat("_", n-1))
}
