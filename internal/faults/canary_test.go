package faults

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ast-cli/ast/internal/dotenv"
)

// canary is a secret value no output, file, argument list or plugin environment may ever
// show: high-entropy, multi-line, full of quotes, backslashes, dollars and non-ASCII text.
// Its random tokens survive any escaping (JSON, Go %q, .env quoting, URL encoding), so
// looking for them finds the value in every escaped form; base64 and hex are looked for
// separately.
type canary struct {
	id     int
	value  string
	tokens []string
	forms  []canaryForm
}

// canaryForm is one way the canary could appear; what describes it without showing it.
type canaryForm struct {
	what string
	text []byte
}

func newCanary(id int) *canary {
	tok := []string{randHex(12), randHex(12), randHex(12), randHex(12)}
	v := fmt.Sprintf("k3y-%s \"double\" 'single' `tick` \\back\\\\slash\\n\n"+
		"$HOME ${PATH} %%s %s \r\n"+
		"\ttab é ü 🙂 %s \\\" \\' {\"json\": \"%s\"}", tok[0], tok[1], tok[2], tok[3])
	c := &canary{id: id, value: v, tokens: tok}
	for i, t := range tok {
		c.addForm(fmt.Sprintf("token %d", i+1), t)
		c.addForm(fmt.Sprintf("hex of token %d", i+1), hex.EncodeToString([]byte(t)))
	}
	c.addForm("hex", hex.EncodeToString([]byte(v)))
	q, _ := json.Marshal(v)
	c.addForm("JSON-escaped", string(q[1:len(q)-1]))
	c.addForm("Go-quoted", strings.Trim(strconv.Quote(v), `"`))
	c.addForm(".env-quoted", strings.Trim(dotenv.Quote(v), `"`))
	// base64 of the value, and of each line, at each of the 3 alignments a stream can put
	// it in; the last quantum depends on what follows and is left out.
	parts := append([]string{v}, strings.Split(v, "\n")...)
	for pi, p := range parts {
		for k := 0; k < 3 && k < len(p); k++ {
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
				e := enc.EncodeToString([]byte(p[k:]))
				e = e[:max(0, len(e)-4)]
				if len(e) >= 16 {
					c.addForm(fmt.Sprintf("base64 of part %d at offset %d", pi, k), e)
				}
			}
		}
	}
	return c
}

func (c *canary) addForm(what, text string) {
	c.forms = append(c.forms, canaryForm{what: fmt.Sprintf("canary %d (%s)", c.id, what), text: []byte(text)})
}

// find returns a description of the first form of c found in b, or "".
func (c *canary) find(b []byte) string {
	for _, f := range c.forms {
		if bytes.Contains(b, f.text) {
			return f.what
		}
	}
	return ""
}

// leakScan collects where canaries showed up, and how much was looked at.
type leakScan struct {
	t        *testing.T
	canaries []*canary

	mu       sync.Mutex
	hits     []string
	outputs  int   // stdout and stderr streams checked
	files    int   // files checked
	samples  int64 // /proc samples (cmdline or environ of ast or a plugin)
	children int   // run children whose environment held the value, as it must
}

func (l *leakScan) add(c *canary) *canary {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.canaries = append(l.canaries, c)
	return c
}

func (l *leakScan) check(where string, b []byte, except ...*canary) {
	l.mu.Lock()
	defer l.mu.Unlock()
outer:
	for _, c := range l.canaries {
		for _, e := range except {
			if c == e {
				continue outer
			}
		}
		if what := c.find(b); what != "" {
			l.hits = append(l.hits, fmt.Sprintf("%s in %s", what, where))
			l.t.Errorf("LEAK: %s found in %s", what, where)
		}
	}
}

// output checks a command's stdout and stderr.
func (l *leakScan) output(r result, stdoutAllowed ...*canary) {
	l.check("stdout of ast "+strings.Join(shortArgs(r.args), " "), []byte(r.stdout), stdoutAllowed...)
	l.check("stderr of ast "+strings.Join(shortArgs(r.args), " "), []byte(r.stderr))
	l.mu.Lock()
	l.outputs += 2
	l.mu.Unlock()
}

// files checks every file under dir.
func (l *leakScan) filesUnder(dir string) {
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		l.check("file "+p, b)
		l.mu.Lock()
		l.files++
		l.mu.Unlock()
		return nil
	})
	if err != nil {
		l.t.Fatal(err)
	}
}

// sampleProcs looks at /proc/PID/cmdline and /proc/PID/environ of ast (pid) and its plugins
// every 2 ms until stop is closed. argvAllowed are canaries the test itself put on ast's
// command line (--value), which may show in ast's cmdline (not in a plugin's).
//
// A sampler that cannot read is blind, not clean: ast and its plugins are not dumpable,
// which hides their /proc/PID/environ from every user but root. A read refused for
// permission fails the test; so does a sweep that sampled nothing, or a plugin holding a
// value that could not be sampled (TestCanarySweep).
func (l *leakScan) sampleProcs(pid int, stop <-chan struct{}, argvAllowed ...*canary) *sync.WaitGroup {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		refused := map[string]bool{}
		for {
			procs := []int{pid}
			for _, p := range descendants(pid) {
				if strings.HasPrefix(exeName(p), "ast-plugin-") {
					procs = append(procs, p)
				}
			}
			for _, p := range procs {
				for _, f := range []string{"cmdline", "environ"} {
					path := fmt.Sprintf("/proc/%d/%s", p, f)
					b, err := os.ReadFile(path)
					if errors.Is(err, fs.ErrPermission) && !refused[path] {
						refused[path] = true
						l.t.Errorf("the /proc sampler may not read %s (%s): run the suite as root, or it cannot vouch for that process", path, exeName(p))
					}
					if err != nil || len(b) == 0 {
						continue
					}
					var except []*canary
					if p == pid && f == "cmdline" {
						except = argvAllowed
					}
					l.check(fmt.Sprintf("/proc/%d/%s (%s)", p, f, exeName(p)), b, except...)
					atomic.AddInt64(&l.samples, 1)
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	return &wg
}

// TestCanarySweep runs the end-to-end flows (create, update, import, list, run, delete and
// their error paths) with canary values and AST_LOG=debug, on each backend, and looks for
// the canaries everywhere they must not be: ast's stdout and stderr, every file under the
// sandbox (config, data, state, temp), the command lines and environments of ast and its
// plugins while the commands run. `ast run`'s child must have the value in its environment,
// and ast itself must not.
func TestCanarySweep(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := newSandbox(t)
			s.env["AST_LOG"] = "debug"
			acct := b.setup(t, s, "canary")
			// Remote backends are reached through a proxy that delays each request, so the
			// plugin lives long enough to be looked at.
			switch b.name {
			case "hashicorp":
				acct.settings["address"] = "http://" + delayProxy(t, hostOf(acct.settings["address"]), 20*time.Millisecond)
				s.addAccounts(acct)
			case "awssm":
				acct.settings["endpoint"] = "http://" + delayProxy(t, hostOf(acct.settings["endpoint"]), 20*time.Millisecond)
				s.addAccounts(acct)
			}
			l := &leakScan{t: t}
			n := 0
			next := func() *canary { n++; return l.add(newCanary(n)) }

			// run runs one command with the /proc sampler on; want is the exit code.
			run := func(want int, o runOpts, argv []*canary, stdoutAllowed []*canary, args ...string) result {
				t.Helper()
				st := s.start(o, args...)
				stop := make(chan struct{})
				wg := l.sampleProcs(st.pid(), stop, argv...)
				r := st.wait(60 * time.Second)
				close(stop)
				wg.Wait()
				if r.code != want {
					t.Errorf("want exit %d:\n%s", want, redact(r, l.canaries))
				}
				l.output(r, stdoutAllowed...)
				return r
			}
			// Multi-line input on stdin is kept byte for byte (only a single line loses its
			// one trailing newline): the value goes in exactly.
			in := func(c *canary) runOpts { return runOpts{stdin: []byte(c.value)} }

			s1, s2 := next(), next()
			run(0, in(s1), nil, nil, "secrets", "create", "S1")
			run(0, runOpts{}, []*canary{s2}, nil, "secrets", "create", "S2", "--value", s2.value)
			s1 = next() // S1's new value
			run(0, in(s1), nil, nil, "secrets", "update", "S1")

			i1, i2 := next(), next()
			env := s.writeInput("a.env", []byte("# canaries\nI1="+dotenv.Quote(i1.value)+"\nexport I2 = "+
				dotenv.Quote(i2.value)+" # comment\nPLAIN_OK=hello\nBLANK=\n"))
			run(0, runOpts{}, nil, nil, "secrets", "import", "--file", env, "--plain-keys", "PLAIN_OK")
			run(0, runOpts{}, nil, nil, "secrets", "import", "--file", env, "--dry-run")
			run(0, runOpts{}, nil, nil, "secrets", "import", "--file", env, "--dry-run", "--overwrite", "--output", "json")
			i1 = next()
			env2 := s.writeInput("b.env", []byte("I1="+dotenv.Quote(i1.value)+"\n"))
			run(0, runOpts{}, nil, nil, "secrets", "import", "--file", env2, "--overwrite", "--output", "json")
			run(0, runOpts{stdin: []byte("I2=" + dotenv.Quote(i2.value) + "\n")}, nil, nil, "secrets", "import", "--file", "-")

			// Error paths that hold a canary.
			bad := next()
			run(2, runOpts{}, nil, nil, "secrets", "import", "--file",
				s.writeInput("c.env", []byte("OK1="+dotenv.Quote(bad.value)+"\nTHIS LINE HAS NO EQUALS\n")))
			run(2, runOpts{}, nil, nil, "secrets", "import", "--file",
				s.writeInput("d.env", []byte("OK2=\""+strings.ReplaceAll(bad.value, `"`, `'`)+"\nMORE=1\n")))
			run(2, runOpts{}, nil, nil, "secrets", "import", "--file",
				s.writeInput("e.env", []byte("bad-key="+dotenv.Quote(bad.value)+"\n")))
			run(2, runOpts{stdin: []byte("I1=" + dotenv.Quote(bad.value) + "\nI1=\"unterminated\n")}, nil, nil, "secrets", "import", "--file", "-")
			run(1, in(bad), nil, nil, "secrets", "create", "S1")
			run(2, runOpts{stdin: []byte(strings.Repeat(bad.value, 65536/len(bad.value)+1))}, nil, nil, "secrets", "create", "HUGE")
			run(1, in(bad), nil, nil, "secrets", "update", "NOPE")
			run(2, runOpts{}, []*canary{bad}, nil, "secrets", "create", "bad-name", "--value", bad.value)
			run(2, runOpts{}, []*canary{bad}, nil, "run", "--var", "X="+bad.value, "--var", "K=@bad-name", "--", "true")

			for _, args := range [][]string{
				{"secrets", "list"},
				{"secrets", "list", "--values"},
				{"secrets", "list", "--output", "json"},
				{"secrets", "list", "--values", "--output", "json"},
				{"account", "show"},
				{"account", "list", "--output", "json"},
			} {
				run(0, runOpts{}, nil, nil, args...)
			}

			// The child may print what the test asks it to: S1's value, exactly.
			r := run(0, runOpts{}, nil, []*canary{s1}, "run", "--var", "A=@S1", "--var", "B=@I1", "--var", "C=@S2",
				"--var", "I2=@", "--", "/bin/sh", "-c", `printf '%s' "$A"`)
			if r.stdout != s1.value {
				t.Errorf("the child of ast run printed %d bytes, not the %d of S1's value", len(r.stdout), len(s1.value))
			}
			run(1, runOpts{}, nil, nil, "run", "--var", "A=@S1", "--var", "B=@MISSING", "--", "/bin/sh", "-c", "exit 7")
			run(7, runOpts{}, nil, nil, "run", "--var", "A=@S1", "--", "/bin/sh", "-c", "exit 7")

			// A slow child: the value is in its environment, not in ast's.
			st := s.start(runOpts{}, "run", "--var", "A=@S1", "--var", "B=@I1", "--", "sleep", "60")
			stop := make(chan struct{})
			wg := l.sampleProcs(st.pid(), stop)
			var child int
			if !waitFor(30*time.Second, func() bool {
				for _, p := range descendants(st.pid()) {
					if exeName(p) == "sleep" {
						child = p
						return true
					}
				}
				return false
			}) {
				t.Fatalf("ast run did not start its child:\n%s", st.stderr)
			}
			childEnv, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", child))
			if err != nil {
				t.Fatal(err)
			}
			childEnv = append([]byte{0}, childEnv...) // every variable between NULs
			if !bytes.Contains(childEnv, []byte("\x00A="+s1.value+"\x00")) || !bytes.Contains(childEnv, []byte("\x00B="+i1.value+"\x00")) {
				t.Errorf("the child of ast run does not have A and B with the entries' values in its environment")
			} else {
				l.children++
			}
			for _, f := range []string{"environ", "cmdline"} {
				b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", st.pid(), f))
				if err != nil {
					t.Fatal(err)
				}
				l.check(fmt.Sprintf("/proc/%d/%s of ast run while its child runs", st.pid(), f), b)
			}
			_ = st.cmd.Process.Signal(syscall.SIGTERM)
			r = st.wait(30 * time.Second)
			close(stop)
			wg.Wait()
			if r.code != 128+int(syscall.SIGTERM) {
				t.Errorf("ast run whose child got SIGTERM: want exit %d:\n%s", 128+int(syscall.SIGTERM), redact(r, l.canaries))
			}
			l.output(r)

			if b.name == "local" {
				// The plugin waits for the store lock with the new value in hand.
				held := next()
				lock, release := s.holdStoreLock("canary")
				st := s.start(in(held), "secrets", "update", "S1")
				stop := make(chan struct{})
				wg := l.sampleProcs(st.pid(), stop)
				plugin := st.plugin("local")
				st.waitOpen(plugin, lock)
				before := atomic.LoadInt64(&l.samples)
				if !waitFor(5*time.Second, func() bool { return atomic.LoadInt64(&l.samples) > before+20 }) {
					t.Errorf("the /proc sampler read nothing of ast or its plugin while the plugin held a value: it cannot vouch for them")
				}
				release()
				r := st.wait(30 * time.Second)
				close(stop)
				wg.Wait()
				if r.code != 0 {
					t.Errorf("update after the lock was released:\n%s", redact(r, l.canaries))
				}
				l.output(r)
				s1 = held
			}

			// Deploy: the agent has the values in its environment; the record, the log,
			// the plan and the listing do not.
			if err := os.MkdirAll(filepath.Join(s.root, "blueprints"), 0o700); err != nil {
				t.Fatal(err)
			}
			bp := "command: [\"sleep\", \"60\"]\nenv:\n  A: \"@S1\"\n  B: \"@I1\"\n  LOG_LEVEL: info\n"
			if err := os.WriteFile(filepath.Join(s.root, "blueprints", "agent.yaml"), []byte(bp), 0o600); err != nil {
				t.Fatal(err)
			}
			run(0, runOpts{}, nil, nil, "blueprint", "deploy", "agent", "--dry-run")
			run(0, runOpts{}, nil, nil, "blueprint", "deploy", "agent", "--dry-run", "--var", "C=@S2", "--output", "json")
			run(0, runOpts{}, nil, nil, "blueprint", "deploy", "agent", "--var", "C=@S2")
			var deployed []struct {
				PID int `json:"pid"`
			}
			r = run(0, runOpts{}, nil, nil, "blueprint", "list", "--output", "json")
			if err := json.Unmarshal([]byte(r.stdout), &deployed); err != nil || len(deployed) != 1 || deployed[0].PID == 0 {
				t.Fatalf("blueprint list --output json: %v\n%s", err, r)
			}
			agent := deployed[0].PID
			t.Cleanup(func() { _ = syscall.Kill(agent, syscall.SIGKILL) })
			agentEnv, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", agent))
			if err != nil {
				t.Fatal(err)
			}
			agentEnv = append([]byte{0}, agentEnv...)
			if !bytes.Contains(agentEnv, []byte("\x00A="+s1.value+"\x00")) || !bytes.Contains(agentEnv, []byte("\x00C="+s2.value+"\x00")) {
				var vars []string
				for _, kv := range bytes.Split(agentEnv, []byte{0}) {
					k, _, _ := bytes.Cut(kv, []byte("="))
					vars = append(vars, string(k))
				}
				t.Errorf("the deployed agent (pid %d, %s) does not have A and C with the entries' values in its environment (it has %v)", agent, exeName(agent), vars)
			} else {
				l.children++
			}
			run(0, runOpts{}, nil, nil, "blueprint", "list")
			run(0, runOpts{}, nil, nil, "blueprint", "logs", "agent")
			fg := "command: [\"/bin/sh\", \"-c\", \"test \\\"$A\\\" = \\\"$B\\\" || test -n \\\"$A\\\"\"]\nenv:\n  A: \"@S1\"\n"
			if err := os.WriteFile(filepath.Join(s.root, "blueprints", "fg.yaml"), []byte(fg), 0o600); err != nil {
				t.Fatal(err)
			}
			run(0, runOpts{}, nil, nil, "blueprint", "deploy", "fg", "--foreground", "--var", "B=@I1")
			run(0, runOpts{}, nil, nil, "blueprint", "stop", "agent")
			run(1, runOpts{}, nil, nil, "blueprint", "deploy", "agent", "--var", "C=@MISSING")

			run(0, runOpts{}, nil, nil, "secrets", "delete", "S2", "I1")
			run(1, runOpts{}, nil, nil, "secrets", "delete", "S2")

			// Fields (issue 15): an entry holding a JSON object whose fields are canaries
			// (local: written by ast; Vault and AWS: written behind ast's back, an external
			// secret), and on AWS a binary secret. No field value shows in a listing, an
			// error, a record or an argv; a child gets exactly the field it asks for.
			f1, f2, fo := next(), next(), next()
			fields := map[string]any{"f1": f1.value, "f2": f2.value, "obj": map[string]string{"in": fo.value}}
			doc, _ := json.Marshal(fields)
			switch b.name {
			case "local":
				run(0, runOpts{stdin: doc}, nil, nil, "secrets", "create", "J")
			case "hashicorp":
				addr, token := vaultServer(t)
				vaultRequest(t, addr, token, "POST", "secret/data/"+acct.settings["prefix"]+"/"+acct.name+"/J", map[string]any{"data": fields}, nil)
			case "awssm":
				ep := awsEndpoint(t)
				awsCall(t, ep, "CreateSecret", map[string]any{"Name": acct.settings["prefix"] + "/" + acct.name + "/J", "SecretString": string(doc)}, nil)
				bin := next()
				awsCall(t, ep, "CreateSecret", map[string]any{"Name": acct.settings["prefix"] + "/" + acct.name + "/BIN",
					"SecretBinary": base64.StdEncoding.EncodeToString([]byte(bin.value))}, nil)
				run(1, runOpts{}, nil, nil, "run", "--var", "X=@BIN", "--", "true")
				run(1, runOpts{}, nil, nil, "run", "--var", "X=@BIN#f1", "--var", "Y=@J#nope", "--", "true")
				run(0, runOpts{}, nil, nil, "secrets", "list", "--fields", "--values", "--output", "json")
			}
			for _, args := range [][]string{
				{"secrets", "list"},
				{"secrets", "list", "--fields"},
				{"secrets", "list", "--fields", "--output", "json"},
				{"secrets", "list", "--values", "--fields", "--output", "json"},
			} {
				run(0, runOpts{}, nil, nil, args...)
			}
			run(1, runOpts{}, nil, nil, "run", "--var", "X=@J#nope", "--", "true")
			run(1, runOpts{}, nil, nil, "run", "--var", "X=@J#obj", "--", "true")
			run(1, runOpts{}, nil, nil, "run", "--var", "X=@J#nope", "--var", "Y=@J#obj", "--var", "Z=@MISSING", "--", "true")
			run(1, runOpts{}, nil, nil, "blueprint", "deploy", "agent", "--var", "C=@J#obj")
			r = run(0, runOpts{}, nil, []*canary{f1}, "run", "--var", "A=@J#f1", "--var", "B=@J#f2", "--", "/bin/sh", "-c", `printf '%s' "$A"`)
			if r.stdout != f1.value {
				t.Errorf("the child of ast run printed %d bytes, not the %d of field f1", len(r.stdout), len(f1.value))
			}
			fb := "command: [\"sleep\", \"60\"]\nenv:\n  A: \"@J#f1\"\n  B: \"@J#f2\"\n"
			if err := os.WriteFile(filepath.Join(s.root, "blueprints", "fields.yaml"), []byte(fb), 0o600); err != nil {
				t.Fatal(err)
			}
			run(0, runOpts{}, nil, nil, "blueprint", "deploy", "fields", "--dry-run", "--output", "json")
			run(0, runOpts{}, nil, nil, "blueprint", "deploy", "fields")
			var agents []struct {
				Agent   string `json:"agent"`
				PID     int    `json:"pid"`
				Running bool   `json:"running"`
			}
			r = run(0, runOpts{}, nil, nil, "blueprint", "list", "--output", "json")
			_ = json.Unmarshal([]byte(r.stdout), &agents)
			fpid := 0
			for _, a := range agents {
				if a.Agent == "fields" && a.Running {
					fpid = a.PID
				}
			}
			if fpid == 0 {
				t.Fatalf("the fields agent is not running:\n%s", redact(r, l.canaries))
			}
			t.Cleanup(func() { _ = syscall.Kill(fpid, syscall.SIGKILL) })
			fenv, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", fpid))
			if err != nil {
				t.Fatal(err)
			}
			fenv = append([]byte{0}, fenv...)
			if !bytes.Contains(fenv, []byte("\x00A="+f1.value+"\x00")) || !bytes.Contains(fenv, []byte("\x00B="+f2.value+"\x00")) {
				t.Errorf("the agent deployed with field references does not have A and B with the fields' values")
			} else {
				l.children++
			}
			fargv, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", fpid))
			if err != nil {
				t.Fatal(err)
			}
			l.check(fmt.Sprintf("/proc/%d/cmdline (the agent deployed with field references)", fpid), fargv)
			run(0, runOpts{}, nil, nil, "blueprint", "list")
			run(0, runOpts{}, nil, nil, "blueprint", "stop", "fields")

			l.filesUnder(s.root)
			if len(l.hits) != 0 {
				t.Errorf("%d canary hits", len(l.hits))
			}
			if l.samples == 0 {
				t.Errorf("the /proc sampler read nothing of ast or its plugins: 0 canary hits proves nothing")
			}
			t.Logf("canary summary: backend=%s canaries=%d forms_per_canary=%d outputs_checked=%d files_checked=%d proc_samples=%d child_env_ok=%d hits=%d",
				b.name, len(l.canaries), len(l.canaries[0].forms), l.outputs, l.files, l.samples, l.children, len(l.hits))
		})
	}
}

// redact replaces every canary in a result's output by a marker, for failure messages.
func redact(r result, cs []*canary) result {
	for _, c := range cs {
		for _, tok := range c.tokens {
			r.stdout = strings.ReplaceAll(r.stdout, tok, "[CANARY]")
			r.stderr = strings.ReplaceAll(r.stderr, tok, "[CANARY]")
		}
	}
	for i, a := range r.args {
		for _, c := range cs {
			if strings.Contains(a, c.tokens[0]) {
				r.args[i] = "[CANARY]"
			}
		}
	}
	return r
}

// TestCanaryDetector proves the sweep would see a canary in each form it could leak in.
func TestCanaryDetector(t *testing.T) {
	c := newCanary(1)
	q, _ := json.Marshal(c.value)
	lines := strings.Split(c.value, "\n")
	leaks := map[string]string{
		"raw":                   "log: " + c.value + " end",
		"JSON":                  string(q),
		"Go %q":                 fmt.Sprintf("%q", c.value),
		"Go %+q":                fmt.Sprintf("%+q", c.value),
		".env":                  dotenv.Quote(c.value),
		"one line":              "x" + lines[1] + "y",
		"hex":                   hex.EncodeToString([]byte("ab" + c.value)),
		"base64 at offset 0":    base64.StdEncoding.EncodeToString([]byte(c.value)),
		"base64 at offset 1":    base64.StdEncoding.EncodeToString([]byte("a" + c.value + "z")),
		"base64 at offset 2":    base64.StdEncoding.EncodeToString([]byte("ab" + c.value)),
		"base64url of a line":   base64.RawURLEncoding.EncodeToString([]byte("{" + lines[2])),
		"URL query":             "https://x/?v=" + strings.ReplaceAll(c.value, " ", "+"),
		"environ":               "\x00A=" + c.value + "\x00",
		"JSON of a JSON string": func() string { b, _ := json.Marshal(string(q)); return string(b) }(),
	}
	for what, leak := range leaks {
		if c.find([]byte(leak)) == "" {
			t.Errorf("the detector misses the canary in form %s", what)
		}
	}
	if what := c.find([]byte(newCanary(2).value)); what != "" {
		t.Errorf("another canary matched %s", what)
	}
}
