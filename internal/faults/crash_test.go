package faults

import (
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// crashSeed returns the seed of the random kills: $AST_FAULTS_SEED to replay a run, else a
// fresh one (logged).
func crashSeed(t *testing.T) uint64 {
	if s := os.Getenv("AST_FAULTS_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("AST_FAULTS_SEED=%q: %v", s, err)
		}
		return n
	}
	return mrand.Uint64()
}

// tempFileRE matches the temp files of the local backend's atomic writes (renameio names
// them "." + the file's name + digits).
var tempFileRE = regexp.MustCompile(`^\.(.+\.age|local\.key)[0-9]+$`)

// tempFiles lists the temp files under the local backend's data directory.
func (s *sandbox) tempFiles() []string {
	var out []string
	for _, sub := range []string{"vaults", "keys"} {
		ents, _ := os.ReadDir(filepath.Join(s.dataDir, sub))
		for _, e := range ents {
			if tempFileRE.MatchString(e.Name()) {
				out = append(out, filepath.Join(sub, e.Name()))
			}
		}
	}
	return out
}

// crashOp is one write that the test kills: a create of one entry or an import of many.
type crashOp struct {
	account string
	create  bool
	plain   bool
	entries map[string]string // name → value
}

// TestCrashConsistency kills ast with SIGKILL at a random moment (0 to 300 ms after it
// starts) while it creates one entry or imports up to 2000 into the local backend, 200
// times (40 with -short). After every kill: the store opens (secrets list works), the
// write is wholly applied or wholly absent, nothing written before is lost, no plugin
// outlives ast, and a temp file left by the kill is gone after the next write.
func TestCrashConsistency(t *testing.T) {
	iterations := 200
	if testing.Short() {
		iterations = 40
	}
	const perAccount = 10 // a fresh store every 10 writes keeps each store (and the run) small
	seed := crashSeed(t)
	rng := mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	t.Logf("seed %d (replay with AST_FAULTS_SEED=%d)", seed, seed)

	s := newSandbox(t)
	var accts []account
	for i := 0; i < (iterations+perAccount-1)/perAccount; i++ {
		accts = append(accts, account{name: fmt.Sprintf("crash%02d", i), backend: "local"})
	}
	s.addAccounts(accts...)

	var (
		committed                              = map[string]map[string]string{} // account → name → value, everything seen applied
		killed, completed, applied, absent     int
		tempsLeft, tempsCleaned, entriesLost   int
		killedCreates, killedImports, nEntries int
	)
	start := time.Now()
	for i := 0; i < iterations; i++ {
		op := crashOp{account: accts[i/perAccount].name, create: rng.IntN(2) == 0, plain: rng.IntN(2) == 0,
			entries: map[string]string{}}
		var args []string
		var stdin []byte
		if op.create {
			name, value := fmt.Sprintf("C%03d", i), randHex(16+rng.IntN(112))
			op.entries[name] = value
			args = []string{"--account", op.account, "secrets", "create", name}
			if op.plain {
				args = append(args, "--plain")
			}
			stdin = []byte(value + "\n")
		} else {
			n := 1 + rng.IntN(2000)
			var b strings.Builder
			for j := 0; j < n; j++ {
				name, value := fmt.Sprintf("I%03d_%04d", i, j), randHex(16+rng.IntN(48))
				op.entries[name] = value
				fmt.Fprintf(&b, "%s=%s\n", name, value)
			}
			file := s.writeInput(fmt.Sprintf("crash%03d.env", i), []byte(b.String()))
			args = []string{"--account", op.account, "secrets", "import", "--file", file}
			if op.plain {
				args = append(args, "--plain")
			}
		}
		nEntries += len(op.entries)

		cmd, _, stderr := s.command(runOpts{stdin: stdin}, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		delay := time.Duration(rng.Int64N(int64(300 * time.Millisecond)))
		select {
		case <-done:
		case <-time.After(delay):
			_ = cmd.Process.Signal(syscall.SIGKILL)
			<-done
		}
		ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
		wasKilled := ws.Signaled() && ws.Signal() == syscall.SIGKILL
		if !wasKilled && ws.ExitStatus() != 0 {
			t.Fatalf("iteration %d: %s ended with %v before the kill:\n%s", i, strings.Join(shortArgs(args), " "), ws, stderr)
		}
		// The plugin dies with ast (parent-death signal): nothing may keep writing.
		s.assertNoStrays(fmt.Sprintf("iteration %d (killed=%t)", i, wasKilled))

		got := map[string]*string{}
		for _, e := range s.list("--account", op.account, "--values") {
			got[e.Name] = e.Value
		}
		present := 0
		for name, value := range op.entries {
			v, ok := got[name]
			if !ok {
				continue
			}
			present++
			if op.plain && (v == nil || *v != value) {
				t.Errorf("iteration %d: %s has a different value than was written", i, name)
			}
		}
		switch {
		case present == len(op.entries):
			applied++
			if committed[op.account] == nil {
				committed[op.account] = map[string]string{}
			}
			for k, v := range op.entries {
				committed[op.account][k] = v
			}
		case present == 0:
			absent++
			if !wasKilled {
				t.Fatalf("iteration %d: the write succeeded but none of its %d entries is listed", i, len(op.entries))
			}
		default:
			t.Fatalf("iteration %d: torn write: %d of %d entries applied (killed=%t after %s)", i, present, len(op.entries), wasKilled, delay)
		}
		for name := range committed[op.account] {
			if _, ok := got[name]; !ok {
				entriesLost++
				t.Errorf("iteration %d: %s, written earlier, is gone", i, name)
			}
		}
		if wasKilled {
			killed++
			if op.create {
				killedCreates++
			} else {
				killedImports++
			}
		} else {
			completed++
		}

		// A kill inside the write leaves its temp file; the next write must remove it.
		if temps := s.tempFiles(); len(temps) > 0 {
			tempsLeft += len(temps)
			marker := fmt.Sprintf("M%03d", i)
			s.must(s.runIn("marker\n", "--account", op.account, "secrets", "create", marker))
			if committed[op.account] == nil {
				committed[op.account] = map[string]string{}
			}
			committed[op.account][marker] = ""
			for _, left := range s.tempFiles() {
				for _, was := range temps {
					if left == was {
						t.Errorf("iteration %d: temp file %s is still there after the next write", i, left)
					}
				}
			}
			tempsCleaned += len(temps)
		}
	}
	total := 0
	for _, m := range committed {
		total += len(m)
	}
	t.Logf("crash summary: iterations=%d killed_mid_command=%d (creates=%d imports=%d) completed_before_kill=%d "+
		"applied=%d absent=%d torn=0 entries_written=%d entries_committed=%d entries_lost=%d temp_files_left=%d temp_files_cleaned=%d stores=%d duration=%s",
		iterations, killed, killedCreates, killedImports, completed, applied, absent, nEntries, total, entriesLost,
		tempsLeft, tempsCleaned, len(accts), time.Since(start).Round(time.Millisecond))
}
