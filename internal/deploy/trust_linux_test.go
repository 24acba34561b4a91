package deploy

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const nobody = 65534

// startGroup starts `sleep 60` leading a process group of its own, and a second sleep
// in that group, and returns both (leader first) with their start times.
func startGroup(t *testing.T) (leader, member Process) {
	t.Helper()
	lead := exec.Command("sleep", "60")
	lead.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := lead.Start(); err != nil {
		t.Fatal(err)
	}
	mem := exec.Command("sleep", "60")
	mem.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: lead.Process.Pid}
	if err := mem.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-lead.Process.Pid, syscall.SIGKILL)
		_ = lead.Wait()
		_ = mem.Wait()
	})
	ls, _ := processStart(lead.Process.Pid)
	ms, _ := processStart(mem.Process.Pid)
	return Process{PID: lead.Process.Pid, PGID: lead.Process.Pid, Start: ls},
		Process{PID: mem.Process.Pid, Start: ms}
}

// TestStopBelievesOnlyProc gives Stop forged records and checks that no process of a
// group the record does not own gets a signal, and nothing is sent to a pid or group of
// 1 or less.
func TestStopBelievesOnlyProc(t *testing.T) {
	victim, victimMember := startGroup(t)
	agent, agentMember := startGroup(t)
	tests := []struct {
		name string
		p    Process
		// which of the four processes must be gone afterwards
		goneAgent, goneAgentMember bool
		forged                     bool
	}{
		{"pgid names another group", Process{PID: agent.PID, PGID: victim.PGID, Start: agent.Start}, false, false, true},
		{"pgid 1", Process{PID: agent.PID, PGID: 1, Start: agent.Start}, false, false, true},
		{"pgid -1", Process{PID: agent.PID, PGID: -1, Start: agent.Start}, false, false, true},
		{"pid 1 pgid 1", Process{PID: 1, PGID: 1}, false, false, true},
		{"pid 1", Process{PID: 1}, false, false, false},
		{"pid -1", Process{PID: -1}, false, false, false},
		{"victim's group without a start time", Process{PID: victim.PID, PGID: victim.PGID}, false, false, false},
		{"victim's group, another start time", Process{PID: victim.PID, PGID: victim.PGID, Start: victim.Start + 7}, false, false, false},
		{"a member posing as a leader", Process{PID: victimMember.PID, PGID: victimMember.PID, Start: victimMember.Start}, false, false, false},
		// The genuine agent's record last: its group goes, the victim's stays.
		{"the agent's own record", agent, true, true, false},
	}
	signalled, memberGone := 0, false
	for _, tt := range tests {
		_, err := Stop(context.Background(), tt.p, 200*time.Millisecond)
		if tt.forged != errors.Is(err, ErrForgedGroup) {
			t.Errorf("%s: Stop error %v, forged %v", tt.name, err, tt.forged)
		}
		if tt.name == "a member posing as a leader" {
			// /proc shows it in the victim's group: it alone is signalled, never the group.
			if Running(victimMember) {
				t.Errorf("%s: the confirmed process was not stopped", tt.name)
			}
			if !Running(victim) {
				t.Errorf("%s: the victim's group was signalled", tt.name)
				signalled++
			}
			memberGone = true
			continue
		}
		if !Running(victim) || (!memberGone && !Running(victimMember)) {
			t.Errorf("%s: the victim's group was signalled", tt.name)
			signalled++
		}
		if Running(agent) == tt.goneAgent || Running(agentMember) == tt.goneAgentMember {
			t.Errorf("%s: agent running %v, member %v", tt.name, Running(agent), Running(agentMember))
		}
	}
	t.Logf("forged record summary: %d forged records, %d foreign groups signalled", len(tests)-1, signalled)
}

// plantAsNobody makes dir world-writable and has uid 65534 put a symbolic link at name
// in it pointing to target, as another local user would.
func plantAsNobody(t *testing.T, dir, name, target string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a child as another uid")
	}
	for d := dir; d != "/tmp" && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	os.Chmod(dir, 0o777)
	cmd := exec.Command("ln", "-sf", target, filepath.Join(dir, name))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("planting as uid %d: %v %s", nobody, err, out)
	}
}

// TestStoreRefusesPlantedLinks plants symbolic links at the record, lock, log and temp
// names, by another uid in a directory left writable to it and by the user's own
// mistake in a private one, and checks that no call follows them.
func TestStoreRefusesPlantedLinks(t *testing.T) {
	type call struct {
		name string
		file string // the planted name, relative to the state directory
		do   func(s Store) error
	}
	calls := []call{
		{"Write", "deployments/a.json", func(s Store) error { return s.Write(&Deployment{Agent: "a"}) }},
		{"Read", "deployments/a.json", func(s Store) error { _, err := s.Read("a"); return err }},
		{"Lock", "deployments/a.lock", func(s Store) error {
			u, err := s.Lock(context.Background(), "a")
			if err == nil {
				u()
			}
			return err
		}},
		{"OpenLog", "agents/a.log", func(s Store) error {
			f, err := s.OpenLog("a")
			if err == nil {
				f.Write([]byte("agent output\n"))
				f.Close()
			}
			return err
		}},
		{"ReadLog", "agents/a.log", func(s Store) error {
			f, err := s.ReadLog("a")
			if err == nil {
				f.Close()
			}
			return err
		}},
	}
	refused := 0
	for _, byOther := range []bool{true, false} {
		for _, c := range calls {
			root := t.TempDir()
			victim := filepath.Join(root, "victim")
			os.WriteFile(victim, []byte("victim"), 0o644)
			s := Store{Dir: filepath.Join(root, "state")}
			dir := filepath.Join(s.Dir, filepath.Dir(c.file))
			os.MkdirAll(dir, 0o700)
			if byOther {
				plantAsNobody(t, dir, filepath.Base(c.file), victim)
			} else if err := os.Symlink(victim, filepath.Join(s.Dir, c.file)); err != nil {
				t.Fatal(err)
			}
			err := c.do(s)
			want := "symbolic link"
			if byOther {
				want = "writable by group or others"
			}
			if c.name == "Write" && !byOther {
				// rename(2) replaces the link itself, never what it points to.
				if fi, _ := os.Lstat(filepath.Join(s.Dir, c.file)); err != nil || !fi.Mode().IsRegular() {
					t.Errorf("Write over a link: %v, the record is not a regular file", err)
				} else {
					refused++
				}
			} else if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s with a link planted (by another uid %v): %v, want %q", c.name, byOther, err, want)
			} else {
				refused++
			}
			got, _ := os.ReadFile(victim)
			if fi, _ := os.Stat(victim); string(got) != "victim" || fi.Mode().Perm() != 0o644 {
				t.Errorf("%s followed the link: the victim changed", c.name)
			}
		}
	}
	// Temp names of a record write: links at 200 names of renameio's pattern.
	root := t.TempDir()
	victim := filepath.Join(root, "victim")
	os.WriteFile(victim, []byte("victim"), 0o644)
	s := Store{Dir: filepath.Join(root, "state")}
	if err := s.Write(&Deployment{Agent: "a"}); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		os.Symlink(victim, filepath.Join(s.Dir, "deployments", ".a.json"+strconv.Itoa(i)))
	}
	for range 20 {
		if err := s.Write(&Deployment{Agent: "a", PID: 42}); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := os.ReadFile(victim); string(got) != "victim" {
		t.Errorf("a record write followed a temp-name link")
	}
	t.Logf("planted link summary: %d of %d calls refused or replaced the link, 20 record writes past 200 temp-name links, victim unchanged", refused, 2*len(calls))
}

// TestStoreRefusesOpenDirs makes the state directory and its subdirectories writable by
// others or owned by another uid and checks that reads and writes refuse with the fix.
func TestStoreRefusesOpenDirs(t *testing.T) {
	for _, sub := range []string{".", "deployments", "agents"} {
		for _, chown := range []bool{false, true} {
			if chown && os.Geteuid() != 0 {
				continue
			}
			s := Store{Dir: filepath.Join(t.TempDir(), "state")}
			if err := s.Write(&Deployment{Agent: "a"}); err != nil {
				t.Fatal(err)
			}
			f, err := s.OpenLog("a")
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			dir := filepath.Join(s.Dir, sub)
			fix := "chmod go-w " + dir
			if chown {
				os.Chown(dir, nobody, nobody)
				fix = "chown "
			} else {
				os.Chmod(dir, 0o777)
			}
			errs := map[string]error{}
			_, errs["Read"] = s.Read("a")
			errs["Write"] = s.Write(&Deployment{Agent: "a"})
			_, errs["OpenLog"] = s.OpenLog("a")
			_, _, errs["List"] = s.List()
			for name, err := range errs {
				if sub == "agents" && (name == "Read" || name == "Write" || name == "List") {
					continue // agents/ is not used by these
				}
				if sub == "deployments" && name == "OpenLog" {
					continue
				}
				if err == nil || !strings.Contains(err.Error(), "fix it with: "+fix) {
					t.Errorf("%s with %s open (chown %v): %v", name, sub, chown, err)
				}
			}
		}
	}
}
