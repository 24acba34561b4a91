package faults

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCommandLineLiteralsNotKept: a literal typed on the command line (--var K=text) may
// be a secret; no output of deploy (plan, record, JSON) and no file ast writes holds its
// text, while the agent gets it. A literal written in the blueprint is recorded as written.
func TestCommandLineLiteralsNotKept(t *testing.T) {
	s := newSandbox(t)
	s.addAccounts(account{name: "default", backend: "local"})
	canary := "typed-literal-" + randHex(8)
	inBlueprint := "blueprint-literal-" + randHex(4)
	out := filepath.Join(s.input, "agent.env")
	if err := os.MkdirAll(filepath.Join(s.root, "blueprints"), 0o700); err != nil {
		t.Fatal(err)
	}
	bp := "command: [sh, -c, 'printf %s \"$TYPED\" > " + out + ".tmp && mv " + out + ".tmp " + out + " && sleep 30']\n" +
		"env:\n  WRITTEN: " + inBlueprint + "\n"
	if err := os.WriteFile(filepath.Join(s.root, "blueprints", "bot.yaml"), []byte(bp), 0o600); err != nil {
		t.Fatal(err)
	}
	var outputs []result
	for _, args := range [][]string{
		{"blueprint", "deploy", "bot", "--dry-run", "--var", "TYPED=" + canary},
		{"blueprint", "deploy", "bot", "--dry-run", "--output", "json", "--var", "TYPED=" + canary},
		{"blueprint", "deploy", "bot", "--output", "json", "--var", "TYPED=" + canary},
		{"blueprint", "deploy", "bot", "--var", "TYPED=" + canary},
		{"blueprint", "list"},
		{"blueprint", "list", "--output", "json"},
	} {
		outputs = append(outputs, s.must(s.run(args...)))
	}
	defer s.run("blueprint", "stop", "bot")
	for _, r := range outputs {
		if strings.Contains(r.stdout+r.stderr, canary) {
			t.Errorf("ast %s printed the --var literal", strings.Join(shortArgs(r.args), " "))
		}
	}
	if !waitFor(10*time.Second, func() bool { b, err := os.ReadFile(out); return err == nil && string(b) == canary }) {
		t.Fatal("the agent did not get the literal")
	}
	files := 0
	err := filepath.Walk(s.root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || !fi.Mode().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		if strings.Contains(string(b), canary) {
			t.Errorf("%s holds the --var literal", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	record, err := os.ReadFile(filepath.Join(s.stateDir, "deployments", "bot.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"literal": "` + inBlueprint + `"`, `"literal_bytes": ` + strconv.Itoa(len(canary)), `"literal_hmac": "hmac-sha256:`} {
		if !strings.Contains(string(record), want) {
			t.Errorf("the record lacks %s:\n%s", want, record)
		}
	}
	t.Logf("literal summary: outputs_checked=%d files_checked=%d", len(outputs), files)
}
